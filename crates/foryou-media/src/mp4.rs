//! ISO base media file format (MP4) probing: duration, codecs and size from `moov`,
//! and a check that every sample the index names lies inside the file.

use crate::bytes::be;
use crate::{Container, MediaInfo, ProbeError};

const KNOWN_TOP: [&[u8; 4]; 9] = [
    b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid", b"styp", b"pdin",
];

pub(crate) fn looks_like_mp4(data: &[u8]) -> bool {
    KNOWN_TOP.iter().any(|t| &data[4..8] == *t)
}

fn truncated(what: impl Into<String>) -> ProbeError {
    ProbeError::Truncated { what: what.into() }
}

fn corrupt(what: impl Into<String>) -> ProbeError {
    ProbeError::Corrupt { what: what.into() }
}

/// One box: its type and the byte range of its payload.
struct Atom<'a> {
    kind: [u8; 4],
    body: &'a [u8],
}

/// Splits `data` into boxes. A box that runs past the end is a truncation.
fn atoms(data: &[u8]) -> Result<Vec<Atom<'_>>, ProbeError> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < data.len() {
        if data.len() - at < 8 {
            return Err(truncated(format!(
                "{} stray bytes where a box header should be",
                data.len() - at
            )));
        }
        let size32 = be(data, at, 4).unwrap_or(0);
        let kind: [u8; 4] = [data[at + 4], data[at + 5], data[at + 6], data[at + 7]];
        let (header, size) = match size32 {
            0 => (8usize, (data.len() - at) as u64),
            1 => match be(data, at + 8, 8) {
                Some(s) => (16usize, s),
                None => return Err(truncated("a 64-bit box size is cut off")),
            },
            s => (8usize, s),
        };
        if size < header as u64 {
            return Err(corrupt(format!(
                "box '{}' declares size {size}",
                String::from_utf8_lossy(&kind)
            )));
        }
        let end = at as u64 + size;
        if end > data.len() as u64 {
            return Err(truncated(format!(
                "box '{}' needs {} bytes but only {} remain",
                String::from_utf8_lossy(&kind),
                size,
                data.len() - at
            )));
        }
        out.push(Atom {
            kind,
            body: &data[at + header..end as usize],
        });
        at = end as usize;
    }
    Ok(out)
}

fn child<'a>(parent: &'a [u8], kind: &[u8; 4]) -> Result<Option<&'a [u8]>, ProbeError> {
    Ok(atoms(parent)?
        .into_iter()
        .find(|a| &a.kind == kind)
        .map(|a| a.body))
}

fn need<'a>(parent: &'a [u8], kind: &[u8; 4]) -> Result<&'a [u8], ProbeError> {
    child(parent, kind)?
        .ok_or_else(|| corrupt(format!("missing '{}' box", String::from_utf8_lossy(kind))))
}

/// (timescale, duration) of a full box laid out like `mvhd`/`mdhd`.
fn time_box(b: &[u8]) -> Result<(u64, u64), ProbeError> {
    let short = || corrupt("a header box is too short");
    match b.first() {
        Some(1) => Ok((
            be(b, 20, 4).ok_or_else(short)?,
            be(b, 24, 8).ok_or_else(short)?,
        )),
        Some(_) => Ok((
            be(b, 12, 4).ok_or_else(short)?,
            be(b, 16, 4).ok_or_else(short)?,
        )),
        None => Err(short()),
    }
}

struct Track {
    handler: [u8; 4],
    codec: [u8; 4],
    width: u32,
    height: u32,
    duration_ms: u64,
    sample_end: u64,
}

