//! New videos being tried: Thompson sampling over the exploration pool, so a new video with a
//! good start is shown more and a weak one fades (see `explore.rs` for the stages).

use crate::explore::draw;
use crate::pipeline::{CandidateSource, Candidates, Origin, Query};
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Samples the exploration pool.
pub struct FreshPool;

impl CandidateSource for FreshPool {
    fn name(&self) -> &'static str {
        "fresh"
    }
    fn enabled(&self, q: &Query) -> bool {
        q.user.is_some() && !q.state.fresh.is_empty() && q.config.explore_share > 0.0
    }
    fn fetch(&self, q: &Query, out: &mut Candidates) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(q.seed ^ 0xF2E5);
        let take = q.config.per_source / 4;
        let pool: Vec<u32> = if q.state.fresh.len() > 4 * take {
            q.state
                .fresh
                .choose_multiple(&mut rng, 4 * take)
                .copied()
                .collect()
        } else {
            q.state.fresh.clone()
        };
        let mut drawn: Vec<(u32, f32)> = pool
            .into_iter()
            .map(|i| (i, draw(q.state, i, &mut rng)))
            .collect();
        drawn.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for (i, d) in drawn.into_iter().take(take) {
            out.add(i, Origin::Fresh).explore_draw = d;
        }
    }
}
