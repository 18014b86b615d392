//! Staff reads and actions on personal data: every one passes the gateway, which applies the
//! access policy and records the decision, allowed or denied, in the target region's store.

use super::world::UserEntry;
use super::*;
use crate::gateway::{pseudonym, CATEGORIES, PURPOSES};
use foryou_store::AccessRecord;

/// When the decision is written relative to the work.
pub(super) enum Effect {
    /// A read: the decision is written after, with the number of records read, and the answer
    /// is returned only once it is written.
    Read,
    /// A change: the decision is written before the change is made.
    Change,
}

/// The purpose a staff member must name to `what` (e.g. "remove someone else's video").
pub(super) fn required_purpose<'a>(
    purpose: Option<&'a str>,
    what: &str,
) -> Result<&'a str, PlatformError> {
    purpose.ok_or_else(|| {
        PlatformError::bad_request(format!(
            "purpose: staff name why they {what} (?purpose=moderation), one of {}",
            PURPOSES.join(", ")
        ))
    })
}

/// What a staff request is about, as the public log may name it.
pub(super) enum Subject {
    /// Nothing in particular (a list).
    None,
    /// A video (public ids).
    Video(VideoId),
    /// A person (named in the log by a keyed pseudonym).
    User(UserId),
}

/// What a staff member asks of a region's personal data.
pub(super) struct StaffRequest<'a> {
    /// The region whose data it is.
    pub target: &'a Region,
    /// Why (one of `gateway::PURPOSES`).
    pub purpose: &'a str,
    /// What kind of data (one of `gateway::CATEGORIES`).
    pub category: &'static str,
    /// What is done, for the region's own record (may name ids).
    pub action: String,
    /// What is done, for the public log (no personal data).
    pub verb: String,
    /// What it is done to.
    pub subject: Subject,
    /// Read or change.
    pub effect: Effect,
}

/// What the gateway hands the work it allowed: the region it may reach (through
/// `Cells::granted`) and whether answers must be pseudonymised. Only the gateway makes one, after
/// recording the decision.
pub(crate) struct Grant {
    region: Region,
    pseudonymise: bool,
}

impl Grant {
    /// The region the work may reach.
    pub(super) fn region(&self) -> &Region {
        &self.region
    }

    /// Whether the answer must be pseudonymised.
    pub(super) fn pseudonymise(&self) -> bool {
        self.pseudonymise
    }
}

impl Platform {
    /// Runs `work` (given a grant to the target region, returning its answer and the records it, returning its answer and the records it
    /// touched) on the target region's personal data if the policy allows `caller` this request;
    /// records the decision either way.
    pub(super) fn through_gateway<T>(
        &self,
        caller: &Caller,
        req: StaffRequest<'_>,
        work: impl FnOnce(&Grant) -> Result<(T, u64), PlatformError>,
    ) -> Result<T, PlatformError> {
        let StaffRequest {
            target,
            purpose,
            category,
            action,
            verb,
            subject,
            effect,
        } = req;
        let subject = match subject {
            Subject::None => String::new(),
            Subject::Video(v) => format!("video:{v}"),
            Subject::User(u) => format!("user:{}", self.transparency.pseudonym(u)),
        };
        if !PURPOSES.contains(&purpose) {
            return Err(PlatformError::bad_request(format!(
                "purpose: say why you need this data, one of {}",
                PURPOSES.join(", ")
            )));
        }
        debug_assert!(CATEGORIES.contains(&category));
        let d = self.config.access_policy.decide(
            caller.role,
            &caller.region,
            target,
            purpose,
            category,
        );
        let mut rec = AccessRecord {
            seq: 0,
            ts_ms: now_ms(),
            actor: caller.user,
            role: caller.role,
            actor_region: caller.region.clone(),
            target_region: target.clone(),
            purpose: purpose.to_string(),
            category: category.to_string(),
            action,
            records: 0,
            allowed: d.allowed,
            pseudonymised: d.allowed && d.pseudonymise,
            rule: d.rule.clone(),
            verb: verb.clone(),
            subject: subject.clone(),
        };
        let publish = |rec: &AccessRecord| -> Result<(), PlatformError> {
            self.cells.ledger_write(target, rec)?;
            self.transparency
                .append(foryou_tlog::entry::Entry::Access {
                    v: foryou_tlog::entry::VERSION,
                    ts_ms: rec.ts_ms,
                    actor: self.transparency.pseudonym(rec.actor),
                    role: format!("{:?}", rec.role).to_lowercase(),
                    actor_region: rec.actor_region.to_string(),
                    target_region: rec.target_region.to_string(),
                    purpose: rec.purpose.clone(),
                    category: rec.category.clone(),
                    action: rec.verb.clone(),
                    subject: rec.subject.clone(),
                    records: rec.records,
                    allowed: rec.allowed,
                    pseudonymised: rec.pseudonymised,
                    rule: rec.rule.clone(),
                })?;
            Ok(())
        };
        if !d.allowed {
            publish(&rec)?;
            return Err(PlatformError::forbidden(format!(
                "the access policy does not allow a {} of region {} to reach {category} data of region {target} for {purpose}: {}",
                format!("{:?}", caller.role).to_lowercase(),
                caller.region,
                d.rule
            )));
        }
        let grant = Grant {
            region: target.clone(),
            pseudonymise: d.pseudonymise,
        };
        match effect {
            Effect::Read => {
                let (out, n) = work(&grant)?;
                rec.records = n;
                publish(&rec)?;
                Ok(out)
            }
            Effect::Change => {
                rec.records = 1;
                publish(&rec)?;
                Ok(work(&grant)?.0)
            }
        }
    }

