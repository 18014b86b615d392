//! New videos get a staged audience. A new video enters the exploration pool at stage 0 with a
//! small audience (`first_pool` exposures). When that audience is used up, the video moves to the
//! next, `widen`-times larger stage if its engagement rate beats the region's average, and leaves
//! the pool otherwise; after the last stage it graduates and lives on trending and personal
//! retrieval like any other video. Within the pool, Thompson sampling from each video's Beta
//! posterior decides who is shown next, so a good start is rewarded and a weak one fades.

use crate::state::State;
use crate::EngineConfig;
use rand::Rng;

/// The region's average engagement rate (good engagements per exposure).
pub fn region_rate(s: &State) -> f32 {
    (s.totals.sum.good() + 1.0) / (s.totals.sum.exposures + 4.0)
}

/// A draw from the Beta posterior of item `i`'s engagement rate, with the region's rate as prior.
pub fn draw(s: &State, i: u32, rng: &mut impl Rng) -> f32 {
    let st = &s.items[i as usize].stats;
    let mu = region_rate(s).clamp(0.01, 0.99);
    let good = st.good().min(st.exposures).max(0.0);
    let a = 4.0 * mu + good;
    let b = 4.0 * (1.0 - mu) + (st.exposures - good).max(0.0);
    beta(a as f64, b as f64, rng) as f32
}

/// Admits a new item to the pool when it is young enough.
pub fn admit(s: &mut State, i: u32, now_ms: u64, cfg: &EngineConfig) {
    let it = &mut s.items[i as usize];
    let window = (cfg.new_video_window_h * 3.6e6) as u64;
    if it.stage.is_none()
        && it.stats.exposures < 1.0
        && now_ms.saturating_sub(it.created_ms) < window
    {
        it.stage = Some(0);
        s.fresh.push(i);
    }
}

/// Called after an exposure: promotes or retires the item when its stage's audience is used up.
pub fn on_exposure(s: &mut State, i: u32, cfg: &EngineConfig) {
    let rate = region_rate(s);
    let it = &mut s.items[i as usize];
    let Some(stage) = it.stage else { return };
    let cap = cfg.first_pool * cfg.widen.powi(stage as i32);
    if it.stats.exposures < cap {
        return;
    }
    let own = it.stats.good() / it.stats.exposures.max(1.0);
    if own > rate && stage + 1 < cfg.stages {
        it.stage = Some(stage + 1);
    } else {
        it.stage = None;
        s.fresh.retain(|&x| x != i);
    }
}

/// Drops pool members that are too old or no longer live.
pub fn expire(s: &mut State, now_ms: u64, cfg: &EngineConfig) {
    let window = (cfg.new_video_window_h * 3.6e6) as u64;
    let items = &mut s.items;
    s.fresh.retain(|&i| {
        let it = &mut items[i as usize];
        let keep = it.live && now_ms.saturating_sub(it.created_ms) < window;
        if !keep {
            it.stage = None;
        }
        keep
    });
}

fn normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Gamma(shape, 1) by Marsaglia and Tsang.
fn gamma(shape: f64, rng: &mut impl Rng) -> f64 {
    if shape < 1.0 {
        let u: f64 = rng.gen_range(f64::EPSILON..1.0);
        return gamma(shape + 1.0, rng) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u: f64 = rng.gen_range(f64::EPSILON..1.0);
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// Beta(a, b).
pub fn beta(a: f64, b: f64, rng: &mut impl Rng) -> f64 {
    let x = gamma(a.max(1e-3), rng);
    let y = gamma(b.max(1e-3), rng);
    x / (x + y).max(1e-12)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn beta_draws_have_the_right_mean() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let n = 20_000;
        let m: f64 = (0..n).map(|_| beta(2.0, 8.0, &mut rng)).sum::<f64>() / n as f64;
        assert!((m - 0.2).abs() < 0.01, "{m}");
        let m: f64 = (0..n).map(|_| beta(0.5, 0.5, &mut rng)).sum::<f64>() / n as f64;
        assert!((m - 0.5).abs() < 0.02, "{m}");
    }
}
