//! Feature hydration: each hydrator fills one group of a candidate's personal features that its
//! source did not already know. A new feature is a new hydrator.

use crate::pipeline::{Candidate, Hydrator, Query};
use rustc_hash::FxHashMap;

/// What probing one item's slot in a co-engagement row costs (a wait for memory at random,
/// overlapped with the next candidate's), against reading one neighbour while scanning a row
/// in order: scanning the rows of a person's history and skips pays when it reads fewer than
/// this many times the entries the probes would. Measured with `perf` on `foryou bench`'s
/// ranking steps (BENCHMARKS.md): 8 before the probes were prefetched, 2 since.
const SCAN_PER_LOOKUP: usize = 2;

/// Co-engagement with the user's recent engagements (and with their recent skips).
pub struct CoEngagementFeatures;

impl Hydrator for CoEngagementFeatures {
    fn name(&self) -> &'static str {
        "coengagement"
    }
    fn hydrate(&self, q: &Query, c: &mut Candidate) {
        probe(q, &q.history, c);
    }

    /// Where the co-engagement source already spread the person's history over its rows, its
    /// sums are read. The rest (the history otherwise, the skips always) is found one of two
    /// ways, whichever reads less: probing each candidate's slot in each row (a wait for memory
    /// at random each, the next candidate's started while the current one's are read), or, for
    /// a feed's hundreds of candidates, reading each row once in order. All give the same
    /// numbers (the source's sums round once differently, by at most a unit in the last place).
    fn hydrate_all(&self, q: &Query, list: &mut [Candidate]) {
        let cooc = &q.state.cooc;
        let mut history: &[(u32, f32)] = &q.history;
        if let Some(spread) = q.spread.get() {
            for c in list.iter_mut().filter(|c| c.coengaged == 0.0) {
                if let Some(&(s, because, _)) = spread.get(&c.item) {
                    c.coengaged = s;
                    c.because = Some(because);
                }
            }
            history = &[];
        }
        let rows = || history.iter().chain(&q.negative);
        let probes = list.len().saturating_mul(rows().count());
        let scanned: usize = rows().map(|&(h, _)| cooc.row_len(h)).sum();
        // Where probing is cheaper, or a candidate repeats (never made by the pipeline), each
        // candidate is probed on its own.
        let at = (scanned < probes.saturating_mul(SCAN_PER_LOOKUP))
            .then(|| {
                let at: FxHashMap<u32, usize> =
                    list.iter().enumerate().map(|(k, c)| (c.item, k)).collect();
                at
            })
            .filter(|at| at.len() == list.len());
        let Some(at) = at else {
            let ask = |c: &Candidate| {
                cooc.prefetch_mass(c.item);
                for &(h, _) in rows() {
                    cooc.prefetch_slot(h, c.item);
                }
            };
            if let Some(first) = list.first() {
                ask(first);
            }
            for k in 0..list.len() {
                if let Some(next) = list.get(k + 1) {
                    ask(next);
                }
                probe(q, history, &mut list[k]);
            }
            return;
        };
        let open: Vec<bool> = list.iter().map(|c| c.coengaged == 0.0).collect();
        let mut best = vec![0.0f32; list.len()];
        for &(h, w) in history {
            let find = |j| at.get(&j).copied().filter(|&k| open[k]);
            cooc.for_each_similar_in(h, find, |k, sim| {
                let s = w * sim;
                list[k].coengaged += s;
                if s > best[k] {
                    best[k] = s;
                    list[k].because = Some(h);
                }
            });
        }
        for &(n, w) in &q.negative {
            let find = |j| at.get(&j).copied();
            cooc.for_each_similar_in(n, find, |k, sim| list[k].disengaged += w * sim);
        }
    }
}

/// A candidate's co-engagement with `history` (unless a source already set it) and with the
/// person's skips, one row probe per pair.
fn probe(q: &Query, history: &[(u32, f32)], c: &mut Candidate) {
    let cooc = &q.state.cooc;
    if c.coengaged == 0.0 {
        let mut best = 0.0;
        for &(h, w) in history {
            let s = w * cooc.similarity(h, c.item);
            c.coengaged += s;
            if s > best {
                best = s;
                c.because = Some(h);
            }
        }
    }
    for &(n, w) in &q.negative {
        c.disengaged += w * cooc.similarity(n, c.item);
    }
}

/// Cosine of the item's embedding with the user's taste vector.
pub struct EmbeddingFeatures;

impl Hydrator for EmbeddingFeatures {
    fn name(&self) -> &'static str {
        "embedding"
    }
    fn hydrate(&self, q: &Query, c: &mut Candidate) {
        if let Some(v) = q.vector.as_ref() {
            if (c.item as usize) < q.state.embed.len() {
                let iv = q.state.embed.get(c.item);
                let n = crate::embed::dot(iv, iv).sqrt().max(1e-6);
                c.embedding = crate::embed::dot(v, iv) / n;
            }
        }
    }
}

