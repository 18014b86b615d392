//! WebM (Matroska subset) probing: EBML header, `Info` duration, `Tracks` codecs and size,
//! and, when the muxer wrote no duration (browser recordings), the last block's timestamp.

use crate::{Container, MediaInfo, ProbeError};

pub(crate) const EBML: u64 = 0x1A45_DFA3;
pub(crate) const DOCTYPE: u64 = 0x4282;
pub(crate) const SEGMENT: u64 = 0x1853_8067;
pub(crate) const INFO: u64 = 0x1549_A966;
pub(crate) const TIMECODE_SCALE: u64 = 0x2A_D7B1;
pub(crate) const DURATION: u64 = 0x4489;
pub(crate) const TRACKS: u64 = 0x1654_AE6B;
pub(crate) const TRACK_ENTRY: u64 = 0xAE;
pub(crate) const TRACK_TYPE: u64 = 0x83;
pub(crate) const CODEC_ID: u64 = 0x86;
pub(crate) const VIDEO: u64 = 0xE0;
pub(crate) const PIXEL_WIDTH: u64 = 0xB0;
pub(crate) const PIXEL_HEIGHT: u64 = 0xBA;
pub(crate) const DEFAULT_DURATION: u64 = 0x23_E383;
pub(crate) const CLUSTER: u64 = 0x1F43_B675;
pub(crate) const CLUSTER_TIMECODE: u64 = 0xE7;
pub(crate) const SIMPLE_BLOCK: u64 = 0xA3;
pub(crate) const BLOCK_GROUP: u64 = 0xA0;
pub(crate) const BLOCK: u64 = 0xA1;

fn truncated(what: impl Into<String>) -> ProbeError {
    ProbeError::Truncated { what: what.into() }
}

/// Reads a variable-length integer; `keep_marker` keeps the length bit (element ids).
fn vint(d: &[u8], at: usize, keep_marker: bool) -> Result<(u64, usize, bool), ProbeError> {
    let first = *d
        .get(at)
        .ok_or_else(|| truncated("an element header is cut off"))?;
    if first == 0 {
        return Err(ProbeError::Corrupt {
            what: format!("invalid variable-length number at byte {at}"),
        });
    }
    let len = first.leading_zeros() as usize + 1;
    let bytes = at
        .checked_add(len)
        .and_then(|end| d.get(at..end))
        .ok_or_else(|| truncated("an element header is cut off"))?;
    let mut v = if keep_marker {
        u64::from(first)
    } else {
        u64::from(first) & (0xFF >> len)
    };
    for &b in &bytes[1..] {
        v = (v << 8) | u64::from(b);
    }
    let all_ones = !keep_marker && v == (1u64 << (7 * len)) - 1;
    Ok((v, len, all_ones))
}

struct Element {
    id: u64,
    start: usize,
    /// `None` for an unknown size (live streams): the element runs to its parent's end.
    end: Option<usize>,
}

/// Reads the element header at `at`, whose parent ends at `limit` (at most `d.len()`). Every
/// position it returns lies inside `d[..=limit]`.
fn element(d: &[u8], at: usize, limit: usize) -> Result<Element, ProbeError> {
    let limit = limit.min(d.len());
    let (id, il, _) = vint(&d[..limit], at, true)?;
    let (size, sl, unknown) = vint(&d[..limit], at + il, false)?;
    // Both headers were read inside `d[..limit]`, so `start <= limit`.
    let start = at + il + sl;
    if unknown {
        return Ok(Element {
            id,
            start,
            end: None,
        });
    }
    let end = (start as u64)
        .checked_add(size)
        .filter(|&e| e <= limit as u64);
    match end {
        Some(e) => Ok(Element {
            id,
            start,
            end: Some(e as usize),
        }),
        None => Err(truncated(format!(
            "element 0x{id:X} needs {size} bytes past byte {start}, beyond the end"
        ))),
    }
}

fn uint(d: &[u8]) -> u64 {
    d.iter().take(8).fold(0, |a, &b| (a << 8) | u64::from(b))
}

fn float(d: &[u8]) -> Option<f64> {
    match d.len() {
        4 => Some(f64::from(f32::from_bits(uint(d) as u32))),
        8 => Some(f64::from_bits(uint(d))),
        _ => None,
    }
}

#[derive(Default)]
struct Track {
    kind: u64,
    codec: String,
    width: u64,
    height: u64,
    frame_ns: u64,
}

