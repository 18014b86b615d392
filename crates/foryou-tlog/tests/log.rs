//! The tiled log on disk: appends across tile boundaries, reopening, proofs, the auditor's
//! checks against a copy of the directory, each tamper an attacker could make, and the witness.

use foryou_tlog::audit::{self, DirSource, Trust};
use foryou_tlog::log::{Sequencer, TileLog};
use foryou_tlog::note::{
    add_signature_lines, open_checkpoint, CosignatureVerifier, Cosigner, LogSigner,
};
use foryou_tlog::paths::{TileKind, TilePath};
use foryou_tlog::tree;
use foryou_tlog::witness::{AddError, Witness};
use std::path::{Path, PathBuf};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let d = std::env::temp_dir().join(format!(
            "foryou-tlog-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&d);
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn entry(i: u64) -> Vec<u8> {
    format!("{{\"n\":{i}}}").into_bytes()
}

/// A log of `n` entries appended in uneven batches, and its private key.
fn filled(dir: &Path, n: u64) -> (String, TileLog) {
    let (skey, signer) = LogSigner::generate("foryou.test/log").expect("key");
    let mut log = TileLog::open(dir, signer).expect("open");
    let mut i = 0;
    let mut batch = 1;
    while i < n {
        let k = batch.min(n - i);
        let entries: Vec<Vec<u8>> = (i..i + k).map(entry).collect();
        assert_eq!(log.append(&entries).expect("append"), i);
        i += k;
        batch = batch * 3 % 97 + 1;
    }
    (skey, log)
}

fn trust(vkey: &str) -> Trust {
    Trust {
        log_vkey: vkey.to_string(),
        witnesses: Vec::new(),
        min_cosigners: 0,
    }
}

fn verify(
    dir: &Path,
    vkey: &str,
    previous: Option<&[u8]>,
) -> Result<audit::Verified, audit::AuditError> {
    audit::verify(
        &DirSource(dir.to_path_buf()),
        &trust(vkey),
        previous,
        |_, _| Ok(()),
    )
}

#[test]
fn a_log_across_many_tiles_verifies_reopens_and_proves() {
    let d = Dir::new("fill");
    let n = 256 * 3 + 77;
    let (skey, log) = filled(&d.0, n);
    let vkey = log.vkey().to_string();
    let v = verify(&d.0, &vkey, None).expect("verifies");
    assert_eq!(v.size, n);
    assert!(v.tiles >= 5, "{v:?}");
    // The root is the RFC 6962 root of the entries, computed independently.
    let leaves: Vec<tree::Hash> = (0..n).map(|i| tree::leaf_hash(&entry(i))).collect();
    assert_eq!(v.root, tree::root(&leaves));
    // Proofs for every tenth entry and every earlier size check out.
    for i in (0..n).step_by(10) {
        let p = log.prove_inclusion(n, i).expect("proof");
        tree::verify_inclusion(&p, n, v.root, i, leaves[i as usize]).expect("inclusion");
    }
    for old in [1, 2, 255, 256, 257, 700, n] {
        let p = log.prove_consistency(old, n).expect("proof");
        let old_root = tree::root(&leaves[..old as usize]);
        tree::verify_consistency(&p, old, old_root, n, v.root).expect("consistency");
    }
    // Reopened, it goes on from where it was, and full tiles have no partial copies left.
    drop(log);
    let mut log = TileLog::open(&d.0, LogSigner::from_skey(&skey).expect("key")).expect("reopen");
    assert_eq!(log.size(), n);
    log.append(&[entry(n)]).expect("append");
    assert!(!d.0.join("tile/0/000.p").exists());
    let v2 = verify(&d.0, &vkey, Some(&v.checkpoint)).expect("still verifies");
    assert_eq!((v2.size, v2.extends), (n + 1, Some(n)));
    // A partial tile an older reader asks for is cut from the wider one.
    let t = TilePath {
        kind: TileKind::Entries,
        index: 3,
        width: 5,
    };
    let b = log.tile(&t).expect("read").expect("served");
    assert_eq!(foryou_tlog::bundle::parse(&b).expect("bundle").len(), 5);
    let past = TilePath {
        kind: TileKind::Entries,
        index: 9,
        width: 1,
    };
    assert!(log.tile(&past).expect("read").is_none());
}

#[test]
fn the_sequencer_batches_concurrent_appends_and_acknowledges_each() {
    let d = Dir::new("seq");
    let (_, signer) = LogSigner::generate("foryou.test/log").expect("key");
    let vkey = signer.vkey().to_string();
    let seq = Sequencer::start(TileLog::open(&d.0, signer).expect("open"));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let s = seq.clone();
            std::thread::spawn(move || {
                (0..40)
                    .map(|i| s.append(entry(t * 1000 + i)).expect("append"))
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let mut all: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("thread"))
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..320).collect::<Vec<u64>>());
    assert_eq!(verify(&d.0, &vkey, None).expect("verifies").size, 320);
}

/// Copies the log so each tamper starts from the same good log.
fn copy(from: &Path, to: &Path) {
    let mut stack = vec![from.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("dir") {
            let p = e.expect("entry").path();
            let rel = p.strip_prefix(from).expect("prefix");
            if p.is_dir() {
                std::fs::create_dir_all(to.join(rel)).expect("mkdir");
                stack.push(p);
            } else {
                std::fs::copy(&p, to.join(rel)).expect("copy");
            }
        }
    }
}

#[test]
fn every_tamper_is_caught_with_its_name() {
    let good = Dir::new("good");
    let (skey, log) = filled(&good.0, 600);
    let vkey = log.vkey().to_string();
    let earlier = std::fs::read(good.0.join("checkpoint")).expect("checkpoint");
    drop(log);
    // The auditor saw `earlier` (600 entries); the server then went on to 650.
    let mut log = TileLog::open(&good.0, LogSigner::from_skey(&skey).expect("key")).expect("open");
    log.append(&(600..650).map(entry).collect::<Vec<_>>())
        .expect("append");
    drop(log);
    verify(&good.0, &vkey, Some(&earlier)).expect("the untouched log verifies");

    let case =
        |name: &str, tamper: &dyn Fn(&Path), previous: Option<&[u8]>, key: &str, want: &str| {
            let d = Dir::new(name);
            std::fs::create_dir_all(&d.0).expect("dir");
            copy(&good.0, &d.0);
            tamper(&d.0);
            let err = verify(&d.0, key, previous).expect_err(name).to_string();
            assert!(err.contains(want), "{name}: {err}");
        };
    let bundle0 = "tile/entries/000";
    // A rewritten entry: one byte changed in the first bundle.
    case(
        "rewritten",
        &|d| {
            let p = d.join(bundle0);
            let mut b = std::fs::read(&p).expect("read");
            b[5] ^= 1;
            std::fs::write(&p, b).expect("write");
        },
        None,
        &vkey,
        "REWRITTEN ENTRY",
    );
    // A dropped entry: the first bundle loses its last entry.
    case(
        "dropped",
        &|d| {
            let p = d.join(bundle0);
            let b = std::fs::read(&p).expect("read");
            let entries = foryou_tlog::bundle::parse(&b).expect("bundle");
            let fewer = foryou_tlog::bundle::encode(&entries[..255]).expect("encode");
            std::fs::write(&p, fewer).expect("write");
        },
        None,
        &vkey,
        "DROPPED OR ADDED ENTRY",
    );
    // A truncated log: the last partial bundle is gone.
    case(
        "truncated",
        &|d| {
            std::fs::remove_file(d.join("tile/entries/002.p/138")).expect("remove");
        },
        None,
        &vkey,
        "TRUNCATED",
    );
    // A rolled-back log: the server shows an older, smaller checkpoint than the auditor saw.
    let later = std::fs::read(good.0.join("checkpoint")).expect("checkpoint");
    case(
        "rollback",
        &|d| {
            std::fs::write(d.join("checkpoint"), &earlier).expect("write");
        },
        Some(&later),
        &vkey,
        "TRUNCATED",
    );
    // A bad signature: one character of the signature line changed.
    case(
        "signature",
        &|d| {
            let p = d.join("checkpoint");
            let text = String::from_utf8(std::fs::read(&p).expect("read")).expect("utf8");
            let at = text.len() - 6;
            let c = if &text[at..at + 1] == "A" { "B" } else { "A" };
            std::fs::write(&p, format!("{}{c}{}", &text[..at], &text[at + 1..])).expect("write");
        },
        None,
        &vkey,
        "BAD SIGNATURE",
    );
    // A wrong key: the auditor pins another log's key.
    let (_, other) = LogSigner::generate("foryou.test/log").expect("key");
    case("wrong-key", &|_| {}, None, other.vkey(), "BAD SIGNATURE");
    // A fork: the server rewrote history and re-signed it with its real key; the auditor's saved
    // checkpoint exposes it.
    case(
        "fork",
        &|d| {
            for e in std::fs::read_dir(d).expect("dir") {
                let p = e.expect("entry").path();
                let _ = if p.is_dir() {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
            }
            let mut forked =
                TileLog::open(d, LogSigner::from_skey(&skey).expect("key")).expect("fork");
            let mut entries: Vec<Vec<u8>> = (0..650).map(entry).collect();
            entries[10] = b"{\"n\":\"quietly changed\"}".to_vec();
            forked.append(&entries).expect("append");
        },
        Some(&earlier),
        &vkey,
        "FORK",
    );
    // A tile that disagrees with the entries.
    case(
        "tile",
        &|d| {
            let p = d.join("tile/0/001");
            let mut b = std::fs::read(&p).expect("read");
            b[0] ^= 1;
            std::fs::write(&p, b).expect("write");
        },
        None,
        &vkey,
        "BAD TILE",
    );
}

#[test]
fn a_crash_between_tiles_and_checkpoint_loses_nothing_acknowledged() {
    let d = Dir::new("crash");
    let (skey, log) = filled(&d.0, 300);
    let vkey = log.vkey().to_string();
    drop(log);
    // An append that wrote hashes and tiles but died before its checkpoint: simulated by
    // appending to a copy, then putting back the old checkpoint.
    let old_cp = std::fs::read(d.0.join("checkpoint")).expect("checkpoint");
    let mut log = TileLog::open(&d.0, LogSigner::from_skey(&skey).expect("key")).expect("open");
    log.append(&(300..340).map(entry).collect::<Vec<_>>())
        .expect("append");
    drop(log);
    std::fs::write(d.0.join("checkpoint"), &old_cp).expect("roll back the commit point");
    let mut log = TileLog::open(&d.0, LogSigner::from_skey(&skey).expect("key")).expect("reopens");
    assert_eq!(log.size(), 300);
    log.append(&[b"after the crash".to_vec()]).expect("append");
    let v = verify(&d.0, &vkey, Some(&old_cp)).expect("verifies");
    assert_eq!(v.size, 301);
}

#[test]
fn the_witness_cosigns_only_extensions_of_what_it_saw() {
    let d = Dir::new("witness");
    std::fs::create_dir_all(&d.0).expect("dir");
    let (skey, mut log) = filled(&d.0.join("log"), 10);
    let (_, cosigner) = Cosigner::generate("witness.test/w1").expect("witness key");
    let wvkey = cosigner.vkey();
    let witness = Witness::open(cosigner, log.vkey(), d.0.join("witness-state")).expect("witness");
    let body = |old: u64, proof: &[tree::Hash], note: &[u8]| {
        use base64::prelude::*;
        let mut b = format!("old {old}\n").into_bytes();
        for h in proof {
            b.extend_from_slice(format!("{}\n", BASE64_STANDARD.encode(h.0)).as_bytes());
        }
        b.push(b'\n');
        b.extend_from_slice(note);
        b
    };
    // First contact: old 0, no proof.
    let line = witness
        .add_checkpoint(&body(0, &[], log.checkpoint()))
        .expect("cosigned");
    let cosigned = add_signature_lines(log.checkpoint(), &line).expect("add");
    let wv = CosignatureVerifier::new(&wvkey).expect("vkey");
    let o = open_checkpoint(&cosigned, log.vkey(), std::slice::from_ref(&wv)).expect("opens");
    assert_eq!(o.cosigned_by.len(), 1);
    // The log grows: a consistency proof from 10 gets the next cosignature.
    log.append(&(10..300).map(entry).collect::<Vec<_>>())
        .expect("append");
    let p = log.prove_consistency(10, 300).expect("proof");
    witness
        .add_checkpoint(&body(10, &p, log.checkpoint()))
        .expect("cosigned");
    assert_eq!(witness.size(), 300);
    // A stale old size gets 409 with the witness's size.
    assert!(matches!(
        witness.add_checkpoint(&body(10, &p, log.checkpoint())),
        Err(AddError::Conflict(300))
    ));
    // A fork signed with the log's own key: another history of the same size is refused.
    let fork_dir = d.0.join("fork");
    let mut fork =
        TileLog::open(&fork_dir, LogSigner::from_skey(&skey).expect("key")).expect("fork");
    let mut entries: Vec<Vec<u8>> = (0..310).map(entry).collect();
    entries[3] = b"other".to_vec();
    fork.append(&entries).expect("append");
    let bogus = fork.prove_consistency(300, 310).expect("proof");
    assert!(matches!(
        witness.add_checkpoint(&body(300, &bogus, fork.checkpoint())),
        Err(AddError::BadProof(_))
    ));
    // Someone else's log is unknown; a bad signature is forbidden; garbage is a bad request.
    let (_, stranger) = LogSigner::generate("stranger.test/log").expect("key");
    let other = TileLog::open(&d.0.join("other"), stranger).expect("other");
    assert!(matches!(
        witness.add_checkpoint(&body(0, &[], other.checkpoint())),
        Err(AddError::UnknownLog(_))
    ));
    let mut forged = log.checkpoint().to_vec();
    let n = forged.len();
    forged[n - 3] ^= 1;
    assert!(matches!(
        witness.add_checkpoint(&body(300, &[], &forged)),
        Err(AddError::Forbidden(_)) | Err(AddError::BadRequest(_))
    ));
    assert!(matches!(
        witness.add_checkpoint(b"old 01\n\nx"),
        Err(AddError::BadRequest(_))
    ));
    // Its state survives a restart.
    drop(witness);
    let (_, c2) = Cosigner::generate("witness.test/w1").expect("key");
    let again = Witness::open(c2, log.vkey(), d.0.join("witness-state")).expect("reopen");
    assert_eq!(again.size(), 300);
}
