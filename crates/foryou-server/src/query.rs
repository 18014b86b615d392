//! Parsers of what clients put in URLs and headers: feed and page queries, byte ranges, event
//! batches. Pure functions over untrusted text, each range-checked, so they are fuzzed directly
//! (`crates/foryou-fuzz`).

use crate::error::ApiError;
use crate::platform::FeedKind;
use foryou_types::EventInput;

/// The furthest a paged feed or list may be read: a page past it is refused, not computed.
pub const MAX_CURSOR: usize = 10_000;

/// Most items in one page of a feed.
pub const MAX_FEED_LIMIT: usize = 50;

/// Most items in one page of a list (comments, videos).
pub const MAX_PAGE_LIMIT: usize = 100;

/// The longest query string read; longer ones are refused before any parsing.
pub const MAX_QUERY_BYTES: usize = 2048;

/// A feed request's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedQuery {
    /// Which feed.
    pub kind: FeedKind,
    /// Items in the page.
    pub limit: usize,
    /// Where the page starts (paged feeds).
    pub cursor: usize,
}

/// A list page's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageQuery {
    /// Items in the page.
    pub limit: usize,
    /// Where the page starts.
    pub cursor: usize,
}

/// Splits a raw query string into decoded pairs; refuses oversized strings and repeated keys.
pub fn pairs(raw: &str, allowed: &[&str]) -> Result<Vec<(String, String)>, ApiError> {
    if raw.len() > MAX_QUERY_BYTES {
        return Err(ApiError::bad_request(format!(
            "the query string is {} bytes; send at most {MAX_QUERY_BYTES}",
            raw.len()
        )));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
        if !allowed.contains(&k.as_ref()) {
            return Err(ApiError::bad_request(format!(
                "unknown query parameter '{}'; this route takes {}",
                truncate(&k),
                allowed.join(", ")
            )));
        }
        if out.iter().any(|(x, _)| *x == k) {
            return Err(ApiError::bad_request(format!(
                "the query parameter '{k}' is given twice; send it once"
            )));
        }
        out.push((k.into_owned(), v.into_owned()));
    }
    Ok(out)
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn number(
    pairs: &[(String, String)],
    key: &str,
    min: usize,
    max: usize,
    default: usize,
) -> Result<usize, ApiError> {
    match get(pairs, key) {
        None => Ok(default),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(format!(
                "{key}: '{}' is not a number from {min} to {max}",
                truncate(s)
            ))),
        },
    }
}

/// Parses `mode`, `personalized`, `limit` and `cursor` of `GET /v1/feed`.
pub fn feed_query(raw: &str) -> Result<FeedQuery, ApiError> {
    let p = pairs(raw, &["mode", "personalized", "limit", "cursor"])?;
    let limit = number(&p, "limit", 1, MAX_FEED_LIMIT, 10)?;
    let cursor = number(&p, "cursor", 0, MAX_CURSOR, 0)?;
    let personalised = match get(&p, "personalized") {
        None | Some("true") | Some("1") => true,
        Some("false") | Some("0") => false,
        Some(o) => {
            return Err(ApiError::bad_request(format!(
                "personalized: '{}' is not true or false",
                truncate(o)
            )))
        }
    };
    let kind = match get(&p, "mode") {
        None | Some("foryou") => FeedKind::ForYou { personalised },
        Some("following") => FeedKind::Following,
        Some(o) => {
            return Err(ApiError::bad_request(format!(
                "mode: '{}' is not foryou or following",
                truncate(o)
            )))
        }
    };
    Ok(FeedQuery {
        kind,
        limit,
        cursor,
    })
}

/// Parses `limit` and `cursor` of a list route.
pub fn page_query(raw: &str, default_limit: usize) -> Result<PageQuery, ApiError> {
    let p = pairs(raw, &["limit", "cursor"])?;
    Ok(PageQuery {
        limit: number(&p, "limit", 1, MAX_PAGE_LIMIT, default_limit)?,
        cursor: number(&p, "cursor", 0, usize::MAX, 0)?,
    })
}

/// The largest span served for an open-ended range (`bytes=N-`).
pub const MAX_OPEN_RANGE: u64 = 4 << 20;

/// A `Range` header that no byte of the file satisfies (a 416).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsatisfiable;

/// Parses a single `bytes=` range against `size`: `Ok(None)` for no usable header (serve the
/// whole file), `Err` for 416. The range returned lies inside the file.
pub fn byte_range(h: Option<&str>, size: u64) -> Result<Option<(u64, u64)>, Unsatisfiable> {
    let bad = |_| Unsatisfiable;
    let Some(v) = h else {
        return Ok(None);
    };
    let Some(spec) = v.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    let first = spec.split(',').next().unwrap_or("").trim();
    let (a, b) = first.split_once('-').ok_or(Unsatisfiable)?;
    let (a, b) = (a.trim(), b.trim());
    let (start, end) = if a.is_empty() {
        let n: u64 = b.parse().map_err(bad)?;
        if n == 0 {
            return Err(Unsatisfiable);
        }
        (size.saturating_sub(n), size.saturating_sub(1))
    } else {
        let s: u64 = a.parse().map_err(bad)?;
        let e = if b.is_empty() {
            s.saturating_add(MAX_OPEN_RANGE - 1)
        } else {
            b.parse().map_err(bad)?
        };
        (s, e.min(size.saturating_sub(1)))
    };
    if start >= size || start > end {
        return Err(Unsatisfiable);
    }
    Ok(Some((start, end)))
}

