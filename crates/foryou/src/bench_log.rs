//! `foryou bench-log`: the transparency log's speed in a temporary directory — appends per
//! second one at a time (one fsynced commit each) and from many threads at once (batched under
//! one checkpoint), inclusion and consistency proofs made and checked, and a full audit of the
//! log. Prints one JSON object; BENCHMARKS.md quotes it.

use anyhow::{Context, Result};
use foryou_tlog::audit::{DirSource, Trust};
use foryou_tlog::log::{Sequencer, TileLog};
use foryou_tlog::note::LogSigner;
use foryou_tlog::tree;
use std::time::Instant;

/// Sizes of one run.
pub struct LogBenchOptions {
    pub entries: u64,
    pub threads: u64,
    pub proofs: u64,
}

fn entry(i: u64) -> Vec<u8> {
    // About the size of a real access entry.
    format!("{{\"type\":\"access\",\"v\":1,\"ts_ms\":1780000000000,\"actor\":\"p-{i:016x}\",\"role\":\"moderator\",\"actor_region\":\"eu\",\"target_region\":\"us\",\"purpose\":\"moderation\",\"category\":\"content\",\"action\":\"remove video\",\"subject\":\"video:{i}\",\"records\":1,\"allowed\":true,\"pseudonymised\":true,\"rule\":\"rule 2\"}}").into_bytes()
}

pub fn run(o: LogBenchOptions) -> Result<String> {
    let dir = std::env::temp_dir().join(format!("foryou-bench-log-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (skey, signer) = LogSigner::generate("bench.localhost/log")?;
    let vkey = signer.vkey().to_string();
    let mut log = TileLog::open(&dir, signer).context("opening the log")?;

    // One entry per commit: every append is its own fsynced checkpoint.
    let single = 200u64.min(o.entries);
    let t = Instant::now();
    for i in 0..single {
        log.append(&[entry(i)])?;
    }
    let single_per_s = single as f64 / t.elapsed().as_secs_f64();
    drop(log);

    // Many writers at once: the sequencer batches whatever waits into one commit.
    let log = TileLog::open(&dir, LogSigner::from_skey(&skey)?)?;
    let seq = Sequencer::start(log);
    let per_thread = (o.entries - single) / o.threads.max(1);
    let t = Instant::now();
    let handles: Vec<_> = (0..o.threads)
        .map(|k| {
            let s = seq.clone();
            std::thread::spawn(move || {
                for i in 0..per_thread {
                    s.append(entry(1_000_000 + k * per_thread + i))
                        .map(|_| ())?;
                }
                Ok::<(), foryou_tlog::log::LogError>(())
            })
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| anyhow::anyhow!("writer panicked"))??;
    }
    let batched = per_thread * o.threads;
    let batched_per_s = batched as f64 / t.elapsed().as_secs_f64();
    let size = seq.read(|l| l.size())?;

    // Proofs against the final tree.
    let root = seq.read(|l| l.root(size))??;
    let (mut make_inc, mut check_inc, mut make_con, mut check_con) = (0.0, 0.0, 0.0, 0.0);
    let mut rng = 0x2545F4914F6CDD1Du64;
    for _ in 0..o.proofs {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let i = rng % size;
        let leaf = tree::leaf_hash(&seq.read(|l| l.entries(i, 1))??[0]);
        let t = Instant::now();
        let p = seq.read(|l| l.prove_inclusion(size, i))??;
        make_inc += t.elapsed().as_secs_f64();
        let t = Instant::now();
        tree::verify_inclusion(&p, size, root, i, leaf)?;
        check_inc += t.elapsed().as_secs_f64();
        let old = 1 + i;
        let old_root = seq.read(|l| l.root(old))??;
        let t = Instant::now();
        let p = seq.read(|l| l.prove_consistency(old, size))??;
        make_con += t.elapsed().as_secs_f64();
        let t = Instant::now();
        tree::verify_consistency(&p, old, old_root, size, root)?;
        check_con += t.elapsed().as_secs_f64();
    }
    let n = o.proofs.max(1) as f64;
    // A full audit: every entry re-hashed, every tile compared, the signature checked.
    let t = Instant::now();
    let v = foryou_tlog::audit::verify(
        &DirSource(dir.clone()),
        &Trust {
            log_vkey: vkey,
            witnesses: Vec::new(),
            min_cosigners: 0,
        },
        None,
        |_, _| Ok(()),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let audit_s = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(serde_json::json!({
        "entries": size,
        "append_one_per_commit_per_s": single_per_s.round(),
        "append_batched_per_s": batched_per_s.round(),
        "writer_threads": o.threads,
        "inclusion_proof_make_us": (make_inc / n * 1e6 * 10.0).round() / 10.0,
        "inclusion_proof_check_us": (check_inc / n * 1e6 * 10.0).round() / 10.0,
        "consistency_proof_make_us": (make_con / n * 1e6 * 10.0).round() / 10.0,
        "consistency_proof_check_us": (check_con / n * 1e6 * 10.0).round() / 10.0,
        "full_audit_s": (audit_s * 1000.0).round() / 1000.0,
        "audited_tiles": v.tiles,
    })
    .to_string())
}
