//! The object store that media files live in: a trait, and a local-directory implementation
//! (an S3-compatible one fits the same slot).

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A failure of the object store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The key has characters outside `[a-z0-9._/-]` or a `..` segment.
    #[error("invalid object key '{key}'")]
    BadKey {
        /// The refused key.
        key: String,
    },
    /// Reading or writing the backing storage failed.
    #[error("object store i/o on '{key}': {source}")]
    Io {
        /// The object concerned.
        key: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A remote object store (S3) refused or failed the request.
    #[error("object store request on '{key}' failed: {message}")]
    Remote {
        /// The object concerned (empty for the bucket).
        key: String,
        /// What the service said (status and code), never a credential.
        message: String,
    },
}

/// Durable blob storage addressed by key.
pub trait ObjectStore: Send + Sync {
    /// Stores `bytes` under `key`; durable when it returns.
    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), StoreError>;
    /// Moves a finished local file in under `key`; durable when it returns.
    fn put_file(&self, key: &str, file: &Path) -> Result<(), StoreError>;
    /// The object's size, or `None` when absent.
    fn size(&self, key: &str) -> Result<Option<u64>, StoreError>;
    /// Up to `len` bytes from `offset`.
    fn read_range(&self, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, StoreError>;
    /// Removes the object; absent objects are fine.
    fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Every key, for garbage collection of orphans.
    fn keys(&self) -> Result<Vec<String>, StoreError>;
}

/// Objects as files below a directory, written to a temporary name, fsynced and renamed.
pub struct LocalObjectStore {
    root: PathBuf,
}

/// Checks a key against the rules every backend keeps: `[a-z0-9._/-]`, at most 200 bytes, no
/// empty, `.` or `..` segment, no `.tmp`.
pub fn check_key(key: &str) -> Result<(), StoreError> {
    let ok = !key.is_empty()
        && key.len() <= 200
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._/-".contains(&b))
        && key
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && !key.contains(".tmp");
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadKey {
            key: key.to_string(),
        })
    }
}

impl LocalObjectStore {
    /// Opens (creating) the store at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|source| StoreError::Io {
            key: String::new(),
            source,
        })?;
        Ok(LocalObjectStore { root })
    }

    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        check_key(key)?;
        Ok(self.root.join(key))
    }

    fn install(
        &self,
        key: &str,
        write: impl FnOnce(&Path) -> std::io::Result<()>,
    ) -> Result<(), StoreError> {
        let io = |source| StoreError::Io {
            key: key.to_string(),
            source,
        };
        let dest = self.path(key)?;
        let dir = dest.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&dir).map_err(io)?;
        let tmp = dir.join(format!(
            ".{}.tmp",
            dest.file_name().and_then(|n| n.to_str()).unwrap_or("obj")
        ));
        write(&tmp).map_err(io)?;
        fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(io)?;
        fs::rename(&tmp, &dest).map_err(io)?;
        fs::File::open(&dir).and_then(|d| d.sync_all()).map_err(io)
    }
}

impl ObjectStore for LocalObjectStore {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.install(key, |tmp| fs::File::create(tmp)?.write_all(bytes))
    }

    fn put_file(&self, key: &str, file: &Path) -> Result<(), StoreError> {
        self.install(key, |tmp| {
            fs::rename(file, tmp).or_else(|_| fs::copy(file, tmp).map(|_| ()))
        })
    }

    fn size(&self, key: &str) -> Result<Option<u64>, StoreError> {
        match fs::metadata(self.path(key)?) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::Io {
                key: key.to_string(),
                source,
            }),
        }
    }

    fn read_range(&self, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, StoreError> {
        let io = |source| StoreError::Io {
            key: key.to_string(),
            source,
        };
        let mut f = fs::File::open(self.path(key)?).map_err(io)?;
        f.seek(SeekFrom::Start(offset)).map_err(io)?;
        let mut buf = Vec::with_capacity(len.min(16 << 20) as usize);
        f.take(len).read_to_end(&mut buf).map_err(io)?;
        Ok(buf)
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        match fs::remove_file(self.path(key)?) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StoreError::Io {
                key: key.to_string(),
                source,
            }),
        }
    }

    fn keys(&self) -> Result<Vec<String>, StoreError> {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
            for entry in fs::read_dir(dir)? {
                let entry = entry?;
                let p = entry.path();
                if entry.file_type()?.is_dir() {
                    walk(root, &p, out)?;
                } else if let Ok(rel) = p.strip_prefix(root) {
                    let k = rel.to_string_lossy().replace('\\', "/");
                    if check_key(&k).is_ok() {
                        out.push(k);
                    }
                }
            }
            Ok(())
        }
        let mut out = Vec::new();
        walk(&self.root, &self.root, &mut out).map_err(|source| StoreError::Io {
            key: String::new(),
            source,
        })?;
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_read_delete_and_refuse_escapes() {
        let dir = std::env::temp_dir().join(format!("foryou-objstore-{}", std::process::id()));
        let s = LocalObjectStore::open(&dir).expect("open");
        s.put("videos/1.mp4", b"hello world").expect("put");
        assert_eq!(s.size("videos/1.mp4").expect("size"), Some(11));
        assert_eq!(
            s.read_range("videos/1.mp4", 6, 100).expect("read"),
            b"world"
        );
        assert_eq!(s.keys().expect("keys"), vec!["videos/1.mp4".to_string()]);
        assert!(matches!(s.put("../x", b""), Err(StoreError::BadKey { .. })));
        assert!(matches!(
            s.put("A.mp4", b""),
            Err(StoreError::BadKey { .. })
        ));
        s.delete("videos/1.mp4").expect("delete");
        assert_eq!(s.size("videos/1.mp4").expect("size"), None);
        let _ = fs::remove_dir_all(dir);
    }
}
