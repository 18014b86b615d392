//! Every fuzz target over its committed corpus and a bounded number of mutations (CI runs this;
//! `FORYOU_FUZZ_ITERATIONS` sets the count, `cargo run -p foryou-fuzz --release` runs longer).

use foryou_fuzz::{run, Options, TARGETS};
use std::path::PathBuf;
use std::time::Duration;

#[test]
fn no_target_panics_or_stalls_on_its_corpus_and_mutations() {
    let iterations = std::env::var("FORYOU_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30_000);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for t in TARGETS {
        let dir = root.join(t.name);
        let seeds = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
        assert!(seeds > 0, "no committed corpus for {}", t.name);
        let r = run(
            t,
            &Options {
                corpus: dir,
                iterations,
                time: Duration::from_secs(120),
                seed: 0x5EED,
            },
        );
        assert!(
            r.findings.is_empty(),
            "{}: {:?}",
            t.name,
            r.findings.iter().map(|f| &f.what).collect::<Vec<_>>()
        );
        assert!(r.executions as usize >= seeds);
    }
}
