//! The neutral age gate. A sign-up below the minimum age gets the same refusal as any other
//! ineligible sign-up, naming no threshold; the refused handle is blocked for 24 hours, kept
//! only as an HMAC under a key this server holds (never the handle, the birthdate or anything
//! else of the child), in `DATA/agegate/` and in the home store of the node's regions (the first
//! it serves, as for the transparency log), so a node that takes them over keeps the blocks; the
//! HTTP layer adds a cookie that blocks the browser for the same 24 hours. Expired blocks are
//! dropped.

use super::*;
use hmac::{Hmac, Mac};

/// How long a refused handle (and browser) stays blocked.
pub const BLOCK_MS: u64 = 86_400_000;
/// Most blocks kept; past it the ones closest to expiry go first.
const MAX_BLOCKS: usize = 1_000_000;
const KEY: &str = "key";
const BLOCKS: &str = "blocks";
/// The blocks' name in the home store.
const STATE: &str = "agegate/blocks";

/// The refusal every ineligible sign-up gets, whatever the reason.
pub fn refusal() -> PlatformError {
    PlatformError::new(
        Kind::Forbidden,
        "not_eligible",
        "sorry, you can't create a Foryou account right now. You can keep watching without one",
    )
}

pub(crate) struct AgeGate {
    key: Vec<u8>,
    path: PathBuf,
    /// Where the key and blocks are kept beside `path` (none: the file only).
    home: Option<Arc<dyn RegionStore>>,
    /// HMAC of a lower-cased handle → when its block ends (Unix ms).
    blocks: Mutex<HashMap<[u8; 32], u64>>,
}

impl AgeGate {
    /// Opens the gate's key and blocks (the home store's, else those in `dir`), dropping
    /// expired blocks.
    pub fn open(dir: &Path, home: Option<Arc<dyn RegionStore>>) -> Result<AgeGate, PlatformError> {
        std::fs::create_dir_all(dir).map_err(PlatformError::internal)?;
        let make = || {
            let mut k = vec![0u8; 32];
            rand::thread_rng().fill(&mut k[..]);
            k
        };
        let key = match &home {
            Some(h) => transparency::home_secret(h.as_ref(), "agegate/key", &dir.join(KEY), make)?,
            None => transparency::secret_file(&dir.join(KEY), make)?,
        };
        let path = dir.join(BLOCKS);
        let now = now_ms();
        let mut blocks = HashMap::new();
        let stored = match home.as_ref().map(|h| h.state(STATE)).transpose()?.flatten() {
            Some(b) => Some(b),
            None => std::fs::read(&path).ok(),
        };
        if let Some(bytes) = stored {
            for rec in bytes.chunks_exact(40).take(MAX_BLOCKS) {
                let mut tag = [0u8; 32];
                tag.copy_from_slice(&rec[..32]);
                let mut until = [0u8; 8];
                until.copy_from_slice(&rec[32..]);
                let until = u64::from_be_bytes(until);
                if until > now {
                    blocks.insert(tag, until);
                }
            }
        }
        Ok(AgeGate {
            key,
            path,
            home,
            blocks: Mutex::new(blocks),
        })
    }

    fn tag(&self, handle: &str) -> [u8; 32] {
        let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(&self.key) {
            Ok(m) => m,
            Err(_) => return [0; 32],
        };
        mac.update(b"foryou-age-gate\0");
        mac.update(handle.trim().to_lowercase().as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Whether sign-ups with this handle are blocked right now.
    pub fn blocked(&self, handle: &str, now: u64) -> bool {
        let tag = self.tag(handle);
        self.blocks
            .lock()
            .map(|b| b.get(&tag).is_some_and(|until| *until > now))
            .unwrap_or(true)
    }

    /// Blocks this handle for [`BLOCK_MS`], durably.
    pub fn block(&self, handle: &str, now: u64) -> Result<(), PlatformError> {
        let tag = self.tag(handle);
        let mut b = self.blocks.lock().map_err(lock_err)?;
        b.retain(|_, until| *until > now);
        if b.len() >= MAX_BLOCKS {
            let mut soonest: Vec<([u8; 32], u64)> = b.iter().map(|(k, v)| (*k, *v)).collect();
            soonest.sort_by_key(|(_, until)| *until);
            for (k, _) in soonest.iter().take(b.len() + 1 - MAX_BLOCKS) {
                b.remove(k);
            }
        }
        b.insert(tag, now.saturating_add(BLOCK_MS));
        let mut bytes = Vec::with_capacity(b.len() * 40);
        for (tag, until) in b.iter() {
            bytes.extend_from_slice(tag);
            bytes.extend_from_slice(&until.to_be_bytes());
        }
        if let Some(h) = &self.home {
            h.set_state(STATE, &bytes)?;
        }
        write_atomically(&self.path, &bytes).map_err(PlatformError::internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_lasts_a_day_and_names_no_handle_on_disk() {
        let dir = std::env::temp_dir().join(format!("foryou-agegate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let g = AgeGate::open(&dir.join("node-a"), None).expect("open");
        let t = 1_800_000_000_000;
        assert!(!g.blocked("Kiddo", t));
        g.block("Kiddo", t).expect("block");
        assert!(g.blocked("kiddo", t + BLOCK_MS - 1), "case and time");
        assert!(!g.blocked("kiddo", t + BLOCK_MS));
        assert!(!g.blocked("someoneelse", t));
        let on_disk = std::fs::read(dir.join("node-a").join(BLOCKS)).expect("blocks");
        assert_eq!(on_disk.len(), 40);
        assert!(!on_disk.windows(5).any(|w| w.eq_ignore_ascii_case(b"kiddo")));

        let _ = std::fs::remove_dir_all(&dir);
    }
}
