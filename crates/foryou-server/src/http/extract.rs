//! Extractors: JSON bodies read within a deadline, the signed-in caller (a bearer token for API
//! clients, or the web UI's HttpOnly session cookie with its CSRF header), and the client address.

use super::AppState;
use crate::error::ApiError;
use crate::platform::Caller;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::{header, request::Parts, Method};
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use std::time::Duration;

/// How long a client has to send a request body (JSON bodies are at most 2 MiB).
pub(crate) const BODY_TIMEOUT: Duration = Duration::from_secs(20);

/// The web UI's session cookie (HttpOnly: scripts never see the token).
pub(crate) const SESSION_COOKIE: &str = "fy_session";
/// The web UI's CSRF cookie, readable by its script, echoed in `X-CSRF-Token`.
pub(crate) const CSRF_COOKIE: &str = "fy_csrf";
/// The header a cookie-authenticated write must carry.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// Reads the whole body within [`BODY_TIMEOUT`].
pub(crate) async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    match tokio::time::timeout(BODY_TIMEOUT, Bytes::from_request(req, state)).await {
        Ok(Ok(b)) => Ok(b),
        Ok(Err(e)) => Err(ApiError::new(e.status(), "bad_request", e.body_text())),
        Err(_) => Err(ApiError::new(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!(
                "the request body did not arrive within {} s; send it at once",
                BODY_TIMEOUT.as_secs()
            ),
        )),
    }
}

use axum::extract::FromRequest;

/// A JSON body whose syntax errors become 400s that say where the problem is.
pub(crate) struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = body_bytes(req, state).await?;
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| ApiError::bad_request(format!("the JSON body is not valid: {e}")))
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The value of cookie `name`, if sent.
pub(crate) fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| crate::query::cookie_value(v, name))
}

/// The CSRF token that belongs to a session token: only a holder of the session can know it.
pub(crate) fn csrf_for(token: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"foryou-csrf\0");
    h.update(token.as_bytes());
    crate::auth::hex(&h.finalize())
}

/// Where the credential came from.
enum Credential<'a> {
    Bearer(&'a str),
    Cookie(&'a str),
}

fn credential(parts: &Parts) -> Option<Credential<'_>> {
    if let Some(t) = bearer(parts) {
        return Some(Credential::Bearer(t));
    }
    cookie(parts, SESSION_COOKIE)
        .filter(|t| !t.is_empty())
        .map(Credential::Cookie)
}

/// A cookie-authenticated request that changes something must echo the CSRF token.
fn check_csrf(parts: &Parts, token: &str) -> Result<(), ApiError> {
    if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let sent = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let want = csrf_for(token);
    // Both are hex of one length when right; compare without an early exit.
    let same = sent.len() == want.len()
        && sent
            .bytes()
            .zip(want.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "this request came without the page's security token; reload the page and try again",
        ))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, p: &AppState) -> Result<Self, ApiError> {
        let token = match credential(parts) {
            None => {
                return Err(ApiError::unauthorized(
                    "sign in first (API clients send 'Authorization: Bearer TOKEN')",
                ))
            }
            Some(Credential::Bearer(t)) => t.to_string(),
            Some(Credential::Cookie(t)) => {
                check_csrf(parts, t)?;
                t.to_string()
            }
        };
        if token.len() > 200 {
            return Err(ApiError::unauthorized(
                "the token is invalid, expired or revoked; sign in again",
            ));
        }
        let caller = super::blocking(p, move |p| p.authenticate(&token))
            .await?
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "your session has ended (expired or signed out); sign in again",
                )
            })?;
        // A locked account may read the decision, appeal, export, erase itself and sign out;
        // nothing else.
        if p.is_locked(caller.user) {
            let path = parts.uri.path();
            let allowed = path == "/v1/me"
                || path.starts_with("/v1/me/moderation")
                || path == "/v1/me/export"
                || path == "/v1/sessions";
            if !allowed {
                return Err(ApiError::new(
                    axum::http::StatusCode::FORBIDDEN,
                    "account_locked",
                    "a moderator locked this account; see GET /v1/me/moderation for why, and appeal there",
                ));
            }
        }
        Ok(caller)
    }
}

/// The caller when a credential is sent; anonymous otherwise. A bad credential is still a 401.
pub(crate) struct MaybeCaller(pub Option<Caller>);

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, p: &AppState) -> Result<Self, ApiError> {
        if credential(parts).is_none() {
            return Ok(MaybeCaller(None));
        }
        match Caller::from_request_parts(parts, p).await {
            Ok(c) => Ok(MaybeCaller(Some(c))),
            // A session of a region another node serves: here, a reader this node cannot name
            // (what they may see signed out, they see).
            Err(e) if e.status == axum::http::StatusCode::MISDIRECTED_REQUEST => {
                Ok(MaybeCaller(None))
            }
            Err(e) => Err(e),
        }
    }
}

/// The client's address as the connection shows it (no proxy header is trusted; IPv6 by its /64),
/// as a key for per-client limits.
pub(crate) struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| crate::conn::client_key(c.0.ip()).to_string())
                .unwrap_or_else(|| "local".into()),
        ))
    }
}
