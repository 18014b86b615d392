//! `GET /v1/me/export`: the caller's export archive (a tar of JSON files and media), built by
//! the platform in their home region's temporary directory, streamed in 256 KiB chunks, and
//! removed once sent (or when the client goes away).

use super::{blocking, AppState};
use crate::error::ApiError;
use crate::platform::Caller;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use std::io::Read;

const CHUNK: usize = 256 * 1024;

pub(crate) async fn export(
    State(p): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let handle = caller.handle.clone();
    let path = blocking(&p, move |p| p.export(&caller)).await?;
    let len = std::fs::metadata(&path).map_err(ApiError::internal)?.len();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    tokio::task::spawn_blocking(move || {
        let sent = (|| -> std::io::Result<()> {
            let mut f = std::fs::File::open(&path)?;
            loop {
                let mut buf = vec![0u8; CHUNK];
                let n = f.read(&mut buf)?;
                if n == 0 {
                    return Ok(());
                }
                buf.truncate(n);
                if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                    return Ok(());
                }
            }
        })();
        if let Err(e) = sent {
            let _ = tx.blocking_send(Err(e));
        }
        let _ = std::fs::remove_file(&path);
    });
    let mut res = Body::new(super::media::Chunks { rx, len }).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-tar"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"foryou-export-{}.tar\"",
        handle.replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "")
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
