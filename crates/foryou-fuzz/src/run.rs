//! The runner: every corpus input first, then mutations of them, each input timed and any
//! panic caught and kept.

use crate::{Mutator, Target, SLOW};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long and from where one target runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// The seed inputs (`corpus/<target>/`); empty or missing starts from one empty input.
    pub corpus: PathBuf,
    /// Stop after this many mutated inputs.
    pub iterations: u64,
    /// Or after this long, whichever comes first.
    pub time: Duration,
    /// The mutator's seed.
    pub seed: u64,
}

/// An input that made the target panic or run slowly.
#[derive(Clone, Debug)]
pub struct Finding {
    /// What went wrong.
    pub what: String,
    /// The input.
    pub input: Vec<u8>,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct Report {
    /// The target.
    pub target: &'static str,
    /// Corpus inputs run.
    pub corpus: usize,
    /// Inputs run in all.
    pub executions: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// The slowest single input.
    pub slowest: Duration,
    /// Panics and slow inputs.
    pub findings: Vec<Finding>,
}

fn load(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out: Vec<Vec<u8>> = files.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    if out.is_empty() {
        out.push(Vec::new());
    }
    out
}

fn one(t: &Target, input: &[u8], report: &mut Report) {
    let started = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| (t.run)(input)));
    let took = started.elapsed();
    report.executions += 1;
    report.slowest = report.slowest.max(took);
    let what = match outcome {
        Err(p) => Some(format!(
            "panic: {}",
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        )),
        Ok(()) if took > SLOW => Some(format!("slow: {took:?} for {} bytes", input.len())),
        Ok(()) => None,
    };
    if let Some(what) = what {
        if report.findings.len() < 20 {
            report.findings.push(Finding {
                what,
                input: input.to_vec(),
            });
        }
    }
}

/// Runs `t`: the corpus, then mutations until the count or the time runs out.
pub fn run(t: &Target, o: &Options) -> Report {
    let corpus = load(&o.corpus);
    let mut report = Report {
        target: t.name,
        corpus: corpus.len(),
        executions: 0,
        elapsed: Duration::ZERO,
        slowest: Duration::ZERO,
        findings: Vec::new(),
    };
    let started = Instant::now();
    for input in &corpus {
        one(t, input, &mut report);
    }
    let mut m = Mutator::new(o.seed);
    let mut i = 0u64;
    while i < o.iterations && started.elapsed() < o.time {
        let base = &corpus[m.below(corpus.len())];
        let other = &corpus[m.below(corpus.len())];
        let mut input = base.clone();
        // Stack a few rounds so inputs drift away from the seeds.
        for _ in 0..1 + m.below(3) {
            m.mutate(&mut input, other);
        }
        one(t, &input, &mut report);
        i += 1;
    }
    report.elapsed = started.elapsed();
    report
}
