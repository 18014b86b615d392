//! A random sample of the catalog for users the engine barely knows: a broad, varied mix from
//! which the first views teach it their taste.

use crate::pipeline::{CandidateSource, Candidates, Origin, Query};
use rand::{Rng, SeedableRng};

/// Random live items, for cold start.
pub struct CatalogSample;

impl CandidateSource for CatalogSample {
    fn name(&self) -> &'static str {
        "catalog_sample"
    }
    fn enabled(&self, q: &Query) -> bool {
        q.user.is_some() && q.config.explore_share > 0.0 && !q.state.items.is_empty()
    }
    fn fetch(&self, q: &Query, out: &mut Candidates) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(q.seed ^ 0xCA7A);
        let n = q.state.items.len();
        for _ in 0..q.config.per_source / 4 {
            let i = rng.gen_range(0..n) as u32;
            if q.state.items[i as usize].live {
                out.add(i, Origin::Explore).explore_draw = rng.gen_range(0.0..0.3);
            }
        }
    }
}
