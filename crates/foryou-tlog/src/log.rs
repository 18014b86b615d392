//! A transparency log kept as a directory in exactly the C2SP tlog-tiles layout:
//!
//! ```text
//! DIR/checkpoint                 the latest signed checkpoint
//! DIR/tile/<L>/<N>[.p/<W>]       hash tiles
//! DIR/tile/entries/<N>[.p/<W>]   entry bundles
//! DIR/hashes                     every stored hash (Go sumdb's indexing), for proofs
//! ```
//!
//! so a copy of `DIR` (without `hashes`) on any static file host or bucket serves the log.
//!
//! An append writes the new hashes, tiles and bundles, fsyncs them and their directories, and
//! only then replaces `checkpoint` (write, fsync, rename, fsync the directory). The checkpoint is
//! the commit point: after a crash the log reopens at the last checkpoint, and anything written
//! past it (never acknowledged) is overwritten by the next append. [`Sequencer`] batches
//! concurrent appends into one such commit and acknowledges each only after it.

use crate::bundle;
use crate::note::{open_checkpoint, LogSigner, NoteError};
use crate::paths::{TileKind, TilePath};
use crate::tree::{self, Hash, ProofError};
use crate::TILE_WIDTH;
use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// A failure of the log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The disk refused.
    #[error("transparency log I/O: {0}")]
    Io(#[from] std::io::Error),
    /// What is on disk does not add up (a signature, a hash or a bundle does not match).
    #[error("transparency log is corrupt: {0}")]
    Corrupt(String),
    /// An entry is longer than a bundle can hold.
    #[error("log entry of {0} bytes; entries are at most 65535 bytes")]
    TooLong(usize),
    /// The signing key or a note.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The log's writer is gone.
    #[error("the transparency log's writer stopped")]
    Stopped,
}

/// Stored hashes held in memory, read by the proof functions.
struct Mem<'a>(&'a [Hash]);

impl tree::HashReader for Mem<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.0.get(i).copied())
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// The log: its directory, key and state.
pub struct TileLog {
    dir: PathBuf,
    signer: LogSigner,
    /// Every stored hash, by stored-hash index.
    hashes: Vec<Hash>,
    hash_file: File,
    size: u64,
    /// The entries of the current, incomplete level-0 tile.
    pending: Vec<Vec<u8>>,
    checkpoint: Vec<u8>,
}

const CHECKPOINT: &str = "checkpoint";
const HASHES: &str = "hashes";

