//! Validation of user-supplied text: handles, passwords, captions, hashtags; and roles.

use crate::Invalid;
use serde::{Deserialize, Serialize};

/// The longest caption accepted, in characters (as on TikTok).
pub const MAX_CAPTION_CHARS: usize = 2200;

/// What an account may do. Every route names the roles it admits.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// An ordinary account.
    User,
    /// May remove content.
    Moderator,
    /// Reads the transparency log.
    Auditor,
    /// Runs the platform.
    Admin,
}

/// Handles nobody may register: they would pass for staff, the platform or a route.
pub const RESERVED_HANDLES: &[&str] = &[
    "admin",
    "administrator",
    "root",
    "system",
    "sysadmin",
    "superuser",
    "staff",
    "support",
    "help",
    "helpdesk",
    "security",
    "abuse",
    "moderator",
    "moderators",
    "mod",
    "mods",
    "auditor",
    "monitor",
    "official",
    "foryou",
    "foryou.app",
    "foryou_official",
    "team",
    "trust",
    "safety",
    "privacy",
    "legal",
    "api",
    "www",
    "web",
    "app",
    "login",
    "logout",
    "signup",
    "register",
    "account",
    "accounts",
    "settings",
    "me",
    "you",
    "user",
    "users",
    "null",
    "undefined",
    "anonymous",
    "guest",
    "everyone",
    "here",
    "all",
    "by-id",
    "id",
    "video",
    "videos",
    "sound",
    "sounds",
    "feed",
    "upload",
    "uploads",
    "metrics",
    "healthz",
    "openapi",
    "static",
    "assets",
];

/// Checks a handle: 3–24 characters of `a-z`, `0-9`, `_` and `.`, starting with a letter, not a
/// reserved name. A handle never looks like an id (it starts with a letter), so the two are never
/// confused. Uniqueness is case-insensitive, so callers compare `handle.to_ascii_lowercase()`.
pub fn validate_handle(handle: &str) -> Result<(), Invalid> {
    let n = handle.chars().count();
    if !(3..=24).contains(&n) {
        return Err(Invalid::new(
            "handle",
            format!("must be 3 to 24 characters long, got {n}"),
        ));
    }
    if !handle
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    {
        return Err(Invalid::new(
            "handle",
            "use only letters a-z, digits, '_' and '.'",
        ));
    }
    if !handle.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(Invalid::new("handle", "must start with a letter"));
    }
    let lower = handle.to_ascii_lowercase();
    if RESERVED_HANDLES.contains(&lower.as_str()) {
        return Err(Invalid::new(
            "handle",
            format!("'{handle}' is reserved; choose another handle"),
        ));
    }
    Ok(())
}

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Common and breached passwords of at least [`MIN_PASSWORD_CHARS`] characters, lower-case, one
/// per line (`data/README.md` says where they come from).
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

fn is_common_password(password: &str) -> bool {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    let set = SET.get_or_init(|| COMMON_PASSWORDS.lines().map(str::trim).collect());
    set.contains(password.to_lowercase().as_str())
}

/// Checks a password: 10–256 characters, at least 5 different ones, not all spaces, and not one
/// of the common or breached passwords bundled with Foryou.
pub fn validate_password(password: &str) -> Result<(), Invalid> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(Invalid::new(
            "password",
            format!(
                "must be at least {MIN_PASSWORD_CHARS} characters long; a short phrase works well"
            ),
        ));
    }
    if n > 256 {
        return Err(Invalid::new(
            "password",
            "must be at most 256 characters long",
        ));
    }
    let mut distinct: Vec<char> = password.chars().filter(|c| !c.is_whitespace()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 5 {
        return Err(Invalid::new(
            "password",
            "uses too few different characters; mix in more letters, digits or words",
        ));
    }
    if is_common_password(password) {
        return Err(Invalid::new(
            "password",
            "is one of the most common passwords, which attackers try first; choose another",
        ));
    }
    Ok(())
}

/// Checks a caption's length.
pub fn validate_caption(caption: &str) -> Result<(), Invalid> {
    let n = caption.chars().count();
    if n > MAX_CAPTION_CHARS {
        return Err(Invalid::new(
            "caption",
            format!("is {n} characters long; shorten it to at most {MAX_CAPTION_CHARS}"),
        ));
    }
    Ok(())
}

/// The effects the creation studio applies, by the names videos record them under.
pub const EFFECTS: &[&str] = &[
    "vivid",
    "mono",
    "sepia",
    "warm",
    "beauty",
    "green_screen",
    "split",
    "mirror",
    "text",
    "slow_motion",
    "fast_motion",
];

/// The effects named in a comma-separated list: each a known effect, each once, in order.
pub fn parse_effects(list: &str) -> Result<Vec<String>, Invalid> {
    let mut out: Vec<String> = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !EFFECTS.contains(&name) {
            return Err(Invalid::new(
                "effects",
                format!(
                    "'{}' is not an effect; use any of {}",
                    name.chars().take(40).collect::<String>(),
                    EFFECTS.join(", ")
                ),
            ));
        }
        if !out.iter().any(|e| e == name) {
            out.push(name.to_string());
        }
    }
    Ok(out)
}

/// The distinct hashtags of a caption, lower-cased, in order of first use.
/// A hashtag is `#` followed by letters, digits or `_` (Unicode letters included).
pub fn hashtags(caption: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut chars = caption.char_indices().peekable();
    let mut prev: Option<char> = None;
    while let Some((_, c)) = chars.next() {
        let at_boundary = prev.is_none_or(|p| !(p.is_alphanumeric() || p == '_'));
        if c == '#' && at_boundary {
            let mut tag = String::new();
            while let Some(&(_, d)) = chars.peek() {
                if d.is_alphanumeric() || d == '_' {
                    tag.extend(d.to_lowercase());
                    chars.next();
                } else {
                    break;
                }
            }
            if !tag.is_empty() && tag.chars().count() <= 100 && !out.contains(&tag) {
                out.push(tag);
            }
            prev = Some('x');
            continue;
        }
        prev = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles() {
        assert!(validate_handle("ana_b.01").is_ok());
        assert!(validate_handle("ab").is_err());
        assert!(validate_handle("_ana").is_err());
        assert!(validate_handle("ana b").is_err());
        assert!(validate_handle("anä").is_err());
        assert!(validate_handle(&"a".repeat(25)).is_err());
    }

    #[test]
    fn hashtags_are_found_once_and_lowercased() {
        assert_eq!(
            hashtags("Sunset #Beach #beach vibes#not #日本 #a_b!"),
            vec!["beach", "日本", "a_b"]
        );
        assert!(hashtags("no tags # here").is_empty());
    }

    #[test]
    fn caption_limit_counts_characters() {
        assert!(validate_caption(&"é".repeat(MAX_CAPTION_CHARS)).is_ok());
        assert!(validate_caption(&"é".repeat(MAX_CAPTION_CHARS + 1)).is_err());
    }
}