#[derive(Default)]
struct Scan {
    scale: u64,
    duration: Option<f64>,
    tracks: Vec<Track>,
    cluster_tc: u64,
    last_block_tc: Option<u64>,
}

/// The deepest nesting of masters the walk follows; real WebM files nest five deep.
const MAX_DEPTH: usize = 16;

/// The largest picture side accepted, in pixels (8K is 7680).
pub(crate) const MAX_SIDE: u64 = 16_384;

/// Most track entries read; browsers write one or two.
const MAX_TRACKS: usize = 64;

/// One master being walked: where its next child starts, where it ends, and whether it sits
/// inside a track entry.
struct Frame {
    at: usize,
    to: usize,
    in_track: bool,
}

/// Walks `d[from..to]`, descending into the masters we care about. Iterative with an explicit,
/// depth-limited stack, so no input can exhaust the call stack; every element consumes at least
/// two bytes, so the work is linear in the input.
fn walk(d: &[u8], from: usize, to: usize, scan: &mut Scan) -> Result<(), ProbeError> {
    let mut stack = vec![Frame {
        at: from,
        to,
        in_track: false,
    }];
    while let Some(frame) = stack.last_mut() {
        if frame.at >= frame.to {
            stack.pop();
            continue;
        }
        let (to, in_track) = (frame.to, frame.in_track);
        let e = element(d, frame.at, to)?;
        let end = e.end.unwrap_or(to);
        // An unknown-size element runs to its parent's end: nothing follows it at this level.
        frame.at = end;
        let body = &d[e.start..end];
        let descend = match e.id {
            SEGMENT | CLUSTER | INFO | TRACKS | BLOCK_GROUP => Some(false),
            TRACK_ENTRY => {
                if scan.tracks.len() >= MAX_TRACKS {
                    return Err(ProbeError::Corrupt {
                        what: format!("more than {MAX_TRACKS} tracks"),
                    });
                }
                scan.tracks.push(Track::default());
                Some(true)
            }
            VIDEO if in_track => Some(true),
            TIMECODE_SCALE => {
                scan.scale = uint(body);
                None
            }
            DURATION => {
                scan.duration = float(body);
                None
            }
            CLUSTER_TIMECODE => {
                scan.cluster_tc = uint(body);
                None
            }
            SIMPLE_BLOCK | BLOCK => {
                let (_, tl, _) = vint(body, 0, false)?;
                let rel = body
                    .get(tl..tl + 2)
                    .map(|b| i16::from_be_bytes([b[0], b[1]]))
                    .unwrap_or(0);
                let tc = i64::try_from(scan.cluster_tc)
                    .unwrap_or(i64::MAX)
                    .saturating_add(i64::from(rel))
                    .max(0) as u64;
                scan.last_block_tc = Some(scan.last_block_tc.map_or(tc, |t| t.max(tc)));
                None
            }
            TRACK_TYPE | CODEC_ID | PIXEL_WIDTH | PIXEL_HEIGHT | DEFAULT_DURATION if in_track => {
                if let Some(t) = scan.tracks.last_mut() {
                    match e.id {
                        TRACK_TYPE => t.kind = uint(body),
                        CODEC_ID => {
                            t.codec = String::from_utf8_lossy(&body[..body.len().min(64)])
                                .trim_end_matches('\0')
                                .to_string()
                        }
                        PIXEL_WIDTH => t.width = uint(body),
                        PIXEL_HEIGHT => t.height = uint(body),
                        _ => t.frame_ns = uint(body),
                    }
                }
                None
            }
            _ => None,
        };
        if let Some(in_track) = descend {
            if stack.len() >= MAX_DEPTH {
                return Err(ProbeError::Corrupt {
                    what: format!("elements nested deeper than {MAX_DEPTH} levels"),
                });
            }
            stack.push(Frame {
                at: e.start,
                to: end,
                in_track,
            });
        }
    }
    Ok(())
}