fn track(trak: &[u8]) -> Result<Track, ProbeError> {
    let mdia = need(trak, b"mdia")?;
    let (ts, dur) = time_box(need(mdia, b"mdhd")?)?;
    let hdlr = need(mdia, b"hdlr")?;
    let handler: [u8; 4] = hdlr
        .get(8..12)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| corrupt("short 'hdlr'"))?;
    let stbl = need(need(mdia, b"minf")?, b"stbl")?;
    let stsd = need(stbl, b"stsd")?;
    let entries = stsd.get(8..).ok_or_else(|| corrupt("short 'stsd'"))?;
    let first = atoms(entries)?
        .into_iter()
        .next()
        .ok_or_else(|| corrupt("empty 'stsd'"))?;
    let (mut width, mut height) = (0, 0);
    if &handler == b"vide" {
        width = be(first.body, 24, 2).unwrap_or(0) as u32;
        height = be(first.body, 26, 2).unwrap_or(0) as u32;
    }
    let duration_ms = dur.saturating_mul(1000).checked_div(ts).unwrap_or(0);
    Ok(Track {
        handler,
        codec: first.kind,
        width,
        height,
        duration_ms,
        sample_end: sample_end(stbl)?,
    })
}

/// The largest byte offset any sample of this table reaches.
fn sample_end(stbl: &[u8]) -> Result<u64, ProbeError> {
    let stsz = match child(stbl, b"stsz")? {
        Some(b) => b,
        None => return Ok(0),
    };
    let fixed = be(stsz, 4, 4).ok_or_else(|| corrupt("short 'stsz'"))?;
    let count = be(stsz, 8, 4).ok_or_else(|| corrupt("short 'stsz'"))? as usize;
    if fixed == 0 && stsz.len() < 12 + count.saturating_mul(4) {
        return Err(corrupt("'stsz' lists more samples than it holds"));
    }
    let size_of = |i: usize| {
        if fixed != 0 {
            fixed
        } else {
            be(stsz, 12 + 4 * i, 4).unwrap_or(0)
        }
    };
    let offsets: Vec<u64> = if let Some(stco) = child(stbl, b"stco")? {
        let n = be(stco, 4, 4).ok_or_else(|| corrupt("short 'stco'"))? as usize;
        (0..n)
            .map(|i| be(stco, 8 + 4 * i, 4).ok_or_else(|| corrupt("short 'stco'")))
            .collect::<Result<_, _>>()?
    } else if let Some(co64) = child(stbl, b"co64")? {
        let n = be(co64, 4, 4).ok_or_else(|| corrupt("short 'co64'"))? as usize;
        (0..n)
            .map(|i| be(co64, 8 + 8 * i, 8).ok_or_else(|| corrupt("short 'co64'")))
            .collect::<Result<_, _>>()?
    } else {
        return Ok(0);
    };
    let stsc = need(stbl, b"stsc")?;
    let n_runs = be(stsc, 4, 4).ok_or_else(|| corrupt("short 'stsc'"))? as usize;
    let runs: Vec<(u64, u64)> = (0..n_runs)
        .map(|i| {
            Ok((
                be(stsc, 8 + 12 * i, 4).ok_or_else(|| corrupt("short 'stsc'"))?,
                be(stsc, 12 + 12 * i, 4).unwrap_or(0),
            ))
        })
        .collect::<Result<_, ProbeError>>()?;
    let mut sample = 0usize;
    let mut end = 0u64;
    for (ci, &off) in offsets.iter().enumerate() {
        let chunk_no = ci as u64 + 1;
        let per = runs
            .iter()
            .rev()
            .find(|(first, _)| *first <= chunk_no)
            .map(|r| r.1)
            .unwrap_or(0);
        let mut pos = off;
        for _ in 0..per {
            if sample >= count {
                break;
            }
            pos = pos.saturating_add(size_of(sample));
            sample += 1;
        }
        end = end.max(pos);
    }
    Ok(end)
}

