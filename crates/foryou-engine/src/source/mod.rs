//! Candidate sources: each file is one way of proposing videos for a request.

mod affinity;
mod backfill;
mod coengaged;
mod embedding;
mod explore;
mod following;
mod fresh;
mod trending;

pub use affinity::Affinity;
pub use backfill::Backfill;
pub use coengaged::CoEngaged;
pub use embedding::EmbeddingRetrieval;
pub use explore::CatalogSample;
pub use following::Following;
pub use fresh::FreshPool;
pub use trending::{Trending, Worldwide};

use crate::pipeline::CandidateSource;

/// The sources the engine runs, in order.
pub fn default_sources() -> Vec<Box<dyn CandidateSource>> {
    vec![
        Box::new(CoEngaged),
        Box::new(EmbeddingRetrieval),
        Box::new(Following),
        Box::new(Affinity),
        Box::new(Trending),
        Box::new(Worldwide),
        Box::new(FreshPool),
        Box::new(CatalogSample),
        Box::new(Backfill),
    ]
}
