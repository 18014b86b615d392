//! New videos being tried. Each member of the exploration pool (see `explore.rs` for the stages)
//! has a priority: how much of its current stage's audience it still lacks, discounted by its age
//! (half of it every `fresh_half_life_h`). The newest uploads with their audience still to come
//! are proposed first, however many older videos wait, so each reaches its first-stage audience
//! within minutes while the region has traffic; a Thompson draw from the video's engagement
//! posterior then favours a good start among them.

use crate::explore::draw;
use crate::pipeline::{CandidateSource, Candidates, Origin, Query};
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Proposes the pool's members with the highest priority.
pub struct FreshPool;

/// How much of `i`'s stage audience is still missing (0..=1), discounted by its age.
pub fn priority(q: &Query, i: u32) -> f32 {
    let it = &q.state.items[i as usize];
    let cfg = q.config;
    let stage = it.stage.unwrap_or(0);
    let cap = cfg.first_pool * cfg.widen.powi(stage as i32);
    let deficit = (1.0 - it.stats.exposures / cap.max(1.0)).clamp(0.0, 1.0);
    let age_h = q.req.now_ms.saturating_sub(it.created_ms) as f64 / 3.6e6;
    let half = cfg.fresh_half_life_h.max(1e-3);
    deficit * 0.5f64.powf(age_h / half) as f32
}

impl CandidateSource for FreshPool {
    fn name(&self) -> &'static str {
        "fresh"
    }
    fn enabled(&self, q: &Query) -> bool {
        q.user.is_some() && !q.state.fresh.is_empty() && q.config.explore_share > 0.0
    }
    fn fetch(&self, q: &Query, out: &mut Candidates) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(q.seed ^ 0xF2E5);
        let take = (q.config.per_source / 4).max(1);
        // The pool is in admission order: the newest members are at its end. They are all
        // considered, with a sample of the older ones (which have lost most of their priority).
        let fresh = &q.state.fresh;
        let split = fresh.len().saturating_sub(4 * take);
        let mut pool: Vec<u32> = fresh[split..].to_vec();
        pool.extend(fresh[..split].choose_multiple(&mut rng, take).copied());
        let pool: Vec<(u32, f32)> = pool.into_iter().map(|i| (i, priority(q, i))).collect();
        // A member scores between half and one and a half times its priority (a draw is in
        // 0..=1). The `take` highest priorities all score at least half the lowest of them, so
        // a member whose best is below that can never be chosen and needs no draw (each is two
        // gamma variates); most of a busy pool is old and far below.
        let floor = if pool.len() > take {
            let mut p: Vec<f32> = pool.iter().map(|x| x.1).collect();
            p.select_nth_unstable_by(take - 1, |a, b| b.total_cmp(a));
            0.5 * p[take - 1]
        } else {
            0.0
        };
        let mut ranked: Vec<(u32, f32)> = pool
            .into_iter()
            .filter(|&(_, p)| 1.5 * p >= floor)
            .map(|(i, p)| (i, p * (0.5 + draw(q.state, i, &mut rng))))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for (i, p) in ranked.into_iter().take(take) {
            // Ahead of the taste-exploring sample (drawn below 0.3) when the priority is high.
            out.add(i, Origin::Fresh).explore_draw = p;
        }
    }
}
