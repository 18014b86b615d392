//! Snapshot plus replay rebuilds what was learned: an engine restored from a snapshot taken
//! halfway through a stream, fed the rest, holds the same item vectors and serves the same pages
//! as the engine that learned the whole stream live.

mod common;

use common::*;
use foryou_engine::{Engine, EngineConfig};
use foryou_types::{EventKind, EventRecord};

fn stream(clock: &mut Clock, n: usize) -> Vec<EventRecord> {
    (0..n as u64)
        .map(|k| {
            let user = 20_000 + k % 40;
            let video = (k * 37 + user * 11) % 300;
            let kind = match k % 7 {
                0 => EventKind::Like,
                1 => EventKind::Share,
                _ => EventKind::View,
            };
            let watch = (kind == EventKind::View).then_some(if (video + user) % 3 == 0 {
                1.0
            } else {
                0.2
            });
            clock.event(user, kind, video, watch)
        })
        .collect()
}

#[test]
fn restore_and_replay_equals_the_live_engine() {
    let config = EngineConfig::default();
    let mut live = world(300, config.clone());
    let mut clock = Clock::new();
    let events = stream(&mut clock, 800);
    let (first, rest) = events.split_at(400);
    for e in first {
        live.observe(e);
    }
    let snapshot = live.snapshot().expect("snapshot");
    for e in rest {
        live.observe(e);
    }
    let mut restored = Engine::restore(config, &snapshot).expect("restore");
    // Events the snapshot already holds are skipped; the rest are learned.
    for e in &events {
        restored.observe(e);
    }
    let (a, b) = (live.state(), restored.state());
    assert_eq!(a.learned, b.learned);
    let n = a.embed.len() as u32;
    assert_eq!(n, b.embed.len() as u32);
    let differing = (0..n).filter(|&i| a.embed.get(i) != b.embed.get(i)).count();
    assert_eq!(differing, 0, "{differing} of {n} item vectors differ");
    live.rebuild_index();
    restored.rebuild_index();
    let now = clock.now();
    let mut pages_differ = 0;
    for user in 20_000..20_040u64 {
        let req = request(user, 10, now, user);
        if ids(&live.recommend(&req)) != ids(&restored.recommend(&req)) {
            pages_differ += 1;
        }
    }
    assert_eq!(pages_differ, 0, "{pages_differ} of 40 pages differ");
}

/// A `publish` record for video `v`, at the clock's next position.
fn publish(clock: &mut Clock, v: u64) -> EventRecord {
    let mut e = clock.event(creator_of(v), EventKind::Publish, v, None);
    e.tags = vec![topic_of(v)];
    e
}

#[test]
fn catalog_changes_in_the_log_replay_exactly_too() {
    let config = EngineConfig::default();
    let mut clock = Clock::new();
    // The catalog arrives through the log, interleaved with engagement, some of it after the
    // snapshot; one video is unpublished.
    let mut events = Vec::new();
    for v in 0..150u64 {
        events.push(publish(&mut clock, v));
    }
    let mut engagement = stream(&mut clock, 300);
    events.append(&mut engagement);
    for v in 150..300u64 {
        events.push(publish(&mut clock, v));
    }
    let mut more = stream(&mut clock, 300);
    events.append(&mut more);
    let mut gone = clock.event(creator_of(7), EventKind::Unpublish, 7, None);
    gone.tags.clear();
    events.push(gone);
    let mut live = Engine::new(config.clone());
    let half = events.len() / 2;
    for e in &events[..half] {
        live.observe(e);
    }
    let snapshot = live.snapshot().expect("snapshot");
    for e in &events[half..] {
        live.observe(e);
    }
    let mut restored = Engine::restore(config, &snapshot).expect("restore");
    for e in &events {
        restored.observe(e);
    }
    let (a, b) = (live.state(), restored.state());
    let n = a.embed.len() as u32;
    assert_eq!(n, b.embed.len() as u32);
    let differing = (0..n).filter(|&i| a.embed.get(i) != b.embed.get(i)).count();
    assert_eq!(differing, 0, "{differing} of {n} item vectors differ");
    assert!(!live.live_items().contains(&foryou_types::VideoId(7)));
    assert_eq!(live.live_items().len(), 299);
    live.rebuild_index();
    restored.rebuild_index();
    let now = clock.now();
    for user in 20_000..20_040u64 {
        let req = request(user, 10, now, user);
        assert_eq!(
            ids(&live.recommend(&req)),
            ids(&restored.recommend(&req)),
            "user {user}"
        );
    }
}