impl TileLog {
    /// Opens (creating) the log in `dir`, signed by `signer`, and checks that what is on disk
    /// adds up to the last checkpoint.
    pub fn open(dir: &Path, signer: LogSigner) -> Result<TileLog, LogError> {
        std::fs::create_dir_all(dir)?;
        let (size, root) = match std::fs::read(dir.join(CHECKPOINT)) {
            Ok(note) => {
                let o = open_checkpoint(&note, signer.vkey(), &[])?;
                (o.checkpoint.size(), *o.checkpoint.hash())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (0, tree::EMPTY_HASH),
            Err(e) => return Err(e.into()),
        };
        let count = usize::try_from(tlog_tiles::stored_hash_count(size))
            .map_err(|_| LogError::Corrupt("log too large for this machine".into()))?;
        let mut hash_file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(dir.join(HASHES))?;
        let mut bytes = Vec::new();
        hash_file.read_to_end(&mut bytes)?;
        if bytes.len() < count * 32 {
            return Err(LogError::Corrupt(format!(
                "{} holds {} hashes; the checkpoint of size {size} needs {count}",
                dir.join(HASHES).display(),
                bytes.len() / 32
            )));
        }
        // Hashes written by an append that crashed before its checkpoint are dropped.
        bytes.truncate(count * 32);
        hash_file.set_len((count * 32) as u64)?;
        hash_file.sync_all()?;
        let hashes: Vec<Hash> = bytes
            .chunks_exact(32)
            .map(|c| Hash(c.try_into().unwrap_or([0; 32])))
            .collect();
        let got = tlog_tiles::tree_hash(size, &Mem(&hashes))
            .map_err(|e| LogError::Corrupt(e.to_string()))?;
        if got != root {
            return Err(LogError::Corrupt(
                "the stored hashes do not add up to the checkpoint's root".into(),
            ));
        }
        let in_tile = size % TILE_WIDTH;
        let mut pending = Vec::new();
        if in_tile > 0 {
            let path = TilePath {
                kind: TileKind::Entries,
                index: size / TILE_WIDTH,
                width: in_tile as u16,
            };
            let b = std::fs::read(dir.join(path.to_path()))?;
            let entries = bundle::parse(&b).map_err(|e| LogError::Corrupt(e.to_string()))?;
            if entries.len() as u64 != in_tile {
                return Err(LogError::Corrupt(format!(
                    "{} holds {} entries, not {in_tile}",
                    path.to_path(),
                    entries.len()
                )));
            }
            let first = size - in_tile;
            for (i, e) in entries.iter().enumerate() {
                let idx = tlog_tiles::stored_hash_index(0, first + i as u64) as usize;
                if hashes.get(idx) != Some(&tree::leaf_hash(e)) {
                    return Err(LogError::Corrupt(format!(
                        "entry {} does not match its leaf hash",
                        first + i as u64
                    )));
                }
            }
            pending = entries.into_iter().map(<[u8]>::to_vec).collect();
        }
        let mut log = TileLog {
            dir: dir.to_path_buf(),
            signer,
            hashes,
            hash_file,
            size,
            pending,
            checkpoint: Vec::new(),
        };
        log.checkpoint = match std::fs::read(dir.join(CHECKPOINT)) {
            Ok(note) => note,
            Err(_) => {
                let note = log.signer.sign(0, tree::EMPTY_HASH)?;
                write_atomically(&dir.join(CHECKPOINT), &note)?;
                note
            }
        };
        Ok(log)
    }

    /// Entries in the log.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The latest signed checkpoint (the log's own signature only).
    pub fn checkpoint(&self) -> &[u8] {
        &self.checkpoint
    }

    /// The log's verifier key.
    pub fn vkey(&self) -> &str {
        self.signer.vkey()
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        self.signer.origin()
    }

    /// The root of the tree of the first `size` entries.
    pub fn root(&self, size: u64) -> Result<Hash, ProofError> {
        if size > self.size {
            return Err(ProofError::Impossible("the log is not that large"));
        }
        tlog_tiles::tree_hash(size, &Mem(&self.hashes)).map_err(|_| ProofError::Mismatch)
    }

    /// An inclusion proof of entry `index` in the tree of `size`.
    pub fn prove_inclusion(&self, size: u64, index: u64) -> Result<Vec<Hash>, ProofError> {
        if size > self.size {
            return Err(ProofError::Impossible("the log is not that large"));
        }
        tree::prove_inclusion(&Mem(&self.hashes), size, index)
    }

    /// A consistency proof from the tree of `old` to the tree of `new`.
    pub fn prove_consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>, ProofError> {
        if new > self.size {
            return Err(ProofError::Impossible("the log is not that large"));
        }
        tree::prove_consistency(&Mem(&self.hashes), old, new)
    }

    /// Appends entries and commits them under a new checkpoint; returns the index of the first.
    /// Durable when it returns.
    pub fn append(&mut self, entries: &[Vec<u8>]) -> Result<u64, LogError> {
        if let Some(e) = entries.iter().find(|e| e.len() > usize::from(u16::MAX)) {
            return Err(LogError::TooLong(e.len()));
        }
        let old = self.size;
        if entries.is_empty() {
            return Ok(old);
        }
        let mut new_hashes = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let n = old + i as u64;
            let hs = tlog_tiles::stored_hashes(n, e, &Mem(&self.hashes))
                .map_err(|e| LogError::Corrupt(e.to_string()))?;
            for h in &hs {
                new_hashes.extend_from_slice(&h.0);
            }
            self.hashes.extend(hs);
        }
        let new = old + entries.len() as u64;
        let result = self.commit(old, new, entries, &new_hashes);
        if result.is_err() {
            // Nothing of this batch counts: memory goes back to the last checkpoint.
            let keep = tlog_tiles::stored_hash_count(old) as usize;
            self.hashes.truncate(keep);
            let _ = self.hash_file.set_len(keep as u64 * 32);
        }
        result.map(|()| old)
    }

