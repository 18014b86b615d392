//! The one place where failures become HTTP statuses and JSON bodies.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use foryou_types::Invalid;

/// The header of a 421 that names the region whose nodes can answer (the edge reads it).
pub const REGION_HEADER: &str = "foryou-region";

/// A failure as the API reports it: `{"error": {"code", "message"}}` with a status.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// What happened and what to change.
    pub message: String,
    /// Seconds to wait before trying again (`Retry-After`), for 429 and 503.
    pub retry_after_s: Option<u64>,
    /// For 421: the region whose nodes can answer (also in the `Foryou-Region` header).
    pub region: Option<String>,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after_s: None,
            region: None,
        }
    }
    /// 429: a rate limit was reached; try again after `retry_after_s`.
    pub fn too_many(what: &str, retry_after_s: u64) -> Self {
        ApiError {
            retry_after_s: Some(retry_after_s),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "too many {what} for now; try again in {}",
                    human_wait(retry_after_s)
                ),
            )
        }
    }
    /// 503: the server is busy; try again after `retry_after_s`.
    pub fn busy(message: impl Into<String>, retry_after_s: u64) -> Self {
        ApiError {
            retry_after_s: Some(retry_after_s),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message)
        }
    }
    /// 400 for malformed input.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    /// 422 for well-formed but unacceptable input.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
    /// 500; the detail goes to the log, not to the client.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side; try again",
        )
    }
}

impl From<crate::platform::PlatformError> for ApiError {
    /// The one table from the platform's kinds of failure to HTTP statuses.
    fn from(e: crate::platform::PlatformError) -> Self {
        use crate::platform::Kind;
        let status = match e.kind {
            Kind::BadRequest => StatusCode::BAD_REQUEST,
            Kind::Unauthorized => StatusCode::UNAUTHORIZED,
            Kind::Forbidden => StatusCode::FORBIDDEN,
            Kind::NotFound => StatusCode::NOT_FOUND,
            Kind::Conflict => StatusCode::CONFLICT,
            Kind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::Unsupported => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Kind::TooMany => StatusCode::TOO_MANY_REQUESTS,
            Kind::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            Kind::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Kind::Misdirected => StatusCode::MISDIRECTED_REQUEST,
            Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError {
            status,
            code: e.code,
            message: e.message,
            retry_after_s: e.retry_after_s,
            region: e.region.map(|r| r.to_string()),
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        crate::platform::PlatformError::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        if let Some(r) = &self.region {
            body["error"]["region"] = serde_json::Value::String(r.clone());
        }
        let mut res = (self.status, Json(body)).into_response();
        if let Some(r) = self.region.as_deref().and_then(|r| r.parse().ok()) {
            res.headers_mut().insert(REGION_HEADER, r);
        }
        if let Some(s) = self.retry_after_s {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, s.into());
        }
        res
    }
}

/// "40 seconds", "3 minutes", "2 hours".
fn human_wait(secs: u64) -> String {
    let (n, unit) = match secs {
        0..=90 => (secs.max(1), "second"),
        91..=5_399 => (secs.div_ceil(60), "minute"),
        _ => (secs.div_ceil(3600), "hour"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}
