//! A person's settings and the limits of their age band, enforced by the server on every use:
//! a stored value (or a client) can never weaken them.
//!
//! | band | private account | who may comment | personalised feed |
//! |---|---|---|---|
//! | under 13 (supervised, made by a parent) | always | no one | never (nothing is learned) |
//! | 13–15 | always | followers or no one | their choice (used for their own feed only) |
//! | 16–17 | by default; may turn it off | followers or no one | their choice |
//! | 18+ | their choice | their choice | their choice |
//!
//! A parent linked through Family Pairing tightens these further (private, who may comment,
//! restricted mode, a daily limit); nothing the minor sends can loosen what the parent set.
//! Nothing about anyone is profiled for anything but their own feed (Foryou shows no ads).

use super::*;
use foryou_store::{CommentPolicy, Family, Settings};

/// Daily watch time after which people under 18 are reminded to take a break.
pub const SCREEN_TIME_REMINDER_MS: u64 = 60 * 60_000;

/// The most filter words a person may keep, and the longest.
const MAX_FILTERS: usize = 50;
const MAX_FILTER_CHARS: usize = 40;

/// An account's age band (an account under 13 exists only as one a parent supervises).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// Under 13: supervised accounts only.
    Child,
    /// 13 to 15.
    YoungTeen,
    /// 16 and 17.
    OlderTeen,
    /// 18 and over.
    Adult,
}

/// The band of someone born on `birth`, today.
pub fn band(birth: Date) -> Band {
    match age_on(birth, Date::from_unix_ms(now_ms())) {
        ..=12 => Band::Child,
        13..=15 => Band::YoungTeen,
        16 | 17 => Band::OlderTeen,
        _ => Band::Adult,
    }
}

/// The settings a new account of `band` starts with.
pub fn defaults(band: Band) -> Settings {
    match band {
        Band::Adult => Settings::default(),
        Band::Child => Settings {
            private: true,
            comments: CommentPolicy::Nobody,
            personalised: false,
            downloads: false,
            ..Settings::default()
        },
        Band::YoungTeen | Band::OlderTeen => Settings {
            private: true,
            comments: CommentPolicy::Followers,
            downloads: false,
            ..Settings::default()
        },
    }
}

/// What is in force: the stored choices (or the band's defaults) with the band's limits and the
/// parent's controls applied.
pub fn effective(stored: Option<&Settings>, band: Band, family: Option<&Family>) -> Settings {
    let mut s = stored.cloned().unwrap_or_else(|| defaults(band));
    match band {
        Band::Child => {
            s.private = true;
            s.comments = CommentPolicy::Nobody;
            s.personalised = false;
        }
        Band::YoungTeen => s.private = true,
        Band::OlderTeen | Band::Adult => {}
    }
    // Nobody downloads a minor's videos.
    if band != Band::Adult {
        s.downloads = false;
    }
    if band != Band::Adult && s.comments == CommentPolicy::Everyone {
        s.comments = CommentPolicy::Followers;
    }
    if let Some(f) = family {
        if !f.may_be_public {
            s.private = true;
        }
        match (f.comments, s.comments) {
            (Some(CommentPolicy::Nobody), _) => s.comments = CommentPolicy::Nobody,
            (Some(CommentPolicy::Followers), CommentPolicy::Everyone) => {
                s.comments = CommentPolicy::Followers
            }
            _ => {}
        }
    }
    s
}

/// The settings in force for a person as the projection holds them.
pub(crate) fn effective_for(u: &super::world::UserEntry) -> Settings {
    effective(u.settings.as_ref(), u.band(), u.family.as_ref())
}

/// Refuses a change the band or the parent's controls do not allow, saying which rule.
/// The longest bio, in characters.
pub(crate) const MAX_BIO_CHARS: usize = 80;

