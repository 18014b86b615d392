//! Container probing must return `Ok` or `Err` for any bytes, never panic or hang.
//! Run: `cargo +nightly fuzz run probe` from the repository root.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = foryou_media::probe(data);
});
