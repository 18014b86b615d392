//! Counterfactual evaluation (`foryou eval --counterfactual --impressions FILE --config
//! CANDIDATE`): how a candidate ranking configuration would have done on logged impressions,
//! before it goes live.
//!
//! FILE holds log records as JSON lines (a region's log, or a person's `events.jsonl` export):
//! the `impression` records (each served page: items, positions, propensities and the ranker's
//! features as scored) and the events that followed. Each shown item's outcome within the
//! attribution window (watch ratio, like, share, follow, negative) is valued with the published
//! objective weights, the same yardstick for every policy. Both the logged policy (the page as
//! it was served) and the candidate (the candidate's heads and weights re-ranking each logged
//! page's items from their logged features) are judged by the outcomes of their top K of each
//! page, weighted by the inverse of each item's logged propensity and self-normalised (SNIPS).
//! Items never reached (no outcome) are left out of both. The candidate can only re-order what
//! was logged: it is judged on the pages the logged policy served.

use anyhow::{Context, Result};
use foryou_engine::model::{Heads, NF};
use foryou_engine::EngineConfig;
use foryou_types::{EventKind, EventRecord, UserId, VideoId};
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

/// How long after a page its items' outcomes count (as the engine's learner), ms.
const WINDOW_MS: u64 = foryou_engine::impressions::ATTRIBUTION_MS;
/// Longest line read.
const MAX_LINE: usize = 1 << 20;

/// One shown item with its outcome.
struct Shown {
    video: VideoId,
    position: u16,
    propensity: f32,
    features: [f32; NF],
    labels: [f32; 5],
    reached: bool,
}

/// One logged page.
struct Page {
    shown_ms: u64,
    items: Vec<Shown>,
}

/// The estimate of one policy.
#[derive(Debug, serde::Serialize)]
pub struct Estimate {
    /// Self-normalised inverse-propensity estimate of the value per item of its top K.
    pub value: f64,
    /// Effective sample size of the weights, `(Σw)² / Σw²`.
    pub effective_items: f64,
}

/// What the evaluation reports.
#[derive(Debug, serde::Serialize)]
pub struct Report {
    /// Pages read, and pages with at least one item reached.
    pub pages: usize,
    /// Pages with an outcome.
    pub pages_with_outcomes: usize,
    /// The cut-off.
    pub k: usize,
    /// The logged policy.
    pub logged: Estimate,
    /// The candidate.
    pub candidate: Estimate,
    /// `candidate.value − logged.value` (values can be negative: skips count against).
    pub difference: f64,
}

