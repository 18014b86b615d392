//! Reports and the moderation queue. Anyone signed in reports a video or an account (for
//! instance as under 13); the report waits in the reported content's own region (the reporter
//! only as a keyed pseudonym). A confirmed account report locks the account: it may sign in only
//! to read the decision, appeal and export, and its videos are hidden from everyone else. Moderators reach a region's
//! queue and decide through the staff gateway (purpose and decision logged). A video taken down
//! leaves every feed and engine at once but keeps its record and media, so that its creator,
//! who sees the moderator's reason, may appeal once; a granted appeal brings it back everywhere.

use super::staff::{Effect as StaffEffect, StaffRequest, Subject};
use super::*;
use foryou_store::{Report, ReportStatus};

/// Why a video may be reported.
pub const REPORT_REASONS: [&str; 6] = [
    "spam",
    "harassment",
    "nudity",
    "violence",
    "under_13",
    "other",
];
/// Longest note, decision reason or appeal.
const MAX_TEXT: usize = 500;

fn text(field: &str, t: &str, required: bool) -> Result<String, PlatformError> {
    let t = t.trim();
    let n = t.chars().count();
    if (required && n == 0) || n > MAX_TEXT {
        return Err(PlatformError::bad_request(format!(
            "{field}: {} to {MAX_TEXT} characters",
            u8::from(required)
        )));
    }
    Ok(t.to_string())
}

impl Platform {
    /// Files a report in `region`'s queue about one target (a video, a comment on `video`, or,
    /// with neither, the account `creator`); a second open report by the same person on the same
    /// target is the first one.
    fn file_report(
        &self,
        caller: &Caller,
        region: &Region,
        target: (Option<VideoId>, Option<CommentId>, UserId),
        reason: &str,
        note: &str,
    ) -> Result<u64, PlatformError> {
        if !REPORT_REASONS.contains(&reason) {
            return Err(PlatformError::bad_request(format!(
                "reason: one of {}",
                REPORT_REASONS.join(", ")
            )));
        }
        let note = text("note", note, false)?;
        let (video, comment, creator) = target;
        let reporter = self.transparency.pseudonym(caller.user);
        let store = match self.cells.moderation(region) {
            Ok(store) => store,
            // Content of a region another node serves: the report travels to its moderators
            // on the public feed (that region's nodes file it, once).
            Err(e) if e.kind == Kind::Misdirected && self.feed.is_some() => {
                let report = new_report(video, comment, creator, reason, note, reporter);
                let id = report.id;
                let fact = public::Fact::Report {
                    to: region.clone(),
                    report,
                };
                self.publish_facts(&caller.region, vec![(creator.0, fact)], Publish::Keep);
                return Ok(id);
            }
            Err(e) => return Err(e),
        };
        if let Some(r) = store.reports()?.iter().find(|r| {
            (r.video, r.comment, r.creator) == (video, comment, creator)
                && r.reporter == reporter
                && r.status == ReportStatus::Open
        }) {
            return Ok(r.id);
        }
        let report = new_report(video, comment, creator, reason, note, reporter);
        store.put_report(&report)?;
        Ok(report.id)
    }

    /// Reports a video the caller can see to the moderators of its region.
    pub fn report_video(
        &self,
        caller: &Caller,
        video: VideoId,
        reason: &str,
        note: &str,
    ) -> Result<u64, PlatformError> {
        let v = {
            let w = self.world.read().map_err(lock_err)?;
            w.videos
                .get(&video)
                .filter(|e| self.may_see(&w, Some(caller.user), e.video.creator))
                .map(|e| e.video.clone())
                .ok_or_else(|| PlatformError::not_found(format!("no video with id {video}")))?
        };
        self.file_report(
            caller,
            &v.region,
            (Some(video), None, v.creator),
            reason,
            note,
        )
    }

    /// Reports a comment to the moderators of its author's region (where it is stored).
    pub fn report_comment(
        &self,
        caller: &Caller,
        comment: CommentId,
        reason: &str,
        note: &str,
    ) -> Result<u64, PlatformError> {
        let c = {
            let w = self.world.read().map_err(lock_err)?;
            w.comment(comment)
                .filter(|c| {
                    w.videos
                        .get(&c.video)
                        .is_some_and(|e| self.may_see(&w, Some(caller.user), e.video.creator))
                })
                .cloned()
                .ok_or_else(|| PlatformError::not_found(format!("no comment with id {comment}")))?
        };
        let target = (Some(c.video), Some(comment), c.author);
        self.file_report(caller, &c.region, target, reason, note)
    }

