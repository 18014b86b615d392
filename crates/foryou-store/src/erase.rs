//! Erasure in the embedded store: removing a person, or videos, with everything attached, and
//! rewriting the file so that nothing removed survives in its free pages (redb, like most
//! copy-on-write stores, leaves freed pages as they were until it reuses them).

use crate::codec::{dec, enc};
use crate::embedded::{
    EmbeddedStore, ACCESS, ACCOUNTS, APPROVALS, COMMENTS, COMMENT_LIKES, COUNTS, FAMILY, FOLLOWS,
    HANDLES, JOURNAL, LIKES, META, REPORTS, SAVES, SETTINGS, SOUNDS, STATE, STORE_FILE, TOKENS,
    VIDEOS,
};
use crate::records::{Account, Comment, Family, Report, Sound, TokenRecord, Video};
use crate::{AccessRecord, Erased, StoreError};
use foryou_types::{UserId, VideoId};
use redb::{Database, ReadableTable, TableDefinition, WriteTransaction};
use std::collections::HashSet;
use std::sync::atomic::Ordering;

/// Where an access record named an erased person, it names no one.
const REDACTED: &str = "[erased]";

impl EmbeddedStore {
    pub(crate) fn erase_records(
        &self,
        user: Option<UserId>,
        videos: &[VideoId],
    ) -> Result<Erased, StoreError> {
        self.write(|tx| {
            let mut out = Erased::default();
            let mut gone: HashSet<u64> = videos.iter().map(|v| v.0).collect();
            if let Some(u) = user {
                let account: Option<Account> = {
                    let mut t = tx.open_table(ACCOUNTS).map_err(|x| self.err(x))?;
                    let got = t.remove(u.0).map_err(|x| self.err(x))?;
                    match got {
                        Some(v) => Some(dec("accounts", v.value())?),
                        None => None,
                    }
                };
                if let Some(a) = &account {
                    let mut h = tx.open_table(HANDLES).map_err(|x| self.err(x))?;
                    h.remove(a.handle.to_ascii_lowercase().as_str())
                        .map_err(|x| self.err(x))?;
                    out.account = true;
                    out.rows += 2;
                }
                // Sessions.
                let mut t = tx.open_table(TOKENS).map_err(|x| self.err(x))?;
                let mut doomed = Vec::new();
                for row in t.iter().map_err(|x| self.err(x))? {
                    let (k, v) = row.map_err(|x| self.err(x))?;
                    let tok: TokenRecord = dec("tokens", v.value())?;
                    if tok.user == u {
                        doomed.push(k.value().to_vec());
                    }
                }
                for k in &doomed {
                    t.remove(k.as_slice()).map_err(|x| self.err(x))?;
                }
                out.rows += doomed.len() as u64;
                drop(t);
                let mut t = tx.open_table(SETTINGS).map_err(|x| self.err(x))?;
                out.rows += u64::from(t.remove(u.0).map_err(|x| self.err(x))?.is_some());
                drop(t);
                // Family links where they are the minor or the parent.
                let links: Vec<(u64, Family)> = {
                    let t = tx.open_table(FAMILY).map_err(|x| self.err(x))?;
                    let mut v = Vec::new();
                    for row in t.iter().map_err(|x| self.err(x))? {
                        let (k, val) = row.map_err(|x| self.err(x))?;
                        v.push((k.value(), dec("family", val.value())?));
                    }
                    v
                };
                let mut t = tx.open_table(FAMILY).map_err(|x| self.err(x))?;
                for (minor, f) in links {
                    if minor == u.0 || f.guardian == u {
                        t.remove(minor).map_err(|x| self.err(x))?;
                        out.rows += 1;
                    }
                }
                drop(t);
                // Their videos go with them.
                for v in self.scan::<Video>(tx, VIDEOS, "videos")? {
                    if v.creator == u {
                        gone.insert(v.id.0);
                    }
                }
                out.rows += remove_pairs(tx, FOLLOWS, |a, b, _| a == u.0 || b == u.0)
                    .map_err(|x| self.err(x))?;
                for t in [LIKES, SAVES, COMMENT_LIKES] {
                    out.rows += remove_pairs(tx, t, |a, _, _| a == u.0).map_err(|x| self.err(x))?;
                }
                out.rows += remove_approvals(tx, u.0).map_err(|x| self.err(x))?;
                // Their words, wherever they wrote them.
                let all: Vec<Comment> = self.scan(tx, COMMENTS, "comments")?;
                let mut t = tx.open_table(COMMENTS).map_err(|x| self.err(x))?;
                for c in all {
                    if c.author == u {
                        t.remove(c.id.0).map_err(|x| self.err(x))?;
                        out.comments.push(c.id);
                    }
                }
                drop(t);
                // Staff decisions about them stay, naming no one.
                let mut t = tx.open_table(ACCESS).map_err(|x| self.err(x))?;
                let names: Vec<String> = std::iter::once(u.0.to_string())
                    .chain(account.map(|a| a.handle))
                    .collect();
                let mut redact = Vec::new();
                for row in t.iter().map_err(|x| self.err(x))? {
                    let (k, v) = row.map_err(|x| self.err(x))?;
                    let mut r: AccessRecord = dec("access", v.value())?;
                    let mut hit = false;
                    for f in [&mut r.action, &mut r.subject, &mut r.purpose] {
                        for n in &names {
                            if f.contains(n.as_str()) {
                                *f = f.replace(n.as_str(), REDACTED);
                                hit = true;
                            }
                        }
                    }
                    if hit {
                        redact.push((k.value(), r));
                    }
                }
                for (k, r) in &redact {
                    t.insert(*k, enc(r).as_slice()).map_err(|x| self.err(x))?;
                }
                out.rows += redact.len() as u64;
                drop(t);
                // Reports about their account or videos.
                let all: Vec<Report> = self.scan(tx, REPORTS, "reports")?;
                let mut t = tx.open_table(REPORTS).map_err(|x| self.err(x))?;
                for r in all {
                    if r.creator == u {
                        t.remove(r.id).map_err(|x| self.err(x))?;
                        out.rows += 1;
                    }
                }
            }
            // The videos, and everything attached to them.
            let mut t = tx.open_table(VIDEOS).map_err(|x| self.err(x))?;
            for id in &gone {
                if let Some(v) = t.remove(*id).map_err(|x| self.err(x))? {
                    out.videos.push(dec("videos", v.value())?);
                }
            }
            drop(t);
            if !gone.is_empty() {
                for t in [LIKES, SAVES] {
                    out.rows += remove_pairs(tx, t, |_, v, _| gone.contains(&v))
                        .map_err(|x| self.err(x))?;
                }
                // A comment like's value is the comment's video.
                out.rows += remove_pairs(tx, COMMENT_LIKES, |_, _, v| gone.contains(&v))
                    .map_err(|x| self.err(x))?;
                let all: Vec<Comment> = self.scan(tx, COMMENTS, "comments")?;
                let mut t = tx.open_table(COMMENTS).map_err(|x| self.err(x))?;
                for c in all {
                    if gone.contains(&c.video.0) {
                        t.remove(c.id.0).map_err(|x| self.err(x))?;
                        out.comments.push(c.id);
                    }
                }
                drop(t);
                let mut t = tx.open_table(COUNTS).map_err(|x| self.err(x))?;
                for id in &gone {
                    out.rows += u64::from(t.remove(*id).map_err(|x| self.err(x))?.is_some());
                }
                drop(t);
                let all: Vec<Report> = self.scan(tx, REPORTS, "reports")?;
                let mut t = tx.open_table(REPORTS).map_err(|x| self.err(x))?;
                for r in all {
                    if r.video.is_some_and(|v| gone.contains(&v.0)) {
                        t.remove(r.id).map_err(|x| self.err(x))?;
                        out.rows += 1;
                    }
                }
            }
            // Original sounds stay for the videos that use them, naming neither the person nor
            // the erased video they came from.
            let all: Vec<Sound> = self.scan(tx, SOUNDS, "sounds")?;
            let mut t = tx.open_table(SOUNDS).map_err(|x| self.err(x))?;
            for s in all {
                let theirs = user.is_some_and(|u| s.creator == u);
                let orphan = gone.contains(&s.origin.0);
                if theirs || orphan {
                    let mut s = s;
                    if theirs {
                        s.title = "original sound".into();
                        s.creator = UserId(0);
                    }
                    if orphan {
                        s.origin = VideoId(0);
                    }
                    t.insert(s.id.0, enc(&s).as_slice())
                        .map_err(|x| self.err(x))?;
                    out.rows += 1;
                }
            }
            drop(t);
            out.rows += out.videos.len() as u64 + out.comments.len() as u64;
            Ok(out)
        })
    }

