//! The HTTP API and web UI: routing, the request middleware (security headers, metrics,
//! structured request logs) and the server loop. Handlers live by area in the files beside.

mod accounts;
mod content;
mod export;
mod extract;
mod family;
mod feed;
mod media;
mod moderation;
mod search;
mod social;
mod transparency;
mod upload;
pub(crate) mod views;

use crate::conn::{serve_with, ConnLimits};
use crate::error::ApiError;
use crate::platform::Platform;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

pub(crate) type AppState = Arc<Platform>;

/// Runs blocking platform work (fsync, argon2, ranking) off the async workers; its error
/// becomes the HTTP error in `crate::error`'s one table.
pub(crate) async fn blocking<T: Send + 'static, E: Into<ApiError> + Send + 'static>(
    p: &AppState,
    f: impl FnOnce(&Platform) -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError> {
    let p = p.clone();
    tokio::task::spawn_blocking(move || f(&p).map_err(Into::into))
        .await
        .map_err(ApiError::internal)?
}

pub(crate) fn parse_id<T: std::str::FromStr>(what: &str, s: &str) -> Result<T, ApiError> {
    s.parse().map_err(|_| {
        ApiError::not_found(format!(
            "no {what} with id '{}'",
            s.chars().take(40).collect::<String>()
        ))
    })
}

/// The API router with every route, the web UI, and the middleware.
pub fn router(platform: Arc<Platform>) -> Router {
    let upload_limit = platform.config().max_upload_bytes as usize + (4 << 20);
    Router::new()
        .route("/", get(crate::web::index))
        .route("/app.js", get(crate::web::script))
        .route("/studio.js", get(crate::web::studio))
        .route("/app.css", get(crate::web::style))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route(
            "/openapi.json",
            get(|| async { Json(crate::openapi::document()) }),
        )
        .route("/v1/accounts", post(accounts::create_account))
        .route(
            "/v1/sessions",
            post(accounts::create_session).delete(accounts::delete_session),
        )
        .route("/v1/me", get(accounts::me).delete(accounts::delete_me))
        .route("/v1/me/export", get(export::export))
        .route("/v1/consent/requests", post(family::request_consent))
        .route(
            "/v1/consent/{token}",
            get(family::consent_request).post(family::confirm_consent),
        )
        .route("/v1/family", get(family::view).delete(family::unlink_self))
        .route("/v1/family/invitations", post(family::invite))
        .route("/v1/family/links", post(family::join))
        .route(
            "/v1/family/{child}",
            put(family::set).delete(family::unlink_child),
        )
        .route("/v1/family/{child}/account", delete(family::erase_child))
        .route("/v1/me/follow-requests", get(accounts::follow_requests))
        .route("/v1/me/not-interested", get(accounts::not_interested))
        .route(
            "/v1/me/settings",
            get(accounts::settings).put(accounts::put_settings),
        )
        .route(
            "/v1/videos",
            post(upload::upload).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/v1/videos/{id}",
            get(content::video).delete(content::delete_video),
        )
        .route("/v1/videos/{id}/media", get(media::media))
        .route("/v1/videos/{id}/download", get(media::download))
        .route("/v1/videos/{id}/poster", get(media::poster))
        .route("/v1/videos/{id}/comments", get(social::comments))
        .route("/v1/comments/{id}/replies", get(social::replies))
        .route("/v1/me/favorites", get(social::favourites))
        .route("/v1/videos/{id}/mature", put(content::set_mature))
        .route("/v1/events", post(feed::events))
        .route("/v1/feed", get(feed::feed))
        .route("/v1/feed/refresh", post(feed::refresh))
        .route("/v1/users/by-id/{id}", get(content::profile_by_id))
        .route("/v1/users/{handle}", get(content::profile))
        .route("/v1/users/{handle}/videos", get(content::user_videos))
        .route("/v1/sounds/{id}", get(content::sound))
        .route("/v1/sounds/{id}/audio", get(media::sound_audio))
        .route("/v1/search", get(search::search))
        .route("/v1/sounds/trending", get(search::trending_sounds))
        .route("/v1/hashtags/{tag}", get(search::hashtag))
        .route("/v1/effects/{name}", get(search::effect))
        .route("/v1/admin/users", get(content::admin_users))
        .route("/v1/admin/access", get(content::admin_access))
        .route("/v1/admin/policy", get(content::admin_policy))
        .route("/v1/admin/users/{id}/role", put(content::admin_set_role))
        .route("/v1/admin/videos/{id}/boost", post(transparency::boost))
        .route("/v1/reports", post(moderation::report))
        .route("/v1/admin/reports", get(moderation::admin_reports))
        .route(
            "/v1/admin/reports/{id}/resolve",
            post(moderation::resolve_report),
        )
        .route("/v1/me/moderation", get(moderation::my_moderation))
        .route("/v1/me/moderation/{id}/appeal", post(moderation::appeal))
        .route("/v1/audit/releases", get(transparency::releases))
        .route("/v1/recommender", get(transparency::recommender))
        .route(
            "/v1/recommender/{version}",
            get(transparency::recommender_version),
        )
        .route("/log/checkpoint", get(transparency::checkpoint))
        .route("/log/key", get(transparency::key))
        .route("/log/tile/{*rest}", get(transparency::tile))
        .fallback(|| async { ApiError::not_found("no such route; see /openapi.json") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method; see /openapi.json",
            )
        })
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn_with_state(platform.clone(), observe))
        .layer(middleware::from_fn(security_headers))
        .with_state(platform)
}

