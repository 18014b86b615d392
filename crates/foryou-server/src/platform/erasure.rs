//! Erasure (GDPR Art. 17). `DELETE /v1/me` removes a person from every region: their account,
//! sessions, settings, videos and media, likes, favourites, follows either way, comments and
//! comment likes, follower decisions
//! and reports about them from every store; their videos from every region's catalog and engine;
//! what every engine learned about them; and their records in every region's event log, by
//! destroying the keys those records are sealed under (crypto-shredding: a replay or a backup of
//! the log reads them as erased). The stores are rewritten so no freed page keeps them, and the
//! engines' snapshots are written anew. Deleting a video does the same for the video: its
//! comments, likes, counts and learned state go from every region.
//!
//! The transparency log records each erasure first, without saying whose: the person gets a
//! receipt whose SHA-256 is in the entry.

use super::*;
use foryou_tlog::entry::{Entry, VERSION};

/// The proof that an erasure was recorded in the transparency log: only this file makes one,
/// and [`cells::Cells::purge`] asks for it.
pub(super) struct Purge {
    _sealed: (),
}

/// What an erasure hands back.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ErasureReceipt {
    /// A random secret only the holder knows; its SHA-256 is the log entry's `commitment`.
    pub receipt: String,
    /// SHA-256 (hex) of `receipt`.
    pub commitment: String,
    /// The index of the `erasure` entry in the transparency log.
    pub log_index: u64,
    /// When, Unix ms.
    pub ts_ms: u64,
    /// Videos removed.
    pub videos: usize,
    /// Comments removed (the person's own and those on their videos).
    pub comments: usize,
    /// Records removed or redacted in the stores of every region.
    pub records: u64,
    /// Regions whose log held a key for the person and destroyed it.
    pub keys_destroyed: Vec<String>,
}

impl Platform {
    /// Erases the caller's account and everything of theirs, after they re-enter their
    /// password. Returns the receipt.
    pub fn erase_me(
        &self,
        caller: &Caller,
        password: &str,
    ) -> Result<ErasureReceipt, PlatformError> {
        self.check_password(caller, password)?;
        self.erase_account(caller.user, &caller.region, "self")
    }

    /// Checks the caller's password, re-entered to confirm something that cannot be undone.
    pub(super) fn check_password(
        &self,
        caller: &Caller,
        password: &str,
    ) -> Result<(), PlatformError> {
        let account = self
            .cells
            .home(caller)?
            .store
            .account(caller.user)?
            .ok_or_else(|| PlatformError::not_found("this account was erased"))?;
        let (pw, phc) = (password.to_string(), account.password_hash);
        match self.hashers.run(move || auth::verify_password(&pw, &phc)) {
            Some(true) => Ok(()),
            Some(false) => Err(PlatformError::forbidden(
                "password: that is not your current password; enter it to confirm",
            )),
            None => Err(PlatformError::new(
                Kind::Busy,
                "busy",
                "too many password checks at once; try again in a moment",
            )),
        }
    }

    /// Erases `user` (home `region`) with everything of theirs from every region, having logged
    /// it; `by` says who asked (`self`, `parent`). A parent's supervised children go first: their
    /// accounts exist only with that parent's consent.
    pub(super) fn erase_account(
        &self,
        user: UserId,
        region: &Region,
        by: &str,
    ) -> Result<ErasureReceipt, PlatformError> {
        // Everyone supervised by this person, and by those, found without recursion.
        let mut found: Vec<(UserId, Region)> = vec![(user, region.clone())];
        {
            let w = self.world.read().map_err(lock_err)?;
            let mut i = 0;
            while i < found.len() {
                let guardian = found[i].0;
                for (id, u) in &w.users {
                    let theirs = u
                        .family
                        .as_ref()
                        .is_some_and(|f| f.supervised && f.guardian == guardian);
                    if theirs && !found.iter().any(|(f, _)| f == id) {
                        found.push((*id, u.region.clone()));
                    }
                }
                i += 1;
            }
        }
        for (child, home) in found.into_iter().skip(1).rev() {
            self.erase_one(child, &home, "parent")?;
        }
        self.erase_one(user, region, by)
    }

