//! `POST /v1/videos`: the multipart upload, streamed to one temporary file under the size limit,
//! with a deadline between chunks; every other part is small and capped while it is read.

use super::{blocking, AppState};
use crate::error::ApiError;
use crate::limits::Guarded;
use crate::platform::{upload_too_large, Caller, UploadInput};
use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::{Multipart, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use foryou_types::SoundId;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// Longest wait for the next piece of an upload; a stalled sender is cut off.
const CHUNK_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest caption, sound id or sound title part, bytes.
const MAX_TEXT_PART: usize = 16 * 1024;
/// Largest poster part, bytes.
const MAX_POSTER: usize = 2 << 20;

/// Deletes a partly received upload unless it was handed over.
struct TempFile(Option<std::path::PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn multipart_error(e: MultipartError, max: u64) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        upload_too_large(max).into()
    } else {
        ApiError::bad_request(format!(
            "the upload could not be read ({}); send it again",
            e.body_text()
        ))
    }
}

fn stalled() -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "upload_stalled",
        format!(
            "the upload stopped for more than {} s; check your connection and send it again",
            CHUNK_TIMEOUT.as_secs()
        ),
    )
}

/// The next chunk of a part, within [`CHUNK_TIMEOUT`].
async fn next_chunk(field: &mut Field<'_>, max: u64) -> Result<Option<bytes::Bytes>, ApiError> {
    match tokio::time::timeout(CHUNK_TIMEOUT, field.chunk()).await {
        Ok(r) => r.map_err(|e| multipart_error(e, max)),
        Err(_) => Err(stalled()),
    }
}

/// A small part read whole, refused past `cap` bytes.
async fn small_part(
    field: &mut Field<'_>,
    name: &str,
    cap: usize,
    max: u64,
) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    while let Some(chunk) = next_chunk(field, max).await? {
        if out.len() + chunk.len() > cap {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "part_too_large",
                format!("the '{name}' part is over {} KiB; send less", cap / 1024),
            ));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

async fn text_part(field: &mut Field<'_>, name: &str, max: u64) -> Result<String, ApiError> {
    String::from_utf8(small_part(field, name, MAX_TEXT_PART, max).await?)
        .map_err(|_| ApiError::bad_request(format!("the '{name}' part is not UTF-8 text")))
}

async fn next_field(mp: &mut Multipart, max: u64) -> Result<Option<Field<'_>>, ApiError> {
    match tokio::time::timeout(CHUNK_TIMEOUT, mp.next_field()).await {
        Ok(r) => r.map_err(|e| multipart_error(e, max)),
        Err(_) => Err(stalled()),
    }
}

pub(crate) async fn upload(
    State(p): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let max = p.config().max_upload_bytes;
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > max + (4 << 20) {
            return Err(upload_too_large(max).into());
        }
    }
    p.limiters
        .check(Guarded::Uploads, &caller.user.to_string(), 1)?;
    {
        let (p, c) = (p.clone(), caller.clone());
        blocking(&p, move |p| p.check_upload_quota(&c, 0)).await?;
    }
    let mut mp = mp.map_err(|e| {
        ApiError::bad_request(format!(
            "send the video as multipart/form-data with a 'file' part ({})",
            e.body_text()
        ))
    })?;
    let mut file = TempFile(None);
    let mut mature = false;
    let mut effects = Vec::new();
    let (mut caption, mut sound_id, mut poster, mut sound_title) =
        (String::new(), None, None, None);
    while let Some(mut field) = next_field(&mut mp, max).await? {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "file" => {
                if file.0.is_some() {
                    return Err(ApiError::bad_request(
                        "the form has more than one 'file' part; send one video per upload",
                    ));
                }
                let path = p
                    .tmp_dir(&caller)?
                    .join(format!("upload-{:016x}.part", rand_u64()));
                file.0 = Some(path.clone());
                let mut f = tokio::fs::File::create(&path)
                    .await
                    .map_err(ApiError::internal)?;
                let mut size = 0u64;
                while let Some(chunk) = next_chunk(&mut field, max).await? {
                    size += chunk.len() as u64;
                    if size > max {
                        return Err(upload_too_large(max).into());
                    }
                    f.write_all(&chunk).await.map_err(ApiError::internal)?;
                }
                f.flush().await.map_err(ApiError::internal)?;
            }
            "caption" => caption = text_part(&mut field, "caption", max).await?,
            "sound_id" => {
                let t = text_part(&mut field, "sound_id", max).await?;
                if !t.trim().is_empty() {
                    sound_id = Some(t.trim().parse::<SoundId>().map_err(|_| {
                        ApiError::bad_request(
                            "sound_id: that is not a sound id; copy it from a sound's page",
                        )
                    })?);
                }
            }
            "sound_title" => sound_title = Some(text_part(&mut field, "sound_title", max).await?),
            "poster" => poster = Some(small_part(&mut field, "poster", MAX_POSTER, max).await?),
            "mature" => {
                mature = match text_part(&mut field, "mature", max).await?.trim() {
                    "true" | "1" | "on" => true,
                    "false" | "0" | "" => false,
                    _ => return Err(ApiError::bad_request("mature: send true or false")),
                }
            }
            "effects" => {
                let t = text_part(&mut field, "effects", max).await?;
                effects = foryou_types::parse_effects(&t)
                    .map_err(|e| ApiError::bad_request(e.to_string()))?;
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown form field '{}'; send file, caption, sound_id, sound_title, poster, mature, effects",
                    other.chars().take(40).collect::<String>()
                )))
            }
        }
    }
    let path = file.0.clone().ok_or_else(|| {
        ApiError::bad_request("the form has no 'file' part; attach the video as 'file'")
    })?;
    let input = UploadInput {
        file: path,
        caption,
        sound_id,
        poster,
        sound_title,
        mature,
        effects,
    };
    let _place = p
        .upload_gate
        .enter(std::time::Duration::from_secs(60))
        .await
        .ok_or_else(|| {
            ApiError::busy(
                "many uploads are being checked right now; send yours again in a minute",
                30,
            )
        })?;
    let viewer = caller.user;
    let id = blocking(&p, move |p| p.upload(&caller, input)).await?;
    file.0 = None;
    let view = p
        .read_world(|w| super::views::video(w, id, Some(viewer)))?
        .ok_or_else(|| ApiError::not_found(format!("video {id} was removed as it was stored")))?;
    Ok((StatusCode::CREATED, Json(view)))
}

fn rand_u64() -> u64 {
    use rand::Rng;
    rand::thread_rng().gen()
}
