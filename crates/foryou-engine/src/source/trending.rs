//! Trending in the region (forward-decayed engagement) and popular worldwide (aggregates from the
//! other regions, handed in by the caller: counts, never personal records).

use crate::pipeline::{CandidateSource, Candidates, Origin, Query};

/// The region's trending set.
pub struct Trending;

impl CandidateSource for Trending {
    fn name(&self) -> &'static str {
        "trending"
    }
    fn enabled(&self, _: &Query) -> bool {
        true
    }
    fn fetch(&self, q: &Query, out: &mut Candidates) {
        let extra = if q.user.is_none() { q.req.skip } else { 0 };
        for i in q.state.top_trending(q.config.per_source + extra) {
            out.add(i, Origin::Trending);
        }
    }
}

/// Videos staff boosted (handed in by the caller, who logs every boost).
pub struct Boosted;

impl CandidateSource for Boosted {
    fn name(&self) -> &'static str {
        "boosted"
    }
    fn enabled(&self, q: &Query) -> bool {
        !q.req.boosted.is_empty()
    }
    fn fetch(&self, q: &Query, out: &mut Candidates) {
        for v in &q.req.boosted {
            if let Some(i) = q.state.item_ids.get(v) {
                out.add(i, Origin::Boosted);
            }
        }
    }
}

/// Popular across regions.
pub struct Worldwide;

impl CandidateSource for Worldwide {
    fn name(&self) -> &'static str {
        "worldwide"
    }
    fn enabled(&self, q: &Query) -> bool {
        !q.req.worldwide.is_empty()
    }
    fn fetch(&self, q: &Query, out: &mut Candidates) {
        let max = q
            .req
            .worldwide
            .iter()
            .map(|w| w.1)
            .fold(0.0, f64::max)
            .max(1e-9);
        for (v, pop) in &q.req.worldwide {
            if let Some(i) = q.state.item_ids.get(v) {
                out.add(i, Origin::Worldwide).worldwide = (pop / max) as f32;
            }
        }
    }
}
