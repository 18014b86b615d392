//! The query a request runs with: what the pipeline's stages may read about the person (their
//! recency-weighted history and negative feedback, their taste vector and their position in the
//! batch model's space, whom they follow), built once per request or ranking step.

use crate::pipeline::Query;
use crate::state::UserState;
use crate::{Engine, FeedMode, FeedRequest};
use rustc_hash::FxHashSet;

static EMPTY_USER: std::sync::LazyLock<UserState> = std::sync::LazyLock::new(UserState::default);

/// The first `take` items, newest first, each weighted `strength · 2^(−k / half_life)` for the
/// k-th most recent.
fn weighted(
    items: impl Iterator<Item = (u32, f32)>,
    take: usize,
    half_life: f32,
) -> Vec<(u32, f32)> {
    let decay = 0.5f32.powf(1.0 / half_life.max(1e-3));
    let mut w = 1.0;
    items
        .take(take)
        .map(|(i, s)| {
            let r = (i, w * s);
            w *= decay;
            r
        })
        .collect()
}

impl Engine {
    pub(crate) fn user_query<'a>(&'a self, req: &'a FeedRequest) -> Query<'a> {
        self.user_query_within(req, None)
    }

    /// The query for a request, reading at most `cap` recent engagements of each kind when given
    /// (the ranker's training steps weigh against the latest few).
    pub(crate) fn user_query_within<'a>(
        &'a self,
        req: &'a FeedRequest,
        cap: Option<usize>,
    ) -> Query<'a> {
        let personal = req.mode == FeedMode::Personalised;
        // The non-personalised mode reads no user state at all; an unknown user is an empty one.
        let user: Option<&UserState> =
            personal.then(|| self.state.users.get(&req.user).unwrap_or(&EMPTY_USER));
        let (len, half_life) = (self.config.history_len, self.config.history_half_life);
        let history = user
            .map(|u| {
                weighted(
                    u.recent.iter().rev().copied(),
                    cap.unwrap_or(len),
                    half_life,
                )
            })
            .unwrap_or_default();
        let negative = user
            .map(|u| {
                let items = u.negative.iter().rev().map(|&i| (i, 1.0));
                weighted(items, cap.unwrap_or(len), half_life)
            })
            .unwrap_or_default();
        let (batch_taste, batch_mass) = match (self.batch.as_deref(), user) {
            (Some(model), Some(u)) => {
                let latest = weighted(
                    u.recent.iter().rev().copied(),
                    cap.unwrap_or(self.config.batch_history),
                    self.config.batch_half_life,
                );
                let mass = latest.iter().map(|h| h.1).sum();
                (model.taste(&latest), mass)
            }
            _ => (None, 0.0),
        };
        let vector = if history.is_empty() {
            None
        } else {
            self.state.embed.mean(&history)
        };
        let following: FxHashSet<u32> = if personal {
            req.following
                .iter()
                .filter_map(|c| self.state.creator_ids.get(c))
                .collect()
        } else {
            FxHashSet::default()
        };
        Query {
            req,
            config: &self.config,
            state: &self.state,
            index: self.index.as_deref(),
            batch: self.batch.as_deref(),
            user,
            history,
            batch_taste,
            batch_mass,
            negative,
            vector,
            following,
            seed: req.seed ^ req.user.0.rotate_left(29) ^ req.now_ms,
            spread: std::sync::OnceLock::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::weighted;

    #[test]
    fn recency_favours_the_latest_unless_the_log_has_no_order() {
        let latest_first = (0..200u32).map(|i| (i, 1.0f32));
        let w = weighted(latest_first.clone(), 200, 50.0);
        assert_eq!(w.len(), 200);
        assert_eq!(w[0].1, 1.0);
        assert!((w[50].1 - 0.5).abs() < 1e-3, "{}", w[50].1);
        assert!(w[199].1 < 0.07);
        // Without timestamps every engagement weighs the same, the 200th as the first.
        let flat = weighted(latest_first, 200, crate::NO_RECENCY);
        assert!(flat.iter().all(|&(_, x)| x == 1.0), "{flat:?}");
    }
}
