//! The deployment's public feed on JetStream: one stream, `FORYOU_PUBLIC`, over subjects
//! `foryou.public.<region>.<subject>` (the publishing region and the person the message is
//! about, 0 for none), and `….<subject>.k` for messages no restatement replaces. A restatement
//! is a JetStream roll-up of its subject. Unlike a region's log the stream may be purged, by
//! subject: erasing a person purges `foryou.public.*.<id>` and `foryou.public.*.<id>.k`, so no
//! message about them stays in it.

use crate::{api_error, NatsLog};
use foryou_store::{PublicFeed, Publish, StoreError};
use foryou_types::Region;

/// The stream's name.
pub const STREAM: &str = "FORYOU_PUBLIC";

/// The public feed in a JetStream stream.
pub struct NatsFeed {
    log: NatsLog,
}

impl NatsFeed {
    /// Connects to the server at `url` (the same URL form as a region's `events`) and opens
    /// (creating) the stream.
    pub fn open(url: &str) -> Result<NatsFeed, StoreError> {
        // The name errors carry: the feed is no region's.
        let name = Region::new("public").expect("a valid region name");
        Ok(NatsFeed {
            log: NatsLog::open_stream(name, url, STREAM.into(), "foryou.public.>".into(), true)?,
        })
    }
}

impl PublicFeed for NatsFeed {
    fn publish(
        &self,
        region: &Region,
        subject: u64,
        body: &[u8],
        mode: Publish,
    ) -> Result<(), StoreError> {
        let lane = if mode == Publish::Keep { ".k" } else { "" };
        let to = format!("foryou.public.{}.{subject}{lane}", region.as_str());
        let mut headers = vec![("Nats-Expected-Stream", STREAM)];
        if mode == Publish::Restate {
            // JetStream's roll-up: the stream keeps this message and drops the subject's others.
            headers.push(("Nats-Rollup", "sub"));
        }
        let m = self.log.with(|c| c.request(&to, &headers, body))?;
        let ack: serde_json::Value = serde_json::from_slice(&m.payload)
            .map_err(|e| self.log.err(format!("publish ack: {e}")))?;
        match api_error(&ack) {
            None => Ok(()),
            Some((_, code, d)) => Err(self.log.err(format!("publish refused ({code}): {d}"))),
        }
    }

    fn read(&self, from: u64, max: usize) -> Result<Vec<(u64, Region, Vec<u8>)>, StoreError> {
        self.log.read_raw(from, max, &mut |m| {
            let seq = m
                .header("Nats-Sequence")
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| self.log.err("a stored message without Nats-Sequence"))?;
            let region = m
                .header("Nats-Subject")
                .and_then(|s| s.split('.').nth(2))
                .and_then(|r| Region::new(r).ok())
                .ok_or_else(|| {
                    self.log
                        .err(format!("message {seq}: no region in its subject"))
                })?;
            Ok((seq, region, m.payload.clone()))
        })
    }

    fn forget(&self, subject: u64) -> Result<(), StoreError> {
        for filter in [
            format!("foryou.public.*.{subject}"),
            format!("foryou.public.*.{subject}.k"),
        ] {
            let r = self.log.api(
                &format!("$JS.API.STREAM.PURGE.{STREAM}"),
                &serde_json::json!({ "filter": filter }),
            )?;
            if let Some((_, code, d)) = api_error(&r) {
                return Err(self.log.err(format!("purge refused ({code}): {d}")));
            }
        }
        Ok(())
    }
}