    /// Erases one account (see [`Platform::erase_account`]).
    fn erase_one(
        &self,
        user: UserId,
        region: &Region,
        by: &str,
    ) -> Result<ErasureReceipt, PlatformError> {
        let mut secret = [0u8; 32];
        rand::thread_rng().fill(&mut secret[..]);
        let receipt = crate::auth::hex(&secret);
        let commitment = {
            use sha2::{Digest, Sha256};
            crate::auth::hex(&Sha256::digest(receipt.as_bytes()))
        };
        let ts_ms = now_ms();
        // On record before anything goes.
        let log_index = self.transparency.append(Entry::Erasure {
            v: VERSION,
            ts_ms,
            region: region.to_string(),
            scope: "account".into(),
            by: by.into(),
            commitment: commitment.clone(),
        })?;
        let done = self.purge(Some(user), Vec::new(), &Purge { _sealed: () })?;
        tracing::info!(
            log_index,
            videos = done.videos,
            records = done.records,
            "account erased"
        );
        Ok(ErasureReceipt {
            receipt,
            commitment,
            log_index,
            ts_ms,
            videos: done.videos,
            comments: done.comments,
            records: done.records,
            keys_destroyed: done.keys_destroyed,
        })
    }

    /// Removes videos (already out of the catalog) with everything attached from every
    /// region: their likes, comments, counts and reports, media, and what every engine learned
    /// of them.
    pub(super) fn erase_videos(&self, videos: &[VideoId]) -> Result<(), PlatformError> {
        self.purge(None, videos.to_vec(), &Purge { _sealed: () })?;
        Ok(())
    }

    /// Applies another region's erasure to the regions this node serves: whatever their stores
    /// hold about the person or the videos (follows of them, likes and comments on their videos,
    /// likes of their comments), what their engines learned of them, and the projection.
    pub(super) fn purge_foreign(
        &self,
        user: Option<UserId>,
        videos: Vec<VideoId>,
        mut comments: Vec<CommentId>,
    ) -> Result<(), PlatformError> {
        for (_, cell) in self.cells.upkeep() {
            let erased = cell.store.erase(user, &videos)?;
            comments.extend(erased.comments);
            let rows = erased.rows + cell.store.erase_comment_likes(&comments)?;
            cell.engine.write().map_err(lock_err)?.erase(user, &videos);
            if user.is_some() && rows > 0 {
                cell.snapshot_now()?;
                cell.store.vacuum()?;
            }
        }
        self.world
            .write()
            .map_err(lock_err)?
            .erase(user, &videos, &comments);
        Ok(())
    }

    fn purge(
        &self,
        user: Option<UserId>,
        mut videos: Vec<VideoId>,
        purge: &Purge,
    ) -> Result<Purged, PlatformError> {
        let mut origin = self.cells.regions().next().cloned();
        if let Some(u) = user {
            let w = self.world.read().map_err(lock_err)?;
            videos.extend(w.by_creator.get(&u).into_iter().flatten());
            if let Some(e) = w.users.get(&u) {
                origin = Some(e.region.clone());
            }
        }
        let mut out = Purged::default();
        let mut comments: Vec<CommentId> = Vec::new();
        for (region, cell) in self.cells.purge(purge) {
            if let Some(u) = user {
                if cell.forget(u)? {
                    out.keys_destroyed.push(region.to_string());
                }
            }
            let erased = cell.store.erase(user, &videos)?;
            for v in &erased.videos {
                cell.media.delete(&v.media_key)?;
                cell.media.delete(&v.poster_key)?;
                if !videos.contains(&v.id) {
                    videos.push(v.id);
                }
            }
            out.records += erased.rows;
            comments.extend(erased.comments);
        }
        // The engines forget. For a person, their snapshots are written anew and the stores
        // rewritten at once, so no file keeps what went; a video's go at the next snapshot.
        for (_, cell) in self.cells.purge(purge) {
            // Likes of the erased comments, wherever the likers live.
            out.records += cell.store.erase_comment_likes(&comments)?;
            cell.engine.write().map_err(lock_err)?.erase(user, &videos);
            if user.is_some() {
                cell.snapshot_now()?;
                cell.store.vacuum()?;
            }
        }
        self.world
            .write()
            .map_err(lock_err)?
            .erase(user, &videos, &comments);
        if let Some(u) = user {
            self.screen_time.lock().map_err(lock_err)?.remove(&u);
            for list in self.impressions.lock().map_err(lock_err)?.values_mut() {
                list.retain(|r| r.user != u);
            }
        }
        // The public feed forgets the person, then tells the other regions' nodes what went.
        if let (Some(feed), Some(origin)) = (self.feed.as_deref(), origin) {
            if let Some(u) = user {
                feed.forget(u.0)?;
            }
            let fact = public::Fact::Erased {
                user,
                videos: videos.clone(),
                comments: comments.clone(),
            };
            self.publish_facts(&origin, vec![(0, fact)], Publish::Append);
        }
        out.videos = videos.len();
        out.comments = comments.len();
        Ok(out)
    }
}

/// What a purge removed.
#[derive(Default)]
struct Purged {
    videos: usize,
    comments: usize,
    records: u64,
    keys_destroyed: Vec<String>,
}
