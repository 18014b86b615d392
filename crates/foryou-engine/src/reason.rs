//! Why a video is shown: structured reasons that the server renders as sentences.

use foryou_types::{SoundId, UserId};
use serde::Serialize;

/// One reason a video was chosen, from the stage that produced or ranked it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Reason {
    /// From a creator the user follows.
    FollowedCreator {
        /// The creator.
        creator: UserId,
    },
    /// The user watched this creator's videos to the end or liked them.
    EngagedCreator {
        /// The creator.
        creator: UserId,
    },
    /// Uses a sound the user finished, replayed or liked.
    LikedSound {
        /// The sound.
        sound: SoundId,
    },
    /// Tagged with a hashtag the user engages with.
    Hashtag {
        /// The hashtag, without `#`.
        tag: String,
    },
    /// Popular with people in the user's region.
    PopularInRegion,
    /// A new video being tried with a small audience.
    NewVideo,
    /// Shown without personalisation (the user chose the non-personalised feed).
    NotPersonalised,
}