    fn commit(
        &mut self,
        old: u64,
        new: u64,
        entries: &[Vec<u8>],
        new_hashes: &[u8],
    ) -> Result<(), LogError> {
        self.hash_file.write_all(new_hashes)?;
        self.hash_file.sync_data()?;
        let mut dirs = BTreeSet::new();
        let mut completed = Vec::new();
        let tile_start = old - old % TILE_WIDTH;
        let mut current: Vec<&[u8]> = self.pending.iter().map(Vec::as_slice).collect();
        current.extend(entries.iter().map(Vec::as_slice));
        for t in tlog_tiles::Tile::new_tiles(crate::TILE_HEIGHT, old, new) {
            let data = t
                .read_data(&Mem(&self.hashes))
                .map_err(|e| LogError::Corrupt(e.to_string()))?;
            let width = t.width() as u16;
            let hashes = TilePath {
                kind: TileKind::Hashes { level: t.level() },
                index: t.level_index(),
                width,
            };
            dirs.insert(self.write(&hashes, &data)?);
            if width == 256 {
                completed.push(hashes);
            }
            if t.level() == 0 {
                let from = (t.level_index() * TILE_WIDTH - tile_start) as usize;
                let slice = current
                    .get(from..from + usize::from(width))
                    .ok_or_else(|| LogError::Corrupt("entry bundle out of range".into()))?;
                let b = bundle::encode(slice).map_err(|e| LogError::Corrupt(e.to_string()))?;
                let path = TilePath {
                    kind: TileKind::Entries,
                    ..hashes
                };
                dirs.insert(self.write(&path, &b)?);
                if width == 256 {
                    completed.push(path);
                }
            }
        }
        for d in &dirs {
            File::open(d)?.sync_all()?;
        }
        let root = tlog_tiles::tree_hash(new, &Mem(&self.hashes))
            .map_err(|e| LogError::Corrupt(e.to_string()))?;
        let note = self.signer.sign(new, root)?;
        write_atomically(&self.dir.join(CHECKPOINT), &note)?;
        self.checkpoint = note;
        self.size = new;
        let keep_from = (new - new % TILE_WIDTH - tile_start) as usize;
        self.pending = current[keep_from..].iter().map(|e| e.to_vec()).collect();
        // Partial tiles of a tile that is now full are no longer needed (tlog-tiles allows
        // deleting them); the server still answers for them from the full tile.
        for full in completed {
            let partials = self.dir.join(format!("{}.p", full.to_path()));
            let _ = std::fs::remove_dir_all(partials);
        }
        Ok(())
    }

