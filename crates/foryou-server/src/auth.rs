//! Passwords (argon2id) and bearer tokens (random, stored as SHA-256).
//!
//! Every hash runs on a small pool of dedicated threads ([`Hashers`]): each argon2id check takes
//! ~19 MiB, and memory freed on a thread is kept for that thread's next allocation, so a fixed
//! set of threads keeps the memory of hashing fixed too, however many requests arrive.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use foryou_types::Region;
use rand::RngCore;
use sha2::{Digest, Sha256};

type Job = Box<dyn FnOnce() + Send>;

/// A fixed pool of threads that run password hashes.
pub struct Hashers {
    jobs: std::sync::Mutex<std::sync::mpsc::SyncSender<Job>>,
}

impl Hashers {
    /// `threads` hashing threads with a queue of `queue` jobs behind them.
    pub fn new(threads: usize, queue: usize) -> Hashers {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(queue.max(1));
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = std::sync::Arc::clone(&rx);
            let spawned = std::thread::Builder::new()
                .name(format!("foryou-hash-{i}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a hashing thread");
            }
        }
        Hashers {
            jobs: std::sync::Mutex::new(tx),
        }
    }

    /// Runs `f` on a hashing thread and waits for its answer (`None` if the pool is gone).
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        self.jobs.lock().ok()?.send(job).ok()?;
        rx.recv().ok()
    }
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Checks a password against a PHC string in constant time.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash to verify against when the handle is unknown, so both paths take the same time.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a real password, only for timing").unwrap_or_default())
}

/// A new bearer token `fy_<region>_<64 hex>`: the region routes the lookup to the right store.
pub fn new_token(region: &Region) -> String {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    format!("fy_{}_{}", region, hex(&secret))
}

/// The region part of a token, if it has our shape.
pub fn token_region(token: &str) -> Option<Region> {
    let rest = token.strip_prefix("fy_")?;
    let (region, secret) = rest.split_once('_')?;
    if secret.len() != 64 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Region::new(region).ok()
}

/// What is stored for a token.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_run_on_the_pool() {
        let pool = Hashers::new(2, 4);
        let h = pool
            .run(|| hash_password("a pooled password"))
            .and_then(|r| r.ok())
            .unwrap_or_default();
        assert_eq!(
            pool.run(move || verify_password("a pooled password", &h)),
            Some(true)
        );
        let name = pool.run(|| std::thread::current().name().map(str::to_string));
        assert!(name
            .flatten()
            .is_some_and(|n| n.starts_with("foryou-hash-")));
    }

    #[test]
    fn passwords_verify_and_tokens_route() {
        let h = hash_password("correct horse").unwrap_or_default();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        let eu = Region::new("eu").expect("region");
        let t = new_token(&eu);
        assert_eq!(token_region(&t), Some(eu));
        assert_ne!(t, new_token(&Region::new("eu").expect("region")));
        assert_eq!(token_region("fy_eu_abc"), None);
    }
}
