//! Passwords (argon2id) and bearer tokens (random, stored as SHA-256).
//!
//! Every hash runs on a small pool of dedicated threads ([`Hashers`]): each argon2id check takes
//! ~19 MiB, and memory freed on a thread is kept for that thread's next allocation, so a fixed
//! set of threads keeps the memory of hashing fixed too, however many requests arrive.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
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

/// The largest argon2 memory a hashing thread keeps for reuse (ours use 19 MiB).
const MAX_KEPT_BLOCKS: usize = 64 * 1024;

thread_local! {
    /// This thread's argon2 working memory, allocated once and reused by every hash, so the
    /// allocator never churns through 19 MiB blocks.
    static MEMORY: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs one argon2 computation with `blocks` blocks of this thread's kept memory.
fn compute(a: &Argon2<'_>, password: &[u8], salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
    let blocks = a.params().block_count();
    if blocks > MAX_KEPT_BLOCKS {
        return a.hash_password_into(password, salt, out);
    }
    MEMORY.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() < blocks {
            m.resize(blocks, argon2::Block::default());
        }
        a.hash_password_into_with_memory(password, salt, out, &mut m[..blocks])
    })
}

/// Hashes a password with argon2id (the crate's default parameters: 19 MiB, 2 passes) and a
/// random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{Output, ParamsString};
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_buf)
        .map_err(|e| e.to_string())?;
    let a = Argon2::default();
    let mut out = [0u8; argon2::Params::DEFAULT_OUTPUT_LEN];
    compute(&a, password.as_bytes(), salt_bytes, &mut out).map_err(|e| e.to_string())?;
    let phc = PasswordHash {
        algorithm: argon2::Algorithm::Argon2id.ident(),
        version: Some(argon2::Version::V0x13.into()),
        params: ParamsString::try_from(a.params()).map_err(|e| e.to_string())?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
    };
    Ok(phc.to_string())
}

/// Checks a password against a PHC string; the outputs are compared in constant time.
pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::Output;
    let check = || -> Option<bool> {
        let h = PasswordHash::new(phc).ok()?;
        let algorithm = argon2::Algorithm::try_from(h.algorithm).ok()?;
        let version = match h.version {
            Some(v) => argon2::Version::try_from(v).ok()?,
            None => argon2::Version::default(),
        };
        let params = argon2::Params::try_from(&h).ok()?;
        let (salt, expected) = (h.salt?, h.hash?);
        let mut salt_buf = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_buf).ok()?;
        let mut out = vec![0u8; expected.len()];
        compute(
            &Argon2::new(algorithm, version, params),
            password.as_bytes(),
            salt_bytes,
            &mut out,
        )
        .ok()?;
        Some(Output::new(&out).ok()? == expected)
    };
    check().unwrap_or(false)
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
    fn hashes_agree_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = hash_password("shared secret phrase").unwrap_or_default();
        let parsed = PasswordHash::new(&ours).expect("a PHC string");
        assert!(Argon2::default()
            .verify_password(b"shared secret phrase", &parsed)
            .is_ok());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"shared secret phrase", &salt)
            .expect("hash")
            .to_string();
        assert!(verify_password("shared secret phrase", &theirs));
        assert!(!verify_password("another phrase", &theirs));
        assert!(!verify_password("shared secret phrase", "not a phc string"));
    }

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
