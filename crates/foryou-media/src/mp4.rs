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
        let end = (at as u64).saturating_add(size);
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

fn track(trak: &[u8], file_len: usize) -> Result<Track, ProbeError> {
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
        sample_end: sample_end(stbl, file_len)?,
    })
}

/// The largest byte offset any sample of this table reaches.
///
/// The work is linear in the table bytes actually present: counts are checked against what the
/// boxes hold, the sample-to-chunk runs are walked once alongside the chunks, and samples of a
/// fixed size are summed by multiplication rather than one by one.
fn sample_end(stbl: &[u8], file_len: usize) -> Result<u64, ProbeError> {
    let stsz = match child(stbl, b"stsz")? {
        Some(b) => b,
        None => return Ok(0),
    };
    let fixed = be(stsz, 4, 4).ok_or_else(|| corrupt("short 'stsz'"))?;
    let count = be(stsz, 8, 4).ok_or_else(|| corrupt("short 'stsz'"))?;
    if fixed == 0 && (stsz.len() as u64 - 12) / 4 < count {
        return Err(corrupt("'stsz' lists more samples than it holds"));
    }
    if fixed != 0 && count > file_len as u64 {
        // Every sample takes at least one byte of the file.
        return Err(corrupt(format!(
            "'stsz' declares {count} samples but the file has only {file_len} bytes"
        )));
    }
    let (table, width) = if let Some(stco) = child(stbl, b"stco")? {
        (stco, 4)
    } else if let Some(co64) = child(stbl, b"co64")? {
        (co64, 8)
    } else {
        return Ok(0);
    };
    let n_chunks = be(table, 4, 4).ok_or_else(|| corrupt("short chunk offset table"))?;
    if (table.len().saturating_sub(8) / width) < n_chunks as usize {
        return Err(corrupt(
            "the chunk offset table lists more chunks than it holds",
        ));
    }
    let stsc = need(stbl, b"stsc")?;
    let n_runs = be(stsc, 4, 4).ok_or_else(|| corrupt("short 'stsc'"))?;
    if (stsc.len().saturating_sub(8) / 12) < n_runs as usize {
        return Err(corrupt("'stsc' lists more runs than it holds"));
    }
    // (first chunk, samples per chunk) of run i; both present, checked above.
    let run = |i: usize| {
        (
            be(stsc, 8 + 12 * i, 4).unwrap_or(0),
            be(stsc, 12 + 12 * i, 4).unwrap_or(0),
        )
    };
    let mut next_run = 0usize;
    let mut per = 0u64;
    let mut sample = 0u64;
    let mut end = 0u64;
    for ci in 0..n_chunks as usize {
        if sample >= count {
            break;
        }
        let chunk_no = ci as u64 + 1;
        while next_run < n_runs as usize && run(next_run).0 <= chunk_no {
            per = run(next_run).1;
            next_run += 1;
        }
        let off = be(table, 8 + width * ci, width).unwrap_or(0);
        let n = per.min(count - sample);
        let pos = if fixed != 0 {
            off.saturating_add(fixed.saturating_mul(n))
        } else {
            // `n` entries of the size table, all present (checked against `count`).
            (sample..sample + n).fold(off, |pos, i| {
                pos.saturating_add(be(stsz, 12 + 4 * i as usize, 4).unwrap_or(0))
            })
        };
        sample += n;
        end = end.max(pos);
        if end > file_len as u64 {
            break;
        }
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
        .map(|a| track(a.body, data.len()))
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
        Some(t) if &t.codec == b"fLaC" => Some("flac"),
        Some(t) if &t.codec == b"Opus" => Some("opus"),
        Some(t) => {
            return Err(ProbeError::Unsupported {
                what: format!(
                    "audio codec '{}' in MP4; use AAC (mp4a), Opus or FLAC",
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
    fn a_clip_with_music_probes_back_with_its_sound_and_stays_small() {
        let clip = |seconds: f64| {
            clip_mp4(&ClipSpec {
                seconds,
                seed: 7,
                music: Some(42),
                ..ClipSpec::default()
            })
        };
        let short = clip(15.0);
        let info = probe(&short).expect("valid clip");
        assert_eq!(info.audio_codec, Some("flac"));
        assert_eq!(info.duration_ms, 15_000);
        // A minute repeats the one encoded loop: it costs little more than 15 s.
        let long = clip(60.0);
        assert_eq!(probe(&long).expect("valid clip").duration_ms, 60_000);
        let silent = clip_mp4(&ClipSpec {
            seconds: 60.0,
            seed: 7,
            ..ClipSpec::default()
        });
        let music = crate::music::encoded_loop(42);
        let loop_bytes: usize = music.frames.iter().map(Vec::len).sum();
        assert!(
            long.len() < silent.len() + loop_bytes + 4096,
            "{}",
            long.len()
        );
        for cut in (1..long.len()).step_by(997) {
            assert!(probe(&long[..cut]).is_err(), "cut at {cut} accepted");
        }
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
        fn corrupted_bytes_never_panic(pos in 0usize..4000, val in any::<u8>(), cut in 0usize..100_000) {
            let mut d = sample();
            let p = pos % d.len();
            d[p] = val;
            let _ = probe(&d);
            let c = cut % (d.len() + 1);
            let _ = probe(&d[..c]);
        }
    }
}
