//! libFuzzer entry for the `feed_query` target of `crates/foryou-fuzz`.
//! Run: `cargo +nightly fuzz run feed_query crates/foryou-fuzz/corpus/feed_query` from the repository root.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(t) = foryou_fuzz::target("feed_query") {
        (t.run)(data);
    }
});
