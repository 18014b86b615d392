//! The embedded region store: one redb database file per region (`DIR/store.redb`). Records
//! written by a request are fsynced before the call returns; effects applied from the event log
//! are made durable in groups, since the log holds them already and a start re-applies whatever
//! a crash lost. After a failed commit the store marks itself failed and refuses further writes.

use crate::codec::{dec, enc};
use crate::records::{Account, Comment, Effect, Report, Settings, Sound, TokenRecord, Video};
use crate::{AccessRecord, RegionStore, StoreError};
use foryou_types::{CommentId, EventRecord, Region, Role, UserId, VideoId};
use redb::{Database, Durability, ReadableTable, TableDefinition};
use serde::de::DeserializeOwned;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard};

/// File name of the store inside a region's directory.
pub(crate) const STORE_FILE: &str = "store.redb";

pub(crate) const ACCOUNTS: TableDefinition<u64, &[u8]> = TableDefinition::new("accounts");
pub(crate) const HANDLES: TableDefinition<&str, u64> = TableDefinition::new("handles");
pub(crate) const TOKENS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("tokens");
pub(crate) const VIDEOS: TableDefinition<u64, &[u8]> = TableDefinition::new("videos");
pub(crate) const SOUNDS: TableDefinition<u64, &[u8]> = TableDefinition::new("sounds");
pub(crate) const FOLLOWS: TableDefinition<(u64, u64), u64> = TableDefinition::new("follows");
pub(crate) const LIKES: TableDefinition<(u64, u64), u64> = TableDefinition::new("likes");
/// (user, video) → when it was saved to their favourites.
pub(crate) const SAVES: TableDefinition<(u64, u64), u64> = TableDefinition::new("saves");
/// (user, comment) → the comment's video.
pub(crate) const COMMENT_LIKES: TableDefinition<(u64, u64), u64> =
    TableDefinition::new("comment_likes");
pub(crate) const COMMENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("comments");
pub(crate) const ACCESS: TableDefinition<u64, &[u8]> = TableDefinition::new("access");
pub(crate) const SETTINGS: TableDefinition<u64, &[u8]> = TableDefinition::new("settings");
pub(crate) const REPORTS: TableDefinition<u64, &[u8]> = TableDefinition::new("reports");
/// Minor → family link.
pub(crate) const FAMILY: TableDefinition<u64, &[u8]> = TableDefinition::new("family");
/// (account, follower) → 1 approved, 0 declined.
pub(crate) const APPROVALS: TableDefinition<(u64, u64), u8> = TableDefinition::new("approvals");
/// Views and shares per video made by this region's users, kept with the log they come from.
pub(crate) const COUNTS: TableDefinition<u64, (u64, u64)> = TableDefinition::new("counts");
/// The key in `COUNTS` that says the counts cover the whole log (ids stay below 2^53).
pub(crate) const COUNTED: u64 = u64::MAX;
/// Positions: `applied` is the last log position whose effects are in the tables.
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// Named documents the region keeps about itself (`RegionStore::state`).
pub(crate) const STATE: TableDefinition<&str, &[u8]> = TableDefinition::new("state");
/// The transparency log's entries, when this store is its home (`RegionStore::journal`).
pub(crate) const JOURNAL: TableDefinition<u64, &[u8]> = TableDefinition::new("journal");
pub(crate) const APPLIED: &str = "applied";
/// Log applications committed without fsync before one is made durable.
pub(crate) const APPLY_GROUP: u64 = 64;

/// A region's store in `DIR/store.redb`.
pub struct EmbeddedStore {
    region: Region,
    pub(crate) dir: std::path::PathBuf,
    pub(crate) cache_bytes: usize,
    /// Replaced whole by [`RegionStore::vacuum`]; every transaction begins under a read guard.
    pub(crate) db: RwLock<Database>,
    pub(crate) failed: AtomicBool,
    /// Log applications committed since the last durable commit.
    pub(crate) lazy: AtomicU64,
}

