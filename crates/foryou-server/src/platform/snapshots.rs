//! Where a region's engine snapshot is kept: a file beside the region's store by default, or an
//! object in a store of its own (S3, when the binary chooses it), so a node that takes a region
//! over starts from the snapshot and learns only the log after it.

use super::{write_atomically, PlatformError, ENGINE_SNAPSHOT};
use foryou_media::ObjectStore;
use std::path::PathBuf;

/// A region's engine snapshot slot.
pub trait SnapshotStore: Send + Sync {
    /// The last snapshot written, if any.
    fn read(&self) -> Result<Option<Vec<u8>>, PlatformError>;
    /// Replaces the snapshot, durably.
    fn write(&self, bytes: &[u8]) -> Result<(), PlatformError>;
    /// Where it is, for the log.
    fn describe(&self) -> String;
}

/// The snapshot as a file (`DIR/regions/<r>/engine.snapshot`), replaced atomically.
pub struct FileSnapshot {
    path: PathBuf,
}

impl FileSnapshot {
    /// The snapshot file of the region whose directory is `dir`.
    pub fn in_dir(dir: &std::path::Path) -> FileSnapshot {
        FileSnapshot {
            path: dir.join(ENGINE_SNAPSHOT),
        }
    }
}

impl SnapshotStore for FileSnapshot {
    fn read(&self) -> Result<Option<Vec<u8>>, PlatformError> {
        match std::fs::read(&self.path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(PlatformError::internal(e)),
        }
    }

    fn write(&self, bytes: &[u8]) -> Result<(), PlatformError> {
        write_atomically(&self.path, bytes).map_err(PlatformError::internal)
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

/// The key the snapshot is kept under in an object store.
pub const SNAPSHOT_KEY: &str = "engine/snapshot";
/// Bytes read from an object store at once.
const CHUNK: u64 = 16 << 20;

/// The snapshot as one object of an object store.
pub struct ObjectSnapshot {
    store: Box<dyn ObjectStore>,
}

impl ObjectSnapshot {
    /// The snapshot kept in `store` under [`SNAPSHOT_KEY`].
    pub fn new(store: Box<dyn ObjectStore>) -> ObjectSnapshot {
        ObjectSnapshot { store }
    }
}

impl SnapshotStore for ObjectSnapshot {
    fn read(&self) -> Result<Option<Vec<u8>>, PlatformError> {
        let Some(size) = self.store.size(SNAPSHOT_KEY)? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(size.min(CHUNK) as usize);
        while (out.len() as u64) < size {
            let part = self
                .store
                .read_range(SNAPSHOT_KEY, out.len() as u64, CHUNK)?;
            if part.is_empty() {
                break;
            }
            out.extend_from_slice(&part);
        }
        Ok(Some(out))
    }

    fn write(&self, bytes: &[u8]) -> Result<(), PlatformError> {
        Ok(self.store.put(SNAPSHOT_KEY, bytes)?)
    }

    fn describe(&self) -> String {
        format!("object {SNAPSHOT_KEY}")
    }
}
