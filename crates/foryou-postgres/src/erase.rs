//! Erasure on PostgreSQL: a person, or videos, with everything attached, in one transaction
//! (the same rules as the embedded store); `vacuum` then rewrites the tables.

use crate::{dec, enc, job, k, tx, u, PgStore};
use foryou_store::{AccessRecord, Account, Erased, Sound, StoreError, Video};
use foryou_types::{CommentId, UserId};

/// Where an access record named an erased person, it names no one.
const REDACTED: &str = "[erased]";

impl PgStore {
    pub(crate) fn erase_records(
        &self,
        user: Option<UserId>,
        videos: &[foryou_types::VideoId],
    ) -> Result<Erased, StoreError> {
        let asked: Vec<i64> = videos.iter().map(|v| k(v.0)).collect();
        let who = user.map(|x| k(x.0));
        job!(self, [asked], |c| {
            tx(&c, async {
                let mut out = Erased::default();
                let mut rows = 0u64;
                let mut gone = asked.clone();
                if let Some(w) = who {
                    let account: Option<Account> = match c
                        .query_opt("DELETE FROM accounts WHERE id = $1 RETURNING data", &[&w])
                        .await?
                    {
                        Some(r) => match dec("accounts", &r.get::<_, Vec<u8>>(0)) {
                            Ok(a) => Some(a),
                            Err(e) => return Ok(Err(e)),
                        },
                        None => None,
                    };
                    if account.is_some() {
                        out.account = true;
                        rows += 2;
                    }
                    for sql in [
                        "DELETE FROM tokens WHERE user_id = $1",
                        "DELETE FROM settings WHERE user_id = $1",
                        "DELETE FROM family WHERE minor = $1 OR guardian = $1",
                        "DELETE FROM follows WHERE a = $1 OR b = $1",
                        "DELETE FROM likes WHERE a = $1",
                        "DELETE FROM saves WHERE a = $1",
                        "DELETE FROM comment_likes WHERE a = $1",
                        "DELETE FROM approvals WHERE a = $1 OR b = $1",
                        "DELETE FROM reports WHERE creator = $1",
                    ] {
                        rows += c.execute(sql, &[&w]).await?;
                    }
                    // Their videos go with them.
                    for r in c.query("SELECT id FROM videos WHERE creator = $1", &[&w]).await? {
                        gone.push(r.get(0));
                    }
                    // Their words, wherever they wrote them.
                    for r in c.query("DELETE FROM comments WHERE author = $1 RETURNING id", &[&w]).await? {
                        out.comments.push(CommentId(u(r.get(0))));
                    }
                    // Staff decisions about them stay, naming no one.
                    let names: Vec<String> = std::iter::once(u(w).to_string())
                        .chain(account.map(|a| a.handle))
                        .collect();
                    for r in c.query("SELECT seq, data FROM access", &[]).await? {
                        let mut rec: AccessRecord = match dec("access", &r.get::<_, Vec<u8>>(1)) {
                            Ok(a) => a,
                            Err(e) => return Ok(Err(e)),
                        };
                        let mut hit = false;
                        for f in [&mut rec.action, &mut rec.subject, &mut rec.purpose] {
                            for n in &names {
                                if f.contains(n.as_str()) {
                                    *f = f.replace(n.as_str(), REDACTED);
                                    hit = true;
                                }
                            }
                        }
                        if hit {
                            let seq: i64 = r.get(0);
                            c.execute("UPDATE access SET data = $2 WHERE seq = $1", &[&seq, &enc(&rec)]).await?;
                            rows += 1;
                        }
                    }
                }
                gone.sort_unstable();
                gone.dedup();
                // The videos, and everything attached to them.
                if !gone.is_empty() {
                    for r in c.query("DELETE FROM videos WHERE id = ANY($1) RETURNING data", &[&gone]).await? {
                        match dec::<Video>("videos", &r.get::<_, Vec<u8>>(0)) {
                            Ok(v) => out.videos.push(v),
                            Err(e) => return Ok(Err(e)),
                        }
                    }
                    for sql in [
                        "DELETE FROM likes WHERE b = ANY($1)",
                        "DELETE FROM saves WHERE b = ANY($1)",
                        // A comment like's v is the comment's video.
                        "DELETE FROM comment_likes WHERE v = ANY($1)",
                        "DELETE FROM counts WHERE video = ANY($1)",
                        "DELETE FROM reports WHERE video = ANY($1)",
                    ] {
                        rows += c.execute(sql, &[&gone]).await?;
                    }
                    for r in c.query("DELETE FROM comments WHERE video = ANY($1) RETURNING id", &[&gone]).await? {
                        out.comments.push(CommentId(u(r.get(0))));
                    }
                }
                // Original sounds stay for the videos that use them, naming neither the person
                // nor the erased video they came from.
                let w = who.unwrap_or(0);
                for r in c
                    .query("SELECT data FROM sounds WHERE (creator = $1 AND $1 <> 0) OR origin = ANY($2)", &[&w, &gone])
                    .await?
                {
                    let mut s: Sound = match dec("sounds", &r.get::<_, Vec<u8>>(0)) {
                        Ok(s) => s,
                        Err(e) => return Ok(Err(e)),
                    };
                    if who.is_some_and(|w| k(s.creator.0) == w) {
                        s.title = "original sound".into();
                        s.creator = UserId(0);
                    }
                    if gone.contains(&k(s.origin.0)) {
                        s.origin = foryou_types::VideoId(0);
                    }
                    c.execute(
                        "UPDATE sounds SET creator = $2, origin = $3, data = $4 WHERE id = $1",
                        &[&k(s.id.0), &k(s.creator.0), &k(s.origin.0), &enc(&s)],
                    )
                    .await?;
                    rows += 1;
                }
                out.comments.sort_unstable_by_key(|c| c.0);
                out.comments.dedup();
                out.rows = rows + out.videos.len() as u64 + out.comments.len() as u64;
                Ok(Ok(out))
            })
            .await
        })
    }
}
