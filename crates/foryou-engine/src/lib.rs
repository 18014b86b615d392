//! The For You engine: learns from a region's event log and ranks a catalog for one user.
//! It knows nothing of HTTP or storage; time comes in through requests and events.

mod cooc;
mod engine;
mod reason;

pub use cooc::{CoocConfig, CoocModel};
pub use engine::{Engine, EngineConfig, FeedMode, FeedRequest, ItemMeta, Recommendation};
pub use reason::Reason;
