//! Family Pairing. A parent's account links to a minor's: a teen's once both confirmed (the
//! parent makes an invitation code, the teen enters it), an under-13 account from the start (the
//! parent made it, see `consent`). The parent then sets, within the minor's age band, a daily
//! limit, restricted mode, who may comment and whether the account may be public. The parent sees
//! the minor's settings and those controls, never their watch history, comments or messages.
//! The link lives in the minor's home store; nothing the minor sends can loosen what the parent
//! set.

use super::settings::{effective_for, Band};
use super::*;
use foryou_store::{CommentPolicy, Family};

/// How long an invitation code stays valid.
const INVITATION_MS: u64 = 60 * 60_000;
/// Most open invitations kept (oldest dropped past it).
const MAX_INVITATIONS: usize = 100_000;
/// The daily limits a parent may set, minutes.
const LIMIT_RANGE: std::ops::RangeInclusive<u32> = 15..=720;

/// The proof that the caller is the linked parent of a minor: only this file makes one, after
/// checking the link; it opens the minor's home cell.
pub(super) struct Guardianship {
    region: Region,
}

impl Guardianship {
    /// The minor's home region.
    pub(super) fn region(&self) -> &Region {
        &self.region
    }
}

/// Open invitations: SHA-256 of the code → (parent, expiry). In memory: a restart voids them.
#[derive(Default)]
pub(crate) struct Invitations(Mutex<HashMap<[u8; 32], (UserId, u64)>>);

fn code_hash(code: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let norm: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    Sha256::digest(norm.as_bytes()).into()
}

/// What a parent may set.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Controls {
    /// Minutes a day before the feed stops (`null`: no limit).
    #[serde(default)]
    pub daily_limit_min: Option<u32>,
    /// Restricted mode.
    #[serde(default)]
    pub restricted: bool,
    /// Who may comment at most (`followers` or `nobody` for a minor).
    #[serde(default)]
    pub comments: Option<CommentPolicy>,
    /// Whether the account may be public (16–17 only).
    #[serde(default)]
    pub may_be_public: bool,
}

/// One linked minor, as their parent sees them: settings and controls, nothing they did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LinkedChild {
    /// The minor's account.
    pub id: UserId,
    /// Their handle.
    pub handle: String,
    /// Their age band.
    pub band: Band,
    /// An under-13 account the parent made.
    pub supervised: bool,
    /// The settings in force.
    pub settings: foryou_store::Settings,
    /// The parent's controls.
    pub daily_limit_min: Option<u32>,
    /// Restricted mode.
    pub restricted: bool,
    /// The parent's ceiling on comments.
    pub comments: Option<CommentPolicy>,
    /// Whether the parent allows a public account.
    pub may_be_public: bool,
    /// Minutes watched today, against the limit.
    pub minutes_today: u64,
}

/// The caller's family: the minors they are the parent of, or their own parent.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FamilyView {
    /// Minors linked to the caller as their parent.
    pub children: Vec<LinkedChild>,
    /// The caller's parent, when the caller is a linked minor: (id, handle).
    pub parent: Option<(UserId, String)>,
    /// The controls in force on the caller, when linked.
    pub controls: Option<Family>,
}

impl Platform {
    /// A parent asks for an invitation code for their teen to enter; valid for an hour.
    pub fn family_invite(&self, caller: &Caller) -> Result<(String, u64), PlatformError> {
        let adult = self
            .world
            .read()
            .map_err(lock_err)?
            .users
            .get(&caller.user)
            .is_some_and(|u| u.band() == Band::Adult);
        if !adult {
            return Err(PlatformError::forbidden(
                "only an adult's account can be the parent in Family Pairing",
            ));
        }
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let mut rng = rand::thread_rng();
        let code: String = (0..10)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect();
        let now = now_ms();
        let expires = now + INVITATION_MS;
        let mut inv = self.invitations.0.lock().map_err(lock_err)?;
        inv.retain(|_, (_, until)| *until > now);
        if inv.len() >= MAX_INVITATIONS {
            return Err(PlatformError::new(
                Kind::TooMany,
                "too_many_invitations",
                "too many open invitations right now; try again in a few minutes",
            ));
        }
        inv.insert(code_hash(&code), (caller.user, expires));
        Ok((code, expires))
    }

