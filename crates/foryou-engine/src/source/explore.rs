//! A random sample of the catalog for users the engine barely knows: a broad, varied mix from
//! which the first views teach it their taste. Half the draws pick a hashtag first (uniformly)
//! and then one of its videos, so a niche interest shows up as soon as a popular one would.

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
        let tags = &q.state.by_tag;
        for k in 0..q.config.per_source / 4 {
            let i = if k % 2 == 1 && !tags.is_empty() {
                let list = &tags[rng.gen_range(0..tags.len())];
                if list.is_empty() {
                    continue;
                }
                list[rng.gen_range(0..list.len())]
            } else {
                rng.gen_range(0..n) as u32
            };
            if q.state.items[i as usize].live {
                out.add(i, Origin::Explore).explore_draw = rng.gen_range(0.0..0.3);
            }
        }
    }
}
