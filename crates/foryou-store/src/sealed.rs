//! The sealed event log: what the platform appends and reads. Each record is encrypted
//! (ChaCha20-Poly1305) under its subject's key, the person who acted, or for a catalog record
//! the creator, and carries only the key's random id and a keyed hash of its event id in clear.
//! Destroying a subject's key ([`SealedLog::forget`]) makes every record about them unreadable
//! wherever it is copied: a read yields [`EventKind::Erased`] at its position instead.

use crate::keys::{KeyStore, SubjectKey};
use crate::log::{EventLog, Logged, Sealed};
use crate::StoreError;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use foryou_types::{EventKind, EventRecord, Region, UserId};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Format byte of a sealed body.
const V1: u8 = 1;
/// Bytes before the ciphertext: format (1), key id (16), nonce (12).
const HEADER: usize = 1 + 16 + 12;

/// A region's event log, sealed record by record under its subjects' keys.
pub struct SealedLog {
    raw: Box<dyn EventLog>,
    keys: Box<dyn KeyStore>,
}

impl SealedLog {
    /// Seals `raw`'s records under the keys in `keys` (both of the same region). Records an
    /// older version wrote in clear are sealed now, the log rewritten so no copy stays in clear.
    pub fn open(raw: Box<dyn EventLog>, keys: Box<dyn KeyStore>) -> Result<SealedLog, StoreError> {
        let log = SealedLog { raw, keys };
        let plain = log
            .raw
            .read(1, 1)?
            .first()
            .is_some_and(|s| s.body.first() == Some(&b'{'));
        if plain {
            let region = log.region().clone();
            let keys = &log.keys;
            log.raw.rewrite(&mut |s: &Sealed| {
                if s.body.first() != Some(&b'{') {
                    return Ok(s.clone());
                }
                let r: EventRecord =
                    serde_json::from_slice(&s.body).map_err(|e| StoreError::Corrupt {
                        table: "events",
                        message: e.to_string(),
                    })?;
                let key = keys.get_or_create(r.user)?;
                Ok(Sealed {
                    seq: s.seq,
                    ..seal(&region, &r, &key)
                })
            })?;
        }
        Ok(log)
    }

    /// The log's region.
    pub fn region(&self) -> &Region {
        self.raw.region()
    }

    /// Appends records in order (see [`EventLog::append`]); the subjects' keys are made durable
    /// first. A resend of a `(user, id)` already in the log is a duplicate.
    pub fn append(&self, batch: &[EventRecord]) -> Result<Vec<Logged>, StoreError> {
        if let Some(r) = batch.iter().find(|r| &r.region != self.region()) {
            return Err(StoreError::WrongRegion {
                store: self.region().clone(),
                got: r.region.clone(),
            });
        }
        // Every key the batch needs, the new ones made durable together.
        let subjects: Vec<UserId> = batch.iter().map(|r| r.user).collect();
        let keys = self.keys.get_or_create_many(&subjects)?;
        let sealed: Vec<Sealed> = batch
            .iter()
            .zip(&keys)
            .map(|(r, key)| seal(self.region(), r, key))
            .collect();
        self.raw.append(&sealed)
    }

    /// Up to `max` records from `from`, in order, opened; a record whose key is destroyed reads
    /// as [`EventKind::Erased`] with nothing but its position and region.
    pub fn read(&self, from: u64, max: usize) -> Result<Vec<EventRecord>, StoreError> {
        let raw = self.raw.read(from, max)?;
        let mut out = Vec::with_capacity(raw.len());
        for s in raw {
            out.push(self.unseal(&s)?);
        }
        Ok(out)
    }

    /// The last assigned position.
    pub fn last_seq(&self) -> Result<u64, StoreError> {
        self.raw.last_seq()
    }

    /// Destroys `subject`'s key: every record sealed under it is unreadable from now on, in this
    /// log and in every copy of it. True when the region held a key for them.
    pub fn forget(&self, subject: UserId) -> Result<bool, StoreError> {
        self.keys.destroy(subject)
    }

