//! The containers attackers sent to `main`, rebuilt byte for byte in shape: each must come back
//! as an error, quickly, without a panic or a stack overflow.

use foryou_media::samples::{mp4_box_size_all_ones, mp4_claiming, nested_webm, tiny_webm};
use foryou_media::{probe, ProbeError};

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
    let data = mp4_box_size_all_ones();
    assert_eq!(data.len(), 148);
    let r = probe(&data);
    assert!(matches!(r, Err(ProbeError::Truncated { .. })), "{r:?}");
}

#[test]
fn deeply_nested_unknown_size_webm_elements_are_refused() {
    let data = nested_webm(12_000);
    assert!(data.len() < 64 * 1024);
    let r = probe(&data);
    assert!(matches!(r, Err(ProbeError::Corrupt { .. })), "{r:?}");
}

#[test]
fn tiny_and_cut_webm_headers_never_panic() {
    let data = tiny_webm();
    assert_eq!(data.len(), 21);
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
