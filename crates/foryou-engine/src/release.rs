//! What a region may tell other regions about its users: differentially private counts of the
//! people who engaged with each video, and nothing else.
//!
//! Within one release window each user counts at most once per video and for at most
//! `max_videos_per_user` videos, so one person changes the histogram by at most that many in L1.
//! A release adds Laplace noise of scale `max_videos_per_user / epsilon` to every non-zero count
//! and keeps only noisy counts above a threshold chosen so that a count one person made alone
//! crosses it with probability at most `delta / max_videos_per_user`: each release is
//! (epsilon, delta)-differentially private for one user's whole window. A region spends at most
//! `daily_epsilon` per UTC day; once spent, nothing more is released that day.

use foryou_types::{EventKind, EventRecord, UserId, VideoId};
use rand::Rng;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

/// The published privacy parameters of releases.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReleaseConfig {
    /// The privacy loss of one release.
    pub epsilon: f64,
    /// The probability bound of the threshold step.
    pub delta: f64,
    /// Most videos one user counts for in a window.
    pub max_videos_per_user: u32,
    /// Most privacy loss spent per UTC day; then nothing more is released until the next day.
    pub daily_epsilon: f64,
    /// Length of a release window.
    pub window_ms: u64,
}

impl Default for ReleaseConfig {
    fn default() -> Self {
        // Per release: epsilon 1 over a 6-hour window in which a user counts for at most 5
        // videos; Laplace scale 5, threshold ~75 people. Four releases a day at most.
        ReleaseConfig {
            epsilon: 1.0,
            delta: 1e-6,
            max_videos_per_user: 5,
            daily_epsilon: 4.0,
            window_ms: 6 * 3_600_000,
        }
    }
}

impl ReleaseConfig {
    /// The Laplace scale `b = max_videos_per_user / epsilon`.
    pub fn noise_scale(&self) -> f64 {
        f64::from(self.max_videos_per_user.max(1)) / self.epsilon
    }

    /// The smallest noisy count released: `1 + b ln(k / (2 delta))`, so that a count of one
    /// crosses it with probability at most `delta / k`.
    pub fn threshold(&self) -> f64 {
        let k = f64::from(self.max_videos_per_user.max(1));
        1.0 + self.noise_scale() * (k / (2.0 * self.delta)).ln()
    }
}

/// One release: noisy counts of distinct users per video, with its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Release {
    /// When it was made.
    pub released_ms: u64,
    /// Its privacy loss.
    pub epsilon: f64,
    /// Its delta.
    pub delta: f64,
    /// Videos whose noisy count passed the threshold, with that noisy count, largest first.
    pub counts: Vec<(VideoId, f64)>,
}

/// Why nothing was released.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Withheld {
    /// The window is not over yet.
    #[error("the release window is still open")]
    WindowOpen,
    /// Today's privacy budget is spent.
    #[error("today's privacy budget of {daily} is spent ({spent} used)")]
    BudgetSpent {
        /// Spent today.
        spent: f64,
        /// Allowed per day.
        daily: f64,
    },
}

/// The privacy budget spent on one UTC day (persisted by the caller, so restarts cannot reset it).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    /// Days since the Unix epoch.
    pub day: u64,
    /// Epsilon spent that day.
    pub spent: f64,
}

/// Collects one region's contributions for the current window and makes releases.
pub struct Releaser {
    config: ReleaseConfig,
    window_start: u64,
    by_user: FxHashMap<UserId, FxHashSet<VideoId>>,
    counts: FxHashMap<VideoId, u32>,
    budget: Budget,
}

const DAY_MS: u64 = 86_400_000;

/// Whether an event shows that the user engaged with its video (not a skip or a glance).
fn engaged(e: &EventRecord) -> bool {
    match e.kind {
        EventKind::Like | EventKind::Save | EventKind::Share | EventKind::Comment => true,
        EventKind::View => match (e.watch_ms, e.duration_ms) {
            (Some(w), Some(d)) => w.saturating_mul(2) >= d.max(1),
            _ => false,
        },
        _ => false,
    }
}

impl Releaser {
    /// A releaser whose first window starts at `now_ms`, with the budget already spent today.
    pub fn new(config: ReleaseConfig, now_ms: u64, budget: Budget) -> Releaser {
        Releaser {
            config,
            window_start: now_ms,
            by_user: FxHashMap::default(),
            counts: FxHashMap::default(),
            budget,
        }
    }

    /// The parameters.
    pub fn config(&self) -> &ReleaseConfig {
        &self.config
    }

    /// The budget spent on the current day.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// Counts one event of this region's log: a user counts once per video and for at most
    /// `max_videos_per_user` videos per window.
    pub fn observe(&mut self, e: &EventRecord) {
        let Some(video) = e.video else { return };
        if e.not_released || !engaged(e) {
            return;
        }
        let mine = self.by_user.entry(e.user).or_default();
        if mine.contains(&video) || mine.len() >= self.config.max_videos_per_user as usize {
            return;
        }
        mine.insert(video);
        *self.counts.entry(video).or_default() += 1;
    }