fn check(new: &Settings, band: Band, family: Option<&Family>) -> Result<(), PlatformError> {
    let n = new.bio.chars().count();
    if n > MAX_BIO_CHARS || new.bio.chars().any(char::is_control) {
        return Err(PlatformError::bad_request(format!(
            "bio: at most {MAX_BIO_CHARS} characters on one line (it has {n})"
        )));
    }
    if band == Band::Child
        && (!new.private || new.comments != CommentPolicy::Nobody || new.personalised)
    {
        return Err(PlatformError::forbidden(
            "supervised accounts stay private, take no comments and are not personalised",
        ));
    }
    if let Some(f) = family {
        if !f.may_be_public && !new.private {
            return Err(PlatformError::forbidden(
                "private: your parent keeps this account private (Family Pairing)",
            ));
        }
        let allowed = match f.comments {
            Some(CommentPolicy::Nobody) => new.comments == CommentPolicy::Nobody,
            Some(CommentPolicy::Followers) => new.comments != CommentPolicy::Everyone,
            _ => true,
        };
        if !allowed {
            return Err(PlatformError::forbidden(
                "comments: your parent set who may comment (Family Pairing)",
            ));
        }
    }
    if band == Band::YoungTeen && !new.private {
        return Err(PlatformError::forbidden(
            "private: accounts of people under 16 stay private",
        ));
    }
    if band != Band::Adult && new.comments == CommentPolicy::Everyone {
        return Err(PlatformError::forbidden(
            "comments: on the videos of people under 18, only followers (or no one) may comment",
        ));
    }
    if new.filters.len() > MAX_FILTERS {
        return Err(PlatformError::bad_request(format!(
            "filters: at most {MAX_FILTERS} words or hashtags"
        )));
    }
    if let Some(f) = new
        .filters
        .iter()
        .find(|f| f.trim().is_empty() || f.chars().count() > MAX_FILTER_CHARS)
    {
        return Err(PlatformError::bad_request(format!(
            "filters: '{}' must be 1 to {MAX_FILTER_CHARS} characters",
            f.chars().take(MAX_FILTER_CHARS).collect::<String>()
        )));
    }
    Ok(())
}

impl Platform {
    /// The settings in force for `user` (their band's limits applied).
    pub(crate) fn settings_of(&self, user: UserId) -> Settings {
        self.world
            .read()
            .ok()
            .and_then(|w| w.users.get(&user).map(effective_for))
            .unwrap_or_default()
    }

    /// The caller's settings in force, their age band and their parent's controls, if linked.
    pub fn my_settings(
        &self,
        caller: &Caller,
    ) -> Result<(Settings, Band, Option<Family>), PlatformError> {
        let w = self.world.read().map_err(lock_err)?;
        let u = w
            .users
            .get(&caller.user)
            .ok_or_else(|| PlatformError::not_found("no such account"))?;
        Ok((effective_for(u), u.band(), u.family.clone()))
    }

    /// Changes the caller's settings, within their band's limits; in force on the next request.
    pub fn set_my_settings(
        &self,
        caller: &Caller,
        mut new: Settings,
    ) -> Result<Settings, PlatformError> {
        let (b, family) = {
            let w = self.world.read().map_err(lock_err)?;
            let u = w
                .users
                .get(&caller.user)
                .ok_or_else(|| PlatformError::not_found("no such account"))?;
            (u.band(), u.family.clone())
        };
        new.filters = new
            .filters
            .iter()
            .map(|f| f.trim().trim_start_matches('#').to_lowercase())
            .collect();
        new.filters.dedup();
        new.bio = new.bio.trim().to_string();
        // Downloads stay off under 18 whatever is sent (the field defaults to on when omitted).
        if b != Band::Adult {
            new.downloads = false;
        }
        check(&new, b, family.as_ref())?;
        self.cells
            .home(caller)?
            .store
            .set_settings(caller.user, &new)?;
        if let Some(u) = self
            .world
            .write()
            .map_err(lock_err)?
            .users
            .get_mut(&caller.user)
        {
            u.settings = Some(new.clone());
        }
        self.publish_person(caller.user);
        Ok(effective(Some(&new), b, family.as_ref()))
    }

    /// The screen-time reminder due to `user` now, if any: people under 18 are reminded once
    /// they have watched 60 minutes today (UTC).
    pub fn screen_time_reminder(&self, user: UserId) -> Option<String> {
        let minor = self
            .world
            .read()
            .ok()?
            .users
            .get(&user)
            .is_some_and(|u| u.band() != Band::Adult);
        if !minor {
            return None;
        }
        let today = (now_ms() / 86_400_000) as i64;
        let watched = self
            .screen_time
            .lock()
            .ok()?
            .get(&user)
            .filter(|(day, _)| *day == today)
            .map(|t| t.1)
            .unwrap_or(0);
        (watched >= SCREEN_TIME_REMINDER_MS).then(|| {
            format!(
                "You have watched Foryou for {} minutes today. Time for a break?",
                watched / 60_000
            )
        })
    }

