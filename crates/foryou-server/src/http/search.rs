//! Finding things: `GET /v1/search` (creators, hashtags, sounds and captions) and the hashtag
//! page `GET /v1/hashtags/{tag}`. Both read the public projection only and show what the
//! caller may see (a private account's videos to its followers, a supervised child to no one
//! else). A search scans at most `MAX_SCANNED` records of each kind, so its work is bounded
//! whatever the world's size.

use super::content::{newest_first, page};
use super::extract::MaybeCaller;
use super::{views, AppState};
use crate::error::ApiError;
use crate::platform::World;
use crate::query::{page_query, pairs};
use axum::extract::{Path, RawQuery, State};
use axum::Json;
use foryou_types::{UserId, VideoId};
use serde_json::{json, Value};

/// The longest search, in characters.
pub(crate) const MAX_QUERY_CHARS: usize = 64;
/// Most records of one kind a search looks at.
const MAX_SCANNED: usize = 200_000;

/// A `limit` query parameter: 1 to `max`, `default` when absent.
fn limit_param(raw: Option<&str>, max: usize, default: usize) -> Result<usize, ApiError> {
    match raw {
        None => Ok(default),
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!("limit must be a whole number from 1 to {max}"))
            }),
    }
}

/// `q` (required, 1–64 characters once trimmed; a leading `#` or `@` only says what kind it
/// is) and `limit` per kind (1–20, default 10).
fn search_query(raw: &str) -> Result<(String, usize), ApiError> {
    let p = pairs(raw, &["q", "limit"])?;
    let get = |k: &str| p.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
    let q = get("q").unwrap_or("").trim();
    let q = q.trim_start_matches(['#', '@']).to_lowercase();
    let n = q.chars().count();
    if n == 0 || n > MAX_QUERY_CHARS {
        return Err(ApiError::bad_request(format!(
            "q must be 1 to {MAX_QUERY_CHARS} characters (it was {n})"
        )));
    }
    let limit = limit_param(get("limit"), 20, 10)?;
    Ok((q, limit))
}

fn visible(p: &AppState, w: &World, viewer: Option<UserId>, id: VideoId) -> bool {
    w.videos.get(&id).is_some_and(|e| {
        let c = e.video.creator;
        p.findable(w, c, viewer) && p.may_see(w, viewer, c)
    })
}

/// One page of a list of videos (a hashtag's, an effect's), newest first: how many the caller
/// may see, those of the page, and the next cursor.
fn listing(
    p: &AppState,
    w: &World,
    viewer: Option<UserId>,
    ids: Option<&Vec<VideoId>>,
    q: crate::query::PageQuery,
) -> (usize, Vec<views::VideoView>, Option<String>) {
    let ids: Vec<VideoId> = newest_first(ids)
        .into_iter()
        .filter(|v| visible(p, w, viewer, *v))
        .collect();
    let count = ids.len();
    let (videos, next) = page(
        ids.into_iter().filter_map(|v| views::video(w, v, viewer)),
        q,
    );
    (count, videos, next)
}

/// `GET /v1/search?q=&limit=`.
pub(crate) async fn search(
    State(p): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (q, limit) = search_query(raw.as_deref().unwrap_or(""))?;
    let viewer = c.map(|c| c.user);
    let out = p.read_world(|w| {
        // Creators: handles containing q, those starting with it first, then by followers.
        let mut creators: Vec<(bool, u64, &str, UserId)> = w
            .users
            .iter()
            .take(MAX_SCANNED)
            .filter(|(id, u)| u.handle.to_lowercase().contains(&q) && p.findable(w, **id, viewer))
            .map(|(id, u)| {
                let followers = w.followers.get(id).copied().unwrap_or(0);
                (u.handle.to_lowercase().starts_with(&q), followers, u.handle.as_str(), *id)
            })
            .collect();
        creators.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(b.2)));
        let creators: Vec<Value> = creators
            .into_iter()
            .take(limit)
            .map(|(_, followers, handle, id)| {
                json!({"id": id, "handle": handle, "followers": followers,
                       "videos": w.by_creator.get(&id).map_or(0, Vec::len)})
            })
            .collect();
        // Hashtags containing q, the most used first.
        let mut tags: Vec<(usize, &str)> = w
            .by_tag
            .iter()
            .take(MAX_SCANNED)
            .filter(|(t, l)| t.contains(&q) && !l.is_empty())
            .map(|(t, l)| (l.len(), t.as_str()))
            .collect();
        tags.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        let hashtags: Vec<Value> = tags
            .into_iter()
            .take(limit)
            .map(|(n, t)| json!({"tag": t, "video_count": n}))
            .collect();
        // Sounds whose title contains q, the most used first.
        let mut sounds: Vec<(usize, &foryou_store::Sound)> = w
            .sounds
            .values()
            .take(MAX_SCANNED)
            .filter(|s| s.title.to_lowercase().contains(&q))
            .map(|s| (w.by_sound.get(&s.id).map_or(0, Vec::len), s))
            .filter(|(n, _)| *n > 0)
            .collect();
        sounds.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.title.cmp(&b.1.title)));
        let sounds: Vec<Value> = sounds
            .into_iter()
            .take(limit)
            .map(|(n, s)| json!({"id": s.id, "title": s.title, "video_count": n}))
            .collect();
        // Videos whose caption contains q, newest first.
        let mut found: Vec<(u64, VideoId)> = w
            .videos
            .values()
            .take(MAX_SCANNED)
            .filter(|e| e.video.caption.to_lowercase().contains(&q))
            .map(|e| (e.video.created_ms, e.video.id))
            .filter(|(_, id)| visible(&p, w, viewer, *id))
            .collect();
        found.sort_by(|a, b| b.cmp(a));
        let videos: Vec<views::VideoView> = found
            .into_iter()
            .filter_map(|(_, id)| views::video(w, id, viewer))
            .take(limit)
            .collect();
        json!({"q": q, "creators": creators, "hashtags": hashtags, "sounds": sounds, "videos": videos})
    })?;
    Ok(Json(out))
}

