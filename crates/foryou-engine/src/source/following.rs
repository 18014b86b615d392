//! Followed creators: their newest videos.

use crate::pipeline::{CandidateSource, Candidates, Origin, Query};

/// The newest videos of each followed creator.
pub struct Following;

impl CandidateSource for Following {
    fn name(&self) -> &'static str {
        "following"
    }
    fn enabled(&self, q: &Query) -> bool {
        q.user.is_some() && !q.following.is_empty()
    }
    fn fetch(&self, q: &Query, out: &mut Candidates) {
        let per = (q.config.per_source / q.following.len().max(1)).clamp(3, 20);
        let mut creators: Vec<u32> = q.following.iter().copied().collect();
        creators.sort_unstable();
        for c in creators {
            if let Some(list) = q.state.by_creator.get(c as usize) {
                for &i in list.iter().rev().take(per) {
                    out.add(i, Origin::Following).following = true;
                }
            }
        }
    }
}
