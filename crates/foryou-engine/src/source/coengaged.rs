//! Item-to-item co-engagement: what people engaged with next to the user's recent videos.

use crate::pipeline::{CandidateSource, Candidates, Origin, Query};

/// Spreads the user's recency-weighted history over the co-engagement rows.
pub struct CoEngaged;

impl CandidateSource for CoEngaged {
    fn name(&self) -> &'static str {
        "coengaged"
    }
    fn enabled(&self, q: &Query) -> bool {
        q.user.is_some() && !q.history.is_empty()
    }
    fn fetch(&self, q: &Query, out: &mut Candidates) {
        let mut all: Vec<(u32, (f32, u32, f32))> =
            q.coengagement().iter().map(|(&i, &s)| (i, s)).collect();
        let n = q.config.per_source.min(all.len());
        if n < all.len() {
            all.select_nth_unstable_by(n, |a, b| b.1 .0.total_cmp(&a.1 .0));
            all.truncate(n);
        }
        for (item, (s, because, _)) in all {
            let c = out.add(item, Origin::CoEngaged);
            c.coengaged = s;
            c.because = Some(because);
        }
    }
}
