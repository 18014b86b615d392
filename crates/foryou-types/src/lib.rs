//! Shared vocabulary of Foryou: ids, regions, roles, events and input validation. No IO
//! (but for the loopback ports tests use, feature `test-support`).

mod date;
mod event;
mod ids;
#[cfg(any(test, feature = "test-support"))]
pub mod ports;
mod region;
mod validate;

pub use date::{age_on, parse_date, Date};
pub use event::{EventInput, EventKind, EventRecord, Impression, NotInterestedTarget, ShownItem};
pub use ids::{CommentId, SoundId, UserId, VideoId};
pub use region::{is_iso_country, Region, RegionMap, RegionSpec};
pub use validate::{
    hashtags, parse_effects, validate_caption, validate_handle, validate_password, Role, EFFECTS,
    MAX_CAPTION_CHARS, MIN_PASSWORD_CHARS, RESERVED_HANDLES,
};

/// A user mistake found while validating input; the message says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    /// The field (or item) that is wrong, e.g. `handle` or `events[3].watch_ms`.
    pub field: String,
    /// What is wrong with it and what to do instead.
    pub message: String,
}

impl Invalid {
    /// A new validation error for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}
