//! Region stores: every personal record lives in exactly one region's store and event log,
//! behind the [`RegionStore`], [`EventLog`] and [`KeyStore`] traits. The log is the source of
//! truth for what people did; the store's likes, follows, comments and counts are derived from it
//! and record the last log position they applied. Log records are sealed under their subject's
//! key ([`SealedLog`]), so erasing a person destroys their key and every copy of their records
//! with it. [`EmbeddedStore`], [`EmbeddedLog`] and [`EmbeddedKeys`] keep each region in its own
//! files; PostgreSQL or a stream fill the same slots without touching the server.

mod codec;
mod embedded;
mod embedded_log;
mod erase;
mod keys;
mod log;
mod migrate;
mod project;
mod records;
mod sealed;
#[cfg(feature = "suite")]
pub mod suite;

pub use embedded::EmbeddedStore;
pub use embedded_log::EmbeddedLog;
pub use keys::{EmbeddedKeys, KeyStore, SubjectKey, KEYS_FILE};
pub use log::{EventLog, Logged, PublicFeed, Publish, Sealed};
pub use records::{
    AccessRecord, Account, Comment, CommentPolicy, Effect, Family, Report, ReportStatus, Settings,
    Sound, TokenRecord, Video,
};
pub use sealed::SealedLog;

use foryou_types::{CommentId, EventRecord, Region, Role, UserId, VideoId};

/// A failure of a region store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An account with this handle (case-insensitively) already exists.
    #[error("handle '{handle}' is taken")]
    HandleTaken {
        /// The requested handle.
        handle: String,
    },
    /// A record names a region other than the store's own.
    #[error("record of region '{got}' offered to the store of region '{store}'")]
    WrongRegion {
        /// The store's region.
        store: Region,
        /// The record's region.
        got: Region,
    },
    /// A write failed to reach disk; the store refuses further writes.
    #[error("store of region '{region}' is failed: {message}")]
    Backend {
        /// The store's region.
        region: Region,
        /// What the backend reported.
        message: String,
    },
    /// Log records offered out of order: the store applied up to `applied` and was given `got`.
    #[error(
        "store of region '{region}' applied the log up to {applied} and was given record {got}"
    )]
    Gap {
        /// The store's region.
        region: Region,
        /// The last position applied.
        applied: u64,
        /// The position offered.
        got: u64,
    },
    /// A stored record could not be decoded.
    #[error("corrupt record in table '{table}': {message}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// The decoder's message.
        message: String,
    },
}

/// Checks that every record of a bulk import names `store`, the importing store's region.
pub fn check_import_regions(
    store: &Region,
    accounts: &[Account],
    sounds: &[Sound],
    videos: &[Video],
) -> Result<(), StoreError> {
    let named = accounts
        .iter()
        .map(|a| &a.region)
        .chain(sounds.iter().map(|s| &s.region))
        .chain(videos.iter().map(|v| &v.region));
    for r in named {
        if r != store {
            return Err(StoreError::WrongRegion {
                store: store.clone(),
                got: r.clone(),
            });
        }
    }
    Ok(())
}

/// What [`RegionStore::erase`] removed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Erased {
    /// The person's account was here and is gone.
    pub account: bool,
    /// The videos removed (their media are the caller's to delete).
    pub videos: Vec<Video>,
    /// The comments removed: the person's own, and every comment on a removed video.
    pub comments: Vec<CommentId>,
    /// Records removed or redacted in all.
    pub rows: u64,
}

/// Everything one region stores. Implementations make each method atomic and durable on return.
pub trait RegionStore: Send + Sync {
    /// The region this store serves.
    fn region(&self) -> &Region;

    /// Creates an account; [`StoreError::HandleTaken`] when the lower-cased handle exists here.
    fn insert_account(&self, account: &Account) -> Result<(), StoreError>;
    /// One account.
    fn account(&self, id: UserId) -> Result<Option<Account>, StoreError>;
    /// Every account (directory rebuild at start).
    fn accounts(&self) -> Result<Vec<Account>, StoreError>;
    /// Locks or unlocks an account; false when it does not exist.
    fn set_locked(&self, id: UserId, locked: bool) -> Result<bool, StoreError>;
    /// Changes an account's role.
    fn set_role(&self, id: UserId, role: Role) -> Result<bool, StoreError>;

    /// A person's stored settings (`None`: never changed, the defaults of their age band apply).
    fn settings(&self, id: UserId) -> Result<Option<Settings>, StoreError>;
    /// Every stored setting of this region's people (rebuild at start).
    fn all_settings(&self) -> Result<Vec<(UserId, Settings)>, StoreError>;
    /// Stores a person's settings.
    fn set_settings(&self, id: UserId, settings: &Settings) -> Result<(), StoreError>;

    /// Every family link of this region's minors: (minor, link).
    fn families(&self) -> Result<Vec<(UserId, Family)>, StoreError>;
    /// Stores (or, with `None`, removes) a minor's family link.
    fn set_family(&self, minor: UserId, link: Option<&Family>) -> Result<(), StoreError>;

    /// Stores a session token's hash.
    fn insert_token(&self, hash: &[u8; 32], token: &TokenRecord) -> Result<(), StoreError>;
    /// Looks a token hash up.
    fn token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError>;
    /// Revokes a token; true when it existed.
    fn delete_token(&self, hash: &[u8; 32]) -> Result<bool, StoreError>;