impl EmbeddedStore {
    /// Opens or creates the store of `region` in directory `dir`, with a page cache of at most
    /// `cache_bytes`.
    pub fn open(region: Region, dir: &Path, cache_bytes: usize) -> Result<Self, StoreError> {
        let backend = |e: &dyn std::fmt::Display| StoreError::Backend {
            region: region.clone(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| backend(&e))?;
        let db = Database::builder()
            .set_cache_size(cache_bytes)
            .create(dir.join(STORE_FILE))
            .map_err(|e| backend(&e))?;
        let tx = db.begin_write().map_err(|e| backend(&e))?;
        {
            tx.open_table(ACCOUNTS).map_err(|e| backend(&e))?;
            tx.open_table(HANDLES).map_err(|e| backend(&e))?;
            tx.open_table(TOKENS).map_err(|e| backend(&e))?;
            tx.open_table(VIDEOS).map_err(|e| backend(&e))?;
            tx.open_table(SOUNDS).map_err(|e| backend(&e))?;
            tx.open_table(FOLLOWS).map_err(|e| backend(&e))?;
            tx.open_table(LIKES).map_err(|e| backend(&e))?;
            tx.open_table(SAVES).map_err(|e| backend(&e))?;
            tx.open_table(COMMENT_LIKES).map_err(|e| backend(&e))?;
            tx.open_table(COMMENTS).map_err(|e| backend(&e))?;
            tx.open_table(ACCESS).map_err(|e| backend(&e))?;
            tx.open_table(SETTINGS).map_err(|e| backend(&e))?;
            tx.open_table(APPROVALS).map_err(|e| backend(&e))?;
            tx.open_table(REPORTS).map_err(|e| backend(&e))?;
            tx.open_table(FAMILY).map_err(|e| backend(&e))?;
            tx.open_table(COUNTS).map_err(|e| backend(&e))?;
            tx.open_table(STATE).map_err(|e| backend(&e))?;
            tx.open_table(JOURNAL).map_err(|e| backend(&e))?;
            let mut meta = tx.open_table(META).map_err(|e| backend(&e))?;
            if meta.get(APPLIED).map_err(|e| backend(&e))?.is_none() {
                // A store written by an older version held the log itself, with every effect
                // applied: the log moves to its own file and the store records how far it got.
                let legacy = crate::migrate::legacy_log(&tx, dir).map_err(|e| backend(&e))?;
                meta.insert(APPLIED, legacy).map_err(|e| backend(&e))?;
            }
        }
        tx.commit().map_err(|e| backend(&e))?;
        Ok(EmbeddedStore {
            region,
            dir: dir.to_path_buf(),
            cache_bytes,
            db: RwLock::new(db),
            failed: AtomicBool::new(false),
            lazy: AtomicU64::new(0),
        })
    }

    /// The database, for beginning one transaction.
    pub(crate) fn db(&self) -> Result<RwLockReadGuard<'_, Database>, StoreError> {
        self.db.read().map_err(|e| self.err(e))
    }

    pub(crate) fn err(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Backend {
            region: self.region.clone(),
            message: e.to_string(),
        }
    }

    pub(crate) fn check_region(&self, r: &Region) -> Result<(), StoreError> {
        if r == &self.region {
            Ok(())
        } else {
            Err(StoreError::WrongRegion {
                store: self.region.clone(),
                got: r.clone(),
            })
        }
    }

