//! Video bytes and posters with single byte ranges: up to one chunk (256 KiB) read in one go,
//! anything longer streamed from the object store chunk by chunk, never read whole.

use super::extract::MaybeCaller;
use super::{blocking, parse_id, AppState};
use crate::error::ApiError;
use crate::query::byte_range;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use foryou_types::VideoId;
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Bytes read from the store at a time; a download holds at most two of them.
const CHUNK: u64 = 256 * 1024;

/// A response body fed chunk by chunk by a reader task.
/// A response body of `len` bytes arriving as chunks on a channel.
pub(super) struct Chunks {
    pub(super) rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
    pub(super) len: u64,
}

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.rx.poll_recv(cx).map(|o| o.map(|r| r.map(Frame::data)))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len)
    }
}

/// Streams `[start, end]` of a video's media (or its poster) from the store.
fn stream(p: &AppState, id: VideoId, poster: bool, start: u64, end: u64) -> Chunks {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let p = p.clone();
    tokio::spawn(async move {
        let mut at = start;
        while at <= end {
            let len = CHUNK.min(end - at + 1);
            let read = blocking(&p, move |p| {
                p.read_media(id, poster, Some((at, at + len - 1)))
            })
            .await;
            let chunk = match read {
                Ok((_, _, bytes)) if bytes.len() as u64 == len => Ok(Bytes::from(bytes)),
                Ok(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the media file shrank while it was being sent",
                )),
                Err(e) => Err(std::io::Error::other(e.message)),
            };
            let failed = chunk.is_err();
            if tx.send(chunk).await.is_err() || failed {
                return;
            }
            at += len;
        }
    });
    Chunks {
        rx,
        len: end + 1 - start,
    }
}

pub(crate) async fn media(
    State(p): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve(p, c.map(|c| c.user), id, false, headers, false).await
}

/// `GET /v1/sounds/{id}/audio`: what the sound sounds like, which is the audio of the video it
/// came from (served as that video's file, Range supported; an `<audio>` element plays its
/// sound track). Not found when that video is silent, gone, or not visible to the caller.
pub(crate) async fn sound_audio(
    State(p): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let sid: foryou_types::SoundId = parse_id("sound", &id)?;
    let origin = p.read_world(|w| {
        let s = w.sounds.get(&sid)?;
        let v = w.videos.get(&s.origin)?;
        v.video.audio_codec.is_some().then_some(s.origin)
    })?;
    let Some(origin) = origin else {
        return Err(ApiError::not_found(format!(
            "sound {sid} has no audio to play (its original video is silent or gone)"
        )));
    };
    serve(
        p,
        c.map(|c| c.user),
        origin.to_string(),
        false,
        headers,
        false,
    )
    .await
}

/// `GET /v1/videos/{id}/download`: the video as a file to keep, when its creator allows it (never
/// the videos of people under 18).
pub(crate) async fn download(
    State(p): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let vid: VideoId = parse_id("video", &id)?;
    let viewer = c.map(|c| c.user);
    if p.may_see_video(viewer, vid) && !p.downloadable(vid) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "downloads_off",
            "the creator's videos cannot be downloaded",
        ));
    }
    serve(p, viewer, id, false, headers, true).await
}

pub(crate) async fn poster(
    State(p): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve(p, c.map(|c| c.user), id, true, headers, false).await
}

/// What one trip to the blocking pool learns: the type and size, the range asked for, and the
/// bytes themselves when they fit in one chunk (most posters and short clips).
struct Head {
    mime: String,
    size: u64,
    range: Result<Option<(u64, u64)>, crate::query::Unsatisfiable>,
    small: Option<Vec<u8>>,
}

async fn serve(
    p: AppState,
    viewer: Option<foryou_types::UserId>,
    id: String,
    poster: bool,
    headers: HeaderMap,
    attachment: bool,
) -> Result<Response, ApiError> {
    let id: VideoId = parse_id("video", &id)?;
    // A private account's videos play for its followers only; to anyone else they do not exist.
    if !p.may_see_video(viewer, id) {
        return Err(ApiError::not_found(format!("no video with id {id}")));
    }
    let range_header = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let head = blocking(&p, move |p| {
        let (mime, size) = p.media_meta(id, poster)?;
        let range = byte_range(range_header.as_deref(), size);
        let small = match range {
            Ok(r) if size > 0 => {
                let (s, e) = r.unwrap_or((0, size - 1));
                if e - s < CHUNK {
                    Some(p.read_media(id, poster, Some((s, e)))?.2)
                } else {
                    None
                }
            }
            _ => None,
        };
        Ok::<_, crate::platform::PlatformError>(Head {
            mime,
            size,
            range,
            small,
        })
    })
    .await?;
    let size = head.size;
    let range = match head.range {
        Ok(r) => r,
        Err(_) => {
            let mut r = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "bad_range",
                format!("the range is outside the file of {size} bytes"),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(r);
        }
    };
    let (start, end) = range.unwrap_or((0, size.saturating_sub(1)));
    let body = match head.small {
        Some(bytes) => axum::body::Body::from(bytes),
        None if size == 0 => axum::body::Body::empty(),
        None => axum::body::Body::new(stream(&p, id, poster, start, end)),
    };
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400, immutable"),
    );
    if let Ok(v) = HeaderValue::from_str(&head.mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    let ext = if head.mime.contains("webm") {
        "webm"
    } else {
        "mp4"
    };
    let disposition = if attachment {
        format!("attachment; filename=\"foryou-{id}.{ext}\"")
    } else {
        "inline".to_string()
    };
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if range.is_some() {
        *res.status_mut() = StatusCode::PARTIAL_CONTENT;
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{size}")) {
            res.headers_mut().insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(res)
}