    /// Writes one tile file; returns its directory (to fsync).
    fn write(&self, path: &TilePath, bytes: &[u8]) -> Result<PathBuf, LogError> {
        let file = self.dir.join(path.to_path());
        let dir = file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.dir.clone());
        std::fs::create_dir_all(&dir)?;
        let tmp = file.with_extension("tmp");
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &file)?;
        Ok(dir)
    }

    /// Entries `from..` (at most `max` of them), read back from their bundles.
    pub fn entries(&self, from: u64, max: usize) -> Result<Vec<Vec<u8>>, LogError> {
        let end = self.size.min(from.saturating_add(max as u64));
        let mut out = Vec::new();
        let mut n = from / TILE_WIDTH;
        while n * TILE_WIDTH < end {
            let width = (self.size - n * TILE_WIDTH).min(TILE_WIDTH) as u16;
            let path = TilePath {
                kind: TileKind::Entries,
                index: n,
                width,
            };
            let b = self
                .tile(&path)?
                .ok_or_else(|| LogError::Corrupt(format!("{} is missing", path.to_path())))?;
            let entries = bundle::parse(&b).map_err(|e| LogError::Corrupt(e.to_string()))?;
            for (i, e) in entries.into_iter().enumerate() {
                let index = n * TILE_WIDTH + i as u64;
                if index >= from && index < end {
                    out.push(e.to_vec());
                }
            }
            n += 1;
        }
        Ok(out)
    }

    /// The bytes of a tile as a reader of the tree of the current checkpoint may ask for them:
    /// the file itself, or a partial tile cut from the full tile or a wider partial one.
    /// `None` when the log has no such tile.
    pub fn tile(&self, path: &TilePath) -> Result<Option<Vec<u8>>, LogError> {
        let span = match path.kind {
            TileKind::Entries => Some(TILE_WIDTH),
            TileKind::Hashes { level } => TILE_WIDTH.checked_pow(u32::from(level) + 1),
        };
        // Tiles past the checkpoint are not part of the log, whatever is on disk.
        let Some(end) = span
            .and_then(|s| path.index.checked_mul(s))
            .and_then(|start| {
                let per = span? / TILE_WIDTH;
                start.checked_add(u64::from(path.width).checked_mul(per)?)
            })
        else {
            return Ok(None);
        };
        if end > self.size {
            return Ok(None);
        }
        let exact = self.dir.join(path.to_path());
        if let Ok(b) = std::fs::read(&exact) {
            return Ok(Some(b));
        }
        if path.width == 256 {
            return Ok(None);
        }
        // A narrower partial tile is a prefix of the full tile or of the current partial one.
        let mut candidates = vec![TilePath {
            width: 256,
            ..*path
        }];
        for w in (path.width + 1..256).rev() {
            candidates.push(TilePath { width: w, ..*path });
        }
        for c in candidates {
            let Ok(b) = std::fs::read(self.dir.join(c.to_path())) else {
                continue;
            };
            return Ok(Some(match path.kind {
                TileKind::Hashes { .. } => b
                    .get(..usize::from(path.width) * 32)
                    .ok_or_else(|| LogError::Corrupt("short tile".into()))?
                    .to_vec(),
                TileKind::Entries => {
                    let entries =
                        bundle::parse(&b).map_err(|e| LogError::Corrupt(e.to_string()))?;
                    bundle::encode(&entries[..usize::from(path.width).min(entries.len())])
                        .map_err(|e| LogError::Corrupt(e.to_string()))?
                }
            }));
        }
        Ok(None)
    }
}

/// Writes `bytes` under a temporary name, fsyncs, renames over `path` and fsyncs the directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

type Ack = mpsc::Sender<Result<u64, String>>;

/// Batches appends from many threads: each call waits until its entry is committed under a
/// checkpoint, and everything submitted while one commit runs goes into the next.
#[derive(Clone)]
pub struct Sequencer {
    log: Arc<Mutex<TileLog>>,
    queue: mpsc::Sender<(Vec<u8>, Ack)>,
}

/// Most entries committed under one checkpoint.
const MAX_BATCH: usize = 4096;

impl Sequencer {
    /// Starts the writer thread over `log`.
    pub fn start(log: TileLog) -> Sequencer {
        let log = Arc::new(Mutex::new(log));
        let (queue, rx) = mpsc::channel::<(Vec<u8>, Ack)>();
        let writer = Arc::clone(&log);
        std::thread::Builder::new()
            .name("tlog-sequencer".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(next) => batch.push(next),
                            Err(_) => break,
                        }
                    }
                    let entries: Vec<Vec<u8>> = batch.iter().map(|(e, _)| e.clone()).collect();
                    let result = match writer.lock() {
                        Ok(mut l) => l.append(&entries).map_err(|e| e.to_string()),
                        Err(_) => Err("the log's lock was poisoned".to_string()),
                    };
                    for (i, (_, ack)) in batch.into_iter().enumerate() {
                        let _ = ack.send(result.clone().map(|first| first + i as u64));
                    }
                }
            })
            .ok();
        Sequencer { log, queue }
    }

    /// Appends one entry; returns its index once it is durable under a signed checkpoint.
    pub fn append(&self, entry: Vec<u8>) -> Result<u64, LogError> {
        if entry.len() > usize::from(u16::MAX) {
            return Err(LogError::TooLong(entry.len()));
        }
        let (tx, rx) = mpsc::channel();
        self.queue
            .send((entry, tx))
            .map_err(|_| LogError::Stopped)?;
        rx.recv()
            .map_err(|_| LogError::Stopped)?
            .map_err(LogError::Corrupt)
    }

    /// Runs `f` over the log (reads: checkpoint, tiles, proofs).
    pub fn read<T>(&self, f: impl FnOnce(&TileLog) -> T) -> Result<T, LogError> {
        let l = self.log.lock().map_err(|_| LogError::Stopped)?;
        Ok(f(&l))
    }
}
