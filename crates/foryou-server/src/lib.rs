//! The Foryou server: the platform's operations ([`Platform`]) and the HTTP API and web UI
//! over them. Only this crate knows HTTP and JSON.

mod auth;
pub mod client;
mod conn;
mod error;
pub mod gateway;
mod http;
mod limits;
mod metrics;
mod openapi;
mod platform;
pub mod query;
mod web;

pub use auth::token_region;
pub use conn::{serve_with, ConnLimits};
pub use error::{ApiError, REGION_HEADER};
pub use http::views::{FeedItem, VideoView};
pub use http::{router, serve};
pub use limits::{Limits, Rate};
pub use platform::snapshots::{FileSnapshot, ObjectSnapshot, SnapshotStore};
pub use platform::{
    now_ms, Backends, BoostState, Caller, Config, ErasureReceipt, EventResult, FeedKind, Kind,
    Platform, PlatformError, Shown, UploadInput, WitnessConfig,
};
