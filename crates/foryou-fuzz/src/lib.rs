//! Fuzz targets for every parser of untrusted input — the MP4 and WebM probes, the event batch,
//! the feed, page and range parsers, cookies and tokens, and the sign-up fields — and a small mutation fuzzer that
//! runs them on stable Rust over the committed corpora (`corpus/<target>/`) for a bounded count or
//! time. The same targets run under libFuzzer through `fuzz/` (`cargo +nightly fuzz run NAME`).
//!
//! A target fails when it panics, or when one input takes longer than [`SLOW`]: every parser
//! must return an answer, quickly, for any bytes.

mod mutate;
mod run;

pub use mutate::Mutator;
pub use run::{run, Finding, Options, Report};

use std::time::Duration;

/// One input taking longer than this is a finding (the parsers are linear in their input).
pub const SLOW: Duration = Duration::from_secs(1);

/// A fuzz target: a name and a function over arbitrary bytes.
#[derive(Clone, Copy)]
pub struct Target {
    /// The target's name, also its corpus directory.
    pub name: &'static str,
    /// Runs one input; must neither panic nor hang.
    pub run: fn(&[u8]),
}

fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// Every target.
pub const TARGETS: &[Target] = &[
    Target {
        name: "probe",
        run: |d| {
            let _ = foryou_media::probe(d);
        },
    },
    Target {
        name: "event_batch",
        run: |d| {
            let _ = foryou_server::query::event_batch(d);
        },
    },
    Target {
        name: "feed_query",
        run: |d| {
            let _ = foryou_server::query::feed_query(&text(d));
        },
    },
    Target {
        name: "page_query",
        run: |d| {
            let _ = foryou_server::query::page_query(&text(d), 20);
        },
    },
    Target {
        name: "byte_range",
        run: |d| {
            // The first 8 bytes are the file size, the rest the header.
            let (size, header) = d.split_at(d.len().min(8));
            let mut s = [0u8; 8];
            s[..size.len()].copy_from_slice(size);
            let size = u64::from_le_bytes(s);
            if let Ok(Some((a, b))) = foryou_server::query::byte_range(Some(&text(header)), size) {
                assert!(
                    a <= b && b < size,
                    "range {a}-{b} outside a file of {size} bytes"
                );
            }
        },
    },
    Target {
        name: "credentials",
        run: |d| {
            let t = text(d);
            if let Some(v) = foryou_server::query::cookie_value(&t, "fy_session") {
                let _ = foryou_server::query::token_region(v);
            }
            let _ = foryou_server::query::token_region(&t);
        },
    },
    Target {
        name: "sign_up_fields",
        run: |d| {
            let t = text(d);
            let _ = foryou_types::validate_handle(&t);
            let _ = foryou_types::validate_password(&t);
            let _ = foryou_types::parse_date(&t);
            let _ = foryou_types::RegionMap::default().home_of(&t);
            let _ = foryou_types::RegionMap::parse(&t);
        },
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().copied().find(|t| t.name == name)
}
