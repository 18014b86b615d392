//! Moving an older data directory forward: a store written before the event log had its own
//! file kept the log in its tables, with every effect applied.

use crate::codec::dec;
use crate::embedded::{COUNTED, COUNTS, STORE_FILE};
use crate::embedded_log::{EVENTS, EVENT_IDS, LOG_FILE};
use crate::StoreError;
use foryou_types::{EventKind, EventRecord};
use redb::ReadableTable;
use std::path::Path;

/// The last position of a log kept inside the store by an older version (0 when none), with its
/// view and share counts tallied when the store had none; the old tables are dropped once the
/// log's own file exists.
pub(crate) fn legacy_log(tx: &redb::WriteTransaction, dir: &Path) -> Result<u64, StoreError> {
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt {
        table: "events",
        message: e.to_string(),
    };
    let last = {
        let events = tx.open_table(EVENTS).map_err(|e| corrupt(&e))?;
        let last = events
            .last()
            .map_err(|e| corrupt(&e))?
            .map(|(k, _)| k.value())
            .unwrap_or(0);
        let mut counts = tx.open_table(COUNTS).map_err(|e| corrupt(&e))?;
        if counts.get(COUNTED).map_err(|e| corrupt(&e))?.is_none() {
            let mut tally: std::collections::BTreeMap<u64, (u64, u64)> = Default::default();
            for row in events.iter().map_err(|e| corrupt(&e))? {
                let (_, v) = row.map_err(|e| corrupt(&e))?;
                let rec: EventRecord = dec("events", v.value())?;
                if let Some(video) = rec.video {
                    let t = tally.entry(video.0).or_default();
                    match rec.kind {
                        EventKind::View => t.0 += 1,
                        EventKind::Share => t.1 += 1,
                        _ => {}
                    }
                }
            }
            for (v, c) in tally {
                counts.insert(v, c).map_err(|e| corrupt(&e))?;
            }
            counts.insert(COUNTED, (0, 0)).map_err(|e| corrupt(&e))?;
        }
        last
    };
    if last > 0 && !dir.join(LOG_FILE).exists() {
        return Err(StoreError::Corrupt {
            table: "events",
            message: format!(
                "{} holds an event log from an older version; open the event log first, which moves it to {LOG_FILE}",
                dir.join(STORE_FILE).display()
            ),
        });
    }
    tx.delete_table(EVENTS).map_err(|e| corrupt(&e))?;
    tx.delete_table(EVENT_IDS).map_err(|e| corrupt(&e))?;
    Ok(last)
}
