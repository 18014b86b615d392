//! `foryou eval` on a small file of the EVAL.md format: JSON figures and a well-formed dump.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::{Command, Output};

/// Runs `foryou` with `args`.
fn foryou<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(args: I) -> Output {
    Command::new(env!("CARGO_BIN_EXE_foryou"))
        .args(args)
        .output()
        .expect("run foryou")
}

/// Runs `foryou` with `args`, requires success and parses the one JSON object it prints.
fn foryou_json<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(args: I) -> serde_json::Value {
    let out = foryou(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

/// The header of an interaction file (EVAL.md's format).
const HEADER: &str = "user\titem\tts\tweight\n";

/// A fresh folder for one test's files, named for the test and the process.
fn scratch(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

/// `foryou eval --k K --train TRAIN --test TEST`, then `more`; its JSON report.
fn eval_json(k: usize, train: &Path, test: &Path, more: &[&OsStr]) -> serde_json::Value {
    let mut args: Vec<OsString> = vec!["eval".into(), "--k".into(), k.to_string().into()];
    args.extend(["--train".into(), train.into(), "--test".into(), test.into()]);
    args.extend(more.iter().map(|&a| a.to_owned()));
    foryou_json(args)
}

#[test]
fn eval_scores_a_tiny_split_and_dumps_recommendations() {
    let dir = scratch("foryou-eval");
    // Two taste groups: a,b,c go together and x,y,z go together.
    let mut train = String::from(HEADER);
    for u in 0..6 {
        let group: &[&str] = if u % 2 == 0 {
            &["a", "b", "c"]
        } else {
            &["x", "y", "z"]
        };
        for it in group {
            train.push_str(&format!("u{u}\t{it}\t0\t1\n"));
        }
    }
    train.push_str("t0\ta\t0\t1\nt0\tb\t0\t1\nt1\tx\t0\t1\nt1\ty\t0\t1\n");
    let test = "user\titem\tts\tweight\nt0\tc\t0\t1\nt1\tz\t0\t1\n";
    std::fs::write(dir.join("train.tsv"), train).expect("write");
    std::fs::write(dir.join("test.tsv"), test).expect("write");
    let recs = dir.join("recs.tsv");
    let (train, test) = (dir.join("train.tsv"), dir.join("test.tsv"));
    let v = eval_json(
        2,
        &train,
        &test,
        &[OsStr::new("--recs-out"), recs.as_os_str()],
    );
    assert_eq!(v["recall@2"], 1.0, "{v}");
    assert_eq!(v["ndcg@2"], 1.0, "{v}");
    assert_eq!(v["users"], 2);
    // No timestamps: the log's order is not taken for time, so no engagement counts less for
    // coming earlier in the file.
    assert_eq!(v["timed"], false, "{v}");
    // The same log with timestamps is replayed in time, the latest engagements counting most.
    let timed_train = dir.join("train-timed.tsv");
    let text = std::fs::read_to_string(&train).expect("train");
    let mut timed = String::from(HEADER);
    for (n, line) in text.lines().skip(1).enumerate() {
        let f: Vec<&str> = line.split('\t').collect();
        timed.push_str(&format!("{}\t{}\t{}\t1\n", f[0], f[1], 1_000 + n));
    }
    std::fs::write(&timed_train, timed).expect("write");
    let t = eval_json(2, &timed_train, &test, &[]);
    assert_eq!(t["timed"], true, "{t}");
    assert_eq!(t["recall@2"], 1.0, "{t}");
    // What the trials chose, stage by stage of knowledge: a dozen positives make too few
    // trials for any stage to decide, so each uses the ranker's score alone.
    let stages = v["blend_by_stage"].as_array().expect("blend_by_stage");
    assert_eq!(stages.len(), foryou_engine::blend::STAGES, "{v}");
    assert_eq!(stages[0]["known_at_most"], 1, "{v}");
    assert!(
        stages.last().is_some_and(|s| s["known_at_most"].is_null()),
        "{v}"
    );
    for s in stages {
        assert_eq!(s["decided"], false, "{v}");
        assert_eq!(
            (s["batch_share"].as_f64(), s["crowd_share"].as_f64()),
            (Some(0.0), Some(0.0)),
            "{v}"
        );
        assert!(
            s["trials"]
                .as_f64()
                .is_some_and(|t| t < foryou_engine::blend::MIN_TRIALS),
            "{v}"
        );
    }
    // Both test people know two items; the crowd's top two (the other group's, as popular as
    // their own) miss what they came back for, the engine finds it.
    assert_eq!(
        v["by_known"],
        serde_json::json!([{"known_at_most": 2, "users": 2, "ndcg": 1.0, "crowd_ndcg": 0.0}]),
        "{v}"
    );
    let dump = std::fs::read_to_string(&recs).expect("dump");
    let lines: Vec<&str> = dump.lines().collect();
    assert_eq!(lines[0], "user\titem\trank");
    assert_eq!(lines.len(), 1 + 2 * 2, "K rows per user");
    assert!(lines.contains(&"t0\tc\t1"), "{dump}");
    assert!(
        !dump.contains("t0\ta\t"),
        "a user's own train items are excluded"
    );
    let bad = foryou([
        "eval",
        "--train",
        "/nonexistent.tsv",
        "--test",
        "/nonexistent.tsv",
    ]);
    assert!(!bad.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `foryou replay` on a tiny stream where every user walks the same path a → b → c → d: after
/// the first users the next step is predictable, so hits come; the JSON has every figure.
#[test]
fn replay_learns_as_it_goes() {
    let dir = scratch("foryou-replay");
    let mut events = String::from(HEADER);
    let mut ts = 1_000;
    for u in 0..30 {
        for it in ["a", "b", "c", "d"] {
            ts += 10;
            events.push_str(&format!("u{u}\t{it}\t{ts}\t1\n"));
        }
    }
    // A file of the same format without ts and weight columns also reads.
    std::fs::write(dir.join("events.tsv"), &events).expect("write");
    let events_path = dir.join("events.tsv");
    let v = foryou_json([
        OsStr::new("replay"),
        OsStr::new("--k"),
        OsStr::new("1"),
        OsStr::new("--events"),
        events_path.as_os_str(),
    ]);
    assert_eq!(v["scored_events"], 90, "{v}");
    // Chance is at most one in three (three unseen items); learning the path does far better.
    assert!(v["hr@1"].as_f64().expect("hr") > 0.6, "{v}");
    assert!(v["mrr@1"].as_f64().is_some());
    assert_eq!(v["hr@1_by_tenth"].as_array().map(Vec::len), Some(10));
    // By how much each person had: their second, third and fourth items, thirty of each. The
    // crowd (all-time popularity so far) finds every step but the first user's, whose items
    // the stream had not shown yet.
    assert_eq!(
        v["blend_by_stage"].as_array().map(Vec::len),
        Some(foryou_engine::blend::STAGES),
        "{v}"
    );
    let stages = v["by_known"].as_array().expect("by_known");
    let bounds: Vec<_> = stages.iter().map(|s| s["known_at_most"].clone()).collect();
    assert_eq!(bounds, [1, 2, 5], "{v}");
    for s in stages {
        assert_eq!(s["events"], 30, "{v}");
        assert!(
            s["crowd_hr"]
                .as_f64()
                .is_some_and(|h| (h - 29.0 / 30.0).abs() < 1e-9),
            "{v}"
        );
        assert!(
            s["hr"].as_f64().is_some_and(|h| (0.0..=1.0).contains(&h)),
            "{v}"
        );
    }
    let bare: String = events
        .lines()
        .map(|l| l.split('\t').take(2).collect::<Vec<_>>().join("\t"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.join("bare.tsv"), bare).expect("write");
    let bare_path = dir.join("bare.tsv");
    foryou_json([
        OsStr::new("replay"),
        OsStr::new("--events"),
        bare_path.as_os_str(),
    ]);
    let bad = foryou(["replay", "--events", "/nonexistent.tsv"]);
    assert!(!bad.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A logged page of four items, one of which (`liked`) has the creator feature and was finished
/// and liked; the others were skipped. Positions are as served, in a shuffled order.
fn logged_pages(n: usize) -> String {
    use serde_json::json;
    let mut out = String::new();
    let mut s = 5u64;
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 33) as usize
    };
    for p in 0..n {
        let user = (p % 7 + 1).to_string();
        let ts = 1_000_000 + p as u64 * 10_000;
        let liked = next() % 4;
        let items: Vec<serde_json::Value> = (0..4)
            .map(|i| {
                let mut f = vec![0.0f32; 20];
                f[0] = 1.0;
                f[9] = if i == liked { 0.9 } else { 0.0 };
                json!({"video": (p * 10 + i + 1).to_string(), "position": (i + p) % 4,
                       "sources": ["trending"], "score": 0.5, "propensity": 1.0, "features": f})
            })
            .collect();
        out.push_str(
            &json!({"seq": 0, "id": format!("imp{p}"), "user": user, "region": "eu",
            "kind": "impression", "ts_ms": ts,
            "impression": {"config": "c", "items": items}})
            .to_string(),
        );
        out.push('\n');
        for i in 0..4 {
            let video = (p * 10 + i + 1).to_string();
            let (kind, watch) = if i == liked {
                ("view", 10_000)
            } else {
                ("skip", 200)
            };
            out.push_str(
                &json!({"seq": 0, "id": format!("e{p}-{i}"), "user": user, "region": "eu",
                "kind": kind, "ts_ms": ts + 1000 + i as u64, "video": video,
                "duration_ms": 10_000, "watch_ms": watch})
                .to_string(),
            );
            out.push('\n');
            if i == liked {
                out.push_str(
                    &json!({"seq": 0, "id": format!("l{p}"), "user": user, "region": "eu",
                    "kind": "like", "ts_ms": ts + 2000, "video": video})
                    .to_string(),
                );
                out.push('\n');
            }
        }
    }
    out
}

#[test]
fn a_candidate_is_judged_on_logged_impressions_before_it_goes_live() {
    let dir = scratch("foryou-cf");
    let log = dir.join("log.jsonl");
    std::fs::write(&log, logged_pages(300)).expect("write");
    let run = |change: &str| {
        let cfg = dir.join("candidate.json");
        std::fs::write(&cfg, change).expect("write");
        foryou_json([
            OsStr::new("eval"),
            OsStr::new("--counterfactual"),
            OsStr::new("--impressions"),
            log.as_os_str(),
            OsStr::new("--config"),
            cfg.as_os_str(),
            OsStr::new("--k"),
            OsStr::new("1"),
        ])
    };
    let follows = run(r#"{"lift": {"creator": 6.0}}"#);
    let against = run(r#"{"lift": {"creator": -6.0}}"#);
    assert_eq!(follows["pages"], 300);
    assert_eq!(follows["pages_with_outcomes"], 300);
    let (good, logged, bad) = (
        follows["candidate"]["value"].as_f64().expect("value"),
        follows["logged"]["value"].as_f64().expect("value"),
        against["candidate"]["value"].as_f64().expect("value"),
    );
    // Putting the creator's videos first finds what people finished and liked on every page;
    // the served order did a quarter of the time; putting them last never does.
    assert!(good > logged && logged > bad, "{good} {logged} {bad}");
    assert!(
        follows["difference"].as_f64().expect("difference") > 2.0,
        "{follows}"
    );
    // A file that is not a log is refused, saying where.
    std::fs::write(&log, "not json\n").expect("write");
    let out = foryou([
        OsStr::new("eval"),
        OsStr::new("--counterfactual"),
        OsStr::new("--impressions"),
        log.as_os_str(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A file without timestamps says nothing about which of a person's rows came last. Here the
/// person has 12 films of one taste and, further down the file, 8 of another; they come back
/// for the first taste. Read as time (the serving recency weights), the last 8 rows win the
/// ranking; read as it is, an unordered set, the 12 do.
#[test]
fn a_file_without_timestamps_is_not_read_as_time() {
    let dir = scratch("foryou-eval-order");
    let mut train = String::from(HEADER);
    for u in 0..8 {
        for k in 0..16 {
            train.push_str(&format!("a{u}\ta{k}\t0\t1\nx{u}\tx{k}\t0\t1\n"));
        }
    }
    for k in 0..12 {
        train.push_str(&format!("t\ta{k}\t0\t1\n"));
    }
    for k in 0..8 {
        train.push_str(&format!("t\tx{k}\t0\t1\n"));
    }
    let test = "user\titem\tts\tweight\nt\ta12\t0\t1\nt\ta13\t0\t1\nt\ta14\t0\t1\nt\ta15\t0\t1\n";
    let (train_path, test_path) = (dir.join("train.tsv"), dir.join("test.tsv"));
    std::fs::write(&train_path, train).expect("write");
    std::fs::write(&test_path, test).expect("write");
    let unordered = eval_json(4, &train_path, &test_path, &[]);
    assert_eq!(unordered["timed"], false, "{unordered}");
    assert_eq!(unordered["recall@4"], 1.0, "{unordered}");
    // The serving recency weights, asked for explicitly, favour the rows further down.
    let config = dir.join("config.json");
    std::fs::write(
        &config,
        r#"{"history_half_life": 10.0, "batch_half_life": 50.0}"#,
    )
    .expect("write");
    let as_time = eval_json(
        4,
        &train_path,
        &test_path,
        &[OsStr::new("--config"), config.as_os_str()],
    );
    assert_eq!(as_time["recall@4"], 0.0, "{as_time}");
    let _ = std::fs::remove_dir_all(&dir);
}
