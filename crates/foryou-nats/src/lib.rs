//! A region's event log on NATS JetStream: [`NatsLog`] implements foryou-store's [`EventLog`] on
//! one stream per region (`FORYOU_<REGION>`, subject `foryou.<region>.log`, file storage,
//! replicated when the cluster has several servers). Each sealed record is one message: its
//! body the payload, its deduplication tag the `Nats-Msg-Id`, so a resent event is recognised
//! by the server (within the stream's duplicate window, a day by default) and answered with the
//! original's position. Every append names the position it expects to follow
//! (`Nats-Expected-Last-Sequence`), so two writers cannot interleave and positions stay 1, 2, 3,
//! … without gaps. Reads are batched direct gets. Messages are never deleted or purged (the
//! stream denies both): erasing a person destroys their key, which the records are sealed under.
//!
//! The location is a URL: `nats://[user:password@]host:port[?replicas=3&also=host2:port,host3:port
//! &duplicate_window_s=86400]`; a connection that fails is made again to the next server that
//! answers, in that order.
//!
//! A batch is appended one record at a time: a crash in the middle leaves its first records in
//! the log, unacknowledged; the client's resend of the batch finds them as duplicates and adds
//! the rest, so what is acknowledged is exactly what the client sent.

pub mod client;
mod feed;
#[cfg(feature = "test-server")]
pub mod test_server;

pub use feed::NatsFeed;

use client::{Client, Msg, NatsError};
use foryou_store::{EventLog, Logged, Sealed, StoreError};
use foryou_types::Region;
use std::sync::Mutex;
use std::time::Duration;

/// The most messages one direct get asks for.
const READ_BATCH: usize = 1000;

/// Where a log lives and how it is kept.
#[derive(Clone, Debug, PartialEq)]
pub struct Location {
    /// `host:port` of each server to try, in order (the URL's, then `also`'s).
    pub addrs: Vec<String>,
    /// User and password, when the server wants them.
    pub auth: Option<(String, String)>,
    /// Servers that keep a copy of each message (1, 3 or 5).
    pub replicas: u8,
    /// How long a resent event id is recognised, seconds.
    pub duplicate_window_s: u64,
}

impl Location {
    /// Parses `nats://[user:password@]host:port[?replicas=N&duplicate_window_s=S]`.
    pub fn parse(url: &str) -> Result<Location, String> {
        let u = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        if u.scheme() != "nats" {
            return Err("the scheme must be nats://".into());
        }
        let host = u
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("name the server: nats://host:port")?;
        let mut addrs = vec![format!("{host}:{}", u.port().unwrap_or(4222))];
        let auth = (!u.username().is_empty()).then(|| {
            (
                u.username().to_string(),
                u.password().unwrap_or("").to_string(),
            )
        });
        let (mut replicas, mut duplicate_window_s) = (1u8, 86_400u64);
        for (k, v) in u.query_pairs() {
            match k.as_ref() {
                "replicas" => {
                    replicas = v
                        .parse()
                        .ok()
                        .filter(|r| [1, 3, 5].contains(r))
                        .ok_or("replicas must be 1, 3 or 5")?
                }
                "also" => {
                    for a in v.split(',').map(str::trim).filter(|a| !a.is_empty()) {
                        let ok = a
                            .rsplit_once(':')
                            .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
                        if !ok || addrs.len() >= 16 {
                            return Err("also must list up to 15 more servers as host:port".into());
                        }
                        addrs.push(a.to_string());
                    }
                }
                "duplicate_window_s" => {
                    duplicate_window_s = v
                        .parse()
                        .ok()
                        .filter(|s| (60..=30 * 86_400).contains(s))
                        .ok_or("duplicate_window_s must be 60 to 2592000")?
                }
                other => {
                    return Err(format!(
                        "unknown parameter '{other}' (replicas, duplicate_window_s, also)"
                    ))
                }
            }
        }
        Ok(Location {
            addrs,
            auth,
            replicas,
            duplicate_window_s,
        })
    }
}

/// A region's log in a JetStream stream.
pub struct NatsLog {
    region: Region,
    loc: Location,
    stream: String,
    subject: String,
    /// Whether messages may be purged (the public feed's, by subject); a region's log denies it.
    purgeable: bool,
    conn: Mutex<Option<Client>>,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex32(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        let d = |c: u8| (c as char).to_digit(16);
        *o = (d(b[2 * i])? * 16 + d(b[2 * i + 1])?) as u8;
    }
    Some(out)
}

/// A JetStream API error: (code, err_code, description).
fn api_error(v: &serde_json::Value) -> Option<(u64, u64, String)> {
    let e = v.get("error")?;
    Some((
        e["code"].as_u64().unwrap_or(0),
        e["err_code"].as_u64().unwrap_or(0),
        e["description"].as_str().unwrap_or("").to_string(),
    ))
}

/// JetStream's "wrong last sequence".
const WRONG_LAST_SEQUENCE: u64 = 10071;
/// JetStream's "stream not found".
const STREAM_NOT_FOUND: u64 = 10059;

