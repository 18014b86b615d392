//! libFuzzer entry for the `credentials` target of `crates/foryou-fuzz`.
//! Run: `cargo +nightly fuzz run credentials crates/foryou-fuzz/corpus/credentials` from the repository root.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(t) = foryou_fuzz::target("credentials") {
        (t.run)(data);
    }
});
