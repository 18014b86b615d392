//! Tests of the blend: stages, the choice of shares, trials.

use super::*;
use rand::{Rng, SeedableRng};

#[test]
fn stages_follow_how_much_is_known() {
    assert_eq!(bucket(0), 0);
    assert_eq!(bucket(1), 0);
    assert_eq!(bucket(2), 1);
    assert_eq!(bucket(3), 2);
    assert_eq!(bucket(49), 5);
    assert_eq!(bucket(50), 6);
    assert_eq!(bucket(10_000), STAGES - 1);
}

/// Ranks of one trial's engagement: `f(batch share index, crowd share index)`.
fn ranks(f: impl Fn(usize, usize) -> usize) -> [[usize; CROWD.len()]; GRID.len()] {
    std::array::from_fn(|g| std::array::from_fn(|c| f(g, c)))
}

#[test]
fn each_stage_picks_the_shares_that_ranked_its_choices_best() {
    let mut t = Blend::default();
    // Too few trials: the ranker alone.
    t.record(6, &ranks(|g, _| if g >= 6 { 0 } else { 30 }));
    assert_eq!(t.shares(6), Shares::default());
    for k in 0..200 {
        // The well known: the stronger the batch model, the higher their choice (up to 4);
        // the crowd changes nothing.
        t.record(6, &ranks(|g, _| [25, 20, 12, 8, 4, 2, 0, 0][g]));
        // Newcomers: the batch model pushes their choice down, the crowd up (8 and 16
        // alike: the trials cannot tell them apart, so the larger).
        t.record(0, &ranks(|g, c| g * 3 + [9, 8, 6, 4, 2, 1, 0, 0][c]));
        // Past the first stage the crowd's share is not taken, however its trials went.
        t.record(3, &ranks(|_, c| 10 - c));
        // A stage whose trials tie everywhere keeps the ranker alone.
        t.record(4, &ranks(|_, _| k % 7));
    }
    assert_eq!(
        t.shares(6),
        Shares::at(6, 0),
        "the smaller of the tied best"
    );
    assert_eq!(t.shares(6).batch, 4.0);
    assert_eq!(
        t.shares(0),
        Shares {
            batch: 0.0,
            crowd: 16.0
        }
    );
    assert_eq!(t.shares(3), Shares::default());
    assert_eq!(t.shares(4), Shares::default());
    assert_eq!(t.shares(STAGES + 3), Shares::default());
    assert_eq!(t.chosen()[6].batch, 4.0);
}

#[test]
fn newcomers_lean_on_the_crowd_unless_the_trials_tell_the_shares_apart() {
    // Crowd share 4 places the engagement one place higher than 16 in one trial of three,
    // one lower in another: a small lead that chance explains.
    let noisy = |k: usize| {
        move |_g: usize, c: usize| match (c, k % 3) {
            (5, 0) => 1,
            (7, 1) => 1,
            (5 | 7, _) => 2,
            _ => 9,
        }
    };
    let mut t = Blend::default();
    for k in 0..300 {
        // Now and then a trial where 4 does a little better: the sum favours 4.
        t.record(0, &ranks(noisy(k)));
        if k % 30 == 2 {
            t.record(0, &ranks(|_, c| if c == 5 { 3 } else { 4 }));
        }
    }
    let best = (0..CROWD.len())
        .max_by(|&a, &b| t.gains[0][0][a].total_cmp(&t.gains[0][0][b]))
        .unwrap();
    assert_eq!(CROWD[best], 4.0, "the trials' best alone");
    assert_eq!(
        t.shares(0).crowd,
        16.0,
        "within chance of the best: the crowd"
    );

    // The same lead on every trial is evidence: the best is kept.
    let mut t = Blend::default();
    for _ in 0..300 {
        t.record(0, &ranks(|_, c| if c == 5 { 1 } else { 2 }));
    }
    assert_eq!(t.shares(0).crowd, 4.0);

    // Trials of one page credit it once: two engagements that favour 4 alike are one
    // piece of evidence, not two, so what chance explains is judged trial by trial.
    let mut once = Blend::default();
    let mut split = Blend::default();
    let cred = |r4: usize| ranks(|_, c| if c == 5 { r4 } else { 3 }).map(|row| row.map(gain));
    once.start(0);
    once.credit(0, &cred(0), None);
    once.credit(0, &cred(0), Some(&cred(0)));
    split.start(0);
    split.credit(0, &cred(0), None);
    split.start(0);
    split.credit(0, &cred(0), None);
    // (The second trial decays the first a little: equal within that.)
    let near = |a: f64, b: f64| (a - b).abs() <= 1e-3 * a.abs().max(b.abs());
    assert!(near(once.gains[0][0][5], split.gains[0][0][5]));
    let (a, b) = (
        once.crowd_spread[0][0][5][7],
        split.crowd_spread[0][0][5][7],
    );
    assert!(near(a, 2.0 * b), "{a} against {b}");
}