    /// Reports an account (for instance as under 13) to the moderators of its region.
    pub fn report_account(
        &self,
        caller: &Caller,
        account: UserId,
        reason: &str,
        note: &str,
    ) -> Result<u64, PlatformError> {
        let region = {
            let w = self.world.read().map_err(lock_err)?;
            w.users
                .get(&account)
                .filter(|u| !u.locked && account != caller.user)
                .map(|u| u.region.clone())
                .ok_or_else(|| PlatformError::not_found(format!("no user with id {account}")))?
        };
        self.file_report(caller, &region, (None, None, account), reason, note)
    }

    /// A region's moderation queue (open reports and appeals), through the gateway.
    pub fn moderation_queue(
        &self,
        caller: &Caller,
        region: &Region,
        purpose: &str,
    ) -> Result<Vec<Report>, PlatformError> {
        let req = StaffRequest {
            target: region,
            purpose,
            category: "content",
            action: "read the moderation queue".into(),
            verb: "read the moderation queue".into(),
            subject: Subject::None,
            effect: StaffEffect::Read,
        };
        self.through_gateway(caller, req, |grant| {
            let mut open: Vec<Report> = self
                .cells
                .granted(grant)?
                .store
                .reports()?
                .into_iter()
                .filter(|r| matches!(r.status, ReportStatus::Open | ReportStatus::Appealed))
                .collect();
            open.sort_by_key(|r| (r.ts_ms, r.id));
            let n = open.len() as u64;
            Ok((open, n))
        })
    }

    /// Decides a report through the gateway: `remove` or `dismiss` an open one, `uphold` or
    /// `reverse` an appealed one, with a reason the creator is shown.
    pub fn resolve_report(
        &self,
        caller: &Caller,
        region: &Region,
        id: u64,
        action: &str,
        reason: &str,
        purpose: &str,
    ) -> Result<Report, PlatformError> {
        let reason = text("reason", reason, true)?;
        let req = StaffRequest {
            target: region,
            purpose,
            category: "content",
            action: format!("{action} report {id}"),
            verb: match action {
                "remove" => "remove reported content",
                "lock" => "lock a reported account",
                "dismiss" => "dismiss a report",
                "uphold" => "uphold a takedown on appeal",
                "reverse" => "reverse a takedown on appeal",
                _ => "decide a report",
            }
            .into(),
            subject: Subject::None,
            effect: StaffEffect::Change,
        };
        self.through_gateway(caller, req, |grant| {
            let cell = self.cells.granted(grant)?;
            let mut r = cell
                .store
                .reports()?
                .into_iter()
                .find(|r| r.id == id)
                .ok_or_else(|| PlatformError::not_found(format!("no report {id} in {region}")))?;
            // An account is locked rather than removed; a video or a comment is removed.
            let take_down = if r.video.is_some() { "remove" } else { "lock" };
            let (status, removed) = match (r.status, action) {
                (ReportStatus::Open, a) if a == take_down => (ReportStatus::Removed, Some(true)),
                (ReportStatus::Open, "dismiss") => (ReportStatus::Dismissed, None),
                (ReportStatus::Appealed, "uphold") => (ReportStatus::Upheld, None),
                (ReportStatus::Appealed, "reverse") => (ReportStatus::Reversed, Some(false)),
                (s, _) => {
                    return Err(PlatformError::new(
                        Kind::Conflict,
                        "not_decidable",
                        format!(
                            "action: a report that is {s:?} takes {}",
                            match s {
                                ReportStatus::Open if r.video.is_some() => "remove or dismiss",
                                ReportStatus::Open => "lock or dismiss",
                                ReportStatus::Appealed => "uphold or reverse",
                                _ => "no further decision",
                            }
                        )
                        .to_lowercase(),
                    ))
                }
            };
            if let Some(removed) = removed {
                match (r.comment, r.video) {
                    (Some(c), _) => self.set_comment_removed(cell, c, removed)?,
                    (None, Some(v)) => self.set_removed(cell, v, removed)?,
                    (None, None) => self.set_locked(cell, r.creator, removed)?,
                }
            }
            r.status = status;
            r.decision = reason.clone();
            r.decided_ms = now_ms();
            cell.store.put_report(&r)?;
            Ok((r, 1))
        })
    }

