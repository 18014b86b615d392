//! The learner's arithmetic: online logistic regression on a user's affinities, the
//! co-engagement feature, statistics, and forward-decayed popularity with its trending set.

use crate::state::{State, Stats, UserState};
use crate::EngineConfig;
use foryou_types::{EventKind, EventRecord};

/// Affinities stay within ±this (logit scale).
pub(crate) const AFFINITY_CAP: f32 = 6.0;

/// One step of online logistic regression on the user's affinities: the user engaged (`s ≥ 0.5`)
/// or turned away (`s < 0`) from a video of `creator`, with `sound` and `tags`, co-engaged `co`
/// with their recent videos. The step is the surprise `y − p` where
/// `p = σ(bias + a_creator + a_sound + mean a_tag + trust·co)`, so evidence already
/// explained by one feature barely moves the others: finishing the tenth video of a loved creator
/// says little about its sound, while finishing a video of a skipped creator credits its sound;
/// and a user who keeps skipping what others watched alongside their videos learns a low `trust`
/// in co-engagement, which the ranker multiplies in.
pub(crate) fn learn_affinity(
    u: &mut UserState,
    creator: Option<u32>,
    sound: Option<u32>,
    tags: &[u32],
    co: f32,
    s: f32,
    rate: f32,
) {
    let y = if s >= 0.5 {
        1.0
    } else if s < 0.0 {
        0.0
    } else {
        return;
    };
    let get = |m: &rustc_hash::FxHashMap<u32, f32>, k: Option<u32>| {
        k.and_then(|k| m.get(&k).copied()).unwrap_or(0.0)
    };
    let tag_mean = if tags.is_empty() {
        0.0
    } else {
        tags.iter().map(|t| get(&u.tags, Some(*t))).sum::<f32>() / tags.len() as f32
    };
    let x = u.bias
        + get(&u.creators, creator)
        + get(&u.sounds, sound)
        + tag_mean
        + u.trust_coengaged * co;
    let p = 1.0 / (1.0 + (-x).exp());
    let g = rate * (y - p) * s.abs().clamp(0.5, 3.0);
    let step = |m: &mut rustc_hash::FxHashMap<u32, f32>, k: u32, f: f32| {
        let a = m.entry(k).or_default();
        *a = (*a + g * f).clamp(-AFFINITY_CAP, AFFINITY_CAP);
    };
    if let Some(c) = creator {
        step(&mut u.creators, c, 1.0);
    }
    if let Some(x) = sound {
        step(&mut u.sounds, x, 1.0);
    }
    for &t in tags {
        step(&mut u.tags, t, 0.5);
    }
    u.bias = (u.bias + 0.2 * g).clamp(-AFFINITY_CAP, AFFINITY_CAP);
    u.trust_coengaged = (u.trust_coengaged + g * co).clamp(0.0, 3.0);
}

/// How strongly item `i` is co-engaged with the user's last 20 engagements: `ln(1 + 10·ĉ)` of
/// the recency-weighted mean cosine, the feature the ranker reads.
pub(crate) fn coengagement_feature(cooc: &crate::cooc::CoEngagement, u: &UserState, i: u32) -> f32 {
    let (mut num, mut den, mut w) = (0.0, 0.0, 1.0);
    // The twenty slots of `i`'s row start loading together rather than one after another.
    for &(h, _) in u.recent.iter().rev().take(20) {
        cooc.prefetch_slot(i, h);
        cooc.prefetch_mass(h);
    }
    for &(h, s) in u.recent.iter().rev().take(20) {
        // Read from `i`'s row: one row, about to be updated by the learner anyway, instead of
        // twenty (each a cache miss in a large catalog). The pair is counted in both rows alike.
        num += w * s * cooc.similarity(i, h);
        den += w * s;
        w *= 0.933;
    }
    if den > 0.0 {
        (10.0 * num / den).ln_1p()
    } else {
        0.0
    }
}

pub(crate) fn add_stats(a: &mut Stats, d: &Stats) {
    a.exposures += d.exposures;
    a.watch += d.watch;
    a.completions += d.completions;
    a.likes += d.likes;
    a.shares += d.shares;
    a.comments += d.comments;
    a.follows += d.follows;
    a.negatives += d.negatives;
}

impl State {
    /// Multiplier that turns stored forward-decayed popularity into popularity at `now_ms`.
    pub fn pop_scale(&self, now_ms: u64, half_life_h: f64) -> f64 {
        let h = (now_ms as f64 - self.pop_origin_ms as f64) / 3.6e6;
        0.5f64.powf(h / half_life_h)
    }

    /// Multiplier that turns stored crowd popularity into the crowd's popularity now.
    pub fn crowd_scale(&self) -> f64 {
        0.5f64.powf(self.crowd_exp)
    }

