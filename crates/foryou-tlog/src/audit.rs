//! What an outside auditor checks, written against the specs: the checkpoint's signature by the
//! pinned key (and cosignatures by the trusted witnesses), that it extends the checkpoint the
//! auditor saw last, and the whole tree recomputed from the entry bundles, with every hash tile
//! compared against it. Where the bytes come from is a [`Source`]: a directory copied from the
//! server (any static host serves the same layout) or, in the binary, the server's HTTP API.

use crate::bundle;
use crate::note::{open_checkpoint, CosignatureVerifier};
use crate::paths::{TileKind, TilePath};
use crate::tree::{self, Hash, RootBuilder};
use crate::TILE_WIDTH;
use std::path::PathBuf;

/// Where the log's files come from.
pub trait Source {
    /// The bytes at `path` (`checkpoint` or a tile path); `None` when there is no such file.
    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, String>;
}

/// A copy of the log's directory.
pub struct DirSource(pub PathBuf);

impl Source for DirSource {
    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        if path.split('/').any(|c| c == ".." || c.is_empty()) {
            return Err(format!("refusing path '{path}'"));
        }
        match std::fs::read(self.0.join(path)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", self.0.join(path).display())),
        }
    }
}

/// What went wrong, in words an auditor can act on.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A file could not be fetched.
    #[error("could not fetch {0}: {1}")]
    Fetch(String, String),
    /// The checkpoint's signature did not verify against the pinned key (or the key is wrong).
    #[error("BAD SIGNATURE: {0}")]
    Signature(String),
    /// Fewer trusted witnesses cosigned than required.
    #[error("NOT WITNESSED: {0}")]
    Witness(String),
    /// The log is smaller than a checkpoint the auditor saw before.
    #[error("TRUNCATED: the log had {before} entries when last checked and now claims {now}")]
    Truncated {
        /// Size seen before.
        before: u64,
        /// Size claimed now.
        now: u64,
    },
    /// The first entries no longer hash to the root seen before: history was rewritten or forked.
    #[error("FORK: the first {size} entries no longer hash to the root {root} checked before; the log's history was rewritten or the server shows different histories")]
    Fork {
        /// Size of the earlier checkpoint.
        size: u64,
        /// Its root.
        root: String,
    },
    /// An entry bundle is missing: the log is cut short of its checkpoint.
    #[error("TRUNCATED: {0} is missing, so entries the checkpoint covers are gone")]
    Missing(String),
    /// A bundle holds another number of entries than its place in the tree says.
    #[error(
        "DROPPED OR ADDED ENTRY: {path} holds {got} entries where the checkpoint needs {want}"
    )]
    Count {
        /// The bundle.
        path: String,
        /// Entries found.
        got: usize,
        /// Entries needed.
        want: u64,
    },
    /// The recomputed root differs from the checkpoint's: an entry was rewritten.
    #[error(
        "REWRITTEN ENTRY: the {size} entries hash to {got}, not to the checkpoint's root {want}"
    )]
    Root {
        /// Tree size.
        size: u64,
        /// Recomputed root.
        got: String,
        /// The checkpoint's root.
        want: String,
    },
    /// A hash tile disagrees with the entries.
    #[error("BAD TILE: {0} does not match the hashes of the entries")]
    Tile(String),
    /// A bundle or an entry does not parse.
    #[error("MALFORMED: {0}")]
    Malformed(String),
}

/// What was verified.
#[derive(Debug)]
pub struct Verified {
    /// The log's origin.
    pub origin: String,
    /// Entries checked.
    pub size: u64,
    /// The root they hash to.
    pub root: Hash,
    /// The size of the checkpoint seen before, when one was given.
    pub extends: Option<u64>,
    /// Trusted witnesses whose cosignatures verified.
    pub cosigned_by: Vec<String>,
    /// Hash tiles compared.
    pub tiles: u64,
    /// The checkpoint as served (to save as the next run's state).
    pub checkpoint: Vec<u8>,
}

/// What the auditor trusts.
pub struct Trust {
    /// The log's verifier key.
    pub log_vkey: String,
    /// Witness verifier keys.
    pub witnesses: Vec<CosignatureVerifier>,
    /// How many of them must have cosigned.
    pub min_cosigners: usize,
}