pub(crate) fn probe(data: &[u8]) -> Result<MediaInfo, ProbeError> {
    let top = atoms(data)?;
    if let Some(ftyp) = top.iter().find(|a| &a.kind == b"ftyp") {
        let brand = ftyp.body.get(..4).unwrap_or_default();
        if matches!(brand, b"qt  ") {
            // QuickTime files share the box format; we accept them when the codecs fit.
        }
    }
    let moov = top
        .iter()
        .find(|a| &a.kind == b"moov")
        .ok_or_else(|| truncated("no 'moov' box (the index of the movie) was found"))?;
    let (ts, dur) = time_box(need(moov.body, b"mvhd")?)?;
    let mut duration_ms = dur.saturating_mul(1000).checked_div(ts).unwrap_or(0);
    let tracks: Vec<Track> = atoms(moov.body)?
        .into_iter()
        .filter(|a| &a.kind == b"trak")
        .map(|a| track(a.body))
        .collect::<Result<_, _>>()?;
    let video = tracks
        .iter()
        .find(|t| &t.handler == b"vide")
        .ok_or_else(|| ProbeError::Unsupported {
            what: "the MP4 has no video track".into(),
        })?;
    let video_codec = match &video.codec {
        b"avc1" | b"avc3" => "h264",
        other => {
            return Err(ProbeError::Unsupported {
                what: format!(
                    "video codec '{}' in MP4; upload H.264 (avc1)",
                    String::from_utf8_lossy(other)
                ),
            })
        }
    };
    let audio_codec = match tracks.iter().find(|t| &t.handler == b"soun") {
        None => None,
        Some(t) if &t.codec == b"mp4a" => Some("aac"),
        Some(t) => {
            return Err(ProbeError::Unsupported {
                what: format!(
                    "audio codec '{}' in MP4; use AAC (mp4a)",
                    String::from_utf8_lossy(&t.codec)
                ),
            })
        }
    };
    let end = tracks.iter().map(|t| t.sample_end).max().unwrap_or(0);
    if end > data.len() as u64 {
        return Err(truncated(format!(
            "samples reach byte {end} but the file has {} bytes",
            data.len()
        )));
    }
    if duration_ms == 0 {
        duration_ms = tracks.iter().map(|t| t.duration_ms).max().unwrap_or(0);
    }
    if duration_ms == 0 {
        return Err(ProbeError::ZeroDuration);
    }
    if video.width == 0 || video.height == 0 {
        return Err(corrupt("the video track has no picture size"));
    }
    Ok(MediaInfo {
        container: Container::Mp4,
        duration_ms,
        width: video.width,
        height: video.height,
        video_codec,
        audio_codec,
    })
}

#[cfg(test)]
mod tests {
    use crate::synth::{clip_mp4, ClipSpec};
    use crate::{probe, ProbeError};
    use proptest::prelude::*;

    fn sample() -> Vec<u8> {
        clip_mp4(&ClipSpec {
            seconds: 3.0,
            seed: 7,
            ..ClipSpec::default()
        })
    }

    #[test]
    fn synthesised_clip_probes_back() {
        let info = probe(&sample()).expect("valid clip");
        assert_eq!(info.duration_ms, 3000);
        assert_eq!(
            (info.width, info.height, info.video_codec),
            (144, 256, "h264")
        );
        assert_eq!(info.audio_codec, None);
    }

    #[test]
    fn every_truncation_is_refused() {
        let full = sample();
        for cut in [1, 7, 8, 40, full.len() / 3, full.len() / 2, full.len() - 1] {
            let r = probe(&full[..cut]);
            assert!(
                matches!(r, Err(ProbeError::Truncated { .. })),
                "cut at {cut}: {r:?}"
            );
        }
    }

    #[test]
    fn non_video_is_unsupported() {
        assert!(matches!(
            probe(b"hello world, this is text"),
            Err(ProbeError::Unsupported { .. })
        ));
        assert!(matches!(
            probe(&crate::png::encode(2, 2, &[0; 12])),
            Err(ProbeError::Unsupported { .. })
        ));
    }

    proptest! {
        #[test]
        fn corrupted_bytes_never_panic(pos in 0usize..4000, val in any::<u8>()) {
            let mut d = sample();
            let p = pos % d.len();
            d[p] = val;
            let _ = probe(&d);
        }
    }
}