pub(crate) fn probe(d: &[u8]) -> Result<MediaInfo, ProbeError> {
    let head = element(d, 0, d.len())?;
    if head.id != EBML {
        return Err(ProbeError::Unsupported {
            what: "not an EBML file".into(),
        });
    }
    let head_end = head.end.ok_or_else(|| ProbeError::Corrupt {
        what: "EBML header of unknown size".into(),
    })?;
    let mut at = head.start;
    let mut doctype = String::new();
    while at < head_end {
        let e = element(d, at, head_end)?;
        let end = e.end.unwrap_or(head_end);
        if e.id == DOCTYPE {
            doctype = String::from_utf8_lossy(&d[e.start..end])
                .trim_end_matches('\0')
                .to_string();
        }
        at = end;
    }
    if doctype != "webm" {
        return Err(ProbeError::Unsupported {
            what: format!("Matroska document type '{doctype}'; upload WebM"),
        });
    }
    let mut scan = Scan {
        scale: 1_000_000,
        ..Scan::default()
    };
    walk(d, head_end, d.len(), &mut scan)?;
    let video =
        scan.tracks
            .iter()
            .find(|t| t.kind == 1)
            .ok_or_else(|| ProbeError::Unsupported {
                what: "the WebM has no video track".into(),
            })?;
    let video_codec = match video.codec.as_str() {
        "V_VP8" => "vp8",
        "V_VP9" => "vp9",
        "V_AV1" => "av1",
        other => {
            return Err(ProbeError::Unsupported {
                what: format!("video codec '{other}' in WebM; use VP8, VP9 or AV1"),
            })
        }
    };
    let audio_codec = match scan
        .tracks
        .iter()
        .find(|t| t.kind == 2)
        .map(|t| t.codec.as_str())
    {
        None => None,
        Some("A_OPUS") => Some("opus"),
        Some("A_VORBIS") => Some("vorbis"),
        Some(other) => {
            return Err(ProbeError::Unsupported {
                what: format!("audio codec '{other}' in WebM; use Opus or Vorbis"),
            })
        }
    };
    let scale = if scan.scale == 0 {
        1_000_000
    } else {
        scan.scale
    };
    let duration_ms = match scan.duration {
        Some(d) if d.is_finite() && d > 0.0 => (d * scale as f64 / 1e6).round() as u64,
        _ => scan
            .last_block_tc
            .map(|tc| (tc.saturating_mul(scale).saturating_add(video.frame_ns)) / 1_000_000)
            .unwrap_or(0),
    };
    if duration_ms == 0 {
        return Err(ProbeError::ZeroDuration);
    }
    if video.width == 0 || video.height == 0 {
        return Err(ProbeError::Corrupt {
            what: "the video track has no picture size".into(),
        });
    }
    if video.width > MAX_SIDE || video.height > MAX_SIDE {
        return Err(ProbeError::Corrupt {
            what: format!(
                "a picture of {}x{} pixels; the largest side accepted is {MAX_SIDE}",
                video.width, video.height
            ),
        });
    }
    Ok(MediaInfo {
        container: Container::WebM,
        duration_ms,
        width: video.width as u32,
        height: video.height as u32,
        video_codec,
        audio_codec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::webm;

    #[test]
    fn duration_codecs_and_size_are_read() {
        let info = probe(&webm(Some(12_345.0), "V_VP9")).expect("valid");
        assert_eq!(
            (info.duration_ms, info.width, info.height),
            (12_345, 720, 1280)
        );
        assert_eq!((info.video_codec, info.audio_codec), ("vp9", Some("opus")));
    }

    #[test]
    fn missing_duration_falls_back_to_the_last_block() {
        let info = probe(&webm(None, "V_VP8")).expect("valid");
        assert_eq!(info.duration_ms, 7_500);
    }

    proptest::proptest! {
        #[test]
        fn flipped_and_cut_bytes_never_panic(pos in 0usize..4000, val in proptest::prelude::any::<u8>(), cut in 0usize..4000) {
            let mut d = webm(Some(5000.0), "V_VP9");
            let p = pos % d.len();
            d[p] = val;
            let _ = probe(&d);
            let c = cut % (d.len() + 1);
            let _ = probe(&d[..c]);
        }
    }

    #[test]
    fn bad_webms_are_refused() {
        assert!(matches!(
            probe(&webm(Some(1.0), "V_THEORA")),
            Err(ProbeError::Unsupported { .. })
        ));
        assert!(matches!(
            probe(&webm(Some(0.0), "V_VP9")).map(|_| ()),
            Ok(()) | Err(ProbeError::ZeroDuration)
        ));
        let full = webm(Some(5000.0), "V_AV1");
        for cut in [3, 10, full.len() / 2, full.len() - 1] {
            assert!(
                matches!(probe(&full[..cut]), Err(ProbeError::Truncated { .. })),
                "cut {cut}"
            );
        }
    }
}
