//! The event log: a region's source of truth. Every interaction, catalog change and refresh of
//! the region's users is appended here first; the record tables, the counters and the engine are
//! consumers that each know the last position they applied, and catch up from there.

use crate::StoreError;
use foryou_types::{EventRecord, Region};

/// Where an appended event landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Logged {
    /// Its position in the log (the earlier one for a duplicate).
    pub seq: u64,
    /// True when an event with the same `(user, id)` was appended before; nothing was added.
    pub duplicate: bool,
}

/// A region's append-only event log. Implementations make `append` atomic and durable on
/// return, number records 1, 2, 3, … without gaps, and refuse records of another region.
pub trait EventLog: Send + Sync {
    /// The region whose events this log holds.
    fn region(&self) -> &Region;
    /// Appends a batch in order, assigning each new record the next position; a record whose
    /// `(user, id)` is already in the log is reported as a duplicate and not appended again.
    fn append(&self, batch: &[EventRecord]) -> Result<Vec<Logged>, StoreError>;
    /// Up to `max` records with `seq >= from`, in order.
    fn read(&self, from: u64, max: usize) -> Result<Vec<EventRecord>, StoreError>;
    /// The last assigned position (0 when empty).
    fn last_seq(&self) -> Result<u64, StoreError>;
}
