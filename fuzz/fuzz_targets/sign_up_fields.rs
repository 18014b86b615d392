//! libFuzzer entry for the `sign_up_fields` target of `crates/foryou-fuzz`.
//! Run: `cargo +nightly fuzz run sign_up_fields crates/foryou-fuzz/corpus/sign_up_fields` from the repository root.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(t) = foryou_fuzz::target("sign_up_fields") {
        (t.run)(data);
    }
});
