//! The entries Foryou writes to its transparency log: one JSON object per entry, with a `type`
//! and a schema version `v`. No entry holds personal data: people appear only as keyed
//! pseudonyms (`p-` and 16 hex digits, an HMAC under a key only the server holds), videos by
//! their public ids. `docs/TRANSPARENCY.md` documents every field.

use serde::{Deserialize, Serialize};

/// Schema version of the entries written today.
pub const VERSION: u32 = 1;

/// One log entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Entry {
    /// A staff read or action on personal data, allowed or denied by the gateway.
    Access {
        /// Schema version.
        v: u32,
        /// When, Unix ms.
        ts_ms: u64,
        /// The staff member, as a pseudonym.
        actor: String,
        /// Their role.
        role: String,
        /// Their home region.
        actor_region: String,
        /// Whose data: the region.
        target_region: String,
        /// Why (one of the gateway's purposes).
        purpose: String,
        /// What kind of data.
        category: String,
        /// What was done, without personal data (e.g. `list accounts`, `remove video`).
        action: String,
        /// What it was done to: `video:<id>`, `user:<pseudonym>`, or empty.
        subject: String,
        /// Records read or changed.
        records: u64,
        /// Allowed or denied.
        allowed: bool,
        /// Whether the answer was pseudonymised.
        pseudonymised: bool,
        /// The policy rule that decided.
        rule: String,
    },
    /// A differentially private aggregate one region released to the others.
    Release {
        /// Schema version.
        v: u32,
        /// When, Unix ms.
        ts_ms: u64,
        /// The releasing region.
        region: String,
        /// Privacy loss of this release.
        epsilon: f64,
        /// Its delta.
        delta: f64,
        /// Privacy budget the region spent today, this release included.
        spent_today: f64,
        /// Videos whose noisy counts were released.
        items: u64,
    },
    /// A ranking configuration (engine parameters, weights) was activated.
    Config {
        /// Schema version.
        v: u32,
        /// When, Unix ms.
        ts_ms: u64,
        /// What was configured (`engine`).
        component: String,
        /// SHA-256 of the canonical JSON of every parameter; served at `/v1/recommender`.
        version: String,
    },
    /// The staff access policy in force changed.
    Policy {
        /// Schema version.
        v: u32,
        /// When, Unix ms.
        ts_ms: u64,
        /// SHA-256 of the policy file's bytes.
        version: String,
    },
    /// A video was boosted, suppressed or returned to normal ranking by staff.
    Boost {
        /// Schema version.
        v: u32,
        /// When, Unix ms.
        ts_ms: u64,
        /// The staff member, as a pseudonym.
        actor: String,
        /// Their role.
        role: String,
        /// The video.
        video: String,
        /// `boost`, `suppress` or `clear`.
        action: String,
        /// The regions whose feeds it applies to.
        regions: Vec<String>,
        /// Why, as the staff member wrote it.
        reason: String,
    },
    /// A role was granted by the operator's own command (not through the gateway).
    Role {
        /// Schema version.
        v: u32,
        /// When, Unix ms.
        ts_ms: u64,
        /// Whose role, as a pseudonym.
        subject: String,
        /// The new role.
        role: String,
        /// Who: `operator` for the command line.
        by: String,
    },
    /// A person's account (with everything of theirs) or a video (with everything attached)
    /// was erased. Nothing says whose: the person holds a receipt whose SHA-256 is `commitment`,
    /// and can show it to prove the erasure was logged here.
    Erasure {
        /// Schema version.
        v: u32,
        /// When, Unix ms.
        ts_ms: u64,
        /// The home region of what was erased.
        region: String,
        /// `account` or `video`.
        scope: String,
        /// Who asked: `self`, `parent`, `creator` or `staff`.
        by: String,
        /// SHA-256 (hex) of the receipt handed to whoever asked.
        commitment: String,
    },
}

impl Entry {
    /// The entry's bytes in the log.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses an entry, refusing unknown types and fields.
    pub fn parse(bytes: &[u8]) -> Result<Entry, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}
