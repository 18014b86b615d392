//! Applying the region's event log to the embedded store's derived tables: likes, saves,
//! follows, follower decisions, comments, comment likes, and view and share counts.

use crate::codec::enc;
use crate::embedded::{
    EmbeddedStore, APPLIED, APPLY_GROUP, APPROVALS, COMMENTS, COMMENT_LIKES, COUNTS, FOLLOWS,
    LIKES, META, SAVES,
};
use crate::records::{Comment, Effect};
use crate::{RegionStore, StoreError};
use foryou_types::{EventKind, EventRecord};
use redb::{ReadableTable, Table};
use std::sync::atomic::Ordering;

impl EmbeddedStore {
    pub(crate) fn apply_records(&self, records: &[EventRecord]) -> Result<Vec<Effect>, StoreError> {
        for r in records {
            self.check_region(&r.region)?;
        }
        let durable = self.lazy.fetch_add(1, Ordering::SeqCst) + 1 >= APPLY_GROUP;
        self.write_with(durable, |tx| {
            let mut meta = tx.open_table(META).map_err(|e| self.err(e))?;
            let mut likes = tx.open_table(LIKES).map_err(|e| self.err(e))?;
            let mut saves = tx.open_table(SAVES).map_err(|e| self.err(e))?;
            let mut follows = tx.open_table(FOLLOWS).map_err(|e| self.err(e))?;
            let mut comments = tx.open_table(COMMENTS).map_err(|e| self.err(e))?;
            let mut comment_likes = tx.open_table(COMMENT_LIKES).map_err(|e| self.err(e))?;
            let mut counts = tx.open_table(COUNTS).map_err(|e| self.err(e))?;
            let mut approvals = tx.open_table(APPROVALS).map_err(|e| self.err(e))?;
            let mut applied = meta
                .get(APPLIED)
                .map_err(|e| self.err(e))?
                .map(|v| v.value())
                .unwrap_or(0);
            let mut out = Vec::with_capacity(records.len());
            for rec in records {
                if rec.seq <= applied {
                    out.push(Effect::None);
                    continue;
                }
                if rec.seq != applied + 1 {
                    return Err(StoreError::Gap {
                        region: self.region().clone(),
                        applied,
                        got: rec.seq,
                    });
                }
                applied = rec.seq;
                let u = rec.user.0;
                let pair = |t: &mut Table<(u64, u64), u64>, key, value, add, yes, no| {
                    toggle(t, key, value, add)
                        .map(|changed| if changed { yes } else { no })
                        .map_err(|e| self.err(e))
                };
                let effect = match (rec.kind, rec.video, rec.creator, rec.comment) {
                    (EventKind::Like | EventKind::Unlike, Some(v), _, _) => {
                        let add = rec.kind == EventKind::Like;
                        let yes = if add {
                            Effect::LikeAdded
                        } else {
                            Effect::LikeRemoved
                        };
                        pair(&mut likes, (u, v.0), rec.ts_ms, add, yes, Effect::None)?
                    }
                    (EventKind::Save | EventKind::Unsave, Some(v), _, _) => {
                        let add = rec.kind == EventKind::Save;
                        let yes = if add {
                            Effect::SaveAdded
                        } else {
                            Effect::SaveRemoved
                        };
                        pair(&mut saves, (u, v.0), rec.ts_ms, add, yes, Effect::None)?
                    }
                    (EventKind::Follow | EventKind::Unfollow, _, Some(c), _) => {
                        let add = rec.kind == EventKind::Follow;
                        let yes = if add {
                            Effect::FollowAdded
                        } else {
                            Effect::FollowRemoved
                        };
                        pair(&mut follows, (u, c.0), rec.ts_ms, add, yes, Effect::None)?
                    }
                    (EventKind::LikeComment | EventKind::UnlikeComment, Some(v), _, Some(c)) => {
                        let add = rec.kind == EventKind::LikeComment;
                        let yes = if add {
                            Effect::CommentLiked
                        } else {
                            Effect::CommentUnliked
                        };
                        pair(&mut comment_likes, (u, c.0), v.0, add, yes, Effect::None)?
                    }
                    (EventKind::ApproveFollower | EventKind::DeclineFollower, _, Some(f), _) => {
                        let state = u8::from(rec.kind == EventKind::ApproveFollower);
                        let before = approvals
                            .insert((u, f.0), state)
                            .map_err(|e| self.err(e))?
                            .map(|v| v.value());
                        match (before == Some(state), state) {
                            (true, _) => Effect::None,
                            (false, 1) => Effect::FollowerApproved,
                            (false, _) => Effect::FollowerDeclined,
                        }
                    }
                    (EventKind::Comment, Some(v), _, _) => {
                        let c = Comment::from_record(rec, v);
                        comments
                            .insert(c.id.0, enc(&c).as_slice())
                            .map_err(|e| self.err(e))?;
                        Effect::CommentAdded(c)
                    }
                    _ => Effect::None,
                };
                if let (EventKind::View | EventKind::Share, Some(v)) = (rec.kind, rec.video) {
                    let (views, shares) = counts
                        .get(v.0)
                        .map_err(|e| self.err(e))?
                        .map(|c| c.value())
                        .unwrap_or((0, 0));
                    let now = if rec.kind == EventKind::View {
                        (views + 1, shares)
                    } else {
                        (views, shares + 1)
                    };
                    counts.insert(v.0, now).map_err(|e| self.err(e))?;
                }
                out.push(effect);
            }
            meta.insert(APPLIED, applied).map_err(|e| self.err(e))?;
            Ok(out)
        })
    }
}

/// Adds (`add`) or removes a pair; whether the table changed.
#[allow(clippy::result_large_err)] // redb's own error, converted at the store's edge
fn toggle(
    t: &mut Table<(u64, u64), u64>,
    key: (u64, u64),
    value: u64,
    add: bool,
) -> Result<bool, redb::StorageError> {
    if add {
        if t.get(key)?.is_some() {
            return Ok(false);
        }
        t.insert(key, value)?;
        Ok(true)
    } else {
        Ok(t.remove(key)?.is_some())
    }
}
