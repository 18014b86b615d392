//! Abuse limits: token-bucket rate limits per key (a handle, a client address, a user), and the
//! gate that caps concurrent password hashes. Both hold bounded memory whatever callers send.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A rate: at most `burst` at once, refilled evenly over `per`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    /// Most actions in a burst (the bucket's size).
    pub burst: u32,
    /// How long an empty bucket takes to refill.
    pub per: Duration,
}

impl Rate {
    /// `burst` actions per `per`.
    pub const fn new(burst: u32, per: Duration) -> Rate {
        Rate { burst, per }
    }

    /// Parses `N/10m`, `N/1h`, `N/30s` or `off` (no limit: `None`).
    pub fn parse(s: &str) -> Result<Option<Rate>, String> {
        let s = s.trim();
        if s == "off" {
            return Ok(None);
        }
        let bad = || format!("'{s}' is not a rate: write N/30s, N/10m, N/1h or off");
        let (n, per) = s.split_once('/').ok_or_else(bad)?;
        let burst: u32 = n.trim().parse().map_err(|_| bad())?;
        let per = per.trim();
        let (num, unit) = per.split_at(per.len().saturating_sub(1));
        let num: u64 = if num.is_empty() {
            1
        } else {
            num.parse().map_err(|_| bad())?
        };
        let secs = match unit {
            "s" => num,
            "m" => num.checked_mul(60).ok_or_else(bad)?,
            "h" => num.checked_mul(3600).ok_or_else(bad)?,
            "d" => num.checked_mul(86_400).ok_or_else(bad)?,
            _ => return Err(bad()),
        };
        if burst == 0 || secs == 0 || secs > 30 * 86_400 {
            return Err(bad());
        }
        Ok(Some(Rate::new(burst, Duration::from_secs(secs))))
    }
}

/// Every abuse limit, each `None` when switched off. The defaults suit one person on one device;
/// `--limits` changes them.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Log-in attempts against one handle, from anywhere.
    pub login_per_handle: Option<Rate>,
    /// Log-in attempts from one client address.
    pub login_per_client: Option<Rate>,
    /// Sign-ups from one client address.
    pub signup_per_client: Option<Rate>,
    /// Comments by one user.
    pub comments_per_user: Option<Rate>,
    /// Events (of any kind, counted one by one) from one user.
    pub events_per_user: Option<Rate>,
    /// Uploads by one user.
    pub uploads_per_user: Option<Rate>,
}

const MIN: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

impl Default for Limits {
    fn default() -> Self {
        Limits {
            login_per_handle: Some(Rate::new(10, MIN * 15)),
            login_per_client: Some(Rate::new(30, MIN * 15)),
            signup_per_client: Some(Rate::new(10, HOUR)),
            comments_per_user: Some(Rate::new(30, MIN * 10)),
            events_per_user: Some(Rate::new(2_000, MIN * 10)),
            uploads_per_user: Some(Rate::new(20, HOUR)),
        }
    }
}

impl Limits {
    /// No limit at all (benchmarks and tests that measure something else).
    pub fn off() -> Limits {
        Limits {
            login_per_handle: None,
            login_per_client: None,
            signup_per_client: None,
            comments_per_user: None,
            events_per_user: None,
            uploads_per_user: None,
        }
    }

    /// Applies `name=RATE,name=RATE` over the defaults, e.g. `login_per_handle=5/15m,signup_per_client=off`.
    pub fn parse(spec: &str) -> Result<Limits, String> {
        let mut l = Limits::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, rate) = part
                .split_once('=')
                .ok_or_else(|| format!("'{part}' is not name=RATE"))?;
            let rate = Rate::parse(rate)?;
            let slot = match name.trim() {
                "login_per_handle" => &mut l.login_per_handle,
                "login_per_client" => &mut l.login_per_client,
                "signup_per_client" => &mut l.signup_per_client,
                "comments_per_user" => &mut l.comments_per_user,
                "events_per_user" => &mut l.events_per_user,
                "uploads_per_user" => &mut l.uploads_per_user,
                other => {
                    return Err(format!(
                    "unknown limit '{other}'; the limits are login_per_handle, login_per_client, \
                         signup_per_client, comments_per_user, events_per_user, uploads_per_user"
                ))
                }
            };
            *slot = rate;
        }
        Ok(l)
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets by key. Holds at most `max_keys` buckets: when full, buckets that have refilled
/// (and so limit nothing) are dropped; if every bucket is still limiting, the oldest half goes.
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
    max_keys: usize,
}

