//! Applying the region's event log to the derived tables, in one transaction per batch, with
//! the position applied kept beside them (the same effects as the embedded store's `project`).
//! Appliers are serialized by the lock on the position's row. The commit does not wait for its
//! WAL flush (`synchronous_commit off`): the log holds every record, and a start applies again
//! whatever a crash lost, as `RegionStore::apply` allows.

use crate::conn::Conn;
use crate::{enc, job, k, PgStore};
use foryou_store::{Comment, Effect, StoreError};
use foryou_types::{EventKind, EventRecord};

/// Adds (`add`) or removes the pair (a, b) of `table`; whether the table changed.
async fn toggle(
    c: &Conn,
    table: &str,
    a: i64,
    b: i64,
    v: i64,
    add: bool,
) -> Result<bool, tokio_postgres::Error> {
    let n = if add {
        let sql = format!("INSERT INTO {table} VALUES ($1, $2, $3) ON CONFLICT (a, b) DO NOTHING");
        c.execute(&sql, &[&a, &b, &v]).await?
    } else {
        let sql = format!("DELETE FROM {table} WHERE a = $1 AND b = $2");
        c.execute(&sql, &[&a, &b]).await?
    };
    Ok(n == 1)
}

impl PgStore {
    pub(crate) fn apply_records(&self, records: &[EventRecord]) -> Result<Vec<Effect>, StoreError> {
        let recs = records.to_vec();
        let region = self.region.clone();
        job!(self, [recs, region], |c| {
            // One round trip opens the transaction and locks the position; one more, at the
            // end, moves it and commits.
            let opened = c
                .simple_query(
                    "BEGIN; SET LOCAL synchronous_commit TO OFF; \
                     SELECT seq FROM positions WHERE name = 'applied' FOR UPDATE",
                )
                .await?;
            let at = opened.iter().find_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => {
                    r.get(0).and_then(|v| v.parse::<u64>().ok())
                }
                _ => None,
            });
            let body = async {
                let Some(mut applied) = at else {
                    return Ok(Err(StoreError::Corrupt {
                        table: "positions",
                        message: "no applied position".into(),
                    }));
                };
                let mut out = Vec::with_capacity(recs.len());
                for rec in &recs {
                    if rec.seq <= applied {
                        out.push(Effect::None);
                        continue;
                    }
                    if rec.seq != applied + 1 {
                        return Ok(Err(StoreError::Gap {
                            region: region.clone(),
                            applied,
                            got: rec.seq,
                        }));
                    }
                    applied = rec.seq;
                    let who = k(rec.user.0);
                    let pick =
                        |changed: bool, yes: Effect| if changed { yes } else { Effect::None };
                    let effect = match (rec.kind, rec.video, rec.creator, rec.comment) {
                        (EventKind::Like | EventKind::Unlike, Some(v), _, _) => {
                            let add = rec.kind == EventKind::Like;
                            let changed =
                                toggle(&c, "likes", who, k(v.0), k(rec.ts_ms), add).await?;
                            pick(
                                changed,
                                if add {
                                    Effect::LikeAdded
                                } else {
                                    Effect::LikeRemoved
                                },
                            )
                        }
                        (EventKind::Save | EventKind::Unsave, Some(v), _, _) => {
                            let add = rec.kind == EventKind::Save;
                            let changed =
                                toggle(&c, "saves", who, k(v.0), k(rec.ts_ms), add).await?;
                            pick(
                                changed,
                                if add {
                                    Effect::SaveAdded
                                } else {
                                    Effect::SaveRemoved
                                },
                            )
                        }
                        (EventKind::Follow | EventKind::Unfollow, _, Some(cr), _) => {
                            let add = rec.kind == EventKind::Follow;
                            let changed =
                                toggle(&c, "follows", who, k(cr.0), k(rec.ts_ms), add).await?;
                            pick(
                                changed,
                                if add {
                                    Effect::FollowAdded
                                } else {
                                    Effect::FollowRemoved
                                },
                            )
                        }
                        (
                            EventKind::LikeComment | EventKind::UnlikeComment,
                            Some(v),
                            _,
                            Some(cm),
                        ) => {
                            let add = rec.kind == EventKind::LikeComment;
                            let changed =
                                toggle(&c, "comment_likes", who, k(cm.0), k(v.0), add).await?;
                            pick(
                                changed,
                                if add {
                                    Effect::CommentLiked
                                } else {
                                    Effect::CommentUnliked
                                },
                            )
                        }
                        (
                            EventKind::ApproveFollower | EventKind::DeclineFollower,
                            _,
                            Some(f),
                            _,
                        ) => {
                            let state = i16::from(rec.kind == EventKind::ApproveFollower);
                            let before: Option<i16> = c
                                .query_opt(
                                    "SELECT v FROM approvals WHERE a = $1 AND b = $2",
                                    &[&who, &k(f.0)],
                                )
                                .await?
                                .map(|r| r.get(0));
                            c.execute(
                                "INSERT INTO approvals VALUES ($1, $2, $3) ON CONFLICT (a, b) DO UPDATE SET v = $3",
                                &[&who, &k(f.0), &state],
                            )
                            .await?;
                            match (before == Some(state), state) {
                                (true, _) => Effect::None,
                                (false, 1) => Effect::FollowerApproved,
                                (false, _) => Effect::FollowerDeclined,
                            }
                        }
                        (EventKind::Comment, Some(v), _, _) => {
                            let cm = Comment::from_record(rec, v);
                            c.execute(
                                "INSERT INTO comments VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET author = $2, video = $3, data = $4",
                                &[&k(cm.id.0), &who, &k(v.0), &enc(&cm)],
                            )
                            .await?;
                            Effect::CommentAdded(cm)
                        }
                        _ => Effect::None,
                    };
                    if let (EventKind::View | EventKind::Share, Some(v)) = (rec.kind, rec.video) {
                        let (views, shares) = if rec.kind == EventKind::View {
                            (1i64, 0i64)
                        } else {
                            (0, 1)
                        };
                        c.execute(
                            "INSERT INTO counts VALUES ($1, $2, $3) ON CONFLICT (video) DO UPDATE SET views = counts.views + $2, shares = counts.shares + $3",
                            &[&k(v.0), &views, &shares],
                        )
                        .await?;
                    }
                    out.push(effect);
                }
                Ok(Ok((out, applied)))
            };
            match body.await {
                Ok(Ok((out, applied))) => {
                    c.batch_execute(&format!(
                        "UPDATE positions SET seq = {applied} WHERE name = 'applied'; COMMIT"
                    ))
                    .await?;
                    Ok(Ok(out))
                }
                Ok(Err(e)) => {
                    c.batch_execute("ROLLBACK").await?;
                    Ok(Err(e))
                }
                Err(e) => Err(e),
            }
        })
    }
}
