//! Creator, sound and hashtag affinity: recent videos of what the user engages with most.

use crate::pipeline::{CandidateSource, Candidates, Origin, Query};
use rustc_hash::FxHashMap;

/// Videos of the user's top creators, sounds and hashtags.
pub struct Affinity;

fn top(map: &FxHashMap<u32, f32>, n: usize) -> Vec<u32> {
    let mut v: Vec<(u32, f32)> = map
        .iter()
        .filter(|e| *e.1 > 0.5)
        .map(|(&k, &a)| (k, a))
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v.into_iter().take(n).map(|x| x.0).collect()
}

impl CandidateSource for Affinity {
    fn name(&self) -> &'static str {
        "affinity"
    }
    fn enabled(&self, q: &Query) -> bool {
        q.user.is_some()
    }
    fn fetch(&self, q: &Query, out: &mut Candidates) {
        let Some(u) = q.user else { return };
        let per = (q.config.per_source / 12).max(5);
        let lists = [
            (&u.creators, &q.state.by_creator),
            (&u.sounds, &q.state.by_sound),
            (&u.tags, &q.state.by_tag),
        ];
        for (aff, index) in lists {
            for k in top(aff, 4) {
                if let Some(list) = index.get(k as usize) {
                    // Newest first, skipping what the user has seen, so a long list still yields.
                    list.iter()
                        .rev()
                        .filter(|i| !u.seen.contains(i))
                        .take(per)
                        .for_each(|&i| {
                            out.add(i, Origin::Affinity);
                        });
                }
            }
        }
    }
}