/// `GET /v1/hashtags/{tag}?limit&cursor`: the videos tagged `#tag`, newest first.
pub(crate) async fn hashtag(
    State(p): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    Path(tag): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let q = page_query(raw.as_deref().unwrap_or(""), 60)?;
    let tag = tag.trim_start_matches('#').to_lowercase();
    let n = tag.chars().count();
    if n == 0 || n > 100 || !tag.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Err(ApiError::bad_request(
            "a hashtag is 1 to 100 letters, digits or underscores",
        ));
    }
    let viewer = c.map(|c| c.user);
    let out = p.read_world(|w| {
        let (count, videos, next) = listing(&p, w, viewer, w.by_tag.get(&tag), q);
        json!({"tag": tag, "video_count": count, "videos": videos, "next_cursor": next})
    })?;
    Ok(Json(out))
}

/// How far back the trending sounds look.
const TRENDING_WINDOW_MS: u64 = 7 * 86_400_000;

/// `GET /v1/sounds/trending?region=&limit=`: the sounds the region's creators used most in the
/// last seven days, weighted by how their videos did (views, plus three per like and five per
/// share). The region is the caller's home region unless named; signed out, `eu` unless named.
pub(crate) async fn trending_sounds(
    State(p): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let pairs = pairs(raw.as_deref().unwrap_or(""), &["region", "limit"])?;
    let get = |k: &str| pairs.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
    let region = match (get("region"), c) {
        (Some(r), _) => foryou_types::Region::new(r)
            .map_err(|_| ApiError::bad_request(format!("region: '{r}' is not a region")))?,
        (None, Some(c)) => c.region,
        (None, None) => foryou_types::Region::new("eu")
            .map_err(|_| ApiError::bad_request("no default region"))?,
    };
    let limit = limit_param(get("limit"), 50, 10)?;
    let since = crate::platform::now_ms().saturating_sub(TRENDING_WINDOW_MS);
    let out = p.read_world(|w| {
        let mut score: std::collections::HashMap<foryou_types::SoundId, (f64, usize)> =
            std::collections::HashMap::new();
        for e in w.videos.values().take(MAX_SCANNED) {
            let v = &e.video;
            let home = w.users.get(&v.creator).map(|u| &u.region);
            if v.created_ms < since || home != Some(&region) {
                continue;
            }
            let s = score.entry(v.sound).or_default();
            s.0 += 1.0 + e.views as f64 + 3.0 * e.likes as f64 + 5.0 * e.shares as f64;
            s.1 += 1;
        }
        let mut ranked: Vec<_> = score
            .into_iter()
            .filter_map(|(id, (sc, n))| w.sounds.get(&id).map(|s| (sc, n, s)))
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.2.title.cmp(&b.2.title)));
        let sounds: Vec<Value> = ranked
            .into_iter()
            .take(limit)
            .map(|(sc, n, s)| {
                json!({"id": s.id, "title": s.title, "recent_videos": n, "score": sc,
                       "audio_url": w.videos.get(&s.origin).filter(|v| v.video.audio_codec.is_some())
                           .map(|_| format!("/v1/sounds/{}/audio", s.id))})
            })
            .collect();
        json!({"region": region.as_str(), "sounds": sounds})
    })?;
    Ok(Json(out))
}

/// `GET /v1/effects/{name}?limit&cursor`: the videos made with a studio effect, newest first.
pub(crate) async fn effect(
    State(p): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let q = page_query(raw.as_deref().unwrap_or(""), 60)?;
    if !foryou_types::EFFECTS.contains(&name.as_str()) {
        return Err(ApiError::not_found(format!(
            "no effect named '{}'; the effects are {}",
            name.chars().take(40).collect::<String>(),
            foryou_types::EFFECTS.join(", ")
        )));
    }
    let viewer = c.map(|c| c.user);
    let out = p.read_world(|w| {
        let (count, videos, next) = listing(&p, w, viewer, w.by_effect.get(&name), q);
        json!({"effect": name, "video_count": count, "videos": videos, "next_cursor": next})
    })?;
    Ok(Json(out))
}
