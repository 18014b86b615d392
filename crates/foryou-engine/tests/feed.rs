//! The engine seen from outside: what a user's feed does as they watch.

mod common;

use common::*;
use foryou_engine::{Engine, EngineConfig, Reason};
use foryou_types::{EventKind, NotInterestedTarget, UserId, VideoId};
use std::collections::HashSet;

const N: u64 = 600;

/// How many of 10 on a page come from what `loves` picks, over 5 pages with different seeds.
fn share_of_taste(e: &Engine, user: u64, now: u64, loves: &dyn Fn(u64) -> bool) -> (f64, usize) {
    let (mut hits, mut explored) = (0, 0);
    for s in 0..5 {
        let page = e.recommend(&request(user, 10, now, 100 + s));
        hits += page.iter().filter(|r| loves(r.video.0)).count();
        explored += page
            .iter()
            .filter(|r| {
                r.reasons
                    .iter()
                    .any(|x| matches!(x, Reason::Exploring | Reason::NewVideo))
            })
            .count();
    }
    (hits as f64 / 5.0, explored)
}

/// Simulated new users, each in the same world but on their own: a user finishes only one
/// creator's and one sound's videos (a creator and a sound from the first page they are shown,
/// i.e. a taste the feed can observe) and skips everything else. After 20 views about half the
/// feed is theirs, after 30 views at least 6 of 10 on average and never fewer than 4 for anyone,
/// and exploration goes on.
#[test]
fn new_users_converge_on_their_taste_within_twenty_to_thirty_views() {
    let users = 16u64;
    let (mut at20, mut at30, mut explored) = (0.0, 0.0, 0);
    for user in 1..=users {
        let mut e = world(N, EngineConfig::default());
        let mut clock = Clock::new();
        background(&mut e, &mut clock, 60, N);
        e.rebuild_index();
        let first = ids(&e.recommend(&request(user, 5, clock.now(), user * 1000)));
        let creator = creator_of(first[0]);
        let sound = first
            .iter()
            .map(|&v| sound_of(v))
            .find(|&s| s != sound_of(first[0]))
            .expect("a second sound on the first page");
        let loves = move |v: u64| creator_of(v) == creator || sound_of(v) == sound;
        // The user swipes through pages of 5, as the web player fetches them.
        let mut seed = user * 1000;
        let mut views = 0;
        while views < 30 {
            seed += 1;
            for r in e.recommend(&request(user, 5, clock.now(), seed)) {
                let v = r.video.0;
                clock.view(&mut e, user, v, if loves(v) { 1.0 } else { 0.05 });
                views += 1;
                if views == 20 {
                    at20 += share_of_taste(&e, user, clock.now(), &loves).0;
                }
            }
        }
        let (share, ex) = share_of_taste(&e, user, clock.now(), &loves);
        assert!(
            share >= 4.0,
            "user {user}: only {share} of 10 after 30 views"
        );
        at30 += share;
        explored += ex;
    }
    let (at20, at30) = (at20 / users as f64, at30 / users as f64);
    assert!(at20 >= 5.0, "after 20 views {at20} of 10 on average");
    assert!(at30 >= 6.0, "after 30 views {at30} of 10 on average");
    assert!(explored > 0, "exploration must stay above zero");
}

/// The early feed of a new user is a mix: many creators, and exploration slots.
#[test]
fn a_new_user_gets_an_exploratory_mix() {
    let mut e = world(N, EngineConfig::default());
    let mut clock = Clock::new();
    background(&mut e, &mut clock, 60, N);
    let page = e.recommend(&request(77, 10, clock.now(), 3));
    assert_eq!(page.len(), 10);
    let creators: HashSet<u64> = page.iter().map(|r| creator_of(r.video.0)).collect();
    assert!(creators.len() >= 8, "{creators:?}");
    let exploring = page
        .iter()
        .filter(|r| r.reasons.contains(&Reason::Exploring) || r.reasons.contains(&Reason::NewVideo))
        .count();
    assert!(
        exploring >= 3,
        "half the slots explore for a brand-new user, got {exploring}"
    );
}

#[test]
fn the_very_next_request_reflects_an_event() {
    let mut e = world(N, EngineConfig::offline());
    let mut clock = Clock::new();
    background(&mut e, &mut clock, 60, N);
    let before = e.recommend(&request(5, 10, clock.now(), 1));
    // Not interested in the top video's creator: none of their videos come back.
    let top = before[0].video.0;
    clock.not_interested(&mut e, 5, top, NotInterestedTarget::Creator);
    let after = e.recommend(&request(5, 50, clock.now(), 1));
    assert!(after
        .iter()
        .all(|r| creator_of(r.video.0) != creator_of(top)));
    // A like on one video brings its creator's other videos up at once.
    let liked = 123;
    clock.view(&mut e, 6, liked, 1.0);
    clock.like(&mut e, 6, liked);
    let page = e.recommend(&request(6, 10, clock.now(), 1));
    assert!(
        page.iter()
            .any(|r| creator_of(r.video.0) == creator_of(liked)),
        "{:?}",
        ids(&page)
    );
    // What was watched is never shown again.
    assert!(page.iter().all(|r| r.video.0 != liked));
}