    /// Takes a comment down (out of the projection; kept in its author's store) or restores it.
    fn set_comment_removed(
        &self,
        cell: &cells::Cell,
        id: CommentId,
        removed: bool,
    ) -> Result<(), PlatformError> {
        let c = cell
            .store
            .comments()?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| PlatformError::not_found(format!("no comment with id {id}")))?;
        if c.removed == removed {
            return Ok(());
        }
        let updated = Comment { removed, ..c };
        cell.store.update_comment(&updated)?;
        let fact = (updated.author.0, public::Fact::Comment(updated.clone()));
        let region = updated.region.clone();
        {
            let mut w = self.world.write().map_err(lock_err)?;
            if removed {
                w.hide_comment(id, updated.video, updated.reply_to);
            } else if w.videos.contains_key(&updated.video) {
                w.show_comment(updated);
            }
        }
        self.publish_facts(&region, vec![fact], Publish::Append);
        Ok(())
    }

    /// Locks an account (it may sign in only to read the decision, appeal and export; its
    /// videos are hidden from everyone else) or unlocks it.
    fn set_locked(
        &self,
        cell: &cells::Cell,
        user: UserId,
        locked: bool,
    ) -> Result<(), PlatformError> {
        if !cell.store.set_locked(user, locked)? {
            return Err(PlatformError::not_found(format!("no user with id {user}")));
        }
        if let Some(u) = self.world.write().map_err(lock_err)?.users.get_mut(&user) {
            u.locked = locked;
        }
        self.publish_person(user);
        Ok(())
    }

    /// Whether a moderator locked this account.
    pub fn is_locked(&self, user: UserId) -> bool {
        self.world
            .read()
            .map(|w| w.users.get(&user).is_some_and(|u| u.locked))
            .unwrap_or(false)
    }

    /// Takes a video down (out of the projection and every engine; record and media kept) or
    /// brings it back.
    fn set_removed(
        &self,
        cell: &cells::Cell,
        id: VideoId,
        removed: bool,
    ) -> Result<(), PlatformError> {
        let video = cell
            .store
            .videos()?
            .into_iter()
            .find(|v| v.id == id)
            .ok_or_else(|| PlatformError::not_found(format!("no video with id {id}")))?;
        if video.removed == removed {
            return Ok(());
        }
        let updated = Video { removed, ..video };
        cell.store.update_video(&updated)?;
        let fact = (updated.creator.0, public::Fact::Video(updated.clone()));
        self.publish_facts(&updated.region, vec![fact], Publish::Append);
        if removed {
            self.append_catalog(&[videos::catalog_record_again(EventKind::Unpublish, &updated)])?;
            self.world.write().map_err(lock_err)?.remove_video(&updated);
        } else {
            self.append_catalog(&[videos::catalog_record_again(EventKind::Publish, &updated)])?;
            self.world.write().map_err(lock_err)?.add_video(updated);
        }
        Ok(())
    }

    /// Moderators' decisions on the caller's videos (not the open reports).
    pub fn my_moderation(&self, caller: &Caller) -> Result<Vec<Report>, PlatformError> {
        let mut mine: Vec<Report> = self
            .cells
            .home(caller)?
            .store
            .reports()?
            .into_iter()
            .filter(|r| r.creator == caller.user)
            .filter(|r| !matches!(r.status, ReportStatus::Open | ReportStatus::Dismissed))
            .collect();
        mine.sort_by_key(|r| std::cmp::Reverse(r.decided_ms));
        Ok(mine)
    }

    /// The creator appeals a takedown, once.
    pub fn appeal(&self, caller: &Caller, id: u64, appeal: &str) -> Result<Report, PlatformError> {
        let appeal = text("text", appeal, true)?;
        let cell = self.cells.home(caller)?;
        let mut r = cell
            .store
            .reports()?
            .into_iter()
            .find(|r| r.id == id && r.creator == caller.user)
            .ok_or_else(|| PlatformError::not_found(format!("no decision {id} on your videos")))?;
        if r.status != ReportStatus::Removed {
            return Err(PlatformError::new(
                Kind::Conflict,
                "not_appealable",
                "only a takedown can be appealed, and only once",
            ));
        }
        r.status = ReportStatus::Appealed;
        r.appeal = appeal;
        cell.store.put_report(&r)?;
        Ok(r)
    }
}

/// A new open report.
fn new_report(
    video: Option<VideoId>,
    comment: Option<CommentId>,
    creator: UserId,
    reason: &str,
    note: String,
    reporter: String,
) -> Report {
    Report {
        id: new_id(),
        ts_ms: now_ms(),
        video,
        comment,
        creator,
        reason: reason.to_string(),
        note,
        reporter,
        status: ReportStatus::Open,
        decision: String::new(),
        appeal: String::new(),
        decided_ms: 0,
    }
}