    /// Moves the crowd's clock to an engagement at `ts_ms`: by the hours since the last one over
    /// `popularity_half_life_h`, but by no more than one engagement's share of
    /// `popularity_half_life_events`. In a busy region this is popularity's own clock; a quiet
    /// one's crowd keeps the evidence of its last several thousand engagements however long
    /// they took, instead of being the few people who came by today.
    fn advance_crowd_clock(&mut self, ts_ms: u64, cfg: &EngineConfig) {
        if self.crowd_last_ms == 0 {
            self.crowd_last_ms = ts_ms;
        }
        let hours = ts_ms.saturating_sub(self.crowd_last_ms) as f64 / 3.6e6;
        let by_time = hours / cfg.popularity_half_life_h.max(1e-9);
        let by_traffic = 1.0 / cfg.popularity_half_life_events.max(1.0);
        self.crowd_exp += by_time.min(by_traffic);
        self.crowd_last_ms = self.crowd_last_ms.max(ts_ms);
        if self.crowd_exp > 200.0 {
            // Rebase before the numbers overflow.
            let f = 0.5f64.powf(self.crowd_exp);
            for it in &mut self.items {
                it.crowd *= f;
            }
            self.trending_floor *= f;
            self.crowd_exp = 0.0;
        }
    }

    /// Adds engagement `w` at `ts_ms` to item `i`'s popularity and keeps the trending set.
    pub fn add_pop(&mut self, i: u32, w: f64, ts_ms: u64, cfg: &EngineConfig) {
        self.advance_crowd_clock(ts_ms, cfg);
        let half = cfg.popularity_half_life_h;
        if self.pop_origin_ms == 0 {
            self.pop_origin_ms = ts_ms;
        }
        let exp = (ts_ms as f64 - self.pop_origin_ms as f64) / 3.6e6 / half;
        if exp > 200.0 {
            // Rebase the forward decay before the numbers overflow.
            let f = 0.5f64.powf(exp);
            for it in &mut self.items {
                it.pop *= f;
            }
            self.pop_origin_ms = ts_ms;
        }
        let exp = (ts_ms as f64 - self.pop_origin_ms as f64) / 3.6e6 / half;
        if !self.items[i as usize].engaged {
            self.items[i as usize].engaged = true;
            self.engaged += 1;
        }
        self.items[i as usize].pop += w * 2f64.powf(exp);
        self.items[i as usize].crowd += w * 2f64.powf(self.crowd_exp);
        let n = cfg.trending_size.max(10);
        let pop = self.items[i as usize].crowd;
        if (self.trending.len() < 2 * n || pop >= self.trending_floor)
            && !self.items[i as usize].trending
        {
            self.trending.push(i);
            self.items[i as usize].trending = true;
            if self.trending.len() > 4 * n {
                let items = &mut self.items;
                self.trending.sort_by(|a, b| {
                    items[*b as usize]
                        .crowd
                        .total_cmp(&items[*a as usize].crowd)
                });
                for &gone in &self.trending[2 * n..] {
                    items[gone as usize].trending = false;
                }
                self.trending.truncate(2 * n);
                self.trending_floor =
                    self.items[*self.trending.last().expect("non-empty") as usize].crowd;
            }
        }
    }

    /// The `n` most popular live items of the trending set, best first.
    pub fn top_trending(&self, n: usize) -> Vec<u32> {
        // Each item's popularity is read once (the set holds up to four times the trending
        // size, scattered over the catalog); the first `n` are chosen before they are sorted.
        if n == 0 {
            return Vec::new();
        }
        let mut v: Vec<(f64, u32)> = self
            .trending
            .iter()
            .filter_map(|&i| {
                let it = &self.items[i as usize];
                it.live.then_some((it.crowd, i))
            })
            .collect();
        let order = |a: &(f64, u32), b: &(f64, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if v.len() > n {
            v.select_nth_unstable_by(n - 1, order);
            v.truncate(n);
        }
        v.sort_unstable_by(order);
        v.into_iter().map(|(_, i)| i).collect()
    }
}

/// How much an event says the user liked the video (negative: disliked).
pub fn signal(e: &EventRecord) -> f32 {
    match e.kind {
        EventKind::View => {
            let r = e.watch_ratio().unwrap_or(0.0) as f32;
            if e.completed() {
                1.0 + 0.5 * e.replays().min(4) as f32
            } else if r < 0.2 {
                -0.3
            } else {
                r - 0.2
            }
        }
        EventKind::Skip => -0.5,
        EventKind::Like => 2.0,
        EventKind::Unlike => -2.0,
        EventKind::Share => 3.0,
        EventKind::Comment => 1.5,
        EventKind::Follow => 3.0,
        EventKind::Unfollow => -3.0,
        EventKind::NotInterested => -5.0,
        // Saving for later is as strong as a like, and taking it back as strong against.
        EventKind::Save => 2.0,
        EventKind::Unsave => -2.0,
        // Liking a comment says a little about the video it is on.
        EventKind::LikeComment => 0.3,
        EventKind::UnlikeComment => -0.3,
        EventKind::Refresh
        | EventKind::Publish
        | EventKind::Unpublish
        | EventKind::ApproveFollower
        | EventKind::DeclineFollower
        | EventKind::UndoNotInterested
        | EventKind::Erased
        | EventKind::Impression => 0.0,
    }
}