#[test]
fn the_non_personalised_feed_reads_no_history() {
    let mut e = world(N, EngineConfig::default());
    let mut clock = Clock::new();
    background(&mut e, &mut clock, 60, N);
    // Two users with opposite histories.
    for v in 0..40u64 {
        let a_loves = v % 2 == 0;
        clock.view(&mut e, 1, v, if a_loves { 1.0 } else { 0.05 });
        clock.view(&mut e, 2, v, if a_loves { 0.05 } else { 1.0 });
    }
    clock.not_interested(&mut e, 2, 300, NotInterestedTarget::Creator);
    let now = clock.now();
    let a = ids(&e.recommend(&non_personal(1, 20, now)));
    let b = ids(&e.recommend(&non_personal(2, 20, now)));
    let nobody = ids(&e.recommend(&non_personal(999, 20, now)));
    assert_eq!(a, b);
    assert_eq!(a, nobody);
    assert_eq!(a.len(), 20);
    for r in e.recommend(&non_personal(1, 5, now)) {
        assert_eq!(r.reasons[0], Reason::NotPersonalised);
    }
    // Paging goes on where the last page ended.
    let mut second = non_personal(1, 10, now);
    second.skip = 10;
    assert_eq!(ids(&e.recommend(&second)), a[10..20].to_vec());
}

#[test]
fn refresh_forgets_interests_and_keeps_follows() {
    let mut e = world(N, EngineConfig::offline());
    let mut clock = Clock::new();
    background(&mut e, &mut clock, 60, N);
    for v in [3u64, 33, 63, 93] {
        clock.view(&mut e, 8, v, 1.0);
        clock.like(&mut e, 8, v);
    }
    let fresh_user = ids(&e.recommend(&request(4242, 10, clock.now(), 1)));
    assert_ne!(
        ids(&e.recommend(&request(8, 10, clock.now(), 1))),
        fresh_user
    );
    clock.refresh(&mut e, 8);
    assert_eq!(
        ids(&e.recommend(&request(8, 10, clock.now(), 1))),
        fresh_user
    );
    // Follows are the platform's and still count.
    let mut req = request(8, 10, clock.now(), 1);
    req.following = vec![UserId(creator_of(5))];
    let page = e.recommend(&req);
    assert!(page
        .iter()
        .any(|r| r.reasons.contains(&Reason::FollowedCreator {
            creator: UserId(creator_of(5))
        })));
}

#[test]
fn a_new_video_gets_a_staged_audience() {
    let mut e = world(N, EngineConfig::default());
    let mut clock = Clock::new();
    background(&mut e, &mut clock, 60, N);
    let now = clock.now();
    e.upsert_item(meta(5000, now));
    e.upsert_item(meta(5001, now));
    let stage = |e: &Engine, v: u64| {
        let i = e.state().item_ids.get(&VideoId(v)).expect("known");
        e.state().items[i as usize].stage
    };
    assert_eq!(stage(&e, 5000), Some(0));
    // New users are shown it: it reaches them through the exploration pool.
    let shown = (0..40u64)
        .filter(|&u| {
            e.recommend(&request(50_000 + u, 10, now, u))
                .iter()
                .any(|r| r.video.0 == 5000 && r.reasons.contains(&Reason::NewVideo))
        })
        .count();
    assert!(shown > 0, "a new video is tried on some users");
    // Its first audience finishes it: it moves to a wider stage. The other is skipped: it stops.
    for u in 0..20u64 {
        clock.view(&mut e, 60_000 + u, 5000, 1.0);
        clock.view(&mut e, 60_000 + u, 5001, 0.05);
    }
    assert_eq!(stage(&e, 5000), Some(1));
    assert_eq!(stage(&e, 5001), None);
    assert!(!e
        .state()
        .fresh
        .contains(&e.state().item_ids.get(&VideoId(5001)).unwrap()));
}

#[test]
fn a_snapshot_restores_everything_learned() {
    let mut e = world(N, EngineConfig::default());
    let mut clock = Clock::new();
    background(&mut e, &mut clock, 60, N);
    e.rebuild_index();
    let bytes = e.snapshot().expect("snapshot");
    let r = Engine::restore(EngineConfig::default(), &bytes).expect("restore");
    assert_eq!(r.last_seq(), e.last_seq());
    for u in [10_000u64, 10_007, 10_031] {
        let req = request(u, 10, clock.now(), 9);
        assert_eq!(ids(&r.recommend(&req)), ids(&e.recommend(&req)), "user {u}");
    }
    // Events at or before the snapshot are not learned twice.
    let mut again = Engine::restore(EngineConfig::default(), &bytes).expect("restore");
    let replayed = clock.event(10_000, EventKind::View, 1, Some(1.0));
    let mut old = replayed.clone();
    old.seq = 1;
    again.observe(&old);
    assert_eq!(again.state().learned, r.state().learned);
    assert!(Engine::restore(EngineConfig::default(), b"not a snapshot").is_err());
}

