//! Newtype ids. They are 64-bit numbers, written as decimal strings in JSON so that
//! JavaScript clients never lose precision.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse::<u64>().map($name)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                // A string in JSON (JavaScript keeps it exact); a plain number in binary formats.
                if s.is_human_readable() {
                    s.collect_str(&self.0)
                } else {
                    s.serialize_u64(self.0)
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                #[derive(Deserialize)]
                #[serde(untagged)]
                enum Raw {
                    S(String),
                    N(u64),
                }
                if !d.is_human_readable() {
                    return u64::deserialize(d).map($name);
                }
                match Raw::deserialize(d)? {
                    Raw::N(n) => Ok($name(n)),
                    Raw::S(s) => s.parse().map_err(serde::de::Error::custom),
                }
            }
        }
    };
}

id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// An uploaded video (or, for a shop, any catalog item).
    VideoId
);
id_type!(
    /// A sound: the audio identity that videos share ("use this sound").
    SoundId
);
id_type!(
    /// A comment on a video.
    CommentId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_as_strings_and_accept_numbers() {
        let v = VideoId(9_007_199_254_740_993);
        let j = serde_json::to_string(&v).unwrap_or_default();
        assert_eq!(j, "\"9007199254740993\"");
        let back: VideoId = serde_json::from_str(&j).unwrap_or(VideoId(0));
        assert_eq!(back, v);
        let n: VideoId = serde_json::from_str("42").unwrap_or(VideoId(0));
        assert_eq!(n, VideoId(42));
    }
}