/// A refusal: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryAfter(pub Duration);

impl RateLimiter {
    /// An empty limiter holding at most `max_keys` keys.
    pub fn new(max_keys: usize) -> RateLimiter {
        RateLimiter {
            buckets: Mutex::new(HashMap::new()),
            max_keys: max_keys.max(16),
        }
    }

    /// Takes `cost` actions from `key`'s bucket under `rate`, or says how long to wait. A cost
    /// above the burst is refused outright (with the time a full bucket takes).
    pub fn take(
        &self,
        key: &str,
        rate: Option<Rate>,
        cost: u32,
        now: Instant,
    ) -> Result<(), RetryAfter> {
        let Some(rate) = rate else { return Ok(()) };
        let burst = f64::from(rate.burst);
        let per_token = rate.per.as_secs_f64() / burst;
        let cost = f64::from(cost);
        let Ok(mut map) = self.buckets.lock() else {
            return Ok(());
        };
        if !map.contains_key(key) && map.len() >= self.max_keys {
            prune(&mut map, per_token, burst, now, self.max_keys);
        }
        let b = map.entry(key.to_string()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed / per_token).min(burst);
        b.at = now;
        if b.tokens >= cost {
            b.tokens -= cost;
            Ok(())
        } else {
            let wait = ((cost.min(burst) - b.tokens) * per_token).max(1.0);
            Err(RetryAfter(Duration::from_secs_f64(wait.ceil())))
        }
    }

    /// How many keys are held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.buckets.lock().map(|m| m.len()).unwrap_or(0)
    }
}

fn prune(
    map: &mut HashMap<String, Bucket>,
    per_token: f64,
    burst: f64,
    now: Instant,
    max_keys: usize,
) {
    map.retain(|_, b| {
        b.tokens + now.saturating_duration_since(b.at).as_secs_f64() / per_token < burst
    });
    if map.len() >= max_keys {
        let mut ages: Vec<Instant> = map.values().map(|b| b.at).collect();
        ages.sort_unstable();
        let cut = ages[ages.len() / 2];
        map.retain(|_, b| b.at > cut);
        tracing::warn!(
            kept = map.len(),
            "rate limiter full of limiting keys; the older half was dropped"
        );
    }
}

/// What a limit guards; each has its own buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guarded {
    /// Log-ins against a handle.
    LoginHandle,
    /// Log-ins from a client address.
    LoginClient,
    /// Sign-ups from a client address.
    SignupClient,
    /// Comments by a user.
    Comments,
    /// Events from a user.
    Events,
    /// Uploads by a user.
    Uploads,
}

/// The rate limiters of every guarded action.
pub struct Limiters {
    limits: Limits,
    buckets: [RateLimiter; 6],
}

/// Most keys each limiter holds (a bucket is ~100 bytes).
const MAX_KEYS: usize = 100_000;

impl Limiters {
    /// Limiters enforcing `limits`.
    pub fn new(limits: Limits) -> Limiters {
        Limiters {
            limits,
            buckets: std::array::from_fn(|_| RateLimiter::new(MAX_KEYS)),
        }
    }

    /// Takes `cost` from `key`'s bucket for `what`, or a 429 that says when to come back.
    pub fn check(&self, what: Guarded, key: &str, cost: u32) -> Result<(), crate::ApiError> {
        let l = &self.limits;
        let (i, rate, noun) = match what {
            Guarded::LoginHandle => (0, l.login_per_handle, "log-in attempts for this account"),
            Guarded::LoginClient => (1, l.login_per_client, "log-in attempts from your network"),
            Guarded::SignupClient => (2, l.signup_per_client, "sign-ups from your network"),
            Guarded::Comments => (3, l.comments_per_user, "comments"),
            Guarded::Events => (4, l.events_per_user, "interactions"),
            Guarded::Uploads => (5, l.uploads_per_user, "uploads"),
        };
        self.buckets[i]
            .take(key, rate, cost, Instant::now())
            .map_err(|RetryAfter(d)| crate::ApiError::too_many(noun, d.as_secs().max(1)))
    }
}

