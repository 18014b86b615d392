//! libFuzzer entry for the `probe` target of `crates/foryou-fuzz`.
//! Run: `cargo +nightly fuzz run probe crates/foryou-fuzz/corpus/probe` from the repository root.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(t) = foryou_fuzz::target("probe") {
        (t.run)(data);
    }
});
