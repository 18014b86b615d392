//! The embedded event log: one redb file per region (`DIR/events.redb`), every append fsynced
//! before it returns. After a failed commit the log refuses further appends. It keeps sealed
//! records (tag and body); records written before sealing existed are plain JSON, and are read
//! back as such (see [`crate::SealedLog`]).

use crate::log::{EventLog, Logged, Sealed};
use crate::StoreError;
use foryou_types::Region;
use redb::{Database, ReadableTable, TableDefinition};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

pub(crate) const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events");
/// The deduplication table of older versions, keyed by (user, event id) in clear.
pub(crate) const EVENT_IDS: TableDefinition<(u64, &str), u64> = TableDefinition::new("event_ids");
/// Tag → position, for recognising a resent record.
const EVENT_TAGS: TableDefinition<&[u8], u64> = TableDefinition::new("event_tags");
/// First byte of a stored sealed record (a plain JSON record of an older version starts `{`).
const SEALED_ROW: u8 = 0xA5;

/// File name of the log inside a region's directory.
pub(crate) const LOG_FILE: &str = "events.redb";

/// A region's event log in `DIR/events.redb`.
pub struct EmbeddedLog {
    region: Region,
    path: std::path::PathBuf,
    cache_bytes: usize,
    /// Replaced whole by [`EventLog::rewrite`]; transactions begin under a read guard.
    db: std::sync::RwLock<Database>,
    failed: AtomicBool,
}

