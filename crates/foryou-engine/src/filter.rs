//! Filters: what must never reach the page, whatever its score.

use crate::pipeline::{Candidate, Filter, Query};

/// Removed items (taken down by their creator or a moderator).
pub struct LiveOnly;

impl Filter for LiveOnly {
    fn name(&self) -> &'static str {
        "live_only"
    }
    fn keep(&self, q: &Query, c: &Candidate) -> bool {
        q.state.items[c.item as usize].live
    }
}

/// What the user already watched, skipped or engaged with.
pub struct NotSeen;

impl Filter for NotSeen {
    fn name(&self) -> &'static str {
        "not_seen"
    }
    fn keep(&self, q: &Query, c: &Candidate) -> bool {
        q.user
            .is_none_or(|u| !(u.seen.contains(&c.item) || u.recent.iter().any(|r| r.0 == c.item)))
    }
}

/// What staff suppressed (every suppression is in the transparency log).
pub struct NotSuppressed;

impl Filter for NotSuppressed {
    fn name(&self) -> &'static str {
        "not_suppressed"
    }
    fn keep(&self, q: &Query, c: &Candidate) -> bool {
        let id = q.state.items[c.item as usize].id;
        !q.req.suppressed.contains(&id)
    }
}

/// What the user said "not interested" to: the video, its creator or its sound.
pub struct NotRejected;

impl Filter for NotRejected {
    fn name(&self) -> &'static str {
        "not_rejected"
    }
    fn keep(&self, q: &Query, c: &Candidate) -> bool {
        let Some(u) = q.user else { return true };
        let it = &q.state.items[c.item as usize];
        !(u.blocked_items.contains(&c.item)
            || it.creator.is_some_and(|x| u.blocked_creators.contains(&x))
            || it.sound.is_some_and(|x| u.blocked_sounds.contains(&x)))
    }
}
