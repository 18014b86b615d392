//! [`RegionStore`] on PostgreSQL: the records, one method at a time.

use crate::{dec, enc, job, k, tx, u, PgStore};
use foryou_store::{
    AccessRecord, Account, Comment, Effect, Erased, Family, RegionStore, Report, Settings, Sound,
    StoreError, TokenRecord, Video,
};
use foryou_types::{CommentId, EventRecord, Region, Role, UserId, VideoId};

impl PgStore {
    /// Every record of one query's `data` column, decoded.
    fn all<T: serde::de::DeserializeOwned>(
        &self,
        sql: &'static str,
        table: &'static str,
    ) -> Result<Vec<T>, StoreError> {
        let rows: Vec<Vec<u8>> = job!(self, [], |c| {
            let rows = c.query(sql, &[]).await?;
            Ok(Ok(rows.iter().map(|r| r.get::<_, Vec<u8>>(0)).collect()))
        })?;
        rows.iter().map(|b| dec(table, b)).collect()
    }

    /// Every (a, b, v) row of a pair table.
    pub(crate) fn triples(&self, sql: &'static str) -> Result<Vec<(u64, u64, i64)>, StoreError> {
        job!(self, [], |c| {
            let rows = c.query(sql, &[]).await?;
            Ok(Ok(rows
                .iter()
                .map(|r| (u(r.get(0)), u(r.get(1)), r.get::<_, i64>(2)))
                .collect()))
        })
    }

    /// One record by a `bigint` key.
    fn one<T: serde::de::DeserializeOwned>(
        &self,
        sql: &'static str,
        key: i64,
        table: &'static str,
    ) -> Result<Option<T>, StoreError> {
        let row: Option<Vec<u8>> = job!(self, [], |c| {
            Ok(Ok(c.query_opt(sql, &[&key]).await?.map(|r| r.get(0))))
        })?;
        row.map(|b| dec(table, &b)).transpose()
    }

    /// Runs one statement with a `bigint` key and a record; how many rows it touched.
    fn put(&self, sql: &'static str, key: i64, data: Vec<u8>) -> Result<u64, StoreError> {
        job!(self, [data], |c| Ok(Ok(c
            .execute(sql, &[&key, &data])
            .await?)))
    }

    fn update_account(
        &self,
        id: UserId,
        change: impl Fn(&mut Account) + Clone + Send + Sync + 'static,
    ) -> Result<bool, StoreError> {
        let region = self.region().clone();
        job!(self, [region, change], |c| {
            tx(&c, async {
                let Some(row) = c
                    .query_opt(
                        "SELECT data FROM accounts WHERE id = $1 FOR UPDATE",
                        &[&k(id.0)],
                    )
                    .await?
                else {
                    return Ok(Ok(false));
                };
                let mut a: Account = match dec("accounts", &row.get::<_, Vec<u8>>(0)) {
                    Ok(a) => a,
                    Err(e) => return Ok(Err(e)),
                };
                change(&mut a);
                if a.region != region {
                    return Ok(Err(StoreError::WrongRegion {
                        store: region.clone(),
                        got: a.region,
                    }));
                }
                c.execute(
                    "UPDATE accounts SET data = $2 WHERE id = $1",
                    &[&k(id.0), &enc(&a)],
                )
                .await?;
                Ok(Ok(true))
            })
            .await
        })
    }
}

impl RegionStore for PgStore {
    fn region(&self) -> &Region {
        &self.region
    }

    fn insert_account(&self, a: &Account) -> Result<(), StoreError> {
        self.check_region(&a.region)?;
        let (id, lower, data, handle) = (
            k(a.id.0),
            a.handle.to_ascii_lowercase(),
            enc(a),
            a.handle.clone(),
        );
        job!(self, [lower, data, handle], |c| {
            let n = c
                .execute(
                    "INSERT INTO accounts VALUES ($1, $2, $3) ON CONFLICT (handle_lower) DO NOTHING",
                    &[&id, &lower, &data],
                )
                .await?;
            Ok(if n == 1 {
                Ok(())
            } else {
                Err(StoreError::HandleTaken {
                    handle: handle.clone(),
                })
            })
        })
    }

