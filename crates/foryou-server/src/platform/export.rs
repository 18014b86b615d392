//! Export (GDPR Art. 15 and 20): everything held about the caller, as one tar archive of JSON
//! files and their media, built in their home region's temporary directory:
//!
//! ```text
//! foryou-export/README.txt          what each file is
//! foryou-export/account.json        the account (the password only as "argon2id hash, not exported")
//! foryou-export/videos.json         their videos; media/ and posters/ hold the files
//! foryou-export/comments.json       comments and replies they wrote (taken down ones included)
//! foryou-export/likes.json          videos they like
//! foryou-export/favourites.json     videos they saved, and when
//! foryou-export/comment-likes.json  comments they like
//! foryou-export/follows.json        creators they follow, and how many follow them
//! foryou-export/events.jsonl        every record of theirs in their region's event log
//! foryou-export/interests.json      what the For You engine has learned about them
//! foryou-export/staff-access.json   staff decisions about their data (their region's record)
//! foryou-export/transparency.json   transparency-log entries that name their pseudonym
//! ```

use super::*;

const README: &str = "This archive holds everything Foryou keeps about you, as JSON.\n\
account.json: your account (your password is kept only as an argon2id hash, not exported).\n\
videos.json, media/, posters/: your videos and their files.\n\
comments.json, likes.json, follows.json: what you wrote, liked and followed.\n\
favourites.json, comment-likes.json: the videos you saved and the comments you liked.\n\
events.jsonl: every record of yours in your home region's event log (views, skips, likes, ...).\n\
interests.json: what the For You engine learned about you (creators, sounds, hashtags and weights).\n\
staff-access.json: decisions of the staff gateway about your data.\n\
transparency.json: entries of the public transparency log that name your pseudonym.\n";

/// Most engine entries per list in the export.
const INTEREST_LIST: usize = 1000;

fn json_bytes(v: &impl serde::Serialize) -> Result<Vec<u8>, PlatformError> {
    serde_json::to_vec_pretty(v).map_err(PlatformError::internal)
}

impl Platform {
    /// Writes the caller's export archive under their home region's temporary directory and
    /// returns its path (the caller streams it and removes it).
    pub fn export(&self, caller: &Caller) -> Result<PathBuf, PlatformError> {
        let cell = self.cells.home(caller)?;
        let path = cell.tmp.join(format!("export-{}.tar", new_id()));
        let result = self.write_export(caller, cell, &path);
        if result.is_err() {
            let _ = std::fs::remove_file(&path);
        }
        result.map(|()| path)
    }

