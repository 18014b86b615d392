//! The event log: a region's source of truth. Every interaction, catalog change and refresh of
//! the region's users is appended here first; the record tables, the counters and the engine are
//! consumers that each know the last position they applied, and catch up from there.
//!
//! A backend holds opaque sealed records ([`Sealed`]): each is encrypted under its subject's key
//! by [`crate::SealedLog`], so the backend never sees a person's id or words, and erasing a
//! person is destroying their key.

use crate::StoreError;
use foryou_types::Region;

/// Where an appended record landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Logged {
    /// Its position in the log (the earlier one for a duplicate).
    pub seq: u64,
    /// True when a record with the same tag was appended before; nothing was added.
    pub duplicate: bool,
}

/// One record as a log backend keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// Position in the log, from 1, gap-free (0 before it is appended).
    pub seq: u64,
    /// Deduplication tag: a keyed hash of the client's event id under the subject's key, so a
    /// resend is recognised without the log knowing who sent it.
    pub tag: [u8; 32],
    /// The sealed record.
    pub body: Vec<u8>,
}

/// The deployment's public feed: what each region makes public (profiles, videos, comments,
/// likes and follows, counts, private releases), published by the nodes that serve it and read
/// by the nodes of every other region, so that a node serving some regions shows the whole
/// catalog without ever opening another region's backends. Each message is about one subject
/// (a person's id, or 0 for none), so erasing a person removes every message about them.
pub trait PublicFeed: Send + Sync {
    /// Appends one message from `region` about `subject`, durably, as `mode` says.
    fn publish(
        &self,
        region: &Region,
        subject: u64,
        body: &[u8],
        mode: Publish,
    ) -> Result<(), StoreError>;
    /// Up to `max` messages at positions `>= from`, in order: (position, origin region, body).
    /// Positions grow; erased messages leave gaps.
    fn read(&self, from: u64, max: usize) -> Result<Vec<(u64, Region, Vec<u8>)>, StoreError>;
    /// Removes every message about `subject`, from every region.
    fn forget(&self, subject: u64) -> Result<(), StoreError>;
}

/// How a public message relates to the others about its subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Publish {
    /// One more state.
    Append,
    /// The first message of a complete restatement: every earlier `Append` or `Restate`
    /// message from this region about the subject goes.
    Restate,
    /// A message no restatement replaces (one meant for another region's nodes, such as a
    /// report); it goes only when its subject is forgotten.
    Keep,
}

/// A region's append-only log of sealed records. Implementations make `append` atomic and
/// durable on return, and number records 1, 2, 3, … without gaps.
pub trait EventLog: Send + Sync {
    /// The region whose events this log holds.
    fn region(&self) -> &Region;
    /// Appends a batch in order, assigning each new record the next position; a record whose
    /// tag is already in the log is reported as a duplicate and not appended again.
    fn append(&self, batch: &[Sealed]) -> Result<Vec<Logged>, StoreError>;
    /// Up to `max` records with `seq >= from`, in order.
    fn read(&self, from: u64, max: usize) -> Result<Vec<Sealed>, StoreError>;
    /// The last assigned position (0 when empty).
    fn last_seq(&self) -> Result<u64, StoreError>;
    /// Replaces every record with what `f` makes of it, positions kept, leaving no copy of the
    /// old records in the backend's files. Used once per log, to seal the records an older
    /// version wrote in clear.
    fn rewrite(
        &self,
        f: &mut dyn FnMut(&Sealed) -> Result<Sealed, StoreError>,
    ) -> Result<(), StoreError>;
}
