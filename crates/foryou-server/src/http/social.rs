//! Comments and their threads (with likes), and the caller's favourites.

use super::content::{newest_first, page};
use super::extract::MaybeCaller;
use super::views;
use super::{parse_id, AppState};
use crate::error::ApiError;
use crate::platform::{Caller, World};
use crate::query::page_query;
use axum::extract::{Path, RawQuery, State};
use axum::Json;
use foryou_store::Comment;
use foryou_types::{CommentId, UserId, VideoId};
use serde_json::{json, Value};

/// A comment as the API shows it: its author, likes (and whether the viewer liked it) and, for
/// a top-level comment, how many replies its thread has.
fn comment_json(w: &World, c: &Comment, viewer: Option<UserId>) -> Value {
    let mut v = json!({
        "id": c.id,
        "author": {"id": c.author, "handle": views::handle_of(w, c.author)},
        "text": c.text,
        "created_ms": c.created_ms,
        "likes": w.comment_like_counts.get(&c.id).copied().unwrap_or(0),
        "liked": viewer.is_some_and(|u| w.comment_likes.contains(&(u, c.id))),
    });
    match c.reply_to {
        Some(root) => v["reply_to"] = json!(root),
        None => v["reply_count"] = json!(w.replies.get(&c.id).map_or(0, Vec::len)),
    }
    v
}

/// `GET /v1/videos/{id}/comments?limit=20&cursor=C`: the top-level comments, oldest first, a
/// page at a time (`total` counts them; the video's comment count includes replies).
pub(crate) async fn comments(
    State(p): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let id: VideoId = parse_id("video", &id)?;
    let viewer = c.map(|c| c.user);
    if !p.may_see_video(viewer, id) {
        return Err(ApiError::not_found(format!("no video with id {id}")));
    }
    let q = page_query(raw.as_deref().unwrap_or(""), 20)?;
    let out = p.read_world(|w| {
        w.videos.contains_key(&id).then(|| {
            let all = w.comments.get(&id).map(|v| v.as_slice()).unwrap_or(&[]);
            let (list, next) = page(all.iter().map(|c| comment_json(w, c, viewer)), q);
            json!({"comments": list, "total": all.len(), "next_cursor": next})
        })
    })?;
    out.map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no video with id {id}")))
}

/// `GET /v1/comments/{id}/replies?limit=20&cursor=C`: a top-level comment's thread, oldest
/// first, a page at a time.
pub(crate) async fn replies(
    State(p): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let id: CommentId = parse_id("comment", &id)?;
    let viewer = c.map(|c| c.user);
    let q = page_query(raw.as_deref().unwrap_or(""), 20)?;
    let missing = || ApiError::not_found(format!("no comment with id {id}"));
    let video = p
        .read_world(|w| match w.comment_at.get(&id) {
            Some((v, None)) => Some(*v),
            _ => None,
        })?
        .ok_or_else(missing)?;
    if !p.may_see_video(viewer, video) {
        return Err(missing());
    }
    let out = p.read_world(|w| {
        let all = w.replies.get(&id).map(|v| v.as_slice()).unwrap_or(&[]);
        let (list, next) = page(all.iter().map(|c| comment_json(w, c, viewer)), q);
        json!({"comment_id": id, "replies": list, "total": all.len(), "next_cursor": next})
    })?;
    Ok(Json(out))
}

/// `GET /v1/me/favorites?limit=60&cursor=C`: the videos the caller saved, last saved first.
/// Only the caller sees their favourites.
pub(crate) async fn favourites(
    State(p): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let q = page_query(raw.as_deref().unwrap_or(""), 60)?;
    let me = caller.user;
    let out = p.read_world(|w| {
        let ids = newest_first(w.favourites.get(&me));
        let visible = ids.into_iter().filter(|v| {
            w.videos
                .get(v)
                .is_some_and(|e| p.may_see(w, Some(me), e.video.creator))
        });
        let (list, next) = page(visible.filter_map(|v| views::video(w, v, Some(me))), q);
        json!({"videos": list, "next_cursor": next})
    })?;
    Ok(Json(out))
}