    /// A teen enters their parent's code: the link is made (both have now confirmed).
    pub fn family_join(&self, caller: &Caller, code: &str) -> Result<UserId, PlatformError> {
        if code.len() > 64 {
            return Err(PlatformError::bad_request("code: at most 64 characters"));
        }
        let (b, linked) = {
            let w = self.world.read().map_err(lock_err)?;
            let u = w
                .users
                .get(&caller.user)
                .ok_or_else(|| PlatformError::not_found("no such account"))?;
            (u.band(), u.family.is_some())
        };
        if !matches!(b, Band::YoungTeen | Band::OlderTeen) {
            return Err(PlatformError::forbidden(
                "code: Family Pairing links a parent to a teen's account (13 to 17)",
            ));
        }
        if linked {
            return Err(PlatformError::new(
                Kind::Conflict,
                "already_linked",
                "your account is already linked to a parent; unlink it first",
            ));
        }
        let now = now_ms();
        let parent = {
            let mut inv = self.invitations.0.lock().map_err(lock_err)?;
            match inv.remove(&code_hash(code)) {
                Some((p, until)) if until > now => p,
                _ => {
                    return Err(PlatformError::unprocessable(
                        "invalid_code",
                        "code: no such invitation (codes last an hour and work once); ask your parent for a new one",
                    ))
                }
            }
        };
        if parent == caller.user {
            return Err(PlatformError::unprocessable(
                "invalid_code",
                "code: you cannot be your own parent",
            ));
        }
        let link = Family {
            guardian: parent,
            supervised: false,
            daily_limit_min: None,
            restricted: false,
            comments: None,
            may_be_public: true,
            since_ms: now,
        };
        self.cells
            .home(caller)?
            .store
            .set_family(caller.user, Some(&link))?;
        if let Some(u) = self
            .world
            .write()
            .map_err(lock_err)?
            .users
            .get_mut(&caller.user)
        {
            u.family = Some(link);
        }
        Ok(parent)
    }

    /// The caller's family.
    pub fn family(&self, caller: &Caller) -> Result<FamilyView, PlatformError> {
        let w = self.world.read().map_err(lock_err)?;
        let me = w
            .users
            .get(&caller.user)
            .ok_or_else(|| PlatformError::not_found("no such account"))?;
        let mut children: Vec<LinkedChild> = w
            .users
            .iter()
            .filter(|(_, u)| u.family.as_ref().is_some_and(|f| f.guardian == caller.user))
            .filter_map(|(id, u)| {
                let f = u.family.as_ref()?;
                Some(LinkedChild {
                    id: *id,
                    handle: u.handle.clone(),
                    band: u.band(),
                    supervised: f.supervised,
                    settings: effective_for(u),
                    daily_limit_min: f.daily_limit_min,
                    restricted: f.restricted,
                    comments: f.comments,
                    may_be_public: f.may_be_public,
                    minutes_today: self.watched_today(*id) / 60_000,
                })
            })
            .collect();
        children.sort_by(|a, b| a.handle.cmp(&b.handle));
        let parent = me.family.as_ref().and_then(|f| {
            w.users
                .get(&f.guardian)
                .map(|g| (f.guardian, g.handle.clone()))
        });
        Ok(FamilyView {
            children,
            parent,
            controls: me.family.clone(),
        })
    }

    /// Checks that the caller is `child`'s linked parent; the proof opens the child's cell.
    fn guardianship(
        &self,
        caller: &Caller,
        child: UserId,
    ) -> Result<(Guardianship, Family, Band), PlatformError> {
        let w = self.world.read().map_err(lock_err)?;
        let u = w
            .users
            .get(&child)
            .filter(|u| u.family.as_ref().is_some_and(|f| f.guardian == caller.user))
            .ok_or_else(|| {
                PlatformError::not_found(format!("no child of yours with id {child}"))
            })?;
        let f = u
            .family
            .clone()
            .ok_or_else(|| PlatformError::internal("link vanished"))?;
        Ok((
            Guardianship {
                region: u.region.clone(),
            },
            f,
            u.band(),
        ))
    }

