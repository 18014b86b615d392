//! Feature hydration: each hydrator fills one group of a candidate's personal features that its
//! source did not already know. A new feature is a new hydrator.

use crate::pipeline::{Candidate, Hydrator, Query};

/// Co-engagement with the user's recent engagements (and with their recent skips).
pub struct CoEngagementFeatures;

impl Hydrator for CoEngagementFeatures {
    fn name(&self) -> &'static str {
        "coengagement"
    }
    fn hydrate(&self, q: &Query, c: &mut Candidate) {
        if c.coengaged == 0.0 && !q.history.is_empty() {
            let mut best = 0.0;
            for &(h, w) in &q.history {
                let s = w * q.state.cooc.similarity(h, c.item);
                c.coengaged += s;
                if s > best {
                    best = s;
                    c.because = Some(h);
                }
            }
        }
        for &(n, w) in &q.negative {
            c.disengaged += w * q.state.cooc.similarity(n, c.item);
        }
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
}

/// The batch item-to-item model's score for the user's weighted recent items.
pub struct BatchFeatures;

impl Hydrator for BatchFeatures {
    fn name(&self) -> &'static str {
        "batch"
    }
    fn hydrate(&self, q: &Query, c: &mut Candidate) {
        if let (Some(m), Some(t)) = (q.batch, &q.batch_taste) {
            c.batch = m.score(t, c.item);
        }
    }
}
