//! Embedding retrieval: the nearest items to the user's taste vector in the ANN index.

use crate::pipeline::{CandidateSource, Candidates, Origin, Query};

/// Searches the ANN index with the user's vector.
pub struct EmbeddingRetrieval;

impl CandidateSource for EmbeddingRetrieval {
    fn name(&self) -> &'static str {
        "embedding"
    }
    fn enabled(&self, q: &Query) -> bool {
        q.user.is_some() && q.vector.is_some() && q.index.is_some()
    }
    fn fetch(&self, q: &Query, out: &mut Candidates) {
        let (Some(v), Some(index)) = (q.vector.as_ref(), q.index) else {
            return;
        };
        for (item, sim) in index.search(v, q.config.per_source / 2) {
            out.add(item, Origin::Embedding).embedding = sim;
        }
    }
}
