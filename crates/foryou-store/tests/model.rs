//! The embedded log and store against a `BTreeMap`/`BTreeSet` model, under random sequences of
//! event batches (likes, saves, follows, comment likes and their undoing; resent ids), restarts,
//! and a store that
//! falls behind its log and catches up.

use foryou_store::Effect;
use foryou_store::{EmbeddedKeys, EmbeddedLog, EmbeddedStore, RegionStore, SealedLog};
use foryou_types::{CommentId, EventKind, EventRecord, Region, UserId, VideoId};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone)]
enum Op {
    /// Appended to the log and applied to the store.
    Batch(Vec<(u8, u8, u8, u8)>),
    /// Appended to the log only, as when a crash strikes between the two.
    LogOnly(Vec<(u8, u8, u8, u8)>),
    /// Both closed and opened again; the store catches up with the log.
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    let batch = || prop::collection::vec((0u8..8, 0u8..3, 0u8..4, 0u8..12), 1..6);
    prop_oneof![
        4 => batch().prop_map(Op::Batch),
        1 => batch().prop_map(Op::LogOnly),
        1 => Just(Op::Restart),
    ]
}

fn open(region: &Region, dir: &std::path::Path) -> (SealedLog, EmbeddedStore) {
    let log = SealedLog::open(
        Box::new(EmbeddedLog::open(region.clone(), dir, 16 << 20).expect("open log")),
        Box::new(EmbeddedKeys::open(region.clone(), dir).expect("open keys")),
    )
    .expect("sealed log");
    let store = EmbeddedStore::open(region.clone(), dir, 16 << 20).expect("open store");
    (log, store)
}

/// Applies whatever of the log the store has not applied yet.
fn catch_up(log: &SealedLog, store: &EmbeddedStore) {
    let from = store.applied_seq().expect("applied") + 1;
    let rest = log.read(from, usize::MAX).expect("read");
    store.apply(&rest).expect("apply");
}

