//! Foryou's transparency log, with no HTTP in it.
//!
//! - [`tree`]: RFC 6962 / 9162 hashing (leaf `SHA-256(0x00‖entry)`, node
//!   `SHA-256(0x01‖left‖right)`), the root of a list of leaves, inclusion and consistency proofs
//!   (the proof arithmetic is `tlog_tiles`, a port of Go's `sumdb/tlog`);
//! - [`paths`] and [`bundle`]: the C2SP tlog-tiles layout (`tile/<L>/<N>[.p/<W>]`,
//!   `tile/entries/<N>[.p/<W>]`, entries as big-endian uint16 length-prefixed bundles);
//! - [`note`]: C2SP tlog-checkpoint bodies in C2SP signed notes (Ed25519, through `signed_note`),
//!   and C2SP tlog-cosignature/v1 cosignatures;
//! - [`log`]: [`log::TileLog`], a log kept as a directory in exactly the tlog-tiles layout, so any
//!   static file host or bucket can serve a copy; appends are batched and durable before they
//!   are acknowledged;
//! - [`witness`]: the C2SP tlog-witness decision (cosign only an extension of what was seen);
//! - [`audit`]: what an outside auditor checks: signature, consistency with what it saw last,
//!   the whole tree recomputed from the entry bundles, the served tiles;
//! - [`entry`]: the typed entries Foryou logs, with their documented schema.

pub mod audit;
pub mod bundle;
pub mod entry;
pub mod log;
pub mod note;
pub mod paths;
pub mod tree;
pub mod witness;

pub use tlog_tiles::{Checkpoint, Hash};

/// Hashes per full tile (tiles have height 8).
pub const TILE_WIDTH: u64 = 256;
/// The tile height, in tree levels.
pub const TILE_HEIGHT: u8 = 8;
