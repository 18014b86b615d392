//! Where the log's secrets and entries are kept beyond the node's own copy: the log's home
//! store (the first served region's), so a node that takes the regions over continues the log.

use super::log_err;
use crate::platform::*;
use foryou_tlog::log::TileLog;
use foryou_tlog::note::LogSigner;

/// A secret kept in the log's home store under `name` and in the node's file at `path` (owner
/// only): the home's, else the file's (a log from before the home kept it), else a new one.
pub(crate) fn home_secret(
    home: &dyn RegionStore,
    name: &str,
    path: &Path,
    make: impl FnOnce() -> Vec<u8>,
) -> Result<Vec<u8>, PlatformError> {
    let bytes = match home.state(name)? {
        Some(b) => b,
        None => secret_file(path, make)?,
    };
    if bytes.is_empty() {
        return Ok(bytes);
    }
    home.set_state(name, &bytes)?;
    if std::fs::read(path).ok().as_deref() != Some(&bytes[..]) {
        let _ = std::fs::remove_file(path);
        secret_file(path, || bytes.clone())?;
    }
    Ok(bytes)
}

/// Makes the node's copy of the log (`log`, in its directory) hold exactly the home's journal,
/// taking into the journal what only the copy has (a log from before the journal, or an entry
/// whose journal write a crash cut off), and rebuilding the copy when it differs from the
/// journal (a node that served these regions before another took them over).
pub(super) fn reconcile(
    dir: &Path,
    skey: &str,
    home: &dyn RegionStore,
) -> Result<TileLog, PlatformError> {
    const BATCH: usize = 4096;
    let signer = || LogSigner::from_skey(skey).map_err(log_err);
    let mut log = TileLog::open(dir, signer()?).map_err(log_err)?;
    let local = log.size();
    let mut at = 0u64;
    let mut differs = false;
    let mut tail: Vec<Vec<u8>> = Vec::new();
    loop {
        let batch = home.journal(at, BATCH)?;
        if batch.is_empty() {
            break;
        }
        if at < local {
            let mine = log.entries(at, batch.len()).map_err(log_err)?;
            if mine.iter().zip(&batch).any(|(a, b)| a != b) {
                differs = true;
                break;
            }
            let beyond = batch.len().saturating_sub(mine.len());
            tail.extend(batch[batch.len() - beyond..].iter().cloned());
        } else {
            tail.extend(batch.iter().cloned());
        }
        at += batch.len() as u64;
    }
    if differs {
        tracing::warn!(
            "this node's copy of the transparency log differs from its home's journal; rebuilding it from the journal"
        );
        drop(log);
        std::fs::remove_dir_all(dir).map_err(PlatformError::internal)?;
        log = TileLog::open(dir, signer()?).map_err(log_err)?;
        let mut from = 0;
        loop {
            let batch = home.journal(from, BATCH)?;
            if batch.is_empty() {
                break;
            }
            from += batch.len() as u64;
            log.append(&batch).map_err(log_err)?;
        }
        return Ok(log);
    }
    if at < local {
        let mut i = at;
        while i < local {
            let mine = log.entries(i, BATCH).map_err(log_err)?;
            for (k, e) in mine.iter().enumerate() {
                home.journal_put(i + k as u64, e)?;
            }
            i += mine.len().max(1) as u64;
        }
    }
    for chunk in tail.chunks(BATCH) {
        log.append(chunk).map_err(log_err)?;
    }
    Ok(log)
}

/// Reads a secret file, or creates it (readable by the owner only) with `make()`'s content.
pub(crate) fn secret_file(
    path: &Path,
    make: impl FnOnce() -> Vec<u8>,
) -> Result<Vec<u8>, PlatformError> {
    if let Ok(b) = std::fs::read(path) {
        return Ok(b);
    }
    let bytes = make();
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let mut f = o.open(&tmp).map_err(PlatformError::internal)?;
        f.write_all(&bytes).map_err(PlatformError::internal)?;
        f.sync_all().map_err(PlatformError::internal)?;
    }
    std::fs::rename(&tmp, path).map_err(PlatformError::internal)?;
    Ok(bytes)
}