    /// Releases the window's noisy counts when it is over and today's budget allows; the window
    /// starts again either way once it is over.
    pub fn release(&mut self, now_ms: u64, rng: &mut impl Rng) -> Result<Release, Withheld> {
        if now_ms < self.window_start.saturating_add(self.config.window_ms) {
            return Err(Withheld::WindowOpen);
        }
        let day = now_ms / DAY_MS;
        if self.budget.day != day {
            self.budget = Budget { day, spent: 0.0 };
        }
        let counts = std::mem::take(&mut self.counts);
        self.by_user.clear();
        self.window_start = now_ms;
        if self.budget.spent + self.config.epsilon > self.config.daily_epsilon + 1e-12 {
            return Err(Withheld::BudgetSpent {
                spent: self.budget.spent,
                daily: self.config.daily_epsilon,
            });
        }
        self.budget.spent += self.config.epsilon;
        let (b, t) = (self.config.noise_scale(), self.config.threshold());
        // A fixed order, so a seeded release is reproducible.
        let mut items: Vec<(VideoId, u32)> = counts.into_iter().collect();
        items.sort_unstable_by_key(|x| x.0);
        let mut out: Vec<(VideoId, f64)> = items
            .into_iter()
            .map(|(v, c)| (v, f64::from(c) + laplace(b, rng)))
            .filter(|(_, noisy)| *noisy >= t)
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(Release {
            released_ms: now_ms,
            epsilon: self.config.epsilon,
            delta: self.config.delta,
            counts: out,
        })
    }
}

/// One draw of Laplace(0, b) by inverse transform.
pub fn laplace(b: f64, rng: &mut impl Rng) -> f64 {
    let u: f64 = rng.gen_range(-0.5..0.5);
    -b * u.signum() * (1.0 - 2.0 * u.abs()).max(f64::MIN_POSITIVE).ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use foryou_types::Region;
    use rand::SeedableRng;

    fn ev(user: u64, video: u64, kind: EventKind, watch: Option<u64>) -> EventRecord {
        EventRecord {
            video: Some(VideoId(video)),
            duration_ms: Some(10_000),
            watch_ms: watch,
            ..EventRecord::new(
                format!("{user}-{video}"),
                UserId(user),
                Region::new("eu").expect("region"),
                kind,
                0,
            )
        }
    }

    #[test]
    fn the_noise_has_the_published_scale() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let b = ReleaseConfig::default().noise_scale();
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| laplace(b, &mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        let mad = xs.iter().map(|x| x.abs()).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.1 * b, "mean {mean}");
        // Laplace(b): variance 2b², mean absolute deviation b.
        assert!(
            (var / (2.0 * b * b) - 1.0).abs() < 0.03,
            "variance {var} vs {}",
            2.0 * b * b
        );
        assert!((mad / b - 1.0).abs() < 0.02, "mean |x| {mad} vs {b}");
    }

    #[test]
    fn one_person_is_capped_and_never_released_alone() {
        let cfg = ReleaseConfig::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut released_alone = 0;
        for round in 0..2_000u64 {
            let mut r = Releaser::new(cfg.clone(), 0, Budget::default());
            // One user engages with 30 videos, repeatedly: counted once each, for 10 at most.
            for v in 0..30 {
                for kind in [EventKind::Like, EventKind::Share] {
                    r.observe(&ev(1, v, kind, None));
                }
            }
            assert_eq!(r.counts.len(), cfg.max_videos_per_user as usize);
            assert!(r.counts.values().all(|&c| c == 1));
            let rel = r
                .release(cfg.window_ms + round, &mut rng)
                .expect("a release");
            released_alone += rel.counts.len();
        }
        assert_eq!(
            released_alone, 0,
            "a single person's count crossed the threshold"
        );
    }

    #[test]
    fn a_crowd_is_released_and_skips_do_not_count() {
        let cfg = ReleaseConfig::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let mut r = Releaser::new(cfg.clone(), 0, Budget::default());
        for u in 0..500 {
            r.observe(&ev(u, 42, EventKind::View, Some(9_000)));
            r.observe(&ev(u, 43, EventKind::View, Some(1_000)));
        }
        let rel = r.release(cfg.window_ms, &mut rng).expect("a release");
        assert_eq!(rel.counts.len(), 1, "{:?}", rel.counts);
        assert_eq!(rel.counts[0].0, VideoId(42));
        assert!((rel.counts[0].1 - 500.0).abs() < 20.0 * cfg.noise_scale());
        assert!(cfg.threshold() > 1.0);
    }

    #[test]
    fn the_daily_budget_stops_releases_until_the_next_day() {
        let cfg = ReleaseConfig {
            window_ms: 1,
            ..ReleaseConfig::default()
        };
        let per_day = (cfg.daily_epsilon / cfg.epsilon).round() as u64;
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let mut r = Releaser::new(cfg.clone(), 0, Budget::default());
        let mut made = 0;
        for t in 1..=(per_day + 5) {
            match r.release(t, &mut rng) {
                Ok(_) => made += 1,
                Err(Withheld::BudgetSpent { .. }) => {}
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(made, per_day);
        assert!((r.budget().spent - cfg.daily_epsilon).abs() < 1e-9);
        // A restart that carries the spent budget cannot release more today.
        let mut again = Releaser::new(cfg.clone(), 100, r.budget().clone());
        assert!(matches!(
            again.release(200, &mut rng),
            Err(Withheld::BudgetSpent { .. })
        ));
        // The next day the budget is fresh.
        assert!(again.release(DAY_MS + 1, &mut rng).is_ok());
        assert!(matches!(
            Releaser::new(cfg.clone(), 0, Budget::default()).release(0, &mut rng),
            Err(Withheld::WindowOpen)
        ));
    }

    #[test]
    fn people_who_keep_their_activity_out_of_shared_statistics_are_not_counted() {
        let mut r = Releaser::new(ReleaseConfig::default(), 0, Budget::default());
        let mut e = ev(1, 7, EventKind::Like, None);
        e.not_released = true;
        r.observe(&e);
        assert!(r.counts.is_empty());
        r.observe(&ev(2, 7, EventKind::Like, None));
        assert_eq!(r.counts.get(&VideoId(7)), Some(&1));
    }
}
