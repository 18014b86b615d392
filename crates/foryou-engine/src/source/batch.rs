//! The batch item-to-item model's best items for the user's recent engagements.

use crate::pipeline::{CandidateSource, Candidates, Origin, Query};

/// Proposes the batch model's top items.
pub struct BatchModel;

impl CandidateSource for BatchModel {
    fn name(&self) -> &'static str {
        "batch"
    }
    fn enabled(&self, q: &Query) -> bool {
        q.user.is_some() && q.batch.is_some() && q.batch_taste.is_some()
    }
    fn fetch(&self, q: &Query, out: &mut Candidates) {
        let (Some(m), Some(t)) = (q.batch, &q.batch_taste) else {
            return;
        };
        for (i, s) in m.top(t, q.config.per_source) {
            out.add(i, Origin::Batch).batch = s;
        }
    }
}