    /// The parent sets the controls, within the child's age band.
    pub fn family_set(
        &self,
        caller: &Caller,
        child: UserId,
        c: Controls,
    ) -> Result<Family, PlatformError> {
        let (proof, old, b) = self.guardianship(caller, child)?;
        if let Some(m) = c.daily_limit_min {
            if !LIMIT_RANGE.contains(&m) {
                return Err(PlatformError::bad_request(format!(
                    "daily_limit_min: {} to {} minutes, or null for none",
                    LIMIT_RANGE.start(),
                    LIMIT_RANGE.end()
                )));
            }
        }
        if c.may_be_public && b != Band::OlderTeen {
            return Err(PlatformError::forbidden(
                "may_be_public: only accounts of 16- and 17-year-olds may be public",
            ));
        }
        if c.comments == Some(CommentPolicy::Everyone) {
            return Err(PlatformError::forbidden(
                "comments: on the videos of people under 18, only followers (or no one) may comment",
            ));
        }
        if old.supervised && c.comments != Some(CommentPolicy::Nobody) && c.comments.is_some() {
            return Err(PlatformError::forbidden(
                "comments: supervised accounts take no comments",
            ));
        }
        let link = Family {
            daily_limit_min: c.daily_limit_min,
            restricted: c.restricted,
            comments: if old.supervised {
                Some(CommentPolicy::Nobody)
            } else {
                c.comments
            },
            may_be_public: c.may_be_public,
            ..old
        };
        self.cells
            .family(&proof)?
            .store
            .set_family(child, Some(&link))?;
        if let Some(u) = self.world.write().map_err(lock_err)?.users.get_mut(&child) {
            u.family = Some(link.clone());
        }
        self.publish_person(child);
        Ok(link)
    }

    /// Ends a link: the parent for a teen, or the teen themself. A supervised child's link ends
    /// only with their account.
    pub fn family_unlink(
        &self,
        caller: &Caller,
        child: Option<UserId>,
    ) -> Result<(), PlatformError> {
        let (cell, minor, link) = match child {
            Some(id) => {
                let (proof, link, _) = self.guardianship(caller, id)?;
                (self.cells.family(&proof)?, id, link)
            }
            None => {
                let link = self
                    .world
                    .read()
                    .map_err(lock_err)?
                    .users
                    .get(&caller.user)
                    .and_then(|u| u.family.clone())
                    .ok_or_else(|| {
                        PlatformError::not_found("your account is not linked to a parent")
                    })?;
                (self.cells.home(caller)?, caller.user, link)
            }
        };
        if link.supervised {
            return Err(PlatformError::forbidden(
                "a supervised account stays linked to its parent; the parent may erase it",
            ));
        }
        cell.store.set_family(minor, None)?;
        if let Some(u) = self.world.write().map_err(lock_err)?.users.get_mut(&minor) {
            u.family = None;
        }
        self.publish_person(minor);
        Ok(())
    }

    /// The parent erases their supervised child's account (after re-entering their own password).
    pub fn family_erase_child(
        &self,
        caller: &Caller,
        child: UserId,
        password: &str,
    ) -> Result<ErasureReceipt, PlatformError> {
        let (proof, link, _) = self.guardianship(caller, child)?;
        if !link.supervised {
            return Err(PlatformError::forbidden(
                "a teen erases their own account; a parent erases only a supervised account they made",
            ));
        }
        self.check_password(caller, password)?;
        self.erase_account(child, proof.region(), "parent")
    }

    /// Milliseconds `user` watched today (UTC).
    pub(super) fn watched_today(&self, user: UserId) -> u64 {
        let today = (now_ms() / 86_400_000) as i64;
        self.screen_time
            .lock()
            .ok()
            .and_then(|s| s.get(&user).filter(|(d, _)| *d == today).map(|t| t.1))
            .unwrap_or(0)
    }

    /// Refuses the feed once the daily limit a parent set is reached.
    pub(super) fn check_daily_limit(&self, user: UserId) -> Result<(), PlatformError> {
        let limit = self
            .world
            .read()
            .map_err(lock_err)?
            .users
            .get(&user)
            .and_then(|u| u.family.as_ref().and_then(|f| f.daily_limit_min));
        if let Some(m) = limit {
            if self.watched_today(user) >= u64::from(m) * 60_000 {
                return Err(PlatformError::new(
                    Kind::Forbidden,
                    "daily_limit",
                    format!("you reached the daily limit of {m} minutes your parent set; see you tomorrow"),
                ));
            }
        }
        Ok(())
    }

    /// Whether `viewer` may find `id`'s profile: anyone's, except a supervised child's, which
    /// only the child and their parent find.
    pub(crate) fn findable(&self, w: &World, id: UserId, viewer: Option<UserId>) -> bool {
        let Some(u) = w.users.get(&id) else {
            return false;
        };
        if u.band() != Band::Child {
            return true;
        }
        viewer == Some(id)
            || u.family
                .as_ref()
                .is_some_and(|f| Some(f.guardian) == viewer)
    }

    /// Whether `user` is in restricted mode.
    pub(super) fn restricted(&self, w: &World, user: UserId) -> bool {
        w.users
            .get(&user)
            .and_then(|u| u.family.as_ref())
            .is_some_and(|f| f.restricted)
    }
}