/// Parts of the score for `n` random candidates.
fn random_terms(n: usize, seed: u64) -> (Vec<Terms>, Vec<u32>) {
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let raw: Vec<(f32, f32, f32)> = (0..n)
        .map(|_| {
            (
                rng.gen_range(-1.0..3.0),
                rng.gen_range(0.0..1.0),
                rng.gen_range(0.0..1.0),
            )
        })
        .collect();
    let items = (0..n as u32).map(|k| k * 7 + 3).collect();
    (terms(&raw), items)
}

/// The place of `items[k]` on the whole page of shares `w` (the oracle).
fn full_place(t: &[Terms], items: &[u32], k: usize, w: Shares) -> usize {
    let me = (fused(&t[k], w), items[k]);
    (0..t.len())
        .filter(|&j| j != k && before((fused(&t[j], w), items[j]), me))
        .count()
}

/// A trial keeps few candidates, yet each engagement it credits is at the place the whole
/// page would have shown it, for every pair of shares.
#[test]
fn a_trial_places_what_it_kept_as_the_whole_page_did() {
    for (n, seed) in [(3, 1), (40, 2), (300, 3), (600, 4)] {
        let (t, items) = random_terms(n, seed);
        for stage in [0, 3] {
            let open = OpenTrial::new(stage, &t, &items, 50, 0);
            assert!(open.kept.len() <= MAX_KEPT);
            assert!(open.depth >= 1 && open.depth as usize <= CUTOFF.min(n));
            for k in 0..n {
                let kept = open.kept.iter().position(|x| x.0 == items[k]);
                for g in 0..GRID.len() {
                    for c in 0..crowds(stage) {
                        let w = Shares::at(g, c);
                        let full = full_place(&t, &items, k, w);
                        let got = kept.and_then(|kk| open.place(kk, w));
                        let want = (full < open.depth as usize).then_some(full);
                        assert_eq!(got, want, "n {n} stage {stage} item {k} {w:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn an_open_trial_credits_each_page_that_held_the_engagement() {
    // Ranker order 10, 11, 12; the batch model's the reverse; the crowd's 11 first.
    let t = terms(&[(3.0, 0.0, 0.0), (2.0, 0.5, 1.0), (1.0, 1.0, 0.0)]);
    let mut blend = Blend::default();
    blend.start(0);
    let mut open = OpenTrial::new(0, &t, &[10, 11, 12], 2, 7);
    assert_eq!((open.stage, open.left, open.opened_ms), (0, 2, 7));
    assert!(!open.engaged(12, &mut blend));
    // Third on the ranker's page, first on the strongest batch share's.
    assert!((blend.gains[0][0][0] - 0.5).abs() < 1e-12);
    assert!((blend.gains[0][GRID.len() - 1][0] - 1.0).abs() < 1e-12);
    assert!(!open.engaged(11, &mut blend) || open.left == 0);
    // 11 is first with the strongest crowd share and no batch share.
    assert!(blend.gains[0][0][CROWD.len() - 1] > 1.0);
    assert_eq!(open.left, 0, "the window is over");
    assert_eq!(blend.trials[0], 1.0);
    // A page keeps its first places only; a trial counts at least its own engagement.
    let (t, items) = random_terms(100, 9);
    let open = OpenTrial::new(2, &t, &items, 0, 0);
    assert_eq!(open.depth as usize, CUTOFF);
    assert_eq!(open.left, 1);
}

/// In an engine whose people choose what the batch model expects, trials are made on the
/// schedule and credit the strengths; with trials off, none.
#[test]
fn the_engine_runs_trials_on_its_schedule() {
    use crate::{Engine, EngineConfig};
    use foryou_types::{UserId, VideoId};
    let run = |every: u32| {
        let mut e = Engine::new(EngineConfig {
            blend_every: every,
            ..EngineConfig::offline()
        });
        let mut ts = 1_000;
        for round in 0..2 {
            for u in 0..80u64 {
                for k in 0..12u64 {
                    ts += 1;
                    // Two tastes, each a run of related items.
                    let v = VideoId(1 + (u % 2) * 50 + (k + u + round * 12) % 40);
                    e.observe_interaction(UserId(u), v, ts, 1.0);
                }
            }
            e.rebuild_batch();
        }
        // Each person's trials waiting for their engagements stay bounded.
        assert!(e
            .state()
            .open_trials
            .values()
            .all(|t| !t.is_empty() && t.len() <= OPEN_PER_PERSON));
        // Erasing a person takes the pages their trials kept with them.
        let had = e.state().open_trials.contains_key(&UserId(0));
        assert_eq!(had, every > 0);
        e.forget_user(UserId(0));
        assert!(!e.state().open_trials.contains_key(&UserId(0)));
        e.state().heads.blend.clone()
    };
    let on = run(1);
    assert!(on.trials.iter().sum::<f64>() > 100.0, "{:?}", on.trials);
    assert!(on.gains.iter().flatten().flatten().sum::<f64>() > 0.0);
    let off = run(0);
    assert_eq!(off.trials.iter().sum::<f64>(), 0.0);
}

/// An item the batch model does not know keeps its place among the ones it knows, at every
/// strength, where a zero batch score would sink it.
#[test]
fn the_newest_items_keep_the_rankers_place() {
    // Ranker and batch model agree on the modelled items; item 3 is new.
    let mut raw = vec![
        (1.0, 0.1, 0.0),
        (2.0, 0.2, 0.0),
        (3.0, 0.3, 0.0),
        (2.5, 0.0, 0.0),
    ];
    let modelled = |k: usize| k != 3;
    let place = |raw: &[(f32, f32, f32)], g: usize| {
        let t = terms(raw);
        let s: Vec<f32> = t.iter().map(|t| fused(t, Shares::at(g, 0))).collect();
        s.iter().filter(|&&x| x > s[3]).count()
    };
    assert_eq!(place(&raw, GRID.len() - 1), 3, "sunk without a stand-in");
    stand_in(&mut raw, modelled);
    assert!((raw[3].1 - 0.2).abs() < 1e-6, "{:?}", raw[3]);
    assert_eq!(
        raw[..3],
        [(1.0, 0.1, 0.0), (2.0, 0.2, 0.0), (3.0, 0.3, 0.0)]
    );
    for (g, strength) in GRID.iter().enumerate() {
        assert_eq!(place(&raw, g), 1, "strength {strength}");
    }
    // Nothing modelled, or everything: nothing to stand in for.
    let mut none = vec![(1.0, 0.0, 0.0), (2.0, 0.0, 0.0)];
    stand_in(&mut none, |_| false);
    assert_eq!(none, vec![(1.0, 0.0, 0.0), (2.0, 0.0, 0.0)]);
}

#[test]
fn fusing_keeps_the_order_without_evidence() {
    // No positive batch score: no batch term; the crowd's term scales with the spread.
    let t = terms(&[(1.5, -0.3, 0.5), (3.5, 0.0, 1.0)]);
    assert_eq!(t[0], [1.5, 0.0, 1.0]);
    assert_eq!(
        fused(
            &t[0],
            Shares {
                batch: 4.0,
                crowd: 0.0
            }
        ),
        1.5
    );
    assert_eq!(
        fused(
            &t[0],
            Shares {
                batch: 0.0,
                crowd: 2.0
            }
        ),
        3.5
    );
    // Half the best batch score at strength 1 adds half the spread.
    let t = terms(&[(1.5, 0.3, 0.0), (3.5, 0.6, 0.0)]);
    assert!(
        (fused(
            &t[0],
            Shares {
                batch: 1.0,
                crowd: 0.0
            }
        ) - 2.5)
            .abs()
            < 1e-6
    );
    assert!(Shares::default().is_none());
}
