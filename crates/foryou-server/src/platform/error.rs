//! The platform's own errors, free of HTTP: what kind of failure it is, a stable code and a
//! message that says what to change. `crate::error` alone maps a kind to an HTTP status.

use foryou_types::{Invalid, Region};

/// What kind of failure: the caller's mistake of some sort, or something broken inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Malformed input.
    BadRequest,
    /// No valid credential.
    Unauthorized,
    /// Not allowed for this caller.
    Forbidden,
    /// No such thing.
    NotFound,
    /// Clashes with what exists (a taken handle).
    Conflict,
    /// Well-formed but unacceptable input.
    Unprocessable,
    /// Too big.
    TooLarge,
    /// Not a kind of file we take.
    Unsupported,
    /// A quota or limit reached; try again later.
    TooMany,
    /// The caller's storage quota is full.
    StorageFull,
    /// Busy; try again soon.
    Busy,
    /// Another node serves what this needs: the region named in the error's `region`.
    Misdirected,
    /// Broken inside; the detail went to the log.
    Internal,
}

/// A failure of a platform operation.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct PlatformError {
    /// What kind.
    pub kind: Kind,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// What happened and what to change.
    pub message: String,
    /// Seconds to wait before trying again, when that helps.
    pub retry_after_s: Option<u64>,
    /// For [`Kind::Misdirected`]: the region whose nodes can answer.
    pub region: Option<Region>,
}

impl PlatformError {
    /// A new error.
    pub fn new(kind: Kind, code: &'static str, message: impl Into<String>) -> Self {
        PlatformError {
            kind,
            code,
            message: message.into(),
            retry_after_s: None,
            region: None,
        }
    }
    /// 421: this node does not serve `region`, which the request needs.
    pub fn other_region(region: &Region) -> Self {
        PlatformError {
            region: Some(region.clone()),
            ..Self::new(
                Kind::Misdirected,
                "other_region",
                format!("this node does not serve region {region}; send the request to a node of {region} (the edge does)"),
            )
        }
    }
    /// Malformed input.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(Kind::BadRequest, "bad_request", message)
    }
    /// No valid credential.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(Kind::Unauthorized, "unauthorized", message)
    }
    /// Not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(Kind::Forbidden, "forbidden", message)
    }
    /// No such thing.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Kind::NotFound, "not_found", message)
    }
    /// Well-formed but unacceptable.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Kind::Unprocessable, code, message)
    }
    /// Broken inside: the detail is logged, the caller learns little.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(
            Kind::Internal,
            "internal",
            "something went wrong on our side; try again",
        )
    }
}

impl From<Invalid> for PlatformError {
    fn from(e: Invalid) -> Self {
        PlatformError::unprocessable("invalid", format!("{}: {}", e.field, e.message))
    }
}

impl From<foryou_store::StoreError> for PlatformError {
    fn from(e: foryou_store::StoreError) -> Self {
        match e {
            foryou_store::StoreError::HandleTaken { handle } => PlatformError::new(
                Kind::Conflict,
                "handle_taken",
                format!("the handle '{handle}' is taken; choose another"),
            ),
            other => PlatformError::internal(other),
        }
    }
}

impl From<foryou_media::StoreError> for PlatformError {
    fn from(e: foryou_media::StoreError) -> Self {
        PlatformError::internal(e)
    }
}

impl From<foryou_media::ProbeError> for PlatformError {
    fn from(e: foryou_media::ProbeError) -> Self {
        use foryou_media::ProbeError as P;
        match &e {
            P::Truncated { .. } | P::Corrupt { .. } => PlatformError::new(
                Kind::BadRequest,
                "corrupt_video",
                format!("{e}; upload the complete, undamaged file"),
            ),
            P::Unsupported { .. } => PlatformError::new(
                Kind::Unsupported,
                "unsupported_video",
                format!("{e}; upload MP4 (H.264/AAC) or WebM (VP8/VP9/AV1, Opus/Vorbis)"),
            ),
            P::ZeroDuration => PlatformError::unprocessable(
                "zero_duration",
                "the video has zero duration; upload a clip that plays",
            ),
        }
    }
}
