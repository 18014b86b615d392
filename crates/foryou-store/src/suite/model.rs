//! The log's effects on a store against a model, under random batches.

use super::{eu, Open};
use crate::{Effect, RegionStore, StoreError};
use foryou_types::{CommentId, EventKind, EventRecord, Region, UserId, VideoId};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::collections::{BTreeMap, BTreeSet};

/// One random batch item: (kind, user, target, event id).
type Item = (u8, u8, u8, u8);

const KINDS: [EventKind; 12] = [
    EventKind::Like,
    EventKind::Unlike,
    EventKind::Follow,
    EventKind::Unfollow,
    EventKind::Save,
    EventKind::Unsave,
    EventKind::LikeComment,
    EventKind::UnlikeComment,
    EventKind::ApproveFollower,
    EventKind::DeclineFollower,
    EventKind::View,
    EventKind::Share,
];

fn record(region: &Region, (kind, user, target, _): Item, seq: u64) -> EventRecord {
    let kind = KINDS[kind as usize % KINDS.len()];
    let t = u64::from(target);
    let person = matches!(
        kind,
        EventKind::Follow
            | EventKind::Unfollow
            | EventKind::ApproveFollower
            | EventKind::DeclineFollower
    );
    EventRecord {
        seq,
        video: (!person).then_some(VideoId(t + 100)),
        creator: person.then_some(UserId(t + 50)),
        // Comment `t + 700` is on video `t + 100`.
        comment: matches!(kind, EventKind::LikeComment | EventKind::UnlikeComment)
            .then_some(CommentId(t + 700)),
        ..EventRecord::new(
            format!("ev{seq}"),
            UserId(u64::from(user) + 1),
            region.clone(),
            kind,
            1_000 + seq,
        )
    }
}

#[derive(Default)]
struct Model {
    likes: BTreeSet<(u64, u64)>,
    saves: BTreeSet<(u64, u64)>,
    follows: BTreeSet<(u64, u64)>,
    comment_likes: BTreeSet<(u64, u64)>,
    approvals: BTreeMap<(u64, u64), bool>,
    counts: BTreeMap<u64, (u64, u64)>,
}

impl Model {
    /// Applies a record; whether it changed a pair table.
    fn apply(&mut self, r: &EventRecord) -> bool {
        let v = (r.user.0, r.video.map_or(0, |v| v.0));
        let p = (r.user.0, r.creator.map_or(0, |c| c.0));
        let c = (r.user.0, r.comment.map_or(0, |c| c.0));
        match r.kind {
            EventKind::Like => self.likes.insert(v),
            EventKind::Unlike => self.likes.remove(&v),
            EventKind::Save => self.saves.insert(v),
            EventKind::Unsave => self.saves.remove(&v),
            EventKind::Follow => self.follows.insert(p),
            EventKind::Unfollow => self.follows.remove(&p),
            EventKind::LikeComment => self.comment_likes.insert(c),
            EventKind::UnlikeComment => self.comment_likes.remove(&c),
            EventKind::ApproveFollower | EventKind::DeclineFollower => {
                let yes = r.kind == EventKind::ApproveFollower;
                self.approvals.insert(p, yes) != Some(yes)
            }
            EventKind::View | EventKind::Share => {
                let e = self.counts.entry(v.1).or_default();
                if r.kind == EventKind::View {
                    e.0 += 1;
                } else {
                    e.1 += 1;
                }
                false
            }
            _ => false,
        }
    }

    fn check(&self, s: &dyn RegionStore) -> Result<(), TestCaseError> {
        let set = |v: Vec<(u64, u64)>| v.into_iter().collect::<BTreeSet<_>>();
        prop_assert_eq!(
            &set(s
                .likes()
                .expect("likes")
                .into_iter()
                .map(|(a, b)| (a.0, b.0))
                .collect()),
            &self.likes
        );
        prop_assert_eq!(
            &set(s
                .saves()
                .expect("saves")
                .into_iter()
                .map(|(a, b, _)| (a.0, b.0))
                .collect()),
            &self.saves
        );
        prop_assert_eq!(
            &set(s
                .follows()
                .expect("follows")
                .into_iter()
                .map(|(a, b)| (a.0, b.0))
                .collect()),
            &self.follows
        );
        prop_assert_eq!(
            &set(s
                .comment_likes()
                .expect("comment likes")
                .into_iter()
                .map(|(a, b)| (a.0, b.0))
                .collect()),
            &self.comment_likes
        );
        let approvals: BTreeMap<(u64, u64), bool> = s
            .approvals()
            .expect("approvals")
            .into_iter()
            .map(|(a, b, y)| ((a.0, b.0), y))
            .collect();
        prop_assert_eq!(&approvals, &self.approvals);
        let counts: BTreeMap<u64, (u64, u64)> = s
            .view_share_counts()
            .expect("counts")
            .into_iter()
            .map(|(v, a, b)| (v.0, (a, b)))
            .collect();
        prop_assert_eq!(&counts, &self.counts);
        Ok(())
    }
}

pub(super) fn the_logs_effects_match_a_model(open: Open<'_>, cases: u32) {
    let batches = prop::collection::vec(
        prop::collection::vec((0u8..12, 0u8..3, 0u8..4, 0u8..12), 1..6),
        1..8,
    );
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&batches, |batches| {
        let eu = eu();
        let s = open(&eu);
        let mut model = Model::default();
        let mut seq = 0u64;
        for items in batches {
            let batch: Vec<EventRecord> = items
                .iter()
                .map(|&it| {
                    seq += 1;
                    record(&eu, it, seq)
                })
                .collect();
            let effects = s.apply(&batch).expect("apply");
            for (r, e) in batch.iter().zip(&effects) {
                let changed = model.apply(r);
                prop_assert_eq!(changed, *e != Effect::None, "{:?} gave {:?}", r.kind, e);
            }
            // Offered again (a consumer that restarted), nothing changes.
            let again = s.apply(&batch).expect("apply again");
            prop_assert!(again.iter().all(|e| *e == Effect::None));
            prop_assert_eq!(s.applied_seq().expect("applied"), seq);
            model.check(s.as_ref())?;
        }
        // A record past the next position is refused and changes nothing.
        let mut r = record(&eu, (0, 0, 0, 0), seq + 2);
        r.kind = EventKind::Like;
        let refused = s.apply(&[r]);
        prop_assert!(
            matches!(refused, Err(StoreError::Gap { .. })),
            "a gap was accepted"
        );
        prop_assert_eq!(s.applied_seq().expect("applied"), seq);
        model.check(s.as_ref())?;
        Ok(())
    });
    if let Err(e) = result {
        panic!("the store's effects differ from the model: {e}");
    }
}