/// The value of cookie `name` in one `Cookie` header (`a=1; b=2`), if there.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// The home region a bearer or session token names, when it has Foryou's shape
/// (`fy_<region>_<64 hex digits>`); anything else is no token at all.
pub fn token_region(token: &str) -> Option<foryou_types::Region> {
    crate::auth::token_region(token)
}

/// The body of `POST /v1/events`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EventBatch {
    #[serde(deserialize_with = "at_most_a_batch")]
    events: Vec<EventInput>,
}

/// Said by the parser when a batch has more than [`MAX_BATCH`] events.
const TOO_MANY: &str = "more events than one batch may hold";

/// Reads at most [`MAX_BATCH`] events and stops there: a long array costs no more than a full
/// batch, whatever the body holds.
fn at_most_a_batch<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<EventInput>, D::Error> {
    struct Batch;
    impl<'de> serde::de::Visitor<'de> for Batch {
        type Value = Vec<EventInput>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "an array of at most {MAX_BATCH} events")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX_BATCH));
            while let Some(e) = seq.next_element::<EventInput>()? {
                if out.len() == MAX_BATCH {
                    return Err(serde::de::Error::custom(TOO_MANY));
                }
                out.push(e);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(Batch)
}

/// Most events in one batch; the parser stops reading past it.
pub const MAX_BATCH: usize = 100;

/// Parses an event batch: at least one, at most [`MAX_BATCH`] events. The items are then checked
/// one by one against the platform (`Platform::record_events`).
pub fn event_batch(body: &[u8]) -> Result<Vec<EventInput>, ApiError> {
    let batch: EventBatch = serde_json::from_slice(body).map_err(|e| {
        if e.to_string().starts_with(TOO_MANY) {
            ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "batch_too_large",
                format!("events: send at most {MAX_BATCH} events in one batch"),
            )
        } else {
            ApiError::bad_request(format!("the event batch is not valid: {e}"))
        }
    })?;
    if batch.events.is_empty() {
        return Err(ApiError::bad_request("events: send at least one event"));
    }
    Ok(batch.events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(h: &str, size: u64) -> Result<Option<(u64, u64)>, Unsatisfiable> {
        byte_range(Some(h), size)
    }

    #[test]
    fn ranges() {
        assert_eq!(range("bytes=0-99", 1000), Ok(Some((0, 99))));
        assert_eq!(range("bytes=900-", 1000), Ok(Some((900, 999))));
        assert_eq!(range("bytes=-100", 1000), Ok(Some((900, 999))));
        assert_eq!(range("bytes=0-5000", 1000), Ok(Some((0, 999))));
        assert_eq!(range("bytes=1000-", 1000), Err(Unsatisfiable));
        assert_eq!(range("bytes=5-1", 1000), Err(Unsatisfiable));
        assert_eq!(range("bytes=-0", 1000), Err(Unsatisfiable));
        assert_eq!(
            range("bytes=18446744073709551615-", 1000),
            Err(Unsatisfiable)
        );
        assert_eq!(range("items=0-1", 1000), Ok(None));
    }

    #[test]
    fn feed_queries_are_range_checked() {
        let q = feed_query("mode=foryou&personalized=false&cursor=20&limit=5").expect("valid");
        assert_eq!(
            q,
            FeedQuery {
                kind: FeedKind::ForYou {
                    personalised: false
                },
                limit: 5,
                cursor: 20
            }
        );
        for bad in [
            "cursor=1000000000000",
            "cursor=-1",
            "limit=0",
            "limit=51",
            "limit=99999999999999999999999",
            "mode=trending",
            "personalized=maybe",
            "cursor=1&cursor=2",
            "colour=red",
        ] {
            let e = feed_query(bad).expect_err(bad);
            assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST, "{bad}");
        }
        assert!(feed_query(&"a".repeat(MAX_QUERY_BYTES + 1)).is_err());
    }

    #[test]
    fn batches_are_bounded() {
        assert!(event_batch(br#"{"events":[]}"#).is_err());
        let one = r#"{"id":"e","kind":"like","video_id":"1"}"#;
        let many = format!("{{\"events\":[{}]}}", vec![one; 101].join(","));
        let e = event_batch(many.as_bytes()).expect_err("101 events");
        assert_eq!(e.status, axum::http::StatusCode::PAYLOAD_TOO_LARGE);
        assert!(event_batch(format!("{{\"events\":[{one}]}}").as_bytes()).is_ok());
    }
}
