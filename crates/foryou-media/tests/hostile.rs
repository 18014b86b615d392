//! The containers attackers sent to `main`, rebuilt byte for byte in shape: each must come back
//! as an error, quickly, without a panic or a stack overflow.

use foryou_media::{probe, ProbeError};

fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

fn full(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    boxed(kind, &[&[0u8; 4][..], body].concat())
}

/// An MP4 whose tracks each declare `samples` samples of one byte in one chunk.
fn mp4_claiming(samples: u32, tracks: usize) -> Vec<u8> {
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

#[test]
fn billions_of_declared_samples_are_refused_without_walking_them() {
    let data = mp4_claiming(u32::MAX, 4);
    assert!(
        data.len() < 2048,
        "the attack file is small: {}",
        data.len()
    );
    let r = probe(&data);
    assert!(matches!(r, Err(ProbeError::Corrupt { .. })), "{r:?}");
}

#[test]
fn the_same_shape_with_a_plausible_table_probes() {
    // So the refusal above is about the sample count, not about the file's shape.
    let info = probe(&mp4_claiming(100, 4)).expect("a valid file");
    assert_eq!(
        (info.duration_ms, info.width, info.height),
        (5000, 144, 256)
    );
    // Samples running past the end of the file are a truncation.
    let data = mp4_claiming(100, 1);
    let r = probe(&mp4_claiming(data.len() as u32 + 1, 1));
    assert!(r.is_err(), "{r:?}");
}

#[test]
fn a_64_bit_box_size_of_all_ones_is_refused() {
    let mut data = boxed(b"ftyp", b"isom\0\0\0\0");
    data.extend_from_slice(&1u32.to_be_bytes());
    data.extend_from_slice(b"mdat");
    data.extend_from_slice(&u64::MAX.to_be_bytes());
    data.resize(148, 0);
    let r = probe(&data);
    assert!(matches!(r, Err(ProbeError::Truncated { .. })), "{r:?}");
}

#[test]
fn deeply_nested_unknown_size_webm_elements_are_refused() {
    // EBML header (DocType webm), then 12,000 Segments of unknown size, each inside the last.
    let mut data = vec![0x1A, 0x45, 0xDF, 0xA3, 0x87, 0x42, 0x82, 0x84];
    data.extend_from_slice(b"webm");
    data.extend_from_slice(&[0x42, 0x87, 0x81, 0x02]);
    for _ in 0..12_000 {
        data.extend_from_slice(&[0x18, 0x53, 0x80, 0x67, 0xFF]);
    }
    assert!(data.len() < 64 * 1024);
    let r = probe(&data);
    assert!(matches!(r, Err(ProbeError::Corrupt { .. })), "{r:?}");
}

#[test]
fn tiny_and_cut_webm_headers_never_panic() {
    // 21 bytes: an EBML header whose last child claims an unknown size past the end.
    let data = [
        0x1A, 0x45, 0xDF, 0xA3, 0x8F, 0x42, 0x82, 0x84, b'w', b'e', b'b', b'm', 0x42, 0x87, 0xFF,
        0x18, 0x53, 0x80, 0x67, 0x01, 0xFF,
    ];
    for cut in 1..=data.len() {
        let _ = probe(&data[..cut]);
    }
    // Every header byte in every position: errors, never panics.
    for pos in 0..data.len() {
        for v in [0x00u8, 0x01, 0x7F, 0x80, 0xFF] {
            let mut d = data.to_vec();
            d[pos] = v;
            let _ = probe(&d);
        }
    }
}
