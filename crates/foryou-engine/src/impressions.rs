//! Learning from what was shown. Each served page arrives as an `impression` record (the items,
//! their positions, sources, scores, exploration propensities and the ranker's features as
//! scored); its items wait in the person's state for the outcomes that follow within the
//! attribution window (watch ratio, completion, like, share, follow, comment, skip, not
//! interested). When an item's window closes, or the person's queue is full, an item that drew
//! any outcome teaches every head its label (watch ratio, like, share, follow, negative),
//! weighted by the inverse of its propensity; an item never reached teaches nothing (the person
//! left before it, which says nothing about it). Labels arrive late and are handled by waiting.

use crate::model::{Feature, Labels, NF};
use crate::state::State;
use crate::EngineConfig;
use foryou_types::{EventKind, EventRecord};
use serde::{Deserialize, Serialize};

/// How long after a page its items' outcomes count, ms.
pub const ATTRIBUTION_MS: u64 = 30 * 60_000;
/// Most items waiting per person (older ones close first).
pub const MAX_PENDING: usize = 40;
/// The largest inverse-propensity weight of one example.
const MAX_WEIGHT: f32 = 10.0;

/// One shown item waiting for its outcomes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pending {
    /// Item slot.
    pub item: u32,
    /// The features as scored, with its position.
    pub features: Vec<f32>,
    /// When it was shown, ms.
    pub shown_ms: u64,
    /// The chance the page's policy had of showing it.
    pub propensity: f32,
    /// Outcomes so far: watch ratio, like, share, follow, negative.
    pub labels: [f32; 5],
    /// Whether anything followed.
    pub touched: bool,
}

/// Notes a served page: its items wait for their outcomes.
pub fn note(s: &mut State, cfg: &EngineConfig, e: &EventRecord) {
    let Some(imp) = &e.impression else { return };
    close(s, cfg, e.user, e.ts_ms, true);
    let items: Vec<Pending> = imp
        .items
        .iter()
        .filter_map(|it| {
            let slot = s.item_ids.get(&it.video)?;
            let mut features: Vec<f32> = it.features.iter().copied().take(NF).collect();
            features.resize(NF, 0.0);
            features[Feature::Position as usize] = f32::from(it.position).ln_1p();
            Some(Pending {
                item: slot,
                features,
                shown_ms: e.ts_ms,
                propensity: it.propensity.clamp(1.0 / MAX_WEIGHT, 1.0),
                labels: [0.0; 5],
                touched: false,
            })
        })
        .collect();
    let Some(u) = s.users.get_mut(&e.user) else {
        return;
    };
    u.pending.extend(items);
    close(s, cfg, e.user, e.ts_ms, false);
}

/// Labels the waiting items an event is about.
pub fn outcome(s: &mut State, cfg: &EngineConfig, e: &EventRecord) {
    let (Some(video), Some(u)) = (e.video, s.users.get(&e.user)) else {
        return;
    };
    if u.pending.is_empty() {
        return;
    }
    let Some(slot) = s.item_ids.get(&video) else {
        return;
    };
    let ratio = e.watch_ratio().unwrap_or(0.0).min(1.0) as f32;
    if let Some(p) = s
        .users
        .get_mut(&e.user)
        .and_then(|u| u.pending.iter_mut().rev().find(|p| p.item == slot))
    {
        match e.kind {
            EventKind::View => {
                p.labels[0] = p.labels[0].max(ratio);
                if ratio < 0.2 {
                    p.labels[4] = 1.0;
                }
            }
            EventKind::Skip | EventKind::NotInterested => p.labels[4] = 1.0,
            EventKind::Like | EventKind::Save => p.labels[1] = 1.0,
            EventKind::Share => p.labels[2] = 1.0,
            EventKind::Follow => p.labels[3] = 1.0,
            EventKind::Comment => p.labels[1] = p.labels[1].max(0.5),
            _ => return,
        }
        p.touched = true;
    }
    close(s, cfg, e.user, e.ts_ms, false);
}

/// Closes the items whose window is over (all of them with `all`) or that overflow the queue,
/// and teaches the heads from those that drew an outcome.
fn close(s: &mut State, cfg: &EngineConfig, user: foryou_types::UserId, now_ms: u64, all: bool) {
    let Some(u) = s.users.get_mut(&user) else {
        return;
    };
    let mut done = Vec::new();
    while let Some(p) = u.pending.front() {
        let expired = all && p.touched
            || now_ms.saturating_sub(p.shown_ms) > ATTRIBUTION_MS
            || u.pending.len() > MAX_PENDING;
        if !expired {
            break;
        }
        if let Some(p) = u.pending.pop_front() {
            done.push(p);
        }
    }
    if all {
        // A new page: what was reached on the earlier ones is labelled by now.
        let (reached, waiting): (Vec<Pending>, Vec<Pending>) =
            u.pending.drain(..).partition(|p| p.touched);
        done.extend(reached);
        u.pending.extend(waiting);
    }
    if cfg.ranker_rate <= 0.0 {
        return;
    }
    for p in done.into_iter().filter(|p| p.touched) {
        let mut x = [0.0f32; NF];
        for (a, b) in x.iter_mut().zip(&p.features) {
            *a = *b;
        }
        let labels: Labels = p.labels.map(Some);
        s.heads.learn(
            &x,
            &labels,
            cfg.ranker_rate,
            cfg.ranker_l2,
            1.0 / p.propensity,
        );
    }
}
