//! libFuzzer entry for the `event_batch` target of `crates/foryou-fuzz`.
//! Run: `cargo +nightly fuzz run event_batch crates/foryou-fuzz/corpus/event_batch` from the repository root.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(t) = foryou_fuzz::target("event_batch") {
        (t.run)(data);
    }
});
