//! Known-answer files built in code: the shape a muxer writes, and the hostile files that took
//! `main` down. Tests, the fuzz seeds and benchmarks share them, so an attack is written once.

use crate::webm::{
    CLUSTER, CLUSTER_TIMECODE, CODEC_ID, DOCTYPE, DURATION, EBML, INFO, PIXEL_HEIGHT, PIXEL_WIDTH,
    SEGMENT, SIMPLE_BLOCK, TIMECODE_SCALE, TRACKS, TRACK_ENTRY, TRACK_TYPE, VIDEO,
};

/// One EBML element with an 8-byte size field.
pub fn el(id: u64, body: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = id
        .to_be_bytes()
        .iter()
        .copied()
        .skip_while(|&b| b == 0)
        .collect();
    out.push(0x01);
    out.extend_from_slice(&(body.len() as u64).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

/// A WebM with the structure a muxer writes (no frames of real VP9 needed for probing).
pub fn webm(duration: Option<f64>, codec: &str) -> Vec<u8> {
    let head = el(EBML, &el(DOCTYPE, b"webm"));
    let mut info = el(TIMECODE_SCALE, &[0x0F, 0x42, 0x40]);
    if let Some(d) = duration {
        info.extend(el(DURATION, &d.to_be_bytes()));
    }
    let video = [
        el(PIXEL_WIDTH, &[0x02, 0xD0]),
        el(PIXEL_HEIGHT, &[0x05, 0x00]),
    ]
    .concat();
    let entry = [
        el(TRACK_TYPE, &[1]),
        el(CODEC_ID, codec.as_bytes()),
        el(VIDEO, &video),
    ]
    .concat();
    let audio = [el(TRACK_TYPE, &[2]), el(CODEC_ID, b"A_OPUS")].concat();
    let tracks = el(
        TRACKS,
        &[el(TRACK_ENTRY, &entry), el(TRACK_ENTRY, &audio)].concat(),
    );
    let block = |rel: i16| {
        el(
            SIMPLE_BLOCK,
            &[&[0x81][..], &rel.to_be_bytes(), &[0x80, 1, 2, 3]].concat(),
        )
    };
    let cluster = el(
        CLUSTER,
        &[el(CLUSTER_TIMECODE, &[0x13, 0x88]), block(0), block(2500)].concat(),
    );
    [
        head,
        el(SEGMENT, &[el(INFO, &info), tracks, cluster].concat()),
    ]
    .concat()
}

/// An EBML header (DocType `webm`) and then `depth` Segments of unknown size, each inside the last.
pub fn nested_webm(depth: usize) -> Vec<u8> {
    let mut d = vec![0x1A, 0x45, 0xDF, 0xA3, 0x87, 0x42, 0x82, 0x84];
    d.extend_from_slice(b"webm");
    d.extend_from_slice(&[0x42, 0x87, 0x81, 0x02]);
    for _ in 0..depth {
        d.extend_from_slice(&[0x18, 0x53, 0x80, 0x67, 0xFF]);
    }
    d
}

/// 21 bytes: an EBML header whose last child claims an unknown size past the end.
pub fn tiny_webm() -> Vec<u8> {
    vec![
        0x1A, 0x45, 0xDF, 0xA3, 0x8F, 0x42, 0x82, 0x84, b'w', b'e', b'b', b'm', 0x42, 0x87, 0xFF,
        0x18, 0x53, 0x80, 0x67, 0x01, 0xFF,
    ]
}

/// 148 bytes: an `ftyp` and an `mdat` with a 64-bit size of 2^64 - 1.
pub fn mp4_box_size_all_ones() -> Vec<u8> {
    let mut d = boxed(b"ftyp", b"isom\0\0\0\0");
    d.extend_from_slice(&1u32.to_be_bytes());
    d.extend_from_slice(b"mdat");
    d.extend_from_slice(&u64::MAX.to_be_bytes());
    d.resize(148, 0);
    d
}

/// One ISO-BMFF box.
pub fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

/// A full box (version and flags zero).
pub fn full(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    boxed(kind, &[&[0u8; 4][..], body].concat())
}

/// An MP4 whose tracks each declare `samples` samples of one byte in one chunk.
pub fn mp4_claiming(samples: u32, tracks: usize) -> Vec<u8> {
    let mut mvhd = [0u8; 96];
    mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
    mvhd[16..20].copy_from_slice(&5000u32.to_be_bytes());
    let mut mdhd = [0u8; 24];
    mdhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
    mdhd[16..20].copy_from_slice(&5000u32.to_be_bytes());
    let hdlr = [&[0u8; 8][..], b"vide", &[0u8; 12]].concat();
    let mut avc1 = [0u8; 78];
    avc1[24..26].copy_from_slice(&144u16.to_be_bytes());
    avc1[26..28].copy_from_slice(&256u16.to_be_bytes());
    let stsd = full(
        b"stsd",
        &[&1u32.to_be_bytes()[..], &boxed(b"avc1", &avc1)].concat(),
    );
    let stsz = full(
        b"stsz",
        &[&1u32.to_be_bytes()[..], &samples.to_be_bytes()].concat(),
    );
    let stco = full(
        b"stco",
        &[&1u32.to_be_bytes()[..], &0u32.to_be_bytes()].concat(),
    );
    let stsc = full(
        b"stsc",
        &[
            &1u32.to_be_bytes()[..],
            &1u32.to_be_bytes(),
            &samples.to_be_bytes(),
            &1u32.to_be_bytes(),
        ]
        .concat(),
    );
    let stbl = boxed(b"stbl", &[stsd, stsz, stco, stsc].concat());
    let mdia = boxed(
        b"mdia",
        &[
            boxed(b"mdhd", &mdhd),
            boxed(b"hdlr", &hdlr),
            boxed(b"minf", &stbl),
        ]
        .concat(),
    );
    let trak = boxed(b"trak", &mdia);
    let mut moov_body = full(b"mvhd", &mvhd[4..]);
    for _ in 0..tracks {
        moov_body.extend_from_slice(&trak);
    }
    [boxed(b"ftyp", b"isom\0\0\0\0"), boxed(b"moov", &moov_body)].concat()
}