    /// Stores a video and, when it brings a new original sound, that sound, in one transaction.
    fn insert_video(&self, video: &Video, new_sound: Option<&Sound>) -> Result<(), StoreError>;
    /// Replaces a stored video's record (e.g. a moderator marking it mature); false when absent.
    fn update_video(&self, video: &Video) -> Result<bool, StoreError>;
    /// Removes a video (moderation or its creator's request); returns it when it existed.
    fn delete_video(&self, id: VideoId) -> Result<Option<Video>, StoreError>;
    /// Every video uploaded by this region's users.
    fn videos(&self) -> Result<Vec<Video>, StoreError>;
    /// Every sound first used by this region's users.
    fn sounds(&self) -> Result<Vec<Sound>, StoreError>;
    /// Every (follower, followee) pair whose follower lives here.
    fn follows(&self) -> Result<Vec<(UserId, UserId)>, StoreError>;
    /// Every (user, video) like by this region's users.
    fn likes(&self) -> Result<Vec<(UserId, VideoId)>, StoreError>;
    /// Stores (or replaces) a report about this region's content.
    fn put_report(&self, report: &Report) -> Result<(), StoreError>;
    /// Every report about this region's content.
    fn reports(&self) -> Result<Vec<Report>, StoreError>;
    /// Every follower decision of this region's private accounts: (account, follower, approved).
    fn approvals(&self) -> Result<Vec<(UserId, UserId, bool)>, StoreError>;
    /// Replaces a stored comment (a moderator's takedown); false when absent.
    fn update_comment(&self, comment: &Comment) -> Result<bool, StoreError>;
    /// Every comment written by this region's users.
    fn comments(&self) -> Result<Vec<Comment>, StoreError>;
    /// Every (user, video, saved at) favourite of this region's users.
    fn saves(&self) -> Result<Vec<(UserId, VideoId, u64)>, StoreError>;
    /// Every (user, comment) comment like by this region's users.
    fn comment_likes(&self) -> Result<Vec<(UserId, CommentId)>, StoreError>;
    /// Removes this region's users' likes of comments that were erased (in whichever region they
    /// were stored); returns how many.
    fn erase_comment_likes(&self, comments: &[CommentId]) -> Result<u64, StoreError>;

    /// Bulk-loads accounts, sounds and videos in one transaction (demo worlds, migrations).
    /// Handles must be new; records must belong to this region.
    fn import(
        &self,
        accounts: &[Account],
        sounds: &[Sound],
        videos: &[Video],
    ) -> Result<(), StoreError>;

    /// Applies records of the region's event log, in log order, to the derived tables (likes,
    /// saves, follows, comments, comment likes, view and share counts) and records the last position applied, in one
    /// transaction. Records at or below that position are skipped (their effect is
    /// [`Effect::None`]), so a consumer may offer a record twice; a record past the next position
    /// is refused with [`StoreError::Gap`]. The effects may reach disk after the call returns: the
    /// log holds them, and a start applies again whatever a crash lost.
    fn apply(&self, records: &[EventRecord]) -> Result<Vec<Effect>, StoreError>;
    /// The last log position whose effects are in the tables.
    fn applied_seq(&self) -> Result<u64, StoreError>;
    /// Views and shares per video made by this region's users, kept as the log is applied, so a
    /// start need not read the log to count them.
    fn view_share_counts(&self) -> Result<Vec<(VideoId, u64, u64)>, StoreError>;
    /// Removes, in one transaction, everything held by or about `user` (their account, handle,
    /// sessions, settings, videos, follows either way, likes, saves, comments, comment likes,
    /// follower decisions and
    /// reports about them; staff decisions that named them stay with the name redacted, and their
    /// original sounds stay, unnamed, for the videos that use them) and everything attached to
    /// `videos` (the videos, their likes, saves, comments, comment likes, counts and reports),
    /// whoever's they are.
    fn erase(&self, user: Option<UserId>, videos: &[VideoId]) -> Result<Erased, StoreError>;
    /// Rewrites the store's files so that nothing removed survives in them (freed pages
    /// included); run after [`RegionStore::erase`].
    fn vacuum(&self) -> Result<(), StoreError>;

    /// Appends a staff-gateway decision about this region's data, durably; returns its position.
    fn record_access(&self, record: &AccessRecord) -> Result<u64, StoreError>;
    /// Up to `max` access decisions from position `from` (1-based), in order.
    fn access_records(&self, from: u64, max: usize) -> Result<Vec<AccessRecord>, StoreError>;

    /// A small named document the region keeps about itself (such as its spent privacy
    /// budget), so that whichever node serves the region next finds it; `None` when never set.
    fn state(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Replaces the named document, durably.
    fn set_state(&self, name: &str, value: &[u8]) -> Result<(), StoreError>;

    /// Keeps `entry` as the transparency log's entry number `index` (from 0) when this store is
    /// the log's home, durably; a second write of the same index keeps the first.
    fn journal_put(&self, index: u64, entry: &[u8]) -> Result<(), StoreError>;
    /// Up to `max` journal entries from `index` on, in order, stopping at the first gap.
    fn journal(&self, index: u64, max: usize) -> Result<Vec<Vec<u8>>, StoreError>;
}