/// Verifies the log `src` serves; `previous` is the checkpoint saved from the last run.
/// `on_entry` sees every entry in order (to parse it) and may refuse it.
pub fn verify(
    src: &dyn Source,
    trust: &Trust,
    previous: Option<&[u8]>,
    mut on_entry: impl FnMut(u64, &[u8]) -> Result<(), String>,
) -> Result<Verified, AuditError> {
    let fetch = |p: &str| -> Result<Vec<u8>, AuditError> {
        match src.get(p) {
            Ok(Some(b)) => Ok(b),
            Ok(None) => Err(AuditError::Missing(p.to_string())),
            Err(e) => Err(AuditError::Fetch(p.to_string(), e)),
        }
    };
    let note = fetch("checkpoint")?;
    let opened = open_checkpoint(&note, &trust.log_vkey, &trust.witnesses)
        .map_err(|e| AuditError::Signature(e.to_string()))?;
    let cosigned_by: Vec<String> = opened.cosigned_by.iter().map(|(n, _)| n.clone()).collect();
    if cosigned_by.len() < trust.min_cosigners {
        return Err(AuditError::Witness(format!(
            "{} of the trusted witnesses cosigned; {} required",
            cosigned_by.len(),
            trust.min_cosigners
        )));
    }
    let size = opened.checkpoint.size();
    let want_root = *opened.checkpoint.hash();
    let before = match previous {
        Some(p) => {
            let o = open_checkpoint(p, &trust.log_vkey, &[]).map_err(|e| {
                AuditError::Signature(format!("the saved checkpoint does not verify: {e}"))
            })?;
            if o.checkpoint.size() > size {
                return Err(AuditError::Truncated {
                    before: o.checkpoint.size(),
                    now: size,
                });
            }
            Some((o.checkpoint.size(), *o.checkpoint.hash()))
        }
        None => None,
    };
    // Every entry, bundle by bundle; their leaf hashes rebuild the tree.
    let mut leaves: Vec<Hash> = Vec::new();
    let mut builder = RootBuilder::default();
    // An entry the caller cannot read is reported once the hashes are checked: a rewritten
    // entry is named as such, whatever its new bytes look like.
    let mut unreadable: Option<AuditError> = None;
    let bundles = size.div_ceil(TILE_WIDTH);
    for n in 0..bundles {
        let width = (size - n * TILE_WIDTH).min(TILE_WIDTH) as u16;
        let path = TilePath {
            kind: TileKind::Entries,
            index: n,
            width,
        }
        .to_path();
        let b = fetch(&path)?;
        let entries =
            bundle::parse(&b).map_err(|e| AuditError::Malformed(format!("{path}: {e}")))?;
        if entries.len() != usize::from(width) {
            return Err(AuditError::Count {
                path,
                got: entries.len(),
                want: u64::from(width),
            });
        }
        for e in entries {
            let index = builder.size();
            if let Some((s, r)) = before {
                if index == s && builder.root() != r {
                    return Err(AuditError::Fork {
                        size: s,
                        root: r.to_string(),
                    });
                }
            }
            if let Err(m) = on_entry(index, e) {
                unreadable.get_or_insert(AuditError::Malformed(format!("entry {index}: {m}")));
            }
            let h = tree::leaf_hash(e);
            builder.push(h);
            leaves.push(h);
        }
    }
    if let Some((s, r)) = before {
        if s == size && builder.root() != r {
            return Err(AuditError::Fork {
                size: s,
                root: r.to_string(),
            });
        }
    }
    let root = builder.root();
    if root != want_root {
        return Err(AuditError::Root {
            size,
            got: root.to_string(),
            want: want_root.to_string(),
        });
    }
    if let Some(e) = unreadable {
        return Err(e);
    }
    // Every hash tile, level by level, against the recomputed hashes.
    let mut tiles = 0;
    let mut level_hashes = leaves;
    let mut level = 0u8;
    while !level_hashes.is_empty() {
        for (n, chunk) in level_hashes.chunks(TILE_WIDTH as usize).enumerate() {
            let path = TilePath {
                kind: TileKind::Hashes { level },
                index: n as u64,
                width: chunk.len() as u16,
            }
            .to_path();
            let got = fetch(&path)?;
            let want: Vec<u8> = chunk.iter().flat_map(|h| h.0).collect();
            if got != want {
                return Err(AuditError::Tile(path));
            }
            tiles += 1;
        }
        // The next level holds the roots of full tiles only.
        level_hashes = level_hashes
            .chunks_exact(TILE_WIDTH as usize)
            .map(tree::root)
            .collect();
        level += 1;
    }
    Ok(Verified {
        origin: opened.checkpoint.origin().to_string(),
        size,
        root,
        extends: before.map(|(s, _)| s),
        cosigned_by,
        tiles,
        checkpoint: note,
    })
}
