//! The MP4 muxer of synthesised clips: one H.264 video track and, optionally, a FLAC audio
//! track whose chunks may all point at one encoded loop (ISO BMFF lets chunks share bytes), so a
//! minute of a sound's music costs the bytes of one loop.

use crate::flac::{FlacStream, BLOCK};
use crate::synth::Elementary;

fn boxed(kind: &[u8; 4], parts: &[&[u8]]) -> Vec<u8> {
    let len = 8 + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&(len as u32).to_be_bytes());
    out.extend_from_slice(kind);
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

fn full(kind: &[u8; 4], version_flags: u32, parts: &[&[u8]]) -> Vec<u8> {
    let vf = version_flags.to_be_bytes();
    let mut all: Vec<&[u8]> = vec![&vf];
    all.extend_from_slice(parts);
    boxed(kind, &all)
}

const MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

fn u32s(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_be_bytes()).collect()
}

/// Music for a clip: one encoded loop, repeated for `frames` FLAC frames in all.
pub struct LoopedAudio<'a> {
    /// The loop.
    pub stream: &'a FlacStream,
    /// Frames the track plays (the loop is repeated, the last repeat cut short).
    pub frames: usize,
}

/// Muxes H.264 samples at a constant frame rate into an MP4 file.
pub fn mux_mp4(es: &Elementary, fps: u32, width: u16, height: u16) -> Vec<u8> {
    mux_mp4_with_audio(es, fps, width, height, None)
}

/// The `trak` of a looped FLAC track whose loop bytes start at `loop_offset`.
fn audio_trak(a: &LoopedAudio<'_>, loop_offset: u32, movie_duration: u32) -> Vec<u8> {
    let rate = a.stream.sample_rate;
    let per_loop = a.stream.frames.len().max(1);
    let total = a.frames as u32;
    let repeats = a.frames.div_ceil(per_loop);
    let tkhd = full(
        b"tkhd",
        3,
        &[
            &u32s(&[0, 0, 2, 0, movie_duration, 0, 0]),
            &[0, 0, 0, 0, 1, 0, 0, 0], // layer, group, volume 1.0, reserved
            &u32s(&MATRIX),
            &u32s(&[0, 0]),
        ],
    );
    let mdhd = full(
        b"mdhd",
        0,
        &[
            &u32s(&[0, 0, rate, total * BLOCK as u32]),
            &[0x55, 0xC4, 0, 0],
        ],
    );
    let hdlr = full(
        b"hdlr",
        0,
        &[&u32s(&[0]), b"soun", &[0; 12], b"Foryou sound\0"],
    );
    let smhd = full(b"smhd", 0, &[&[0; 4]]);
    let dref = full(b"dref", 0, &[&u32s(&[1]), &full(b"url ", 1, &[])]);
    let dinf = boxed(b"dinf", &[&dref]);
    // FLAC in ISO BMFF: an `fLaC` audio sample entry holding a `dfLa` box with STREAMINFO.
    let mut block = vec![0x80, 0, 0, 34];
    block.extend_from_slice(&a.stream.streaminfo);
    let dfla = full(b"dfLa", 0, &[&block]);
    let mut entry = vec![0u8; 6];
    entry.extend_from_slice(&[0, 1]); // data_reference_index
    entry.extend_from_slice(&[0; 8]);
    entry.extend_from_slice(&[0, 1, 0, 16, 0, 0, 0, 0]); // mono, 16 bits
    entry.extend_from_slice(&(rate << 16).to_be_bytes());
    let flac = boxed(b"fLaC", &[&entry, &dfla]);
    let stsd = full(b"stsd", 0, &[&u32s(&[1]), &flac]);
    let stts = full(b"stts", 0, &[&u32s(&[1, total, BLOCK as u32])]);
    let last = a.frames - (repeats - 1) * per_loop;
    let stsc = if last == per_loop || repeats == 1 {
        full(b"stsc", 0, &[&u32s(&[1, 1, last as u32, 1])])
    } else {
        full(
            b"stsc",
            0,
            &[&u32s(&[
                2,
                1,
                per_loop as u32,
                1,
                repeats as u32,
                last as u32,
                1,
            ])],
        )
    };
    let sizes: Vec<u32> = (0..a.frames)
        .map(|k| a.stream.frames[k % per_loop].len() as u32)
        .collect();
    let stsz = full(b"stsz", 0, &[&u32s(&[0, total]), &u32s(&sizes)]);
    let mut offsets = vec![repeats as u32];
    offsets.extend(std::iter::repeat_n(loop_offset, repeats));
    let stco = full(b"stco", 0, &[&u32s(&offsets)]);
    let stbl = boxed(b"stbl", &[&stsd, &stts, &stsc, &stsz, &stco]);
    let minf = boxed(b"minf", &[&smhd, &dinf, &stbl]);
    let mdia = boxed(b"mdia", &[&mdhd, &hdlr, &minf]);
    boxed(b"trak", &[&tkhd, &mdia])
}