/// Reads the pages and their outcomes from `path`.
fn read(path: &Path) -> Result<Vec<Page>> {
    let f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut pages: Vec<Page> = Vec::new();
    // Per person, their pages still within the window (indices into `pages`).
    let mut open: HashMap<UserId, Vec<usize>> = HashMap::new();
    let mut reader = std::io::BufReader::new(f);
    let mut line = String::new();
    let mut n = 0usize;
    loop {
        line.clear();
        let read = std::io::Read::take(&mut reader, MAX_LINE as u64 + 1)
            .read_line(&mut line)
            .with_context(|| format!("reading {}", path.display()))?;
        if read == 0 {
            break;
        }
        n += 1;
        anyhow::ensure!(
            line.len() <= MAX_LINE,
            "line {n}: longer than {MAX_LINE} bytes"
        );
        if line.trim().is_empty() {
            continue;
        }
        let r: EventRecord =
            serde_json::from_str(&line).with_context(|| format!("line {n}: not a log record"))?;
        if r.kind == EventKind::Impression {
            let Some(imp) = r.impression else { continue };
            let items = imp
                .items
                .into_iter()
                .map(|it| {
                    let mut features = [0.0f32; NF];
                    for (a, b) in features.iter_mut().zip(&it.features) {
                        *a = if b.is_finite() { *b } else { 0.0 };
                    }
                    Shown {
                        video: it.video,
                        position: it.position,
                        propensity: it.propensity.clamp(0.01, 1.0),
                        features,
                        labels: [0.0; 5],
                        reached: false,
                    }
                })
                .collect();
            pages.push(Page {
                shown_ms: r.ts_ms,
                items,
            });
            let list = open.entry(r.user).or_default();
            list.push(pages.len() - 1);
            let now = r.ts_ms;
            list.retain(|&p| now.saturating_sub(pages[p].shown_ms) <= WINDOW_MS);
            continue;
        }
        let (Some(video), Some(list)) = (r.video, open.get(&r.user)) else {
            continue;
        };
        // The latest page within the window that showed it.
        let hit = list.iter().rev().find_map(|&p| {
            let page = &pages[p];
            if r.ts_ms.saturating_sub(page.shown_ms) > WINDOW_MS {
                return None;
            }
            page.items
                .iter()
                .position(|s| s.video == video)
                .map(|i| (p, i))
        });
        let Some((p, i)) = hit else { continue };
        let s = &mut pages[p].items[i];
        let ratio = r.watch_ratio().unwrap_or(0.0).min(1.0) as f32;
        match r.kind {
            EventKind::View => {
                s.labels[0] = s.labels[0].max(ratio);
                if ratio < 0.2 {
                    s.labels[4] = 1.0;
                }
            }
            EventKind::Skip | EventKind::NotInterested => s.labels[4] = 1.0,
            EventKind::Like => s.labels[1] = 1.0,
            EventKind::Share => s.labels[2] = 1.0,
            EventKind::Follow => s.labels[3] = 1.0,
            _ => continue,
        }
        s.reached = true;
    }
    Ok(pages)
}

/// The value of an outcome with the published objective weights.
fn value(cfg: &EngineConfig, l: &[f32; 5]) -> f64 {
    let w = &cfg.objectives;
    f64::from(w.watch * l[0] + w.like * l[1] + w.share * l[2] + w.follow * l[3] - w.negative * l[4])
}

fn estimate(samples: &[(f64, f64)]) -> Estimate {
    let sw: f64 = samples.iter().map(|s| s.0).sum();
    let sw2: f64 = samples.iter().map(|s| s.0 * s.0).sum();
    let swr: f64 = samples.iter().map(|s| s.0 * s.1).sum();
    Estimate {
        value: if sw > 0.0 { swr / sw } else { 0.0 },
        effective_items: if sw2 > 0.0 { sw * sw / sw2 } else { 0.0 },
    }
}

/// Evaluates `candidate` against the logged policy on the impressions in `path`.
pub fn run(path: &Path, candidate: &EngineConfig, k: usize) -> Result<Report> {
    let pages = read(path)?;
    let yardstick = EngineConfig::default();
    let heads = Heads::initial(candidate);
    let w = &candidate.objectives;
    let mut logged = Vec::new();
    let mut cand = Vec::new();
    let mut with_outcomes = 0;
    for page in &pages {
        if !page.items.iter().any(|s| s.reached) {
            continue;
        }
        with_outcomes += 1;
        let mut order: Vec<(usize, f32)> = page
            .items
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut x = s.features;
                x[foryou_engine::model::Feature::Position as usize] = 0.0;
                let p = heads.predict(&x);
                (
                    i,
                    w.watch * p[0] + w.like * p[1] + w.share * p[2] + w.follow * p[3]
                        - w.negative * p[4],
                )
            })
            .collect();
        order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for (rank, (i, _)) in order.iter().enumerate() {
            let s = &page.items[*i];
            if rank < k && s.reached {
                cand.push((1.0 / f64::from(s.propensity), value(&yardstick, &s.labels)));
            }
        }
        for s in &page.items {
            if usize::from(s.position) < k && s.reached {
                logged.push((1.0 / f64::from(s.propensity), value(&yardstick, &s.labels)));
            }
        }
    }
    let logged = estimate(&logged);
    let candidate = estimate(&cand);
    let difference = candidate.value - logged.value;
    Ok(Report {
        pages: pages.len(),
        pages_with_outcomes: with_outcomes,
        k,
        logged,
        candidate,
        difference,
    })
}
