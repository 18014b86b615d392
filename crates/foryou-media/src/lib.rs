//! Media: probing uploaded containers (MP4, WebM) without external programs, synthesising
//! playable H.264 clips and PNG posters without ffmpeg, and the object store media lives in.

mod bytes;
pub mod flac;
mod mp4;
pub mod music;
pub mod mux;
pub mod png;
pub mod samples;
mod scene;
mod store;
#[cfg(feature = "suite")]
pub mod suite;
pub mod synth;
mod webm;

pub use store::{check_key, LocalObjectStore, ObjectStore, StoreError};

/// Why an upload is not an acceptable video. Each variant maps to one HTTP status in the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// The file ends before the container says it should.
    #[error("the file is truncated: {what}")]
    Truncated {
        /// What was cut off.
        what: String,
    },
    /// The container's structure is inconsistent.
    #[error("the container is corrupt: {what}")]
    Corrupt {
        /// What is wrong.
        what: String,
    },
    /// Not MP4 or WebM, or a codec we do not play.
    #[error("not a supported video: {what}")]
    Unsupported {
        /// What was found instead.
        what: String,
    },
    /// The container declares no playable time.
    #[error("the video has zero duration")]
    ZeroDuration,
}

/// The container family of an upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    /// ISO base media (MP4) with H.264 video and optional AAC, Opus or FLAC audio.
    Mp4,
    /// WebM with VP8, VP9 or AV1 video and optional Opus or Vorbis audio.
    WebM,
}

impl Container {
    /// The `Content-Type` to serve it with.
    pub fn mime(self) -> &'static str {
        match self {
            Container::Mp4 => "video/mp4",
            Container::WebM => "video/webm",
        }
    }

    /// The file extension used for its object key.
    pub fn extension(self) -> &'static str {
        match self {
            Container::Mp4 => "mp4",
            Container::WebM => "webm",
        }
    }
}

/// What the server learns from a container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaInfo {
    /// MP4 or WebM.
    pub container: Container,
    /// Playable duration in milliseconds.
    pub duration_ms: u64,
    /// Display width in pixels.
    pub width: u32,
    /// Display height in pixels.
    pub height: u32,
    /// Video codec: `h264`, `vp8`, `vp9` or `av1`.
    pub video_codec: &'static str,
    /// Audio codec, when there is an audio track: `aac`, `flac`, `opus` or `vorbis`.
    pub audio_codec: Option<&'static str>,
}

/// Identifies and checks a container from its bytes.
pub fn probe(data: &[u8]) -> Result<MediaInfo, ProbeError> {
    if data.len() >= 4 && data[..4] == [0x1A, 0x45, 0xDF, 0xA3] {
        return webm::probe(data);
    }
    if data.len() >= 8 && mp4::looks_like_mp4(data) {
        return mp4::probe(data);
    }
    if data.len() < 8 {
        return Err(ProbeError::Truncated {
            what: format!("only {} bytes", data.len()),
        });
    }
    Err(ProbeError::Unsupported {
        what: "the file is neither MP4 nor WebM".into(),
    })
}

/// Recognises a poster image by its magic bytes and returns its MIME type.
pub fn image_mime(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}