impl NatsLog {
    /// Connects to the server at `url` and opens (creating) the region's stream.
    pub fn open(region: Region, url: &str) -> Result<NatsLog, StoreError> {
        let upper = region.as_str().to_ascii_uppercase();
        let subject = format!("foryou.{}.log", region.as_str());
        NatsLog::open_stream(region, url, format!("FORYOU_{upper}"), subject, false)
    }

    /// Connects and opens (creating) stream `stream` over `subject` (a filter may end in `>`).
    fn open_stream(
        region: Region,
        url: &str,
        stream: String,
        subject: String,
        purgeable: bool,
    ) -> Result<NatsLog, StoreError> {
        let loc = Location::parse(url).map_err(|m| StoreError::Backend {
            region: region.clone(),
            message: format!("events: {m}"),
        })?;
        let log = NatsLog {
            stream,
            subject,
            purgeable,
            region,
            loc,
            conn: Mutex::new(None),
        };
        log.ensure_stream()?;
        Ok(log)
    }

    /// A connection to the first of the servers that answers.
    fn connect_any(&self, auth: Option<(&str, &str)>) -> Result<Client, NatsError> {
        let mut last = NatsError("nats: no server to connect to".into());
        for a in &self.loc.addrs {
            match Client::connect(a, auth, Duration::from_secs(10)) {
                Ok(c) => return Ok(c),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn err(&self, m: impl std::fmt::Display) -> StoreError {
        StoreError::Backend {
            region: self.region.clone(),
            message: format!("event log: {m}"),
        }
    }

    /// Runs `f` on the connection, connecting first when there is none; a failed connection is
    /// dropped, to be made again by the next call.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, NatsError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let auth = self
                .loc
                .auth
                .as_ref()
                .map(|(u, p)| (u.as_str(), p.as_str()));
            *guard = Some(self.connect_any(auth).map_err(|e| self.err(e))?);
        }
        let c = guard.as_mut().expect("connected above");
        match f(c) {
            Ok(v) => Ok(v),
            Err(e) => {
                *guard = None;
                Err(self.err(e))
            }
        }
    }

    fn api(
        &self,
        subject: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, StoreError> {
        let payload = body.to_string().into_bytes();
        let m = self.with(|c| c.request(subject, &[], &payload))?;
        serde_json::from_slice(&m.payload).map_err(|e| self.err(format!("{subject}: {e}")))
    }

    fn ensure_stream(&self) -> Result<(), StoreError> {
        let info = self.api(
            &format!("$JS.API.STREAM.INFO.{}", self.stream),
            &serde_json::json!({}),
        )?;
        match api_error(&info) {
            None => {
                let subjects = info["config"]["subjects"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if !subjects.iter().any(|s| s == self.subject.as_str()) {
                    return Err(self.err(format!(
                        "stream {} exists but does not take {}",
                        self.stream, self.subject
                    )));
                }
                if info["config"]["allow_direct"] != true {
                    return Err(self.err(format!("stream {} needs allow_direct", self.stream)));
                }
                Ok(())
            }
            Some((_, STREAM_NOT_FOUND, _)) => {
                let config = serde_json::json!({
                    "name": self.stream,
                    "subjects": [self.subject],
                    "retention": "limits",
                    "storage": "file",
                    "num_replicas": self.loc.replicas,
                    "discard": "old",
                    "max_msgs": -1, "max_bytes": -1, "max_age": 0, "max_msg_size": -1,
                    "duplicate_window": self.loc.duplicate_window_s * 1_000_000_000,
                    "allow_direct": true,
                    "deny_delete": !self.purgeable,
                    "deny_purge": !self.purgeable,
                    "allow_rollup_hdrs": self.purgeable,
                });
                let made = self.api(&format!("$JS.API.STREAM.CREATE.{}", self.stream), &config)?;
                match api_error(&made) {
                    None => Ok(()),
                    Some((_, _, d)) => {
                        Err(self.err(format!("creating stream {}: {d}", self.stream)))
                    }
                }
            }
            Some((_, _, d)) => Err(self.err(format!("stream {}: {d}", self.stream))),
        }
    }

    /// Publishes one record expecting `last` before it; the server's answer.
    fn publish(&self, rec: &Sealed, last: u64) -> Result<serde_json::Value, StoreError> {
        let tag = hex(&rec.tag);
        let expect = last.to_string();
        let headers = [
            ("Nats-Msg-Id", tag.as_str()),
            ("Nats-Expected-Stream", self.stream.as_str()),
            ("Nats-Expected-Last-Sequence", expect.as_str()),
        ];
        let m = self.with(|c| c.request(&self.subject, &headers, &rec.body))?;
        serde_json::from_slice(&m.payload).map_err(|e| self.err(format!("publish ack: {e}")))
    }

    /// Up to `max` stored messages at positions `>= from`, in order, each made into a `T` by
    /// `decode` (batched direct gets; positions a purge emptied are skipped).
    fn read_raw<T>(
        &self,
        from: u64,
        max: usize,
        decode: &mut dyn FnMut(&Msg) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        let mut next = from.max(1);
        while out.len() < max {
            let want = (max - out.len()).min(READ_BATCH);
            let body = serde_json::json!({"seq": next, "batch": want})
                .to_string()
                .into_bytes();
            let subject = format!("$JS.API.DIRECT.GET.{}", self.stream);
            let msgs = self.with(|c| {
                c.request_many(&subject, &[], &body, &mut |m: &Msg| m.status.is_some())
            })?;
            let mut got = 0;
            for m in &msgs {
                match m.status {
                    None => {
                        let seq = m
                            .header("Nats-Sequence")
                            .and_then(|s| s.parse::<u64>().ok())
                            .ok_or_else(|| self.err("a stored message without Nats-Sequence"))?;
                        out.push(decode(m)?);
                        next = seq + 1;
                        got += 1;
                    }
                    // End of batch, or nothing at or after `next`.
                    Some(204 | 404) => {}
                    Some(code) => return Err(self.err(format!("direct get: status {code}"))),
                }
            }
            if got == 0 {
                break;
            }
        }
        out.truncate(max);
        Ok(out)
    }

    fn decode(&self, m: &Msg) -> Result<Sealed, StoreError> {
        let seq = m
            .header("Nats-Sequence")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| self.err("a stored message without Nats-Sequence"))?;
        let tag = m
            .header("Nats-Msg-Id")
            .and_then(unhex32)
            .ok_or_else(|| self.err(format!("message {seq} has no record tag")))?;
        Ok(Sealed {
            seq,
            tag,
            body: m.payload.clone(),
        })
    }
}

impl EventLog for NatsLog {
    fn region(&self) -> &Region {
        &self.region
    }

    fn append(&self, batch: &[Sealed]) -> Result<Vec<Logged>, StoreError> {
        let mut last = self.last_seq()?;
        let mut out = Vec::with_capacity(batch.len());
        for rec in batch {
            let mut ack = self.publish(rec, last)?;
            if let Some((_, WRONG_LAST_SEQUENCE, _)) = api_error(&ack) {
                // A duplicate may be checked after the expected position, or another writer
                // appended: look again, once.
                last = self.last_seq()?;
                ack = self.publish(rec, last)?;
            }
            if let Some((_, code, d)) = api_error(&ack) {
                return Err(self.err(format!("append refused ({code}): {d}")));
            }
            let seq = ack["seq"]
                .as_u64()
                .ok_or_else(|| self.err("an ack without seq"))?;
            if ack["duplicate"] == true {
                out.push(Logged {
                    seq,
                    duplicate: true,
                });
                continue;
            }
            if seq != last + 1 {
                return Err(self.err(format!("appended at {seq} after {last}: a gap")));
            }
            last = seq;
            out.push(Logged {
                seq,
                duplicate: false,
            });
        }
        Ok(out)
    }

    fn read(&self, from: u64, max: usize) -> Result<Vec<Sealed>, StoreError> {
        self.read_raw(from, max, &mut |m| self.decode(m))
    }

    fn last_seq(&self) -> Result<u64, StoreError> {
        let info = self.api(
            &format!("$JS.API.STREAM.INFO.{}", self.stream),
            &serde_json::json!({}),
        )?;
        if let Some((_, _, d)) = api_error(&info) {
            return Err(self.err(format!("stream {}: {d}", self.stream)));
        }
        Ok(info["state"]["last_seq"].as_u64().unwrap_or(0))
    }

    fn rewrite(
        &self,
        f: &mut dyn FnMut(&Sealed) -> Result<Sealed, StoreError>,
    ) -> Result<(), StoreError> {
        let mut from = 1;
        loop {
            let batch = self.read(from, READ_BATCH)?;
            let Some(last) = batch.last() else {
                return Ok(());
            };
            from = last.seq + 1;
            for s in &batch {
                if f(s)? != *s {
                    return Err(self.err(
                        "a JetStream log is never rewritten in place: seal the log before moving it to NATS",
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_parsed_and_checked() {
        assert_eq!(
            Location::parse("nats://127.0.0.1:4222").expect("parse"),
            Location {
                addrs: vec!["127.0.0.1:4222".into()],
                auth: None,
                replicas: 1,
                duplicate_window_s: 86_400
            }
        );
        let l = Location::parse("nats://u:p@nats.eu?replicas=3").expect("parse");
        assert_eq!((l.addrs[0].as_str(), l.replicas), ("nats.eu:4222", 3));
        assert_eq!(l.auth, Some(("u".into(), "p".into())));
        for bad in [
            "http://h",
            "nats://h?replicas=2",
            "nats://h?x=1",
            "nats://h?duplicate_window_s=1",
        ] {
            assert!(Location::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(unhex32(&hex(&[7u8; 32])), Some([7u8; 32]));
        assert_eq!(unhex32("zz"), None);
    }
}
