//! Why a video is shown: structured reasons, taken from the stages that found and ranked it,
//! which the server renders as sentences.

use foryou_types::{SoundId, UserId, VideoId};
use serde::Serialize;

/// One reason a video was chosen.
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
    /// People who engaged with a video the user engaged with also engaged with this one.
    WatchedTogether {
        /// The user's video it is linked to.
        video: VideoId,
    },
    /// Close to the user's learned taste (embedding retrieval).
    SimilarTaste,
    /// Popular with people in the user's region right now.
    PopularInRegion,
    /// Popular in other regions: their differentially private counts of engaged people, never a
    /// personal record, and never a count one person could move alone.
    PopularWorldwide,
    /// Boosted by Foryou staff; the boost and its reason are in the transparency log.
    Boosted,
    /// A new video being tried with a small audience.
    NewVideo,
    /// Shown to learn the user's taste (exploration while the engine knows little).
    Exploring,
    /// Shown without personalisation (the user chose the non-personalised feed).
    NotPersonalised,
    /// Among the newest videos not yet seen, shown because nothing else fitted (no claim of
    /// popularity).
    Newest,
}