fn record(region: &Region, kind: u8, user: u8, target: u8, id: u8) -> EventRecord {
    let kind = [
        EventKind::Like,
        EventKind::Unlike,
        EventKind::Follow,
        EventKind::Unfollow,
        EventKind::Save,
        EventKind::Unsave,
        EventKind::LikeComment,
        EventKind::UnlikeComment,
    ][kind as usize];
    let (video, creator) = match kind {
        EventKind::Follow | EventKind::Unfollow => (None, Some(UserId(u64::from(target) + 50))),
        _ => (Some(VideoId(u64::from(target) + 100)), None),
    };
    // Comment `target + 700` is on video `target + 100`.
    let comment = matches!(kind, EventKind::LikeComment | EventKind::UnlikeComment)
        .then(|| CommentId(u64::from(target) + 700));
    EventRecord {
        video,
        creator,
        comment,
        ..EventRecord::new(
            format!("ev{id}"),
            UserId(u64::from(user) + 1),
            region.clone(),
            kind,
            1,
        )
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn store_matches_model(ops in prop::collection::vec(op(), 1..25)) {
        let dir = std::env::temp_dir().join(format!("foryou-model-{}-{:x}", std::process::id(), rand_id()));
        let region = Region::new("eu").expect("region");
        let (mut log, mut store) = open(&region, &dir);
        let mut likes: BTreeSet<(u64, u64)> = BTreeSet::new();
        let mut follows: BTreeSet<(u64, u64)> = BTreeSet::new();
        let mut saves: BTreeSet<(u64, u64)> = BTreeSet::new();
        let mut comment_likes: BTreeSet<(u64, u64)> = BTreeSet::new();
        let mut seen: BTreeMap<(u64, String), u64> = BTreeMap::new();
        let mut log_len = 0u64;
        for op in ops {
            let (items, apply) = match op {
                Op::Restart => {
                    drop((log, store));
                    (log, store) = open(&region, &dir);
                    catch_up(&log, &store);
                    (Vec::new(), true)
                }
                Op::Batch(items) => (items, true),
                Op::LogOnly(items) => (items, false),
            };
            if items.is_empty() {
                // Nothing appended: the checks below run on the caught-up store.
            } else {
                let batch: Vec<EventRecord> = items.iter().map(|&(k, u, t, id)| record(&region, k, u, t, id)).collect();
                let out = log.append(&batch).expect("append");
                let mut fresh = Vec::new();
                for (r, a) in batch.iter().zip(out) {
                    let key = (r.user.0, r.id.clone());
                    if let Some(&seq) = seen.get(&key) {
                        prop_assert!(a.duplicate);
                        prop_assert_eq!(a.seq, seq);
                        continue;
                    }
                    prop_assert!(!a.duplicate);
                    log_len += 1;
                    prop_assert_eq!(a.seq, log_len);
                    seen.insert(key, a.seq);
                    fresh.push(EventRecord { seq: a.seq, ..r.clone() });
                    let video = (r.user.0, r.video.map(|v| v.0).unwrap_or(0));
                    let creator = (r.user.0, r.creator.map(|c| c.0).unwrap_or(0));
                    let comment = (r.user.0, r.comment.map(|c| c.0).unwrap_or(0));
                    match r.kind {
                        EventKind::Like => { likes.insert(video); }
                        EventKind::Unlike => { likes.remove(&video); }
                        EventKind::Follow => { follows.insert(creator); }
                        EventKind::Unfollow => { follows.remove(&creator); }
                        EventKind::Save => { saves.insert(video); }
                        EventKind::Unsave => { saves.remove(&video); }
                        EventKind::LikeComment => { comment_likes.insert(comment); }
                        _ => { comment_likes.remove(&comment); }
                    }
                }
                if !apply {
                    continue;
                }
                // A store that fell behind is given the whole gap, in order.
                catch_up(&log, &store);
                // Offering the same records again changes nothing.
                let again = store.apply(&fresh).expect("apply again");
                prop_assert!(again.iter().all(|e| *e == Effect::None));
            }
            let got_likes: BTreeSet<(u64, u64)> = store.likes().expect("likes").into_iter().map(|(u, v)| (u.0, v.0)).collect();
            let got_follows: BTreeSet<(u64, u64)> = store.follows().expect("follows").into_iter().map(|(u, c)| (u.0, c.0)).collect();
            prop_assert_eq!(&got_likes, &likes);
            prop_assert_eq!(&got_follows, &follows);
            let got_saves: BTreeSet<(u64, u64)> = store.saves().expect("saves").into_iter().map(|(u, v, _)| (u.0, v.0)).collect();
            prop_assert_eq!(&got_saves, &saves);
            let got_comment_likes: BTreeSet<(u64, u64)> = store.comment_likes().expect("comment likes").into_iter().map(|(u, c)| (u.0, c.0)).collect();
            prop_assert_eq!(&got_comment_likes, &comment_likes);
            prop_assert_eq!(store.applied_seq().expect("applied"), log_len);
            prop_assert_eq!(log.last_seq().expect("seq"), log_len);
            let all = log.read(1, usize::MAX).expect("events");
            prop_assert_eq!(all.len() as u64, log_len);
            prop_assert!(all.iter().enumerate().all(|(i, e)| e.seq == i as u64 + 1));
        }
        drop((log, store));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn rand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    u64::from(t) ^ (N.fetch_add(1, Ordering::SeqCst) << 32)
}

#[test]
fn a_log_and_a_store_refuse_records_of_another_region() {
    let dir = std::env::temp_dir().join(format!("foryou-region-{}", std::process::id()));
    let (log, store) = open(&Region::new("eu").expect("region"), &dir);
    let us = Region::new("us").expect("region");
    let err = log.append(&[record(&us, 0, 1, 1, 1)]);
    assert!(matches!(
        err,
        Err(foryou_store::StoreError::WrongRegion { .. })
    ));
    assert_eq!(log.last_seq().expect("seq"), 0);
    let mut r = record(&us, 0, 1, 1, 1);
    r.seq = 1;
    assert!(matches!(
        store.apply(&[r]),
        Err(foryou_store::StoreError::WrongRegion { .. })
    ));
    assert_eq!(store.applied_seq().expect("applied"), 0);
    drop((log, store));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_store_refuses_a_gap_in_the_log() {
    let dir =
        std::env::temp_dir().join(format!("foryou-gap-{}-{:x}", std::process::id(), rand_id()));
    let eu = Region::new("eu").expect("region");
    let (_log, store) = open(&eu, &dir);
    let mut r = record(&eu, 0, 1, 1, 1);
    r.seq = 2;
    assert!(matches!(
        store.apply(&[r]),
        Err(foryou_store::StoreError::Gap {
            applied: 0,
            got: 2,
            ..
        })
    ));
    assert!(store.likes().expect("likes").is_empty());
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn view_and_share_counts_are_kept_across_restarts() {
    let dir = std::env::temp_dir().join(format!(
        "foryou-counts-{}-{:x}",
        std::process::id(),
        rand_id()
    ));
    let eu = Region::new("eu").expect("region");
    let ev = |id: &str, kind: EventKind, video: u64| {
        let mut r = record(&eu, 0, 1, 0, 0);
        r.id = id.to_string();
        r.kind = kind;
        r.video = Some(VideoId(video));
        r
    };
    {
        let (log, store) = open(&eu, &dir);
        assert!(store.view_share_counts().expect("counts").is_empty());
        log.append(&[
            ev("a", EventKind::View, 7),
            ev("b", EventKind::View, 7),
            ev("c", EventKind::Share, 7),
            ev("d", EventKind::View, 8),
            ev("e", EventKind::Like, 8),
        ])
        .expect("append");
        // A resent id counts nothing.
        let again = log.append(&[ev("a", EventKind::View, 7)]).expect("append");
        assert!(again[0].duplicate);
        catch_up(&log, &store);
    }
    let (log, store) = open(&eu, &dir);
    catch_up(&log, &store);
    let mut counts = store.view_share_counts().expect("counts");
    counts.sort();
    assert_eq!(counts, vec![(VideoId(7), 2, 1), (VideoId(8), 1, 0)]);
    drop((log, store));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The conformance suite every backend passes, on the embedded store.
#[test]
fn the_embedded_store_passes_the_backend_suite() {
    let made = std::cell::Cell::new(0u32);
    let root = std::env::temp_dir().join(format!(
        "foryou-suite-{}-{:x}",
        std::process::id(),
        rand_id()
    ));
    let open = |region: &Region| -> Box<dyn RegionStore> {
        made.set(made.get() + 1);
        let dir = root.join(made.get().to_string());
        Box::new(EmbeddedStore::open(region.clone(), &dir, 1 << 20).expect("open"))
    };
    foryou_store::suite::run(&open);
    let _ = std::fs::remove_dir_all(&root);
}

/// The event-log suite every backend passes, on the embedded log.
#[test]
fn the_embedded_log_passes_the_backend_suite() {
    let dir = std::env::temp_dir().join(format!(
        "foryou-logsuite-{}-{:x}",
        std::process::id(),
        rand_id()
    ));
    let log = EmbeddedLog::open(Region::new("eu").expect("region"), &dir, 1 << 20).expect("open");
    foryou_store::suite::run_log(&log);
    drop(log);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The key-store suite every backend passes, on the embedded key file.
#[test]
fn the_embedded_keys_pass_the_backend_suite() {
    let dir = std::env::temp_dir().join(format!(
        "foryou-keysuite-{}-{:x}",
        std::process::id(),
        rand_id()
    ));
    let open = || -> Box<dyn foryou_store::KeyStore> {
        Box::new(EmbeddedKeys::open(Region::new("eu").expect("region"), &dir).expect("open"))
    };
    foryou_store::suite::run_keys(&open);
    let _ = std::fs::remove_dir_all(&dir);
}
