//! libFuzzer entry for the `page_query` target of `crates/foryou-fuzz`.
//! Run: `cargo +nightly fuzz run page_query crates/foryou-fuzz/corpus/page_query` from the repository root.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(t) = foryou_fuzz::target("page_query") {
        (t.run)(data);
    }
});