    /// Every record of a table, decoded.
    fn scan<T: serde::de::DeserializeOwned>(
        &self,
        tx: &WriteTransaction,
        def: TableDefinition<u64, &[u8]>,
        name: &'static str,
    ) -> Result<Vec<T>, StoreError> {
        let t = tx.open_table(def).map_err(|x| self.err(x))?;
        let mut out = Vec::new();
        for row in t.iter().map_err(|x| self.err(x))? {
            let (_, v) = row.map_err(|x| self.err(x))?;
            out.push(dec(name, v.value())?);
        }
        Ok(out)
    }

    /// Rewrites `store.redb` with only its live records: the copy is made inside a write
    /// transaction of the old file (so no write is in flight or can start), fsynced, renamed into
    /// place, and the store carries on with it.
    #[allow(clippy::result_large_err)]
    pub(crate) fn rewrite(&self) -> Result<(), StoreError> {
        let mut db = self.db.write().map_err(|x| self.err(x))?;
        let path = self.dir.join(STORE_FILE);
        let tmp = self.dir.join("store.redb.tmp");
        let copy = || -> Result<(), redb::Error> {
            let from = db.begin_write()?;
            let _ = std::fs::remove_file(&tmp);
            let new = Database::builder()
                .set_cache_size(self.cache_bytes)
                .create(&tmp)?;
            let to = new.begin_write()?;
            copy(&from, &to, ACCOUNTS)?;
            copy(&from, &to, HANDLES)?;
            copy(&from, &to, TOKENS)?;
            copy(&from, &to, VIDEOS)?;
            copy(&from, &to, SOUNDS)?;
            copy(&from, &to, FOLLOWS)?;
            copy(&from, &to, LIKES)?;
            copy(&from, &to, SAVES)?;
            copy(&from, &to, COMMENT_LIKES)?;
            copy(&from, &to, COMMENTS)?;
            copy(&from, &to, ACCESS)?;
            copy(&from, &to, SETTINGS)?;
            copy(&from, &to, REPORTS)?;
            copy(&from, &to, FAMILY)?;
            copy(&from, &to, APPROVALS)?;
            copy(&from, &to, COUNTS)?;
            copy(&from, &to, META)?;
            copy(&from, &to, STATE)?;
            copy(&from, &to, JOURNAL)?;
            to.commit()?;
            from.abort()?;
            Ok(())
        };
        copy().map_err(|x| self.err(x))?;
        let swap = || -> std::io::Result<()> {
            std::fs::rename(&tmp, &path)?;
            std::fs::File::open(&self.dir)?.sync_all()
        };
        swap().map_err(|x| self.err(x))?;
        match Database::builder()
            .set_cache_size(self.cache_bytes)
            .create(&path)
        {
            Ok(new) => {
                *db = new;
                Ok(())
            }
            Err(x) => {
                self.failed.store(true, Ordering::SeqCst);
                Err(self.err(x))
            }
        }
    }
}