    /// A region's accounts as staff see them (pseudonymised when the policy says so), a page at
    /// a time: (accounts, total).
    pub fn staff_accounts(
        &self,
        caller: &Caller,
        target: &Region,
        purpose: &str,
        cursor: usize,
        limit: usize,
    ) -> Result<(Vec<serde_json::Value>, usize), PlatformError> {
        let req = StaffRequest {
            target,
            purpose,
            category: "account",
            action: format!("list accounts from {cursor}"),
            verb: "list accounts".into(),
            subject: Subject::None,
            effect: Effect::Read,
        };
        self.through_gateway(caller, req, |grant| {
                let pseudo = grant.pseudonymise();
                let w = self.world.read().map_err(lock_err)?;
                let mut rows: Vec<(&UserId, &UserEntry)> =
                    w.users.iter().filter(|(_, u)| &u.region == target).collect();
                rows.sort_by(|a, b| a.1.handle.cmp(&b.1.handle).then(a.0.cmp(b.0)));
                let total = rows.len();
                let page: Vec<serde_json::Value> = rows
                    .into_iter()
                    .skip(cursor)
                    .take(limit)
                    .map(|(id, u)| {
                        if pseudo {
                            serde_json::json!({"pseudonym": pseudonym(target, id.0), "region": u.region, "role": u.role})
                        } else {
                            serde_json::json!({"id": id, "handle": u.handle, "region": u.region, "role": u.role, "created_ms": u.created_ms})
                        }
                    })
                    .collect();
                let n = page.len() as u64;
                Ok(((page, total), n))
        })
    }

    /// The gateway's decisions about `region`'s data, in order.
    pub fn access_records(
        &self,
        region: &Region,
        from: u64,
        max: usize,
    ) -> Result<Vec<AccessRecord>, PlatformError> {
        self.cells.ledger(region, from, max)
    }

    /// Changes another user's role, through the gateway (category `account`).
    pub fn staff_set_role(
        &self,
        caller: &Caller,
        user: UserId,
        role: Role,
        purpose: &str,
    ) -> Result<(), PlatformError> {
        let region = self.user_region(user)?;
        let req = StaffRequest {
            target: &region,
            purpose,
            category: "account",
            action: format!("set the role of {user} to {role:?}").to_lowercase(),
            verb: format!("set role to {role:?}").to_lowercase(),
            subject: Subject::User(user),
            effect: Effect::Change,
        };
        self.through_gateway(caller, req, |grant| {
            self.set_role_in(self.cells.granted(grant)?, user, role)
                .map(|()| ((), 1))
        })
    }
}
