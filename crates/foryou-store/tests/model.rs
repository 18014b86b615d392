//! The embedded store against a `BTreeMap`/`BTreeSet` model, under random sequences of event
//! batches (likes, unlikes, follows, unfollows, resent ids) and restarts.

use foryou_store::{EmbeddedStore, NewEvent, RegionStore};
use foryou_types::{EventKind, EventRecord, Region, UserId, VideoId};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone)]
enum Op {
    Batch(Vec<(u8, u8, u8, u8)>),
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => prop::collection::vec((0u8..4, 0u8..3, 0u8..4, 0u8..12), 1..6).prop_map(Op::Batch),
        1 => Just(Op::Restart),
    ]
}

fn record(region: &Region, kind: u8, user: u8, target: u8, id: u8) -> EventRecord {
    let kind = [
        EventKind::Like,
        EventKind::Unlike,
        EventKind::Follow,
        EventKind::Unfollow,
    ][kind as usize];
    let (video, creator) = match kind {
        EventKind::Like | EventKind::Unlike => (Some(VideoId(u64::from(target) + 100)), None),
        _ => (None, Some(UserId(u64::from(target) + 50))),
    };
    EventRecord {
        seq: 0,
        id: format!("ev{id}"),
        user: UserId(u64::from(user) + 1),
        region: region.clone(),
        kind,
        ts_ms: 1,
        video,
        creator,
        sound: None,
        duration_ms: None,
        watch_ms: None,
        not_interested: None,
        text: None,
        comment: None,
        tags: Vec::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn store_matches_model(ops in prop::collection::vec(op(), 1..25)) {
        let dir = std::env::temp_dir().join(format!("foryou-model-{}-{:x}", std::process::id(), rand_id()));
        let region = Region::new("eu").expect("region");
        let mut store = EmbeddedStore::open(region.clone(), &dir, 16 << 20).expect("open");
        let mut likes: BTreeSet<(u64, u64)> = BTreeSet::new();
        let mut follows: BTreeSet<(u64, u64)> = BTreeSet::new();
        let mut seen: BTreeMap<(u64, String), u64> = BTreeMap::new();
        let mut log_len = 0u64;
        for op in ops {
            match op {
                Op::Restart => {
                    drop(store);
                    store = EmbeddedStore::open(region.clone(), &dir, 16 << 20).expect("reopen");
                }
                Op::Batch(items) => {
                    let batch: Vec<NewEvent> = items.iter().map(|&(k, u, t, id)| NewEvent { record: record(&region, k, u, t, id) }).collect();
                    let out = store.append_events(&batch).expect("append");
                    for (ne, a) in batch.iter().zip(out) {
                        let r = &ne.record;
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
                        match r.kind {
                            EventKind::Like => { likes.insert((r.user.0, r.video.map(|v| v.0).unwrap_or(0))); }
                            EventKind::Unlike => { likes.remove(&(r.user.0, r.video.map(|v| v.0).unwrap_or(0))); }
                            EventKind::Follow => { follows.insert((r.user.0, r.creator.map(|c| c.0).unwrap_or(0))); }
                            _ => { follows.remove(&(r.user.0, r.creator.map(|c| c.0).unwrap_or(0))); }
                        }
                    }
                }
            }
            let got_likes: BTreeSet<(u64, u64)> = store.likes().expect("likes").into_iter().map(|(u, v)| (u.0, v.0)).collect();
            let got_follows: BTreeSet<(u64, u64)> = store.follows().expect("follows").into_iter().map(|(u, c)| (u.0, c.0)).collect();
            prop_assert_eq!(&got_likes, &likes);
            prop_assert_eq!(&got_follows, &follows);
            prop_assert_eq!(store.last_seq().expect("seq"), log_len);
            let all = store.events_from(1, usize::MAX).expect("events");
            prop_assert_eq!(all.len() as u64, log_len);
            prop_assert!(all.iter().enumerate().all(|(i, e)| e.seq == i as u64 + 1));
        }
        drop(store);
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
fn a_store_refuses_records_of_another_region() {
    let dir = std::env::temp_dir().join(format!("foryou-region-{}", std::process::id()));
    let store =
        EmbeddedStore::open(Region::new("eu").expect("region"), &dir, 16 << 20).expect("open");
    let us = Region::new("us").expect("region");
    let err = store.append_events(&[NewEvent {
        record: record(&us, 0, 1, 1, 1),
    }]);
    assert!(matches!(
        err,
        Err(foryou_store::StoreError::WrongRegion { .. })
    ));
    assert_eq!(store.last_seq().expect("seq"), 0);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn view_and_share_counts_are_kept_with_the_log_across_restarts() {
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
        NewEvent { record: r }
    };
    {
        let store = EmbeddedStore::open(eu.clone(), &dir, 16 << 20).expect("open");
        assert!(store.view_share_counts().expect("counts").is_empty());
        store
            .append_events(&[
                ev("a", EventKind::View, 7),
                ev("b", EventKind::View, 7),
                ev("c", EventKind::Share, 7),
                ev("d", EventKind::View, 8),
                ev("e", EventKind::Like, 8),
            ])
            .expect("append");
        // A resent id counts nothing.
        store
            .append_events(&[ev("a", EventKind::View, 7)])
            .expect("append");
    }
    let store = EmbeddedStore::open(eu, &dir, 16 << 20).expect("reopen");
    let mut counts = store.view_share_counts().expect("counts");
    counts.sort();
    assert_eq!(counts, vec![(VideoId(7), 2, 1), (VideoId(8), 1, 0)]);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
