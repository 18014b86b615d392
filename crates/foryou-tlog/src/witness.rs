//! A C2SP tlog-witness: it remembers the last checkpoint it cosigned for one log, and cosigns a
//! new one only with a consistency proof from that one, so it never signs two histories. The
//! HTTP wrapper (`POST /add-checkpoint`) maps [`AddError`] to the statuses the spec names.

use crate::note::{open_checkpoint, Cosigner, NoteError};
use crate::tree::{self, Hash};
use base64::prelude::*;
use std::path::PathBuf;
use std::sync::Mutex;

/// Why a checkpoint was not cosigned.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// 400: the request does not parse, or the old size is past the checkpoint.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 403: the checkpoint is not signed by the log's key.
    #[error("the checkpoint is not signed by the log's key: {0}")]
    Forbidden(String),
    /// 404: the checkpoint is of another log.
    #[error("unknown log origin '{0}'")]
    UnknownLog(String),
    /// 409: the old size is not the last cosigned size (given), or the same size has another root.
    #[error("the last cosigned size is {0}")]
    Conflict(u64),
    /// 422: the consistency proof does not verify.
    #[error("the consistency proof does not verify: {0}")]
    BadProof(String),
    /// The state could not be saved (500): nothing was cosigned.
    #[error("the witness could not save its state: {0}")]
    State(String),
}

/// The body of an `add-checkpoint` request: `old <size>`, the proof lines, an empty line, the
/// signed checkpoint.
pub fn add_checkpoint_body(old: u64, proof: &[Hash], note: &[u8]) -> Vec<u8> {
    let mut b = format!("old {old}\n").into_bytes();
    for h in proof {
        b.extend_from_slice(BASE64_STANDARD.encode(h.0).as_bytes());
        b.push(b'\n');
    }
    b.push(b'\n');
    b.extend_from_slice(note);
    b
}

/// One witness for one log.
pub struct Witness {
    cosigner: Cosigner,
    log_vkey: String,
    origin: String,
    state_file: PathBuf,
    /// The last cosigned (size, root); `None` before the first.
    last: Mutex<Option<(u64, Hash)>>,
}

impl Witness {
    /// A witness of the log with verifier key `log_vkey`, keeping its state in `state_file`
    /// (the last cosigned checkpoint, as the log signed it).
    pub fn open(
        cosigner: Cosigner,
        log_vkey: &str,
        state_file: PathBuf,
    ) -> Result<Witness, NoteError> {
        let origin = log_vkey.split('+').next().unwrap_or_default().to_string();
        let last = match std::fs::read(&state_file) {
            Ok(note) => {
                let o = open_checkpoint(&note, log_vkey, &[])?;
                Some((o.checkpoint.size(), *o.checkpoint.hash()))
            }
            Err(_) => None,
        };
        Ok(Witness {
            cosigner,
            log_vkey: log_vkey.trim().to_string(),
            origin,
            state_file,
            last: Mutex::new(last),
        })
    }

    /// The witness's verifier key.
    pub fn vkey(&self) -> String {
        self.cosigner.vkey()
    }

    /// The last cosigned size.
    pub fn size(&self) -> u64 {
        self.last
            .lock()
            .map(|l| l.map(|(s, _)| s).unwrap_or(0))
            .unwrap_or(0)
    }

    /// Handles an `add-checkpoint` body; returns the cosignature line(s) to answer with.
    pub fn add_checkpoint(&self, body: &[u8]) -> Result<Vec<u8>, AddError> {
        let bad = |m: &str| AddError::BadRequest(m.to_string());
        if body.len() > 64 * 1024 {
            return Err(bad("the request is over 64 KiB"));
        }
        let text = std::str::from_utf8(body).map_err(|_| bad("not UTF-8"))?;
        let (head, note) = text
            .split_once("\n\n")
            .ok_or_else(|| bad("no empty line before the checkpoint"))?;
        let mut lines = head.split('\n');
        let old = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .filter(|n| *n == "0" || !n.starts_with('0'))
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| bad("the first line must be 'old <size>'"))?;
        let mut proof = Vec::new();
        for l in lines {
            if proof.len() == 63 {
                return Err(bad("more than 63 consistency proof lines"));
            }
            let h = BASE64_STANDARD
                .decode(l)
                .ok()
                .and_then(|b| tree::hash_from(&b).ok())
                .ok_or_else(|| bad("a proof line is not a base64 hash"))?;
            proof.push(h);
        }
        let origin = note.split('\n').next().unwrap_or_default();
        if origin != self.origin {
            return Err(AddError::UnknownLog(origin.chars().take(100).collect()));
        }
        let opened = open_checkpoint(note.as_bytes(), &self.log_vkey, &[])
            .map_err(|e| AddError::Forbidden(e.to_string()))?;
        let (size, root) = (opened.checkpoint.size(), *opened.checkpoint.hash());
        if old > size {
            return Err(bad("the old size is larger than the checkpoint's"));
        }
        let mut last = self
            .last
            .lock()
            .map_err(|_| AddError::State("lock poisoned".into()))?;
        let (last_size, last_root) = last.unwrap_or((0, tree::EMPTY_HASH));
        if old != last_size {
            return Err(AddError::Conflict(last_size));
        }
        if old == size {
            if root != last_root || !proof.is_empty() {
                return Err(AddError::Conflict(last_size));
            }
        } else if old == 0 {
            if !proof.is_empty() {
                return Err(AddError::BadProof(
                    "a proof from size 0 must be empty".into(),
                ));
            }
        } else {
            tree::verify_consistency(&proof, old, last_root, size, root)
                .map_err(|e| AddError::BadProof(e.to_string()))?;
        }
        let tmp = self.state_file.with_extension("tmp");
        std::fs::write(&tmp, note.as_bytes())
            .and_then(|()| std::fs::File::open(&tmp)?.sync_all())
            .and_then(|()| std::fs::rename(&tmp, &self.state_file))
            .map_err(|e| AddError::State(e.to_string()))?;
        *last = Some((size, root));
        self.cosigner
            .cosign_line(&opened.text)
            .map_err(|e| AddError::State(e.to_string()))
    }
}