impl EmbeddedLog {
    /// Opens or creates the log of `region` in directory `dir`. A directory written by an older
    /// version, whose log lived inside `store.redb`, has it copied into `events.redb` first (the
    /// store drops its old copy when it next opens); open the log before the store.
    pub fn open(region: Region, dir: &Path, cache_bytes: usize) -> Result<Self, StoreError> {
        let backend = |e: &dyn std::fmt::Display| StoreError::Backend {
            region: region.clone(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| backend(&e))?;
        let path = dir.join(LOG_FILE);
        let legacy = dir.join(crate::embedded::STORE_FILE);
        if !path.exists() && legacy.exists() {
            migrate(&legacy, &path).map_err(|e| backend(&e))?;
        }
        let db = Database::builder()
            .set_cache_size(cache_bytes)
            .create(&path)
            .map_err(|e| backend(&e))?;
        let tx = db.begin_write().map_err(|e| backend(&e))?;
        tx.open_table(EVENTS).map_err(|e| backend(&e))?;
        tx.open_table(EVENT_TAGS).map_err(|e| backend(&e))?;
        // The older deduplication table named people in clear; a resend of a record from
        // before the upgrade is no longer recognised, a small price for not keeping it.
        tx.delete_table(EVENT_IDS).map_err(|e| backend(&e))?;
        tx.commit().map_err(|e| backend(&e))?;
        Ok(EmbeddedLog {
            region,
            path,
            cache_bytes,
            db: std::sync::RwLock::new(db),
            failed: AtomicBool::new(false),
        })
    }

    fn err(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Backend {
            region: self.region.clone(),
            message: e.to_string(),
        }
    }
}

/// Copies the log tables of an older `store.redb` into a new log file, atomically: the copy is
/// written under a temporary name, fsynced and renamed into place.
fn migrate(legacy: &Path, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let old = Database::create(legacy)?;
    let read = old.begin_read()?;
    let tmp = path.with_extension("redb.tmp");
    let _ = std::fs::remove_file(&tmp);
    {
        let new = Database::create(&tmp)?;
        let tx = new.begin_write()?;
        {
            let mut events = tx.open_table(EVENTS)?;
            let mut ids = tx.open_table(EVENT_IDS)?;
            // A store that never had a log has no such tables: nothing to copy.
            if let Ok(t) = read.open_table(EVENTS) {
                for row in t.iter()? {
                    let (k, v) = row?;
                    events.insert(k.value(), v.value())?;
                }
            }
            if let Ok(t) = read.open_table(EVENT_IDS) {
                for row in t.iter()? {
                    let (k, v) = row?;
                    ids.insert(k.value(), v.value())?;
                }
            }
        }
        tx.commit()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// A stored row as the record it holds: sealed, or plain JSON from before sealing.
fn decode(seq: u64, v: &[u8]) -> Result<Sealed, StoreError> {
    match v.split_first() {
        Some((&SEALED_ROW, rest)) if rest.len() >= 32 => {
            let (tag, body) = rest.split_at(32);
            Ok(Sealed {
                seq,
                tag: tag.try_into().unwrap_or([0; 32]),
                body: body.to_vec(),
            })
        }
        Some((b'{', _)) => Ok(Sealed {
            seq,
            tag: [0; 32],
            body: v.to_vec(),
        }),
        _ => Err(StoreError::Corrupt {
            table: "events",
            message: format!("record {seq} has no known format"),
        }),
    }
}

impl EventLog for EmbeddedLog {
    fn region(&self) -> &Region {
        &self.region
    }

    fn append(&self, batch: &[Sealed]) -> Result<Vec<Logged>, StoreError> {
        if self.failed.load(Ordering::SeqCst) {
            return Err(self.err("an earlier append failed; restart after checking the disk"));
        }
        let tx = self
            .db
            .read()
            .map_err(|e| self.err(e))?
            .begin_write()
            .map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(batch.len());
        {
            let mut events = tx.open_table(EVENTS).map_err(|e| self.err(e))?;
            let mut tags = tx.open_table(EVENT_TAGS).map_err(|e| self.err(e))?;
            let mut seq = events
                .last()
                .map_err(|e| self.err(e))?
                .map(|(k, _)| k.value())
                .unwrap_or(0);
            for r in batch {
                if let Some(prev) = tags.get(r.tag.as_slice()).map_err(|e| self.err(e))? {
                    out.push(Logged {
                        seq: prev.value(),
                        duplicate: true,
                    });
                    continue;
                }
                seq += 1;
                let mut row = Vec::with_capacity(1 + 32 + r.body.len());
                row.push(SEALED_ROW);
                row.extend_from_slice(&r.tag);
                row.extend_from_slice(&r.body);
                events
                    .insert(seq, row.as_slice())
                    .map_err(|e| self.err(e))?;
                tags.insert(r.tag.as_slice(), seq)
                    .map_err(|e| self.err(e))?;
                out.push(Logged {
                    seq,
                    duplicate: false,
                });
            }
        }
        tx.commit().map_err(|e| {
            self.failed.store(true, Ordering::SeqCst);
            self.err(e)
        })?;
        Ok(out)
    }

    fn read(&self, from: u64, max: usize) -> Result<Vec<Sealed>, StoreError> {
        let tx = self
            .db
            .read()
            .map_err(|e| self.err(e))?
            .begin_read()
            .map_err(|e| self.err(e))?;
        let t = tx.open_table(EVENTS).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in t.range(from..).map_err(|e| self.err(e))?.take(max) {
            let (k, v) = row.map_err(|e| self.err(e))?;
            out.push(decode(k.value(), v.value())?);
        }
        Ok(out)
    }

    fn rewrite(
        &self,
        f: &mut dyn FnMut(&Sealed) -> Result<Sealed, StoreError>,
    ) -> Result<(), StoreError> {
        let mut db = self.db.write().map_err(|e| self.err(e))?;
        let tmp = self.path.with_extension("redb.tmp");
        let _ = std::fs::remove_file(&tmp);
        {
            // Inside a write transaction of the old file: no append is in flight or can start.
            let from = db.begin_write().map_err(|e| self.err(e))?;
            let new = Database::builder()
                .set_cache_size(self.cache_bytes)
                .create(&tmp)
                .map_err(|e| self.err(e))?;
            let to = new.begin_write().map_err(|e| self.err(e))?;
            {
                let src = from.open_table(EVENTS).map_err(|e| self.err(e))?;
                let mut events = to.open_table(EVENTS).map_err(|e| self.err(e))?;
                let mut tags = to.open_table(EVENT_TAGS).map_err(|e| self.err(e))?;
                for row in src.iter().map_err(|e| self.err(e))? {
                    let (k, v) = row.map_err(|e| self.err(e))?;
                    let old = decode(k.value(), v.value())?;
                    let new = f(&old)?;
                    let mut row = Vec::with_capacity(1 + 32 + new.body.len());
                    row.push(SEALED_ROW);
                    row.extend_from_slice(&new.tag);
                    row.extend_from_slice(&new.body);
                    events
                        .insert(k.value(), row.as_slice())
                        .map_err(|e| self.err(e))?;
                    tags.insert(new.tag.as_slice(), k.value())
                        .map_err(|e| self.err(e))?;
                }
            }
            to.commit().map_err(|e| self.err(e))?;
            from.abort().map_err(|e| self.err(e))?;
        }
        std::fs::rename(&tmp, &self.path).map_err(|e| self.err(e))?;
        if let Some(dir) = self.path.parent() {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| self.err(e))?;
        }
        match Database::builder()
            .set_cache_size(self.cache_bytes)
            .create(&self.path)
        {
            Ok(new) => {
                *db = new;
                Ok(())
            }
            Err(e) => {
                self.failed.store(true, Ordering::SeqCst);
                Err(self.err(e))
            }
        }
    }

    fn last_seq(&self) -> Result<u64, StoreError> {
        let tx = self
            .db
            .read()
            .map_err(|e| self.err(e))?
            .begin_read()
            .map_err(|e| self.err(e))?;
        let t = tx.open_table(EVENTS).map_err(|e| self.err(e))?;
        let last = t
            .last()
            .map_err(|e| self.err(e))?
            .map(|(k, _)| k.value())
            .unwrap_or(0);
        Ok(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::enc;
    use crate::{EmbeddedKeys, EmbeddedStore, RegionStore, SealedLog};
    use foryou_types::{EventKind, EventRecord, UserId, VideoId};

    fn view(region: &Region, seq: u64, video: u64) -> EventRecord {
        EventRecord {
            seq,
            video: Some(VideoId(video)),
            watch_ms: Some(1000),
            ..EventRecord::new(
                format!("v{seq}"),
                UserId(1),
                region.clone(),
                EventKind::View,
                1,
            )
        }
    }

    /// A directory of the older layout (the log inside `store.redb`, no counts) opens with the
    /// log moved to its own file, its positions kept and its plain records sealed, the counts
    /// tallied once and the store's old copy dropped, as is the old deduplication table that
    /// named people in clear.
    #[test]
    fn an_older_store_with_the_log_inside_is_migrated() {
        let dir = std::env::temp_dir().join(format!("foryou-legacy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let eu = Region::new("eu").expect("region");
        {
            let db = Database::create(dir.join(crate::embedded::STORE_FILE)).expect("db");
            let tx = db.begin_write().expect("tx");
            {
                let mut events = tx.open_table(EVENTS).expect("events");
                let mut ids = tx.open_table(EVENT_IDS).expect("ids");
                for (seq, video) in [(1, 7), (2, 7), (3, 8)] {
                    let r = view(&eu, seq, video);
                    events.insert(seq, enc(&r).as_slice()).expect("insert");
                    ids.insert((1, r.id.as_str()), seq).expect("insert");
                }
            }
            tx.commit().expect("commit");
        }
        let log = SealedLog::open(
            Box::new(EmbeddedLog::open(eu.clone(), &dir, 1 << 20).expect("log")),
            Box::new(EmbeddedKeys::open(eu.clone(), &dir).expect("keys")),
        )
        .expect("sealed log");
        let store = EmbeddedStore::open(eu.clone(), &dir, 1 << 20).expect("store");
        assert_eq!(log.last_seq().expect("last"), 3);
        assert_eq!(store.applied_seq().expect("applied"), 3);
        let old = log.read(1, 10).expect("read");
        assert_eq!(old.len(), 3);
        assert_eq!((old[2].seq, old[2].video), (3, Some(VideoId(8))));
        // The records written in clear were sealed, and a resend is recognised again.
        let bytes = std::fs::read(dir.join(LOG_FILE)).expect("file");
        assert!(
            !bytes.windows(6).any(|w| w == b"\"view\""),
            "a record is still in clear"
        );
        let resent = EventRecord {
            seq: 0,
            ..view(&eu, 1, 7)
        };
        let again = log.append(&[resent]).expect("append");
        assert_eq!(
            again[0],
            Logged {
                seq: 1,
                duplicate: true
            }
        );
        let next = log
            .append(&[EventRecord {
                seq: 0,
                id: "new".into(),
                ..view(&eu, 1, 9)
            }])
            .expect("append");
        assert_eq!(
            next[0],
            Logged {
                seq: 4,
                duplicate: false
            }
        );
        let mut counts = store.view_share_counts().expect("counts");
        counts.sort();
        assert_eq!(counts, vec![(VideoId(7), 2, 0), (VideoId(8), 1, 0)]);
        drop((log, store));
        let db = Database::create(dir.join(crate::embedded::STORE_FILE)).expect("db");
        let tx = db.begin_read().expect("tx");
        assert!(
            tx.open_table(EVENTS).is_err(),
            "the store's old copy of the log is dropped"
        );
        drop((tx, db));
        let db = Database::create(dir.join(LOG_FILE)).expect("db");
        let tx = db.begin_read().expect("tx");
        assert!(tx.open_table(EVENT_IDS).is_err(), "old id table dropped");
        drop((tx, db));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Opening the store alone over an older layout refuses, rather than forgetting the log.
    #[test]
    fn an_older_store_refuses_to_open_before_its_log_is_moved() {
        let dir = std::env::temp_dir().join(format!("foryou-legacy2-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let eu = Region::new("eu").expect("region");
        {
            let db = Database::create(dir.join(crate::embedded::STORE_FILE)).expect("db");
            let tx = db.begin_write().expect("tx");
            {
                let mut events = tx.open_table(EVENTS).expect("events");
                events
                    .insert(1, enc(&view(&eu, 1, 7)).as_slice())
                    .expect("insert");
            }
            tx.commit().expect("commit");
        }
        assert!(EmbeddedStore::open(eu.clone(), &dir, 1 << 20).is_err());
        assert!(EmbeddedLog::open(eu.clone(), &dir, 1 << 20).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
