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

/// Checks a handle: 3–24 characters of `a-z`, `0-9`, `_` and `.`, starting with a letter or digit.
/// Uniqueness is case-insensitive, so callers compare `handle.to_ascii_lowercase()`.
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
    if !handle.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(Invalid::new(
            "handle",
            "must start with a letter or a digit",
        ));
    }
    Ok(())
}

/// Checks a password: 8–256 characters.
pub fn validate_password(password: &str) -> Result<(), Invalid> {
    let n = password.chars().count();
    if n < 8 {
        return Err(Invalid::new(
            "password",
            "must be at least 8 characters long",
        ));
    }
    if n > 256 {
        return Err(Invalid::new(
            "password",
            "must be at most 256 characters long",
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
