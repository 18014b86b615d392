//! The staff gateway's policy: which staff role, in which region, may reach which region's
//! personal data, for which purpose and category, and whether the answer is pseudonymised.
//! The policy is a JSON file the operator can read (`policy/access-policy.json` is the default,
//! `--access-policy` another); `Platform::through_gateway` applies it and records every decision.

use foryou_types::{Region, Role};
use serde::{Deserialize, Serialize};

/// Why staff reach personal data.
pub const PURPOSES: &[&str] = &["moderation", "support", "security", "legal"];
/// What kind of personal data.
pub const CATEGORIES: &[&str] = &["account", "content", "interactions"];

/// The default policy, compiled in.
pub const DEFAULT_POLICY: &str = include_str!("../policy/access-policy.json");

/// One rule; `*` matches anything.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// `same` (staff and data in one region), `cross` (different regions) or `any`.
    pub scope: String,
    /// Only staff of this home region (default any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_region: Option<String>,
    /// Only data of this region (default any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_region: Option<String>,
    /// `moderator`, `admin`, `auditor` or `*`.
    pub role: String,
    /// One of [`PURPOSES`] or `*`.
    pub purpose: String,
    /// One of [`CATEGORIES`] or `*`.
    pub category: String,
    /// `allow` or `deny`.
    pub effect: String,
    /// Answers are pseudonymised (handles and ids replaced by stable pseudonyms).
    #[serde(default)]
    pub pseudonymise: bool,
}

/// The policy: rules read in order, the first match decides, no match denies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// What the file is for, for people reading it.
    #[serde(default)]
    pub about: String,
    /// The rules.
    pub rules: Vec<Rule>,
}

/// What the policy decided, and by which rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// Allowed or denied.
    pub allowed: bool,
    /// Answers are pseudonymised.
    pub pseudonymise: bool,
    /// The rule that decided, as people read it.
    pub rule: String,
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::User => "user",
        Role::Moderator => "moderator",
        Role::Auditor => "auditor",
        Role::Admin => "admin",
    }
}

impl Policy {
    /// Parses and checks a policy: every scope, role, purpose, category and effect must be known.
    pub fn parse(json: &str) -> Result<Policy, String> {
        let p: Policy =
            serde_json::from_str(json).map_err(|e| format!("the policy is not valid JSON: {e}"))?;
        for (i, r) in p.rules.iter().enumerate() {
            let bad = |what: &str, v: &str| format!("rule {i}: {what} '{v}' is not known");
            if !["same", "cross", "any"].contains(&r.scope.as_str()) {
                return Err(bad("scope", &r.scope));
            }
            if !["*", "moderator", "admin", "auditor"].contains(&r.role.as_str()) {
                return Err(bad("role", &r.role));
            }
            if r.purpose != "*" && !PURPOSES.contains(&r.purpose.as_str()) {
                return Err(bad("purpose", &r.purpose));
            }
            if r.category != "*" && !CATEGORIES.contains(&r.category.as_str()) {
                return Err(bad("category", &r.category));
            }
            if !["allow", "deny"].contains(&r.effect.as_str()) {
                return Err(bad("effect", &r.effect));
            }
            for reg in [&r.staff_region, &r.target_region].into_iter().flatten() {
                Region::new(reg).map_err(|_| bad("region", reg))?;
            }
        }
        Ok(p)
    }

    /// Decides one request.
    pub fn decide(
        &self,
        role: Role,
        staff_region: &Region,
        target_region: &Region,
        purpose: &str,
        category: &str,
    ) -> Decision {
        let same = staff_region == target_region;
        let matches = |want: &str, got: &str| want == "*" || want == got;
        for (i, r) in self.rules.iter().enumerate() {
            let scope_ok = match r.scope.as_str() {
                "same" => same,
                "cross" => !same,
                _ => true,
            };
            let hit = scope_ok
                && r.staff_region
                    .as_deref()
                    .is_none_or(|s| s == staff_region.as_str())
                && r.target_region
                    .as_deref()
                    .is_none_or(|s| s == target_region.as_str())
                && matches(&r.role, role_name(role))
                && matches(&r.purpose, purpose)
                && matches(&r.category, category);
            if hit {
                return Decision {
                    allowed: r.effect == "allow",
                    pseudonymise: r.pseudonymise,
                    rule: format!(
                        "rule {i} ({} {} scope, role {}, purpose {}, category {})",
                        r.effect, r.scope, r.role, r.purpose, r.category
                    ),
                };
            }
        }
        Decision {
            allowed: false,
            pseudonymise: false,
            rule: "no rule matched (denied by default)".into(),
        }
    }
}

/// A stable pseudonym for a user id within one region's answers.
pub fn pseudonym(region: &Region, id: u64) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"foryou-pseudonym\0");
    h.update(region.as_str().as_bytes());
    h.update(id.to_be_bytes());
    format!("p-{}", &crate::auth::hex(&h.finalize())[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(r: &str) -> Region {
        Region::new(r).expect("region")
    }

    #[test]
    fn the_default_policy_decides_every_combination_as_written() {
        let p = Policy::parse(DEFAULT_POLICY).expect("the default policy parses");
        let regions = ["eu", "us", "row"];
        let mut allowed = 0;
        for role in [Role::User, Role::Moderator, Role::Auditor, Role::Admin] {
            for a in regions {
                for b in regions {
                    for purpose in PURPOSES {
                        for category in CATEGORIES {
                            let d = p.decide(role, &region(a), &region(b), purpose, category);
                            let same = a == b;
                            let want = match role {
                                Role::Admin if same => (true, false),
                                Role::Moderator
                                    if *purpose == "moderation" && *category == "content" =>
                                {
                                    (true, !same)
                                }
                                Role::Admin if *purpose == "security" && *category == "account" => {
                                    (true, true)
                                }
                                _ => (false, false),
                            };
                            assert_eq!(
                                (d.allowed, d.pseudonymise),
                                want,
                                "{role:?} {a}->{b} {purpose}/{category}: {}",
                                d.rule
                            );
                            allowed += usize::from(d.allowed);
                            assert!(d.rule.starts_with("rule "), "{}", d.rule);
                        }
                    }
                }
            }
        }
        assert!(allowed > 0);
    }

    #[test]
    fn bad_policies_are_refused_and_an_empty_one_denies() {
        for bad in [
            "{}",
            r#"{"rules":[{"scope":"sideways","role":"*","purpose":"*","category":"*","effect":"allow"}]}"#,
            r#"{"rules":[{"scope":"any","role":"*","purpose":"fun","category":"*","effect":"allow"}]}"#,
            r#"{"rules":[{"scope":"any","role":"*","purpose":"*","category":"*","effect":"maybe"}]}"#,
        ] {
            assert!(Policy::parse(bad).is_err(), "{bad}");
        }
        let empty = Policy::parse(r#"{"rules":[]}"#).expect("empty");
        let d = empty.decide(
            Role::Admin,
            &region("eu"),
            &region("eu"),
            "security",
            "account",
        );
        assert!(!d.allowed);
        assert!(d.rule.contains("default"));
        assert_ne!(pseudonym(&region("eu"), 1), pseudonym(&region("us"), 1));
        assert_eq!(pseudonym(&region("eu"), 1), pseudonym(&region("eu"), 1));
    }
}
