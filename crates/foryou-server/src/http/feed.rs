//! Interaction events, the feeds and "refresh my interests".

use super::extract::{body_bytes, MaybeCaller};
use super::{blocking, AppState};
use crate::error::ApiError;
use crate::limits::Guarded;
use crate::platform::Caller;
use crate::query::{event_batch, feed_query};
use axum::extract::{RawQuery, Request, State};
use axum::http::StatusCode;
use axum::Json;
use foryou_types::EventKind;
use serde_json::{json, Value};

pub(crate) async fn events(
    State(p): State<AppState>,
    caller: Caller,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let body = body_bytes(req, &()).await?;
    let events = event_batch(&body)?;
    let key = caller.user.to_string();
    let comments = events
        .iter()
        .filter(|e| e.kind == EventKind::Comment)
        .count() as u32;
    if comments > 0 {
        p.limiters.check(Guarded::Comments, &key, comments)?;
    }
    p.limiters
        .check(Guarded::Events, &key, events.len() as u32)?;
    let results = blocking(&p, move |p| p.record_events(&caller, &events)).await?;
    let accepted = results.iter().filter(|r| !r.duplicate).count();
    Ok(Json(
        json!({"accepted": accepted, "duplicates": results.len() - accepted, "results": results}),
    ))
}

/// `GET /v1/feed`: anyone may read the For You feed; signed out it is the non-personalised one
/// and nothing about the visitor is read or kept.
pub(crate) async fn feed(
    State(p): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    RawQuery(raw): RawQuery,
    headers: axum::http::HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let view_only = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| crate::query::cookie_value(c, super::accounts::VIEW_ONLY_COOKIE).is_some());
    let q = feed_query(raw.as_deref().unwrap_or(""))?;
    let personal = caller.is_some()
        && matches!(
            q.kind,
            crate::platform::FeedKind::ForYou { personalised: true }
        );
    let viewer = caller.as_ref().map(|c| (c.user, c.region.clone()));
    let reminder = caller.as_ref().and_then(|c| p.screen_time_reminder(c.user));
    let shown = blocking(&p, move |p| {
        p.feed_for(caller.as_ref(), q.kind, q.limit, q.cursor, view_only)
    })
    .await?;
    let boosts: Vec<Option<crate::BoostState>> =
        shown.iter().map(|s| p.boost_of(s.video)).collect();
    let items: Vec<super::views::FeedItem> = p.read_world(|w| {
        shown
            .iter()
            .zip(&boosts)
            .filter_map(|(s, b)| {
                super::views::feed_item(
                    w,
                    s.video,
                    viewer.as_ref().map(|v| v.0),
                    viewer.as_ref().map(|v| &v.1),
                    &s.reasons,
                    b.as_ref(),
                )
            })
            .collect()
    })?;
    let next =
        if !personal && items.len() == q.limit && q.cursor + q.limit <= crate::query::MAX_CURSOR {
            Some((q.cursor + q.limit).to_string())
        } else {
            None
        };
    let mut body =
        json!({"items": items, "next_cursor": next, "ranking_version": p.ranking_version()});
    if let Some(r) = reminder {
        body["screen_time_reminder"] = json!(r);
    }
    Ok(Json(body))
}

pub(crate) async fn refresh(
    State(p): State<AppState>,
    caller: Caller,
) -> Result<StatusCode, ApiError> {
    blocking(&p, move |p| p.refresh_interests(&caller)).await?;
    Ok(StatusCode::NO_CONTENT)
}
