//! The For You engine: learns from a region's event log, one event at a time, and ranks a catalog
//! for one user through a pipeline of replaceable stages. It knows nothing of HTTP or storage;
//! time and randomness come in through requests, events and the config's seed.

pub mod ann;
pub mod batch;
pub mod blend;
mod config;
pub mod cooc;
pub mod embed;
mod engine;
mod explain;
pub mod explore;
pub mod filter;
pub mod hydrate;
pub mod impressions;
pub mod interests;
mod intern;
mod learn;
mod linalg;
pub mod model;
pub mod pipeline;
mod prefetch;
mod query;
pub mod rank;
mod reason;
pub mod release;
mod request;
pub mod rerank;
pub mod source;
pub mod state;
mod topk;
mod training;

pub use ann::{BuiltIndex, IndexJob};
pub use config::{EngineConfig, LiftWeights, ObjectiveWeights, NO_RECENCY};
pub use cooc::CoocConfig;
pub use embed::EmbedConfig;
pub use engine::Engine;
pub use intern::Interner;
pub use learn::signal;
pub use reason::Reason;
pub use request::{EngineError, FeedMode, FeedRequest, ItemMeta, Recommendation};