    fn unseal(&self, s: &Sealed) -> Result<EventRecord, StoreError> {
        let corrupt = |message: String| StoreError::Corrupt {
            table: "events",
            message,
        };
        match s.body.first() {
            // Written before records were sealed.
            Some(b'{') => {
                let mut r: EventRecord =
                    serde_json::from_slice(&s.body).map_err(|e| corrupt(e.to_string()))?;
                r.seq = s.seq;
                return Ok(r);
            }
            Some(&V1) if s.body.len() > HEADER => {}
            _ => return Err(corrupt(format!("record {} has no known format", s.seq))),
        }
        let id: [u8; 16] = s.body[1..17].try_into().unwrap_or([0; 16]);
        let Some(key) = self.keys.by_id(&id)? else {
            return Ok(erased(self.region(), s.seq));
        };
        let cipher = ChaCha20Poly1305::new(key.secret().into());
        let nonce = Nonce::from_slice(&s.body[17..HEADER]);
        let aad = aad(self.region(), &id);
        let plain = cipher
            .decrypt(
                nonce,
                Payload {
                    msg: &s.body[HEADER..],
                    aad: &aad,
                },
            )
            .map_err(|_| corrupt(format!("record {} fails authentication", s.seq)))?;
        let mut r: EventRecord =
            serde_json::from_slice(&plain).map_err(|e| corrupt(e.to_string()))?;
        if r.user != key.subject {
            return Err(corrupt(format!(
                "record {} is sealed under another subject's key",
                s.seq
            )));
        }
        r.seq = s.seq;
        Ok(r)
    }
}

/// What a record whose key is gone reads as.
fn erased(region: &Region, seq: u64) -> EventRecord {
    EventRecord {
        seq,
        ..EventRecord::new(
            String::new(),
            UserId(0),
            region.clone(),
            EventKind::Erased,
            0,
        )
    }
}

fn aad(region: &Region, key_id: &[u8; 16]) -> Vec<u8> {
    let mut a = Vec::with_capacity(24);
    a.extend_from_slice(region.as_str().as_bytes());
    a.push(0);
    a.extend_from_slice(key_id);
    a
}

/// Seals one record under its subject's key.
fn seal(region: &Region, r: &EventRecord, key: &SubjectKey) -> Sealed {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key.secret()).expect("HMAC takes keys of any length");
    mac.update(b"foryou event id\0");
    mac.update(r.id.as_bytes());
    let tag: [u8; 32] = mac.finalize().into_bytes().into();
    let mut nonce = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut nonce);
    let plain = serde_json::to_vec(&EventRecord {
        seq: 0,
        ..r.clone()
    })
    .unwrap_or_default();
    let cipher = ChaCha20Poly1305::new(key.secret().into());
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: &aad(region, &key.id),
            },
        )
        .expect("ChaCha20-Poly1305 seals any message of this size");
    let mut body = Vec::with_capacity(HEADER + ct.len());
    body.push(V1);
    body.extend_from_slice(&key.id);
    body.extend_from_slice(&nonce);
    body.extend_from_slice(&ct);
    Sealed { seq: 0, tag, body }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EmbeddedKeys, EmbeddedLog};
    use foryou_types::VideoId;

    fn comment(region: &Region, user: u64, id: &str, text: &str) -> EventRecord {
        EventRecord {
            seq: 0,
            id: id.into(),
            user: UserId(user),
            region: region.clone(),
            kind: EventKind::Comment,
            ts_ms: 5,
            video: Some(VideoId(3)),
            text: Some(text.into()),
            ..erased(region, 0)
        }
    }

    #[test]
    fn records_are_sealed_deduplicated_and_shredded_with_their_key() {
        let dir = std::env::temp_dir().join(format!("foryou-sealed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let eu = Region::new("eu").expect("region");
        let open = || {
            SealedLog::open(
                Box::new(EmbeddedLog::open(eu.clone(), &dir, 1 << 20).expect("log")),
                Box::new(EmbeddedKeys::open(eu.clone(), &dir).expect("keys")),
            )
            .expect("sealed log")
        };
        let log = open();
        let a = comment(&eu, 4_503_599_627_370_001, "c1", "zebra-marmalade");
        let b = comment(&eu, 77, "c1", "hello");
        let got = log
            .append(&[a.clone(), b.clone(), a.clone()])
            .expect("append");
        assert_eq!(got.iter().map(|l| l.seq).collect::<Vec<_>>(), [1, 2, 1]);
        assert!(got[2].duplicate, "the same (user, id) is a resend");
        let read = log.read(1, 10).expect("read");
        assert_eq!(read[0].text.as_deref(), Some("zebra-marmalade"));
        assert_eq!(read[1].user, UserId(77));
        drop(log);
        let bytes = std::fs::read(dir.join("events.redb")).expect("file");
        assert!(!bytes.windows(15).any(|w| w == b"zebra-marmalade"));
        let log = open();
        assert!(log.forget(a.user).expect("forget"));
        let read = log.read(1, 10).expect("read");
        assert_eq!(read[0].kind, EventKind::Erased);
        assert_eq!(read[0].seq, 1);
        assert_eq!(read[1].text.as_deref(), Some("hello"));
        drop(log);
        let log = open();
        assert_eq!(log.read(1, 10).expect("read")[0].kind, EventKind::Erased);
        // A wrong region is refused before anything is written.
        let us = Region::new("us").expect("region");
        assert!(log.append(&[comment(&us, 1, "x", "y")]).is_err());
        assert_eq!(log.last_seq().expect("last"), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