#[test]
fn idle_users_expire() {
    let mut e = world(50, EngineConfig::default());
    let mut clock = Clock::new();
    clock.view(&mut e, 1, 3, 1.0);
    let cut = clock.now();
    clock.seq += 100;
    clock.view(&mut e, 2, 4, 1.0);
    assert_eq!(e.expire_idle(cut), 1);
    assert_eq!(e.user_count(), 1);
    assert!(!e.has_seen(UserId(1), VideoId(3)));
    assert!(e.has_seen(UserId(2), VideoId(4)));
}

#[test]
fn removed_videos_leave_every_feed() {
    let mut e = world(N, EngineConfig::default());
    let mut clock = Clock::new();
    background(&mut e, &mut clock, 60, N);
    let top = e.recommend(&non_personal(1, 1, clock.now()))[0].video;
    e.remove_item(top);
    assert!(e
        .recommend(&non_personal(1, 30, clock.now()))
        .iter()
        .all(|r| r.video != top));
    assert!(e
        .recommend(&request(10_003, 30, clock.now(), 1))
        .iter()
        .all(|r| r.video != top));
}

/// The ANN index is fresh after a rebuild, also over a stream spanning years (popularity's
/// forward decay rebases) and after removals, so the platform never rebuilds in a loop.
#[test]
fn a_rebuilt_index_is_fresh() {
    let mut e = world(200, EngineConfig::default());
    for k in 0..400u64 {
        e.observe_interaction(UserId(k % 7), VideoId(k % 200), NOW + k * 3 * DAY, 1.0);
    }
    assert!(e.index_stale());
    e.rebuild_index();
    assert!(!e.index_stale());
    for v in 0..50 {
        e.remove_item(VideoId(v));
    }
    e.rebuild_index();
    assert!(!e.index_stale());
    assert!(!e.recommend(&request(3, 10, NOW + 1300 * DAY, 1)).is_empty());
}

#[test]
fn records_marked_not_learned_teach_the_engine_nothing() {
    let mut e = common::world(50, EngineConfig::default());
    let mut c = common::Clock::new();
    for v in 1..=20u64 {
        let mut r = c.event(7, EventKind::View, v, Some(1.0));
        r.not_learned = true;
        e.observe(&r);
        let mut r = c.event(7, EventKind::Like, v, None);
        r.not_learned = true;
        e.observe(&r);
    }
    assert!(e.state().users.is_empty(), "a user state was made");
    assert!(!e.has_seen(UserId(7), VideoId(3)));
    assert_eq!(e.last_seq(), c.seq, "the positions still advance");
}

/// A new creator's uploads reach people within a few pages, however many older unwatched videos
/// wait in the pool: the pool proposes by exposure deficit and age, not a uniform sample.
#[test]
fn new_uploads_reach_their_audience_ahead_of_thousands_waiting() {
    let mut e = world(N, EngineConfig::default());
    let mut clock = Clock::new();
    background(&mut e, &mut clock, 60, N);
    let now = clock.now();
    // 4,000 videos from the last day, none of them shown yet.
    for v in 100_000..104_000u64 {
        e.upsert_item(meta(v, now - 20 * 3_600_000 + (v - 100_000) * 10_000));
    }
    // A new creator posts 15 videos now.
    let mine: Vec<u64> = (200_000..200_015).collect();
    for &v in &mine {
        let mut m = meta(v, now);
        m.creator = Some(UserId(777_777));
        e.upsert_item(m);
    }
    // A new viewer pages through the feed, and finishes and likes the creator's videos when they
    // come; everything else they skip.
    let viewer = 90_000u64;
    let mut seen_mine = 0;
    let mut pages = 0;
    for page in 0..5u64 {
        pages += 1;
        let p = e.recommend(&request(viewer, 10, clock.now(), page));
        for r in &p {
            if mine.contains(&r.video.0) {
                seen_mine += 1;
                clock.view(&mut e, viewer, r.video.0, 1.0);
                clock.like(&mut e, viewer, r.video.0);
            } else {
                clock.view(&mut e, viewer, r.video.0, 0.05);
            }
        }
        if seen_mine >= 3 {
            break;
        }
    }
    assert!(
        seen_mine >= 3,
        "{seen_mine} of the new creator's videos in {pages} pages"
    );
    // And other people see them too: across 40 other new viewers' first pages, the new uploads
    // gather a first audience.
    let shown: usize = (0..40u64)
        .map(|u| {
            e.recommend(&request(95_000 + u, 10, clock.now(), u))
                .iter()
                .filter(|r| mine.contains(&r.video.0))
                .count()
        })
        .sum();
    assert!(shown >= 20, "only {shown} exposures for the new uploads");
}
