//! Subject keys: one secret per person (and per creator whose videos a region's catalog lists),
//! under which everything the region's log holds about them is sealed. Destroying the key is
//! erasing them from the log, its replays and its backups alike (crypto-shredding).
//!
//! [`EmbeddedKeys`] keeps a region's keys in `DIR/keys.bin`: fixed-size records appended and
//! fsynced before any record sealed under them is written; destroying a key rewrites the file
//! without it (write, fsync, rename, fsync the directory), so no file keeps it afterwards.

use crate::StoreError;
use foryou_types::{Region, UserId};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

/// One subject's key.
#[derive(Clone)]
pub struct SubjectKey {
    /// Whose key it is.
    pub subject: UserId,
    /// A random public name for the key, stored beside each record sealed under it.
    pub id: [u8; 16],
    secret: [u8; 32],
}

impl std::fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubjectKey")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl SubjectKey {
    /// A fresh random key for `subject`.
    pub fn generate(subject: UserId) -> SubjectKey {
        let mut rng = rand::rngs::OsRng;
        let mut id = [0u8; 16];
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut id);
        rng.fill_bytes(&mut secret);
        SubjectKey {
            subject,
            id,
            secret,
        }
    }

    /// A key as a backend stored it.
    pub fn from_parts(subject: UserId, id: [u8; 16], secret: [u8; 32]) -> SubjectKey {
        SubjectKey {
            subject,
            id,
            secret,
        }
    }

    /// The secret, for a backend to store and for sealing.
    pub fn secret(&self) -> &[u8; 32] {
        &self.secret
    }
}

/// Where a region keeps its subjects' keys. Implementations make `create` durable before it
/// returns, and `destroy` leave no copy of the key in any file they keep.
pub trait KeyStore: Send + Sync {
    /// The subject's key, if it has one.
    fn get(&self, subject: UserId) -> Result<Option<SubjectKey>, StoreError>;
    /// The key with this id, if it still exists.
    fn by_id(&self, id: &[u8; 16]) -> Result<Option<SubjectKey>, StoreError>;
    /// The subject's key, made (durably) when it has none.
    fn get_or_create(&self, subject: UserId) -> Result<SubjectKey, StoreError>;
    /// Destroys the subject's key; true when it had one.
    fn destroy(&self, subject: UserId) -> Result<bool, StoreError>;
    /// The keys of several subjects, the missing ones made together (one durable write).
    fn get_or_create_many(&self, subjects: &[UserId]) -> Result<Vec<SubjectKey>, StoreError> {
        subjects.iter().map(|s| self.get_or_create(*s)).collect()
    }
}

/// File name of a region's keys, inside its directory.
pub const KEYS_FILE: &str = "keys.bin";
/// Bytes per stored key: subject (8), id (16), secret (32), checksum (8).
const ROW: usize = 64;

/// A region's keys in `DIR/keys.bin`, all in memory while open.
pub struct EmbeddedKeys {
    region: Region,
    path: PathBuf,
    inner: RwLock<Keys>,
    /// The append handle; held while writing.
    file: Mutex<File>,
}

#[derive(Default)]
struct Keys {
    by_subject: HashMap<UserId, SubjectKey>,
    by_id: HashMap<[u8; 16], UserId>,
}

impl Keys {
    fn insert(&mut self, k: SubjectKey) {
        self.by_id.insert(k.id, k.subject);
        self.by_subject.insert(k.subject, k);
    }
}

fn row(k: &SubjectKey) -> [u8; ROW] {
    let mut r = [0u8; ROW];
    r[..8].copy_from_slice(&k.subject.0.to_le_bytes());
    r[8..24].copy_from_slice(&k.id);
    r[24..56].copy_from_slice(&k.secret);
    let sum = Sha256::digest(&r[..56]);
    r[56..].copy_from_slice(&sum[..8]);
    r
}

fn parse(r: &[u8]) -> Option<SubjectKey> {
    let sum = Sha256::digest(&r[..56]);
    if r[56..ROW] != sum[..8] {
        return None;
    }
    Some(SubjectKey {
        subject: UserId(u64::from_le_bytes(r[..8].try_into().ok()?)),
        id: r[8..24].try_into().ok()?,
        secret: r[24..56].try_into().ok()?,
    })
}