/// Muxes H.264 samples and, when given, a looped FLAC track into an MP4 file (`moov` first, so
/// playback can start at once).
pub fn mux_mp4_with_audio(
    es: &Elementary,
    fps: u32,
    width: u16,
    height: u16,
    audio: Option<&LoopedAudio<'_>>,
) -> Vec<u8> {
    let n = es.samples.len() as u32;
    let timescale = fps * 1000;
    let delta = 1000u32;
    let media_duration = n * delta;
    let movie_duration = (u64::from(n) * 1000 / u64::from(fps)) as u32;
    let ftyp = boxed(
        b"ftyp",
        &[b"isom", &512u32.to_be_bytes(), b"isomiso2avc1mp41"],
    );
    let build_moov = |chunk_offset: u32| {
        let mvhd = full(
            b"mvhd",
            0,
            &[
                &u32s(&[0, 0, 1000, movie_duration, 0x0001_0000]),
                &[1, 0, 0, 0],
                &[0; 8],
                &u32s(&MATRIX),
                &[0; 24],
                &u32s(&[if audio.is_some() { 3 } else { 2 }]),
            ],
        );
        let tkhd = full(
            b"tkhd",
            3,
            &[
                &u32s(&[0, 0, 1, 0, movie_duration, 0, 0, 0, 0]),
                &u32s(&MATRIX),
                &u32s(&[u32::from(width) << 16, u32::from(height) << 16]),
            ],
        );
        let mdhd = full(
            b"mdhd",
            0,
            &[
                &u32s(&[0, 0, timescale, media_duration]),
                &[0x55, 0xC4, 0, 0],
            ],
        );
        let hdlr = full(
            b"hdlr",
            0,
            &[&u32s(&[0]), b"vide", &[0; 12], b"Foryou video\0"],
        );
        let vmhd = full(b"vmhd", 1, &[&[0; 8]]);
        let dref = full(b"dref", 0, &[&u32s(&[1]), &full(b"url ", 1, &[])]);
        let dinf = boxed(b"dinf", &[&dref]);
        let mut avcc = vec![1, es.sps[1], es.sps[2], es.sps[3], 0xFF, 0xE1];
        avcc.extend_from_slice(&(es.sps.len() as u16).to_be_bytes());
        avcc.extend_from_slice(&es.sps);
        avcc.push(1);
        avcc.extend_from_slice(&(es.pps.len() as u16).to_be_bytes());
        avcc.extend_from_slice(&es.pps);
        let avcc = boxed(b"avcC", &[&avcc]);
        let mut entry = vec![0u8; 6];
        entry.extend_from_slice(&[0, 1]); // data_reference_index
        entry.extend_from_slice(&[0; 16]);
        entry.extend_from_slice(&width.to_be_bytes());
        entry.extend_from_slice(&height.to_be_bytes());
        entry.extend_from_slice(&u32s(&[0x0048_0000, 0x0048_0000, 0]));
        entry.extend_from_slice(&[0, 1]); // frame_count
        entry.extend_from_slice(&[0; 32]); // compressorname
        entry.extend_from_slice(&[0, 0x18, 0xFF, 0xFF]);
        let avc1 = boxed(b"avc1", &[&entry, &avcc]);
        let stsd = full(b"stsd", 0, &[&u32s(&[1]), &avc1]);
        let stts = full(b"stts", 0, &[&u32s(&[1, n, delta])]);
        let stss = full(b"stss", 0, &[&u32s(&[1, 1])]);
        let stsc = full(b"stsc", 0, &[&u32s(&[1, 1, n, 1])]);
        let sizes: Vec<u32> = es.samples.iter().map(|s| s.len() as u32).collect();
        let stsz = full(b"stsz", 0, &[&u32s(&[0, n]), &u32s(&sizes)]);
        let stco = full(b"stco", 0, &[&u32s(&[1, chunk_offset])]);
        let stbl = boxed(b"stbl", &[&stsd, &stts, &stss, &stsc, &stsz, &stco]);
        let minf = boxed(b"minf", &[&vmhd, &dinf, &stbl]);
        let mdia = boxed(b"mdia", &[&mdhd, &hdlr, &minf]);
        let trak = boxed(b"trak", &[&tkhd, &mdia]);
        let video_len: usize = es.samples.iter().map(Vec::len).sum();
        match audio {
            Some(a) => {
                let sound = audio_trak(a, chunk_offset + video_len as u32, movie_duration);
                boxed(b"moov", &[&mvhd, &trak, &sound])
            }
            None => boxed(b"moov", &[&mvhd, &trak]),
        }
    };
    let moov_len = build_moov(0).len();
    let moov = build_moov((ftyp.len() + moov_len + 8) as u32);
    let mut data: Vec<u8> = es.samples.concat();
    if let Some(a) = audio {
        data.extend(a.stream.frames.iter().flatten());
    }
    let mdat = boxed(b"mdat", &[&data]);
    [ftyp, moov, mdat].concat()
}