/// The user's affinity with the item's creator, sound and best hashtag, and whether they follow
/// the creator.
pub struct AffinityFeatures;

impl Hydrator for AffinityFeatures {
    fn name(&self) -> &'static str {
        "affinity"
    }
    fn hydrate(&self, q: &Query, c: &mut Candidate) {
        let Some(u) = q.user else { return };
        let it = &q.state.items[c.item as usize];
        if let Some(cr) = it.creator {
            c.creator_aff = u.creators.get(&cr).copied().unwrap_or(0.0);
            c.following = c.following || q.following.contains(&cr);
        }
        if let Some(s) = it.sound {
            c.sound_aff = u.sounds.get(&s).copied().unwrap_or(0.0);
        }
        for &t in &it.tags {
            let a = u.tags.get(&t).copied().unwrap_or(0.0);
            if a > c.tag_aff.1 {
                c.tag_aff = (Some(t), a);
            }
        }
    }

    fn hydrate_all(&self, q: &Query, list: &mut [Candidate]) {
        // Each candidate's hashtags live in an allocation of their own, read at random: the
        // ones a few candidates ahead start loading while this one is weighed.
        const AHEAD: usize = 4;
        for k in 0..list.len() {
            if let Some(next) = list.get(k + AHEAD) {
                crate::prefetch::prefetch(&q.state.items[next.item as usize].tags);
            }
            self.hydrate(q, &mut list[k]);
        }
    }
}

/// The batch item-to-item model's score for the user's weighted recent items.
pub struct BatchFeatures;

impl Hydrator for BatchFeatures {
    fn name(&self) -> &'static str {
        "batch"
    }
    fn hydrate(&self, q: &Query, c: &mut Candidate) {
        // The batch source scored what it proposed, exactly, with the same model and taste.
        if c.origins.contains(&crate::pipeline::Origin::Batch) {
            return;
        }
        if let (Some(m), Some(t)) = (q.batch, &q.batch_taste) {
            c.batch = m.score(t, c.item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Origin;
    use crate::{Engine, EngineConfig, FeedRequest};
    use foryou_types::{EventKind, EventRecord, Region, UserId, VideoId};

    /// The shared scan of a feed and the per-candidate probes of a ranking step give the same
    /// co-engagement features, the same "because", the same disengagement.
    #[test]
    fn scanning_rows_equals_probing_them() {
        let mut e = Engine::new(EngineConfig::offline());
        let region = Region::new("eu").unwrap();
        let mut ts = 1_000;
        for u in 0..60u64 {
            for k in 0..25u64 {
                ts += 1;
                let v = VideoId(1 + (u * 7 + k * k) % 90);
                if k % 4 == 3 {
                    let mut skip = EventRecord::new(
                        format!("s{u}-{k}"),
                        UserId(u),
                        region.clone(),
                        EventKind::Skip,
                        ts,
                    );
                    skip.video = Some(v);
                    e.observe(&skip);
                } else {
                    e.observe_interaction(UserId(u), v, ts, 1.0 + (k % 3) as f32);
                }
            }
        }
        let req = FeedRequest::new(UserId(5), 10, ts);
        let q = e.user_query(&req);
        assert!(!q.history.is_empty() && !q.negative.is_empty());
        let fresh = || -> Vec<Candidate> {
            (0..e.state.items.len() as u32)
                .map(|i| Candidate::new(i, Origin::Backfill))
                .collect()
        };
        let mut probed = fresh();
        for c in &mut probed {
            CoEngagementFeatures.hydrate(&q, c);
        }
        let mut scanned = fresh();
        // The list is long enough that its rows are scanned, not probed.
        let rows = || q.history.iter().chain(&q.negative);
        let read: usize = rows().map(|&(h, _)| q.state.cooc.row_len(h)).sum();
        assert!(read < scanned.len() * rows().count() * SCAN_PER_LOOKUP);
        CoEngagementFeatures.hydrate_all(&q, &mut scanned);
        assert!(
            probed.iter().any(|c| c.coengaged > 0.0) && probed.iter().any(|c| c.disengaged > 0.0)
        );
        for (a, b) in probed.iter().zip(&scanned) {
            assert_eq!(a.coengaged, b.coengaged, "item {}", a.item);
            assert_eq!(a.disengaged, b.disengaged, "item {}", a.item);
            assert_eq!(a.because, b.because, "item {}", a.item);
        }
        // Once the source has spread the history, the hydrator reads its sums.
        assert!(!q.coengagement().is_empty());
        let mut shared = fresh();
        CoEngagementFeatures.hydrate_all(&q, &mut shared);
        for (a, b) in probed.iter().zip(&shared) {
            assert!(
                (a.coengaged - b.coengaged).abs() <= 1e-6 * a.coengaged.abs(),
                "item {}",
                a.item
            );
            assert_eq!(a.disengaged, b.disengaged, "item {}", a.item);
            assert_eq!(a.because, b.because, "item {}", a.item);
        }
    }
}
