//! Backfill: when the other sources found too few candidates (a small catalog, a user who has
//! seen most of it), the newest unseen items fill up, so the feed ends only when the catalog does.

use crate::pipeline::{CandidateSource, Candidates, Origin, Query};

/// Newest unseen live items, up to a floor of candidates.
pub struct Backfill;

impl CandidateSource for Backfill {
    fn name(&self) -> &'static str {
        "backfill"
    }
    fn enabled(&self, _: &Query) -> bool {
        true
    }
    fn fetch(&self, q: &Query, out: &mut Candidates) {
        let floor = (4 * (q.req.limit + q.req.skip)).max(100);
        if out.map.len() >= floor {
            return;
        }
        let newest = q.state.items.iter().enumerate().rev().take(100 * floor);
        for (i, it) in newest {
            if out.map.len() >= floor {
                break;
            }
            let i = i as u32;
            if it.live && !out.map.contains_key(&i) && q.user.is_none_or(|u| !u.seen.contains(&i)) {
                out.add(i, Origin::Backfill);
            }
        }
    }
}