    fn write_export(
        &self,
        caller: &Caller,
        cell: &cells::Cell,
        path: &Path,
    ) -> Result<(), PlatformError> {
        let file = std::fs::File::create(path).map_err(PlatformError::internal)?;
        let mut tar = tar::Builder::new(std::io::BufWriter::new(file));
        let mut add = |name: &str, bytes: &[u8]| -> Result<(), PlatformError> {
            let mut h = tar::Header::new_ustar();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o644);
            h.set_mtime(now_ms() / 1000);
            tar.append_data(&mut h, format!("foryou-export/{name}"), bytes)
                .map_err(PlatformError::internal)
        };
        add("README.txt", README.as_bytes())?;
        let account = cell
            .store
            .account(caller.user)?
            .ok_or_else(|| PlatformError::not_found("no such account"))?;
        add(
            "account.json",
            &json_bytes(&serde_json::json!({
                "id": account.id, "handle": account.handle, "birthdate": account.birthdate,
                "country": account.country, "region": account.region, "role": account.role,
                "created_ms": account.created_ms,
                "password": "kept only as an argon2id hash, not exported",
                "pseudonym_in_transparency_log": self.transparency.pseudonym(caller.user),
            }))?,
        )?;
        // Settings and consents: what they chose, what is in force, and their family link.
        {
            let (in_force, band, family) = self.my_settings(caller)?;
            let children = self.family(caller)?.children;
            add(
                "settings.json",
                &json_bytes(&serde_json::json!({
                    "stored": cell.store.settings(caller.user)?,
                    "in_force": in_force,
                    "age_band": band,
                    "family": family,
                    "children_linked_to_me": children.iter().map(|c| serde_json::json!({
                        "id": c.id, "handle": c.handle, "supervised": c.supervised,
                    })).collect::<Vec<_>>(),
                }))?,
            )?;
        }
        let (videos, likes, following, followers) = {
            let w = self.world.read().map_err(lock_err)?;
            let videos: Vec<Video> = w
                .by_creator
                .get(&caller.user)
                .into_iter()
                .flatten()
                .filter_map(|v| w.videos.get(v).map(|e| e.video.clone()))
                .collect();
            let likes: Vec<VideoId> = w
                .likes
                .iter()
                .filter(|(u, _)| *u == caller.user)
                .map(|(_, v)| *v)
                .collect();
            let following: Vec<UserId> = w
                .following
                .get(&caller.user)
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default();
            let followers = w.followers.get(&caller.user).copied().unwrap_or(0);
            (videos, likes, following, followers)
        };
        // From the store, which holds what the projection hides (taken-down comments, replies
        // to erased threads).
        let comments: Vec<Comment> = cell
            .store
            .comments()?
            .into_iter()
            .filter(|c| c.author == caller.user)
            .collect();
        let mut favourites: Vec<(VideoId, u64)> = cell
            .store
            .saves()?
            .into_iter()
            .filter(|(u, _, _)| *u == caller.user)
            .map(|(_, v, ts)| (v, ts))
            .collect();
        favourites.sort_by_key(|&(v, ts)| (std::cmp::Reverse(ts), v));
        let comment_likes: Vec<CommentId> = cell
            .store
            .comment_likes()?
            .into_iter()
            .filter(|(u, _)| *u == caller.user)
            .map(|(_, c)| c)
            .collect();
        add("videos.json", &json_bytes(&videos)?)?;
        for v in &videos {
            for (dir, key) in [("media", &v.media_key), ("posters", &v.poster_key)] {
                let Some(size) = cell.media.size(key)? else {
                    continue;
                };
                let bytes = cell.media.read_range(key, 0, size)?;
                let name = key.rsplit('/').next().unwrap_or(key);
                add(&format!("{dir}/{name}"), &bytes)?;
            }
        }
        add("comments.json", &json_bytes(&comments)?)?;
        add("likes.json", &json_bytes(&likes)?)?;
        let favourites: Vec<serde_json::Value> = favourites
            .into_iter()
            .map(|(v, ts)| serde_json::json!({"video": v, "saved_ms": ts}))
            .collect();
        add("favourites.json", &json_bytes(&favourites)?)?;
        add("comment-likes.json", &json_bytes(&comment_likes)?)?;
        add(
            "follows.json",
            &json_bytes(&serde_json::json!({"following": following, "followers": followers}))?,
        )?;
        // Their records in the region's log, read a batch at a time.
        let mut events = Vec::new();
        let mut from = 1;
        loop {
            let batch = cell.log.read(from, 10_000)?;
            let Some(last) = batch.last() else { break };
            from = last.seq + 1;
            for r in batch.iter().filter(|r| r.user == caller.user) {
                events.extend_from_slice(&serde_json::to_vec(r).map_err(PlatformError::internal)?);
                events.push(b'\n');
            }
        }
        add("events.jsonl", &events)?;
        let interests = {
            let engine = cell.engine.read().map_err(lock_err)?;
            foryou_engine::interests::interests(&engine, caller.user, INTEREST_LIST)
        };
        add("interests.json", &json_bytes(&interests)?)?;
        let pseudonym = self.transparency.pseudonym(caller.user);
        let subject = format!("user:{pseudonym}");
        let mut decisions = Vec::new();
        let mut from = 1;
        loop {
            let batch = cell.store.access_records(from, 10_000)?;
            let Some(last) = batch.last() else { break };
            from = last.seq + 1;
            decisions.extend(
                batch
                    .into_iter()
                    .filter(|r| r.subject == subject || r.actor == caller.user),
            );
        }
        add("staff-access.json", &json_bytes(&decisions)?)?;
        let entries: Vec<serde_json::Value> = self
            .transparency
            .entries_naming(&pseudonym)?
            .into_iter()
            .map(|(i, e)| serde_json::json!({"index": i, "entry": e}))
            .collect();
        add("transparency.json", &json_bytes(&entries)?)?;
        let inner = tar.into_inner().map_err(PlatformError::internal)?;
        let file = inner
            .into_inner()
            .map_err(|e| PlatformError::internal(e.error().to_string()))?;
        file.sync_all().map_err(PlatformError::internal)?;
        Ok(())
    }
}
