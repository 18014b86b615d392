//! `foryou-fuzz`: runs the fuzz targets on stable Rust over the committed corpora.
//!
//! ```text
//! foryou-fuzz [--seconds 60] [--iterations N] [--seed 1] [TARGET ...]   # all targets when none named
//! foryou-fuzz write-seeds                                               # (re)writes the generated seeds
//! ```
//! Findings (panics, slow inputs) are written to `target/fuzz-findings/` and the exit code is 1.

mod seeds;

use anyhow::{bail, Context, Result};
use foryou_fuzz::{run, Options, TARGETS};
use std::path::PathBuf;
use std::time::Duration;

fn corpus_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let mut seconds = 60u64;
    let mut iterations = u64::MAX;
    let mut seed = 1u64;
    let mut names = Vec::new();
    while let Some(a) = args.next() {
        let mut value = |flag: &str| -> Result<u64> {
            args.next()
                .with_context(|| format!("{flag} needs a number"))?
                .parse()
                .with_context(|| format!("{flag} needs a number"))
        };
        match a.as_str() {
            "--seconds" => seconds = value("--seconds")?,
            "--iterations" => iterations = value("--iterations")?,
            "--seed" => seed = value("--seed")?,
            "write-seeds" => return seeds::write(&corpus_root()),
            "-h" | "--help" => {
                println!("foryou-fuzz [--seconds N] [--iterations N] [--seed N] [TARGET ...] | write-seeds");
                println!(
                    "targets: {}",
                    TARGETS
                        .iter()
                        .map(|t| t.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                return Ok(());
            }
            name => names.push(name.to_string()),
        }
    }
    let targets: Vec<_> = if names.is_empty() {
        TARGETS.to_vec()
    } else {
        names
            .iter()
            .map(|n| foryou_fuzz::target(n).with_context(|| format!("no target '{n}'")))
            .collect::<Result<_>>()?
    };
    let findings_dir = PathBuf::from("target/fuzz-findings");
    let mut bad = 0;
    for t in &targets {
        let r = run(
            t,
            &Options {
                corpus: corpus_root().join(t.name),
                iterations,
                time: Duration::from_secs(seconds),
                seed,
            },
        );
        let secs = r.elapsed.as_secs_f64().max(1e-9);
        println!(
            "{:<16} corpus {:>4}  executions {:>10}  {:>9.0}/s  slowest {:>8.2} ms  findings {}",
            r.target,
            r.corpus,
            r.executions,
            r.executions as f64 / secs,
            r.slowest.as_secs_f64() * 1000.0,
            r.findings.len()
        );
        for (i, f) in r.findings.iter().enumerate() {
            std::fs::create_dir_all(&findings_dir)?;
            let path = findings_dir.join(format!("{}-{i}.bin", t.name));
            std::fs::write(&path, &f.input)?;
            println!("  {}: {}", path.display(), f.what);
            bad += 1;
        }
    }
    if bad > 0 {
        bail!("{bad} findings");
    }
    Ok(())
}