/// The Content-Security-Policy of every response: scripts, styles and connections from this
/// origin only, no inline script, no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; \
media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(self), microphone=(self), geolocation=()"),
    );
    res
}

/// Every error is JSON: a refusal made by the framework itself (a path that is not valid UTF-8,
/// a body over the limit) is rewritten into `{"error": {"code", "message"}}` with its status.
async fn json_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return res;
    }
    let text = axum::body::to_bytes(res.into_body(), 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let reason = status.canonical_reason().unwrap_or("error");
    let message = if text.is_empty() {
        reason.to_lowercase()
    } else {
        format!(
            "{}: {}",
            reason.to_lowercase(),
            text.chars().take(200).collect::<String>()
        )
    };
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    ApiError::new(status, code, message).into_response()
}

/// A method as a metrics label, from a closed set: anything else is `other`.
fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method as M;
    match *m {
        M::GET => "GET",
        M::POST => "POST",
        M::PUT => "PUT",
        M::DELETE => "DELETE",
        M::HEAD => "HEAD",
        M::OPTIONS => "OPTIONS",
        M::PATCH => "PATCH",
        _ => "other",
    }
}

async fn observe(State(p): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    // Matched routes are the router's own patterns, a closed set; everything else is one label.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = method_label(req.method());
    let res = next.run(req).await;
    let secs = started.elapsed().as_secs_f64();
    p.metrics
        .request(&route, method, res.status().as_u16(), secs);
    tracing::info!(target: "foryou::http", method = %method, route = %route, status = res.status().as_u16(), ms = secs * 1000.0, "request");
    res
}

/// Serves until `shutdown` resolves, then stops taking connections and finishes those in flight
/// (for at most `limits.shutdown_grace`).
pub async fn serve(
    platform: Arc<Platform>,
    addr: SocketAddr,
    limits: ConnLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "listening");
    serve_with(listener, router(platform), limits, shutdown).await
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

async fn metrics(State(p): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        p.metrics.render(),
    )
}

#[cfg(test)]
mod tests {
    use super::method_label;
    use axum::http::Method;

    #[test]
    fn method_labels_are_a_closed_set() {
        assert_eq!(method_label(&Method::GET), "GET");
        let junk = Method::from_bytes(b"XJUNK123").expect("a token");
        assert_eq!(method_label(&junk), "other");
    }
}