/// Caps concurrent memory-heavy work and the queue before it: password hashes (each argon2id
/// check takes ~19 MiB) and upload checks (a probe reads the whole file). A flood waits in a short
/// queue instead of piling up memory, and past the queue is told to come back.
pub struct Gate {
    permits: tokio::sync::Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// A held place; the gated work may run while it lives.
pub struct GatePermit<'a> {
    _permit: tokio::sync::SemaphorePermit<'a>,
}

impl Gate {
    /// `concurrent` at once, `max_waiting` callers queued behind them.
    pub fn new(concurrent: usize, max_waiting: usize) -> Gate {
        Gate {
            permits: tokio::sync::Semaphore::new(concurrent.max(1)),
            waiting: AtomicUsize::new(0),
            max_waiting,
        }
    }

    /// Waits for a place, up to `timeout`; `None` when the queue is full or the wait ran out.
    pub async fn enter(&self, timeout: Duration) -> Option<GatePermit<'_>> {
        if let Ok(p) = self.permits.try_acquire() {
            return Some(GatePermit { _permit: p });
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        let got = tokio::time::timeout(timeout, self.permits.acquire()).await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        match got {
            Ok(Ok(p)) => Some(GatePermit { _permit: p }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_refuses_past_its_burst_then_refills() {
        let l = RateLimiter::new(100);
        let r = Some(Rate::new(3, Duration::from_secs(30)));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.take("k", r, 1, t0), Ok(()));
        }
        let wait = l.take("k", r, 1, t0).expect_err("fourth in a burst of 3");
        assert_eq!(wait, RetryAfter(Duration::from_secs(10)));
        assert_eq!(l.take("other", r, 1, t0), Ok(()));
        assert_eq!(l.take("k", r, 1, t0 + Duration::from_secs(10)), Ok(()));
        assert!(l.take("k", r, 5, t0 + Duration::from_secs(3600)).is_err());
        assert_eq!(l.take("k", None, 1_000, t0), Ok(()));
    }

    #[test]
    fn keys_stay_bounded() {
        let l = RateLimiter::new(64);
        let r = Some(Rate::new(1, Duration::from_secs(3600)));
        let t0 = Instant::now();
        for i in 0..10_000 {
            let _ = l.take(&format!("client-{i}"), r, 1, t0);
            assert!(l.len() <= 64, "{} keys", l.len());
        }
    }

    #[test]
    fn rates_and_limits_parse() {
        assert_eq!(
            Rate::parse("5/15m"),
            Ok(Some(Rate::new(5, Duration::from_secs(900))))
        );
        assert_eq!(Rate::parse("off"), Ok(None));
        for bad in [
            "",
            "5",
            "0/1m",
            "5/0m",
            "5/1y",
            "x/1m",
            "5/99999999999999999999h",
        ] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
        let l = Limits::parse("login_per_handle=5/15m, signup_per_client=off").expect("valid");
        assert_eq!(
            l.login_per_handle,
            Some(Rate::new(5, Duration::from_secs(900)))
        );
        assert_eq!(l.signup_per_client, None);
        assert_eq!(l.comments_per_user, Limits::default().comments_per_user);
        assert!(Limits::parse("nope=1/1m").is_err());
    }

    #[tokio::test]
    async fn the_hash_gate_queues_then_refuses() {
        let g = Gate::new(1, 1);
        let first = g.enter(Duration::from_millis(10)).await;
        assert!(first.is_some());
        // The one queue place times out while the first holds the permit.
        assert!(g.enter(Duration::from_millis(20)).await.is_none());
        drop(first);
        assert!(g.enter(Duration::from_millis(10)).await.is_some());
    }
}