impl EmbeddedKeys {
    /// Opens or creates the keys of `region` in `dir`. A torn last record (a crash while it was
    /// written, so never acknowledged) is cut off.
    pub fn open(region: Region, dir: &Path) -> Result<EmbeddedKeys, StoreError> {
        let err = |e: std::io::Error| StoreError::Backend {
            region: region.clone(),
            message: format!("keys: {e}"),
        };
        std::fs::create_dir_all(dir).map_err(err)?;
        let path = dir.join(KEYS_FILE);
        let mut bytes = Vec::new();
        match File::open(&path) {
            Ok(mut f) => {
                f.read_to_end(&mut bytes).map_err(err)?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(err(e)),
        }
        let mut keys = Keys::default();
        let mut good = 0usize;
        for chunk in bytes.chunks(ROW) {
            let Some(k) = (chunk.len() == ROW).then(|| parse(chunk)).flatten() else {
                break;
            };
            keys.insert(k);
            good += ROW;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(err)?;
        if good < bytes.len() {
            file.set_len(good as u64).map_err(err)?;
            file.sync_all().map_err(err)?;
        }
        sync_dir(dir).map_err(err)?;
        Ok(EmbeddedKeys {
            region,
            path,
            inner: RwLock::new(keys),
            file: Mutex::new(file),
        })
    }

    fn err(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Backend {
            region: self.region.clone(),
            message: format!("keys: {e}"),
        }
    }

    /// Number of keys held.
    pub fn len(&self) -> usize {
        self.inner.read().map(|k| k.by_subject.len()).unwrap_or(0)
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

impl KeyStore for EmbeddedKeys {
    fn get(&self, subject: UserId) -> Result<Option<SubjectKey>, StoreError> {
        let k = self.inner.read().map_err(|e| self.err(e))?;
        Ok(k.by_subject.get(&subject).cloned())
    }

    fn by_id(&self, id: &[u8; 16]) -> Result<Option<SubjectKey>, StoreError> {
        let k = self.inner.read().map_err(|e| self.err(e))?;
        Ok(k.by_id.get(id).and_then(|s| k.by_subject.get(s)).cloned())
    }

    fn get_or_create(&self, subject: UserId) -> Result<SubjectKey, StoreError> {
        if let Some(k) = self.get(subject)? {
            return Ok(k);
        }
        let mut file = self.file.lock().map_err(|e| self.err(e))?;
        // Another writer may have made it while this one waited.
        if let Some(k) = self.get(subject)? {
            return Ok(k);
        }
        let key = SubjectKey::generate(subject);
        file.write_all(&row(&key)).map_err(|e| self.err(e))?;
        file.sync_data().map_err(|e| self.err(e))?;
        self.inner
            .write()
            .map_err(|e| self.err(e))?
            .insert(key.clone());
        Ok(key)
    }

    fn get_or_create_many(&self, subjects: &[UserId]) -> Result<Vec<SubjectKey>, StoreError> {
        let missing: Vec<UserId> = {
            let k = self.inner.read().map_err(|e| self.err(e))?;
            let mut m: Vec<UserId> = subjects
                .iter()
                .filter(|s| !k.by_subject.contains_key(s))
                .copied()
                .collect();
            m.sort();
            m.dedup();
            m
        };
        if !missing.is_empty() {
            let mut file = self.file.lock().map_err(|e| self.err(e))?;
            let mut made = Vec::new();
            let mut bytes = Vec::new();
            {
                let k = self.inner.read().map_err(|e| self.err(e))?;
                for s in missing {
                    if !k.by_subject.contains_key(&s) {
                        let key = SubjectKey::generate(s);
                        bytes.extend_from_slice(&row(&key));
                        made.push(key);
                    }
                }
            }
            file.write_all(&bytes).map_err(|e| self.err(e))?;
            file.sync_data().map_err(|e| self.err(e))?;
            let mut k = self.inner.write().map_err(|e| self.err(e))?;
            for key in made {
                k.insert(key);
            }
        }
        let k = self.inner.read().map_err(|e| self.err(e))?;
        subjects
            .iter()
            .map(|s| {
                k.by_subject
                    .get(s)
                    .cloned()
                    .ok_or_else(|| self.err("a key vanished while it was made"))
            })
            .collect()
    }

    fn destroy(&self, subject: UserId) -> Result<bool, StoreError> {
        let mut file = self.file.lock().map_err(|e| self.err(e))?;
        let mut keys = self.inner.write().map_err(|e| self.err(e))?;
        let Some(gone) = keys.by_subject.remove(&subject) else {
            return Ok(false);
        };
        keys.by_id.remove(&gone.id);
        let mut bytes = Vec::with_capacity(keys.by_subject.len() * ROW);
        for k in keys.by_subject.values() {
            bytes.extend_from_slice(&row(k));
        }
        let tmp = self.path.with_extension("bin.tmp");
        let write = || -> std::io::Result<File> {
            let mut f = File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)?;
            if let Some(dir) = self.path.parent() {
                sync_dir(dir)?;
            }
            OpenOptions::new().append(true).open(&self.path)
        };
        match write() {
            Ok(f) => {
                *file = f;
                Ok(true)
            }
            Err(e) => {
                // The key stays until the file without it is in place.
                keys.insert(gone);
                Err(self.err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("foryou-keys-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn keys_survive_a_restart_and_a_destroyed_key_leaves_the_file() {
        let d = dir("restart");
        let eu = Region::new("eu").expect("region");
        let keys = EmbeddedKeys::open(eu.clone(), &d).expect("open");
        let a = keys.get_or_create(UserId(7)).expect("a");
        let b = keys.get_or_create(UserId(9)).expect("b");
        assert_eq!(keys.get_or_create(UserId(7)).expect("again").id, a.id);
        drop(keys);
        let keys = EmbeddedKeys::open(eu.clone(), &d).expect("reopen");
        assert_eq!(
            keys.get(UserId(7)).expect("get").map(|k| k.secret),
            Some(a.secret)
        );
        assert!(keys.destroy(UserId(7)).expect("destroy"));
        assert!(!keys.destroy(UserId(7)).expect("destroy twice"));
        assert!(keys.by_id(&a.id).expect("by id").is_none());
        let c = keys.get_or_create(UserId(11)).expect("c");
        drop(keys);
        let bytes = std::fs::read(d.join(KEYS_FILE)).expect("read");
        assert!(
            !bytes.windows(32).any(|w| w == a.secret),
            "destroyed secret gone"
        );
        let keys = EmbeddedKeys::open(eu, &d).expect("reopen");
        assert!(keys.get(UserId(7)).expect("get").is_none());
        assert_eq!(keys.get(UserId(9)).expect("get").map(|k| k.id), Some(b.id));
        assert_eq!(keys.get(UserId(11)).expect("get").map(|k| k.id), Some(c.id));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn many_keys_are_made_together_and_kept() {
        let d = dir("many");
        let eu = Region::new("eu").expect("region");
        let keys = EmbeddedKeys::open(eu.clone(), &d).expect("open");
        let first = keys.get_or_create(UserId(3)).expect("one");
        let subjects = [UserId(1), UserId(2), UserId(3), UserId(1), UserId(4)];
        let got = keys.get_or_create_many(&subjects).expect("many");
        assert_eq!(got.len(), 5);
        assert_eq!(got[2].id, first.id, "an existing key is kept");
        assert_eq!(got[0].id, got[3].id, "a subject twice gets one key");
        assert_eq!(keys.len(), 4);
        drop(keys);
        let keys = EmbeddedKeys::open(eu, &d).expect("reopen");
        assert_eq!(keys.len(), 4);
        assert_eq!(
            keys.get(UserId(1)).expect("get").map(|k| k.id),
            Some(got[0].id)
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_torn_last_record_is_cut_off() {
        let d = dir("torn");
        let eu = Region::new("eu").expect("region");
        let keys = EmbeddedKeys::open(eu.clone(), &d).expect("open");
        keys.get_or_create(UserId(1)).expect("a");
        drop(keys);
        let mut f = OpenOptions::new()
            .append(true)
            .open(d.join(KEYS_FILE))
            .expect("file");
        f.write_all(&[1, 2, 3]).expect("torn");
        drop(f);
        let keys = EmbeddedKeys::open(eu, &d).expect("reopen");
        assert_eq!(keys.len(), 1);
        keys.get_or_create(UserId(2)).expect("b");
        assert_eq!(
            std::fs::metadata(d.join(KEYS_FILE)).expect("meta").len(),
            2 * ROW as u64
        );
        let _ = std::fs::remove_dir_all(&d);
    }
}