/// Copies one table between two transactions.
#[allow(clippy::result_large_err)] // redb's own error, converted at the store's edge
fn copy<K: redb::Key + 'static, V: redb::Value + 'static>(
    from: &WriteTransaction,
    to: &WriteTransaction,
    def: TableDefinition<K, V>,
) -> Result<(), redb::Error> {
    let src = from.open_table(def)?;
    let mut dst = to.open_table(def)?;
    for row in src.iter()? {
        let (k, v) = row?;
        dst.insert(k.value(), v.value())?;
    }
    Ok(())
}

/// Removes the rows of a (u64, u64) → u64 table that `doomed(a, b, value)` picks; returns how
/// many.
#[allow(clippy::result_large_err)] // redb's own error, converted at the store's edge
pub(crate) fn remove_pairs(
    tx: &WriteTransaction,
    def: TableDefinition<(u64, u64), u64>,
    doomed: impl Fn(u64, u64, u64) -> bool,
) -> Result<u64, redb::Error> {
    let mut t = tx.open_table(def)?;
    let mut keys = Vec::new();
    for row in t.iter()? {
        let (k, v) = row?;
        let (a, b) = k.value();
        if doomed(a, b, v.value()) {
            keys.push((a, b));
        }
    }
    for k in &keys {
        t.remove(*k)?;
    }
    Ok(keys.len() as u64)
}

/// Removes the follower decisions made by or about `u`.
#[allow(clippy::result_large_err)] // redb's own error, converted at the store's edge
fn remove_approvals(tx: &WriteTransaction, u: u64) -> Result<u64, redb::Error> {
    let mut t = tx.open_table(APPROVALS)?;
    let mut keys = Vec::new();
    for row in t.iter()? {
        let (k, _) = row?;
        let (a, b) = k.value();
        if a == u || b == u {
            keys.push((a, b));
        }
    }
    for k in &keys {
        t.remove(*k)?;
    }
    Ok(keys.len() as u64)
}

#[cfg(test)]
mod tests {
    use crate::{EmbeddedStore, RegionStore};
    use foryou_types::Region;

    /// The suite's erasure, on the embedded store: then nothing of the erased person is in the
    /// store's file, free pages included (the rewrite after the erasure), and what stays is.
    #[test]
    fn an_erased_person_leaves_nothing_in_the_file() {
        let dir = std::env::temp_dir().join(format!("foryou-erase-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        crate::suite::run_erasure(&|region: &Region| -> Box<dyn RegionStore> {
            Box::new(EmbeddedStore::open(region.clone(), &dir, 1 << 20).expect("open"))
        });
        let gone: u64 = 4_111_222_333_444;
        let bytes = std::fs::read(dir.join(super::STORE_FILE)).expect("file");
        let has = |m: &[u8]| bytes.windows(m.len()).any(|w| w == m);
        assert!(!has(b"zorblaxian"));
        assert!(!has(b"quux-wrote-1\""));
        assert!(!has(b"quux-wrote-2\""));
        assert!(!has(b"caption-of-71"));
        assert!(!has(gone.to_string().as_bytes()));
        assert!(!has(&gone.to_le_bytes()));
        assert!(!has(&gone.to_be_bytes()));
        assert!(
            has(b"keeper") && has(b"quux-wrote-4\""),
            "the scan can find what is there"
        );
        let eu = Region::new("eu").expect("region");
        let store = EmbeddedStore::open(eu, &dir, 1 << 20).expect("reopen");
        assert_eq!(store.likes().expect("likes").len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