    /// Whether `viewer` may see video `id` at all (its page, media, comments): not when it does
    /// not exist, nor when its creator's account is private and the viewer does not follow them.
    pub fn may_see_video(&self, viewer: Option<UserId>, id: VideoId) -> bool {
        self.world
            .read()
            .map(|w| {
                w.videos
                    .get(&id)
                    .is_some_and(|e| self.may_see(&w, viewer, e.video.creator))
            })
            .unwrap_or(false)
    }

    /// Whether video `id` may be downloaded: its creator allows it, and is an adult.
    pub fn downloadable(&self, id: VideoId) -> bool {
        self.world
            .read()
            .map(|w| {
                w.videos
                    .get(&id)
                    .and_then(|e| w.users.get(&e.video.creator))
                    .is_some_and(|u| effective_for(u).downloads)
            })
            .unwrap_or(false)
    }

    /// Whether `viewer` may see `owner`'s videos in lists and feeds: always, unless the owner's
    /// account is private and the viewer neither is them nor follows them.
    pub(crate) fn may_see(&self, w: &World, viewer: Option<UserId>, owner: UserId) -> bool {
        let Some(u) = w.users.get(&owner) else {
            return true;
        };
        // A locked account's videos are for itself only.
        if u.locked {
            return viewer == Some(owner);
        }
        if !effective_for(u).private {
            return true;
        }
        // A parent sees what their child posts.
        if u.family
            .as_ref()
            .is_some_and(|f| Some(f.guardian) == viewer)
        {
            return true;
        }
        viewer.is_some_and(|v| v == owner || approved_follower(w, v, owner))
    }

    /// Followers of the caller waiting for a decision (private accounts approve who sees their
    /// videos and may comment), by handle.
    pub fn follow_requests(&self, caller: &Caller) -> Result<Vec<(UserId, String)>, PlatformError> {
        let w = self.world.read().map_err(lock_err)?;
        let mut out: Vec<(UserId, String)> = w
            .following
            .iter()
            .filter(|(f, set)| {
                set.contains(&caller.user) && !w.approvals.contains_key(&(caller.user, **f))
            })
            .filter_map(|(f, _)| w.users.get(f).map(|u| (*f, u.handle.clone())))
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(out)
    }
}

/// Whether `viewer` follows `owner` and, `owner` being private, was approved by them.
pub(crate) fn approved_follower(w: &World, viewer: UserId, owner: UserId) -> bool {
    let follows = w.following.get(&viewer).is_some_and(|f| f.contains(&owner));
    let private = w
        .users
        .get(&owner)
        .is_some_and(|u| effective_for(u).private);
    follows && (!private || w.approvals.get(&(owner, viewer)) == Some(&true))
}

/// What a person said "not interested" to, for their settings page: each with a video to name
/// in an `undo_not_interested` event.
#[derive(Debug, Default)]
pub struct NotInterested {
    /// Videos: (id, caption).
    pub videos: Vec<(VideoId, String)>,
    /// Creators: (id, handle, one of their videos).
    pub creators: Vec<(UserId, String, Option<VideoId>)>,
    /// Sounds: (id, title, one video using it).
    pub sounds: Vec<(SoundId, String, Option<VideoId>)>,
}

impl Platform {
    /// The caller's "not interested" choices, as their home region's engine holds them.
    pub fn not_interested(&self, caller: &Caller) -> Result<NotInterested, PlatformError> {
        let learned = {
            let engine = self.cells.home(caller)?.engine.read().map_err(lock_err)?;
            foryou_engine::interests::interests(&engine, caller.user, 0)
        };
        let Some(i) = learned else {
            return Ok(NotInterested::default());
        };
        let w = self.world.read().map_err(lock_err)?;
        Ok(NotInterested {
            videos: i
                .not_interested_videos
                .iter()
                .filter_map(|v| w.videos.get(v).map(|e| (*v, e.video.caption.clone())))
                .collect(),
            creators: i
                .not_interested_creators
                .iter()
                .filter_map(|c| {
                    let u = w.users.get(c)?;
                    let any = w.by_creator.get(c).and_then(|l| l.first()).copied();
                    Some((*c, u.handle.clone(), any))
                })
                .collect(),
            sounds: i
                .not_interested_sounds
                .iter()
                .filter_map(|s| {
                    let snd = w.sounds.get(s)?;
                    let any = w.by_sound.get(s).and_then(|l| l.first()).copied();
                    Some((*s, snd.title.clone(), any))
                })
                .collect(),
        })
    }
}