    fn account(&self, id: UserId) -> Result<Option<Account>, StoreError> {
        self.one(
            "SELECT data FROM accounts WHERE id = $1",
            k(id.0),
            "accounts",
        )
    }

    fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        self.all("SELECT data FROM accounts ORDER BY id", "accounts")
    }

    fn set_locked(&self, id: UserId, locked: bool) -> Result<bool, StoreError> {
        self.update_account(id, move |a| a.locked = locked)
    }

    fn set_role(&self, id: UserId, role: Role) -> Result<bool, StoreError> {
        self.update_account(id, move |a| a.role = role)
    }

    fn settings(&self, id: UserId) -> Result<Option<Settings>, StoreError> {
        self.one(
            "SELECT data FROM settings WHERE user_id = $1",
            k(id.0),
            "settings",
        )
    }

    fn all_settings(&self) -> Result<Vec<(UserId, Settings)>, StoreError> {
        let rows: Vec<(i64, Vec<u8>)> = job!(self, [], |c| {
            let rows = c
                .query("SELECT user_id, data FROM settings ORDER BY user_id", &[])
                .await?;
            Ok(Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect()))
        })?;
        rows.iter()
            .map(|(id, b)| Ok((UserId(u(*id)), dec("settings", b)?)))
            .collect()
    }

    fn state(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let name = name.to_string();
        job!(self, [name], |c| {
            Ok(Ok(c
                .query_opt("SELECT data FROM state WHERE name = $1", &[&name])
                .await?
                .map(|r| r.get(0))))
        })
    }

    fn set_state(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        let (name, value) = (name.to_string(), value.to_vec());
        job!(self, [name, value], |c| {
            c.execute(
                "INSERT INTO state VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET data = $2",
                &[&name, &value],
            )
            .await?;
            Ok(Ok(()))
        })
    }

    fn journal_put(&self, index: u64, entry: &[u8]) -> Result<(), StoreError> {
        let (index, entry) = (k(index), entry.to_vec());
        job!(self, [entry], |c| {
            c.execute(
                "INSERT INTO journal VALUES ($1, $2) ON CONFLICT (idx) DO NOTHING",
                &[&index, &entry],
            )
            .await?;
            Ok(Ok(()))
        })
    }

    fn journal(&self, index: u64, max: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        let (from, max_rows) = (k(index), i64::try_from(max).unwrap_or(i64::MAX));
        let rows: Vec<(i64, Vec<u8>)> = job!(self, [], |c| {
            let rows = c
                .query(
                    "SELECT idx, data FROM journal WHERE idx >= $1 ORDER BY idx LIMIT $2",
                    &[&from, &max_rows],
                )
                .await?;
            Ok(Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect()))
        })?;
        let mut out = Vec::new();
        for (i, data) in rows {
            if u(i) != index + out.len() as u64 {
                break;
            }
            out.push(data);
        }
        Ok(out)
    }

    fn set_settings(&self, id: UserId, settings: &Settings) -> Result<(), StoreError> {
        self.put(
            "INSERT INTO settings VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET data = $2",
            k(id.0),
            enc(settings),
        )
        .map(|_| ())
    }

    fn families(&self) -> Result<Vec<(UserId, Family)>, StoreError> {
        let rows: Vec<(i64, Vec<u8>)> = job!(self, [], |c| {
            let rows = c
                .query("SELECT minor, data FROM family ORDER BY minor", &[])
                .await?;
            Ok(Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect()))
        })?;
        rows.iter()
            .map(|(id, b)| Ok((UserId(u(*id)), dec("family", b)?)))
            .collect()
    }

    fn set_family(&self, minor: UserId, link: Option<&Family>) -> Result<(), StoreError> {
        let minor = k(minor.0);
        match link {
            None => {
                job!(self, [], |c| {
                    c.execute("DELETE FROM family WHERE minor = $1", &[&minor])
                        .await?;
                    Ok(Ok(()))
                })
            }
            Some(f) => {
                let (guardian, data) = (k(f.guardian.0), enc(f));
                job!(self, [data], |c| {
                    c.execute(
                        "INSERT INTO family VALUES ($1, $2, $3) ON CONFLICT (minor) DO UPDATE SET guardian = $2, data = $3",
                        &[&minor, &guardian, &data],
                    )
                    .await?;
                    Ok(Ok(()))
                })
            }
        }
    }

    fn insert_token(&self, hash: &[u8; 32], token: &TokenRecord) -> Result<(), StoreError> {
        self.check_region(&token.region)?;
        let (h, user, data) = (hash.to_vec(), k(token.user.0), enc(token));
        job!(self, [h, data], |c| {
            c.execute(
                "INSERT INTO tokens VALUES ($1, $2, $3) ON CONFLICT (hash) DO UPDATE SET user_id = $2, data = $3",
                &[&h, &user, &data],
            )
            .await?;
            Ok(Ok(()))
        })
    }

    fn token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        let h = hash.to_vec();
        let row: Option<Vec<u8>> = job!(self, [h], |c| {
            Ok(Ok(c
                .query_opt("SELECT data FROM tokens WHERE hash = $1", &[&h])
                .await?
                .map(|r| r.get(0))))
        })?;
        row.map(|b| dec("tokens", &b)).transpose()
    }

    fn delete_token(&self, hash: &[u8; 32]) -> Result<bool, StoreError> {
        let h = hash.to_vec();
        job!(self, [h], |c| Ok(Ok(c
            .execute("DELETE FROM tokens WHERE hash = $1", &[&h])
            .await?
            == 1)))
    }

    fn insert_video(&self, video: &Video, new_sound: Option<&Sound>) -> Result<(), StoreError> {
        self.check_region(&video.region)?;
        if let Some(s) = new_sound {
            self.check_region(&s.region)?;
        }
        let (id, creator, data) = (k(video.id.0), k(video.creator.0), enc(video));
        let sound = new_sound.map(|s| (k(s.id.0), k(s.creator.0), k(s.origin.0), enc(s)));
        job!(self, [data, sound], |c| {
            tx(&c, async {
                c.execute(
                    "INSERT INTO videos VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET creator = $2, data = $3",
                    &[&id, &creator, &data],
                )
                .await?;
                if let Some((sid, sc, so, sd)) = &sound {
                    c.execute(
                        "INSERT INTO sounds VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET creator = $2, origin = $3, data = $4",
                        &[sid, sc, so, sd],
                    )
                    .await?;
                }
                Ok(Ok(()))
            })
            .await
        })
    }

    fn update_video(&self, video: &Video) -> Result<bool, StoreError> {
        self.check_region(&video.region)?;
        let n = self.put(
            "UPDATE videos SET data = $2 WHERE id = $1",
            k(video.id.0),
            enc(video),
        )?;
        Ok(n == 1)
    }

    fn delete_video(&self, id: VideoId) -> Result<Option<Video>, StoreError> {
        self.one(
            "DELETE FROM videos WHERE id = $1 RETURNING data",
            k(id.0),
            "videos",
        )
    }

    fn videos(&self) -> Result<Vec<Video>, StoreError> {
        self.all("SELECT data FROM videos ORDER BY id", "videos")
    }

    fn sounds(&self) -> Result<Vec<Sound>, StoreError> {
        self.all("SELECT data FROM sounds ORDER BY id", "sounds")
    }

    fn follows(&self) -> Result<Vec<(UserId, UserId)>, StoreError> {
        let rows = self.triples("SELECT a, b, v FROM follows ORDER BY a, b")?;
        Ok(rows
            .into_iter()
            .map(|(a, b, _)| (UserId(a), UserId(b)))
            .collect())
    }

    fn likes(&self) -> Result<Vec<(UserId, VideoId)>, StoreError> {
        let rows = self.triples("SELECT a, b, v FROM likes ORDER BY a, b")?;
        Ok(rows
            .into_iter()
            .map(|(a, b, _)| (UserId(a), VideoId(b)))
            .collect())
    }

    fn put_report(&self, report: &Report) -> Result<(), StoreError> {
        let (id, creator, video, data) = (
            k(report.id),
            k(report.creator.0),
            report.video.map(|v| k(v.0)),
            enc(report),
        );
        job!(self, [data], |c| {
            c.execute(
                "INSERT INTO reports VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET creator = $2, video = $3, data = $4",
                &[&id, &creator, &video, &data],
            )
            .await?;
            Ok(Ok(()))
        })
    }

    fn reports(&self) -> Result<Vec<Report>, StoreError> {
        self.all("SELECT data FROM reports ORDER BY id", "reports")
    }

    fn approvals(&self) -> Result<Vec<(UserId, UserId, bool)>, StoreError> {
        let rows: Vec<(i64, i64, i16)> = job!(self, [], |c| {
            let rows = c
                .query("SELECT a, b, v FROM approvals ORDER BY a, b", &[])
                .await?;
            Ok(Ok(rows
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect()))
        })?;
        Ok(rows
            .into_iter()
            .map(|(a, b, v)| (UserId(u(a)), UserId(u(b)), v == 1))
            .collect())
    }

    fn update_comment(&self, comment: &Comment) -> Result<bool, StoreError> {
        self.check_region(&comment.region)?;
        let n = self.put(
            "UPDATE comments SET data = $2 WHERE id = $1",
            k(comment.id.0),
            enc(comment),
        )?;
        Ok(n == 1)
    }

    fn comments(&self) -> Result<Vec<Comment>, StoreError> {
        self.all("SELECT data FROM comments ORDER BY id", "comments")
    }

    fn saves(&self) -> Result<Vec<(UserId, VideoId, u64)>, StoreError> {
        let rows = self.triples("SELECT a, b, v FROM saves ORDER BY a, b")?;
        Ok(rows
            .into_iter()
            .map(|(a, b, ts)| (UserId(a), VideoId(b), u(ts)))
            .collect())
    }

    fn comment_likes(&self) -> Result<Vec<(UserId, CommentId)>, StoreError> {
        let rows = self.triples("SELECT a, b, v FROM comment_likes ORDER BY a, b")?;
        Ok(rows
            .into_iter()
            .map(|(a, b, _)| (UserId(a), CommentId(b)))
            .collect())
    }

    fn erase_comment_likes(&self, comments: &[CommentId]) -> Result<u64, StoreError> {
        if comments.is_empty() {
            return Ok(0);
        }
        let ids: Vec<i64> = comments.iter().map(|c| k(c.0)).collect();
        job!(self, [ids], |c| Ok(Ok(c
            .execute("DELETE FROM comment_likes WHERE b = ANY($1)", &[&ids])
            .await?)))
    }

    fn import(
        &self,
        accounts: &[Account],
        sounds: &[Sound],
        videos: &[Video],
    ) -> Result<(), StoreError> {
        foryou_store::check_import_regions(&self.region, accounts, sounds, videos)?;
        let accounts: Vec<(i64, String, Vec<u8>, String)> = accounts
            .iter()
            .map(|a| {
                (
                    k(a.id.0),
                    a.handle.to_ascii_lowercase(),
                    enc(a),
                    a.handle.clone(),
                )
            })
            .collect();
        let sounds: Vec<(i64, i64, i64, Vec<u8>)> = sounds
            .iter()
            .map(|s| (k(s.id.0), k(s.creator.0), k(s.origin.0), enc(s)))
            .collect();
        let videos: Vec<(i64, i64, Vec<u8>)> = videos
            .iter()
            .map(|v| (k(v.id.0), k(v.creator.0), enc(v)))
            .collect();
        job!(self, [accounts, sounds, videos], |c| {
            tx(&c, async {
                let acc = "INSERT INTO accounts VALUES ($1, $2, $3) ON CONFLICT (handle_lower) DO NOTHING";
                for (id, lower, data, handle) in &accounts {
                    if c.execute(acc, &[id, lower, data]).await? == 0 {
                        return Ok(Err(StoreError::HandleTaken { handle: handle.clone() }));
                    }
                }
                let snd = "INSERT INTO sounds VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET creator = $2, origin = $3, data = $4";
                for (id, cr, or, data) in &sounds {
                    c.execute(snd, &[id, cr, or, data]).await?;
                }
                let vid = "INSERT INTO videos VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET creator = $2, data = $3";
                for (id, cr, data) in &videos {
                    c.execute(vid, &[id, cr, data]).await?;
                }
                Ok(Ok(()))
            })
            .await
        })
    }

    fn apply(&self, records: &[EventRecord]) -> Result<Vec<Effect>, StoreError> {
        for r in records {
            self.check_region(&r.region)?;
        }
        self.apply_records(records)
    }

    fn applied_seq(&self) -> Result<u64, StoreError> {
        job!(self, [], |c| {
            let row = c
                .query_one("SELECT seq FROM positions WHERE name = 'applied'", &[])
                .await?;
            Ok(Ok(u(row.get(0))))
        })
    }

    fn view_share_counts(&self) -> Result<Vec<(VideoId, u64, u64)>, StoreError> {
        let rows: Vec<(i64, i64, i64)> = job!(self, [], |c| {
            let rows = c
                .query(
                    "SELECT video, views, shares FROM counts ORDER BY video",
                    &[],
                )
                .await?;
            Ok(Ok(rows
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect()))
        })?;
        Ok(rows
            .into_iter()
            .map(|(v, a, b)| (VideoId(u(v)), u(a), u(b)))
            .collect())
    }

    fn erase(&self, user: Option<UserId>, videos: &[VideoId]) -> Result<Erased, StoreError> {
        self.erase_records(user, videos)
    }

    fn vacuum(&self) -> Result<(), StoreError> {
        // Rewrites every table, so no dead row (an erased record) survives in its files.
        job!(self, [], |c| {
            c.batch_execute("VACUUM FULL").await?;
            Ok(Ok(()))
        })
    }

    fn record_access(&self, record: &AccessRecord) -> Result<u64, StoreError> {
        let record = record.clone();
        job!(self, [record], |c| {
            tx(&c, async {
                let row = c
                    .query_one("SELECT COALESCE(MAX(seq), 0) FROM access", &[])
                    .await?;
                let seq = row.get::<_, i64>(0) + 1;
                let mut r = record.clone();
                r.seq = u(seq);
                c.execute("INSERT INTO access VALUES ($1, $2)", &[&seq, &enc(&r)])
                    .await?;
                Ok(Ok(u(seq)))
            })
            .await
        })
    }

    fn access_records(&self, from: u64, max: usize) -> Result<Vec<AccessRecord>, StoreError> {
        let (from, max) = (k(from), i64::try_from(max).unwrap_or(i64::MAX));
        let rows: Vec<Vec<u8>> = job!(self, [], |c| {
            let rows = c
                .query(
                    "SELECT data FROM access WHERE seq >= $1 ORDER BY seq LIMIT $2",
                    &[&from, &max],
                )
                .await?;
            Ok(Ok(rows.iter().map(|r| r.get::<_, Vec<u8>>(0)).collect()))
        })?;
        rows.iter().map(|b| dec("access", b)).collect()
    }
}