    /// Runs `f` in a write transaction and commits durably; a failed commit fails the store.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.write_with(true, f)
    }

    /// Runs `f` in a write transaction; commits durably when `durable` (which also makes every
    /// earlier lazy commit durable).
    pub(crate) fn write_with<T>(
        &self,
        durable: bool,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.failed.load(Ordering::SeqCst) {
            return Err(self.err("an earlier write failed; restart after checking the disk"));
        }
        let mut tx = self.db()?.begin_write().map_err(|e| self.err(e))?;
        if durable {
            self.lazy.store(0, Ordering::SeqCst);
        } else {
            tx.set_durability(Durability::None);
        }
        let out = f(&tx)?;
        tx.commit().map_err(|e| {
            self.failed.store(true, Ordering::SeqCst);
            self.err(e)
        })?;
        Ok(out)
    }

    /// Changes one stored account in place; false when it does not exist.
    fn update_account(
        &self,
        id: UserId,
        change: impl FnOnce(&mut Account),
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let mut t = tx.open_table(ACCOUNTS).map_err(|e| self.err(e))?;
            let current: Option<Account> = match t.get(id.0).map_err(|e| self.err(e))? {
                Some(v) => Some(dec("accounts", v.value())?),
                None => None,
            };
            let Some(mut a) = current else {
                return Ok(false);
            };
            change(&mut a);
            t.insert(id.0, enc(&a).as_slice())
                .map_err(|e| self.err(e))?;
            Ok(true)
        })
    }

    fn all<K: redb::Key + 'static, T: DeserializeOwned>(
        &self,
        def: TableDefinition<K, &[u8]>,
        name: &'static str,
    ) -> Result<Vec<T>, StoreError> {
        let tx = self.db()?.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(def).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in t.iter().map_err(|e| self.err(e))? {
            let (_, v) = row.map_err(|e| self.err(e))?;
            out.push(dec(name, v.value())?);
        }
        Ok(out)
    }

    fn pairs(&self, def: TableDefinition<(u64, u64), u64>) -> Result<Vec<(u64, u64)>, StoreError> {
        let tx = self.db()?.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(def).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in t.iter().map_err(|e| self.err(e))? {
            let (k, _) = row.map_err(|e| self.err(e))?;
            out.push(k.value());
        }
        Ok(out)
    }
}

impl RegionStore for EmbeddedStore {
    fn region(&self) -> &Region {
        &self.region
    }

    fn insert_account(&self, a: &Account) -> Result<(), StoreError> {
        self.check_region(&a.region)?;
        let lower = a.handle.to_ascii_lowercase();
        self.write(|tx| {
            let mut handles = tx.open_table(HANDLES).map_err(|e| self.err(e))?;
            if handles
                .get(lower.as_str())
                .map_err(|e| self.err(e))?
                .is_some()
            {
                return Err(StoreError::HandleTaken {
                    handle: a.handle.clone(),
                });
            }
            handles
                .insert(lower.as_str(), a.id.0)
                .map_err(|e| self.err(e))?;
            let mut accounts = tx.open_table(ACCOUNTS).map_err(|e| self.err(e))?;
            accounts
                .insert(a.id.0, enc(a).as_slice())
                .map_err(|e| self.err(e))?;
            Ok(())
        })
    }

    fn account(&self, id: UserId) -> Result<Option<Account>, StoreError> {
        let tx = self.db()?.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(ACCOUNTS).map_err(|e| self.err(e))?;
        let row = t.get(id.0).map_err(|e| self.err(e))?;
        row.map(|v| dec("accounts", v.value())).transpose()
    }

    fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        self.all(ACCOUNTS, "accounts")
    }

    fn set_locked(&self, id: UserId, locked: bool) -> Result<bool, StoreError> {
        self.update_account(id, |a| a.locked = locked)
    }

    fn set_role(&self, id: UserId, role: Role) -> Result<bool, StoreError> {
        self.update_account(id, |a| a.role = role)
    }

    fn insert_token(&self, hash: &[u8; 32], token: &TokenRecord) -> Result<(), StoreError> {
        self.check_region(&token.region)?;
        self.write(|tx| {
            let mut t = tx.open_table(TOKENS).map_err(|e| self.err(e))?;
            t.insert(hash.as_slice(), enc(token).as_slice())
                .map_err(|e| self.err(e))?;
            Ok(())
        })
    }

    fn token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        let tx = self.db()?.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(TOKENS).map_err(|e| self.err(e))?;
        let row = t.get(hash.as_slice()).map_err(|e| self.err(e))?;
        row.map(|v| dec("tokens", v.value())).transpose()
    }

    fn delete_token(&self, hash: &[u8; 32]) -> Result<bool, StoreError> {
        self.write(|tx| {
            let mut t = tx.open_table(TOKENS).map_err(|e| self.err(e))?;
            let existed = t
                .remove(hash.as_slice())
                .map_err(|e| self.err(e))?
                .is_some();
            Ok(existed)
        })
    }

    fn insert_video(&self, video: &Video, new_sound: Option<&Sound>) -> Result<(), StoreError> {
        self.check_region(&video.region)?;
        if let Some(s) = new_sound {
            self.check_region(&s.region)?;
        }
        self.write(|tx| {
            let mut t = tx.open_table(VIDEOS).map_err(|e| self.err(e))?;
            t.insert(video.id.0, enc(video).as_slice())
                .map_err(|e| self.err(e))?;
            if let Some(s) = new_sound {
                let mut st = tx.open_table(SOUNDS).map_err(|e| self.err(e))?;
                st.insert(s.id.0, enc(s).as_slice())
                    .map_err(|e| self.err(e))?;
            }
            Ok(())
        })
    }

    fn update_video(&self, video: &Video) -> Result<bool, StoreError> {
        self.check_region(&video.region)?;
        self.write(|tx| {
            let mut t = tx.open_table(VIDEOS).map_err(|e| self.err(e))?;
            if t.get(video.id.0).map_err(|e| self.err(e))?.is_none() {
                return Ok(false);
            }
            t.insert(video.id.0, enc(video).as_slice())
                .map_err(|e| self.err(e))?;
            Ok(true)
        })
    }

    fn delete_video(&self, id: VideoId) -> Result<Option<Video>, StoreError> {
        self.write(|tx| {
            let mut t = tx.open_table(VIDEOS).map_err(|e| self.err(e))?;
            let old = t.remove(id.0).map_err(|e| self.err(e))?;
            old.map(|v| dec("videos", v.value())).transpose()
        })
    }

    fn videos(&self) -> Result<Vec<Video>, StoreError> {
        self.all(VIDEOS, "videos")
    }

    fn sounds(&self) -> Result<Vec<Sound>, StoreError> {
        self.all(SOUNDS, "sounds")
    }

    fn follows(&self) -> Result<Vec<(UserId, UserId)>, StoreError> {
        Ok(self
            .pairs(FOLLOWS)?
            .into_iter()
            .map(|(a, b)| (UserId(a), UserId(b)))
            .collect())
    }

    fn likes(&self) -> Result<Vec<(UserId, VideoId)>, StoreError> {
        Ok(self
            .pairs(LIKES)?
            .into_iter()
            .map(|(a, b)| (UserId(a), VideoId(b)))
            .collect())
    }

    fn saves(&self) -> Result<Vec<(UserId, VideoId, u64)>, StoreError> {
        let tx = self.db()?.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(SAVES).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in t.iter().map_err(|e| self.err(e))? {
            let (k, v) = row.map_err(|e| self.err(e))?;
            let (u, video) = k.value();
            out.push((UserId(u), VideoId(video), v.value()));
        }
        Ok(out)
    }

    fn comments(&self) -> Result<Vec<Comment>, StoreError> {
        self.all(COMMENTS, "comments")
    }

    fn comment_likes(&self) -> Result<Vec<(UserId, CommentId)>, StoreError> {
        Ok(self
            .pairs(COMMENT_LIKES)?
            .into_iter()
            .map(|(a, b)| (UserId(a), CommentId(b)))
            .collect())
    }

    fn erase_comment_likes(&self, comments: &[CommentId]) -> Result<u64, StoreError> {
        if comments.is_empty() {
            return Ok(0);
        }
        let doomed: std::collections::HashSet<u64> = comments.iter().map(|c| c.0).collect();
        self.write(|tx| {
            crate::erase::remove_pairs(tx, COMMENT_LIKES, |_, c, _| doomed.contains(&c))
                .map_err(|e| self.err(e))
        })
    }

    fn import(
        &self,
        accounts: &[Account],
        sounds: &[Sound],
        videos: &[Video],
    ) -> Result<(), StoreError> {
        crate::check_import_regions(&self.region, accounts, sounds, videos)?;
        self.write(|tx| {
            let mut handles = tx.open_table(HANDLES).map_err(|e| self.err(e))?;
            let mut acc = tx.open_table(ACCOUNTS).map_err(|e| self.err(e))?;
            for a in accounts {
                let lower = a.handle.to_ascii_lowercase();
                if handles
                    .insert(lower.as_str(), a.id.0)
                    .map_err(|e| self.err(e))?
                    .is_some()
                {
                    return Err(StoreError::HandleTaken {
                        handle: a.handle.clone(),
                    });
                }
                acc.insert(a.id.0, enc(a).as_slice())
                    .map_err(|e| self.err(e))?;
            }
            let mut st = tx.open_table(SOUNDS).map_err(|e| self.err(e))?;
            for s in sounds {
                st.insert(s.id.0, enc(s).as_slice())
                    .map_err(|e| self.err(e))?;
            }
            let mut vt = tx.open_table(VIDEOS).map_err(|e| self.err(e))?;
            for v in videos {
                vt.insert(v.id.0, enc(v).as_slice())
                    .map_err(|e| self.err(e))?;
            }
            Ok(())
        })
    }

    fn update_comment(&self, comment: &Comment) -> Result<bool, StoreError> {
        self.check_region(&comment.region)?;
        self.write(|tx| {
            let mut t = tx.open_table(COMMENTS).map_err(|e| self.err(e))?;
            if t.get(comment.id.0).map_err(|e| self.err(e))?.is_none() {
                return Ok(false);
            }
            t.insert(comment.id.0, enc(comment).as_slice())
                .map_err(|e| self.err(e))?;
            Ok(true)
        })
    }

    fn put_report(&self, report: &Report) -> Result<(), StoreError> {
        self.write(|tx| {
            let mut t = tx.open_table(REPORTS).map_err(|e| self.err(e))?;
            t.insert(report.id, enc(report).as_slice())
                .map_err(|e| self.err(e))?;
            Ok(())
        })
    }

    fn reports(&self) -> Result<Vec<Report>, StoreError> {
        self.all(REPORTS, "reports")
    }

    fn approvals(&self) -> Result<Vec<(UserId, UserId, bool)>, StoreError> {
        let tx = self.db()?.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(APPROVALS).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in t.iter().map_err(|e| self.err(e))? {
            let (k, v) = row.map_err(|e| self.err(e))?;
            let (a, f) = k.value();
            out.push((UserId(a), UserId(f), v.value() == 1));
        }
        Ok(out)
    }

    fn settings(&self, id: UserId) -> Result<Option<Settings>, StoreError> {
        let tx = self.db()?.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(SETTINGS).map_err(|e| self.err(e))?;
        let v = t.get(id.0).map_err(|e| self.err(e))?;
        v.map(|v| dec("settings", v.value())).transpose()
    }

    fn all_settings(&self) -> Result<Vec<(UserId, Settings)>, StoreError> {
        let tx = self.db()?.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(SETTINGS).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in t.iter().map_err(|e| self.err(e))? {
            let (k, v) = row.map_err(|e| self.err(e))?;
            out.push((UserId(k.value()), dec("settings", v.value())?));
        }
        Ok(out)
    }

    fn families(&self) -> Result<Vec<(UserId, crate::Family)>, StoreError> {
        let tx = self.db()?.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(FAMILY).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in t.iter().map_err(|e| self.err(e))? {
            let (k, v) = row.map_err(|e| self.err(e))?;
            out.push((UserId(k.value()), dec("family", v.value())?));
        }
        Ok(out)
    }

    fn set_family(&self, minor: UserId, link: Option<&crate::Family>) -> Result<(), StoreError> {
        self.write(|tx| {
            let mut t = tx.open_table(FAMILY).map_err(|e| self.err(e))?;
            match link {
                Some(l) => {
                    t.insert(minor.0, enc(l).as_slice())
                        .map_err(|e| self.err(e))?;
                }
                None => {
                    t.remove(minor.0).map_err(|e| self.err(e))?;
                }
            }
            Ok(())
        })
    }

    fn set_settings(&self, id: UserId, settings: &Settings) -> Result<(), StoreError> {
        self.write(|tx| {
            let mut t = tx.open_table(SETTINGS).map_err(|e| self.err(e))?;
            t.insert(id.0, enc(settings).as_slice())
                .map_err(|e| self.err(e))?;
            Ok(())
        })
    }

    fn apply(&self, records: &[EventRecord]) -> Result<Vec<Effect>, StoreError> {
        self.apply_records(records)
    }

    fn state(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.db()?.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(STATE).map_err(|e| self.err(e))?;
        let v = t.get(name).map_err(|e| self.err(e))?;
        Ok(v.map(|v| v.value().to_vec()))
    }

    fn set_state(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        self.write(|tx| {
            let mut t = tx.open_table(STATE).map_err(|e| self.err(e))?;
            t.insert(name, value).map_err(|e| self.err(e))?;
            Ok(())
        })
    }

    fn journal_put(&self, index: u64, entry: &[u8]) -> Result<(), StoreError> {
        self.write(|tx| {
            let mut t = tx.open_table(JOURNAL).map_err(|e| self.err(e))?;
            if t.get(index).map_err(|e| self.err(e))?.is_none() {
                t.insert(index, entry).map_err(|e| self.err(e))?;
            }
            Ok(())
        })
    }

    fn journal(&self, index: u64, max: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        let tx = self.db()?.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(JOURNAL).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in t.range(index..).map_err(|e| self.err(e))? {
            let (k, v) = row.map_err(|e| self.err(e))?;
            if k.value() != index + out.len() as u64 || out.len() >= max {
                break;
            }
            out.push(v.value().to_vec());
        }
        Ok(out)
    }

    fn erase(&self, user: Option<UserId>, videos: &[VideoId]) -> Result<crate::Erased, StoreError> {
        self.erase_records(user, videos)
    }

    fn vacuum(&self) -> Result<(), StoreError> {
        self.rewrite()
    }

    fn applied_seq(&self) -> Result<u64, StoreError> {
        let tx = self.db()?.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(META).map_err(|e| self.err(e))?;
        let v = t
            .get(APPLIED)
            .map_err(|e| self.err(e))?
            .map(|v| v.value())
            .unwrap_or(0);
        Ok(v)
    }

    fn record_access(&self, record: &AccessRecord) -> Result<u64, StoreError> {
        self.write(|tx| {
            let mut t = tx.open_table(ACCESS).map_err(|e| self.err(e))?;
            let seq = t
                .last()
                .map_err(|e| self.err(e))?
                .map(|(k, _)| k.value())
                .unwrap_or(0)
                + 1;
            let mut r = record.clone();
            r.seq = seq;
            t.insert(seq, enc(&r).as_slice()).map_err(|e| self.err(e))?;
            Ok(seq)
        })
    }

    fn access_records(&self, from: u64, max: usize) -> Result<Vec<AccessRecord>, StoreError> {
        let tx = self.db()?.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(ACCESS).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in t.range(from..).map_err(|e| self.err(e))?.take(max) {
            let (_, v) = row.map_err(|e| self.err(e))?;
            out.push(dec("access", v.value())?);
        }
        Ok(out)
    }

    fn view_share_counts(&self) -> Result<Vec<(VideoId, u64, u64)>, StoreError> {
        let tx = self.db()?.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(COUNTS).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in t.iter().map_err(|e| self.err(e))? {
            let (k, v) = row.map_err(|e| self.err(e))?;
            if k.value() == COUNTED {
                continue;
            }
            let (views, shares) = v.value();
            out.push((VideoId(k.value()), views, shares));
        }
        Ok(out)
    }
}
