//! libFuzzer entry for the `byte_range` target of `crates/foryou-fuzz`.
//! Run: `cargo +nightly fuzz run byte_range crates/foryou-fuzz/corpus/byte_range` from the repository root.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(t) = foryou_fuzz::target("byte_range") {
        (t.run)(data);
    }
});
