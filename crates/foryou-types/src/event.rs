//! Interaction events: what clients send, and what the region's event log stores.

use crate::{CommentId, Region, SoundId, UserId, VideoId};
use serde::{Deserialize, Serialize};

/// The kinds of interaction the platform records.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The user watched a video for `watch_ms` (more than its duration means replays).
    View,
    /// The user swiped away quickly.
    Skip,
    /// Liked a video.
    Like,
    /// Took a like back.
    Unlike,
    /// Shared a video.
    Share,
    /// Commented on a video (`text`).
    Comment,
    /// Followed a creator (`target`, or the video's creator).
    Follow,
    /// Stopped following a creator.
    Unfollow,
    /// Asked to see less of a video, its creator or its sound (`target`).
    NotInterested,
    /// The user asked the For You feed to start afresh: learned interests are forgotten, follows
    /// stay. Written by the platform (`POST /v1/feed/refresh`), never accepted in an event batch.
    Refresh,
    /// A video joined the public catalog (its id, creator, sound, tags and duration; no caption).
    /// Written by the platform into every region's log, so each engine learns of it at its place
    /// in that region's stream; never accepted in an event batch.
    Publish,
    /// A video left the public catalog. Written like `Publish`.
    Unpublish,
    /// A private account lets a follower (`target`) see its videos and comment.
    ApproveFollower,
    /// A private account declines a follower (`target`), or takes an approval back.
    DeclineFollower,
    /// Takes a "not interested" back (`target` as for `not_interested`, on the same video).
    UndoNotInterested,
    /// A record whose subject was erased: its key is destroyed, so only its position remains.
    /// Never written; reading the log yields it in place of what can no longer be read.
    Erased,
    /// A page of the For You feed served to the user (`impression`): what was shown, where, why
    /// and with which features, so the ranker learns from what followed. Written by the platform.
    Impression,
    /// Saved a video to the user's favourites (private to them).
    Save,
    /// Took a video out of the user's favourites.
    Unsave,
    /// Liked a comment (`target`: the comment's id).
    LikeComment,
    /// Took a comment like back (`target`: the comment's id).
    UnlikeComment,
}

impl EventKind {
    /// The name used in JSON and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::View => "view",
            EventKind::Skip => "skip",
            EventKind::Like => "like",
            EventKind::Unlike => "unlike",
            EventKind::Share => "share",
            EventKind::Comment => "comment",
            EventKind::Follow => "follow",
            EventKind::Unfollow => "unfollow",
            EventKind::NotInterested => "not_interested",
            EventKind::Refresh => "refresh",
            EventKind::Publish => "publish",
            EventKind::Unpublish => "unpublish",
            EventKind::ApproveFollower => "approve_follower",
            EventKind::DeclineFollower => "decline_follower",
            EventKind::UndoNotInterested => "undo_not_interested",
            EventKind::Erased => "erased",
            EventKind::Impression => "impression",
            EventKind::Save => "save",
            EventKind::Unsave => "unsave",
            EventKind::LikeComment => "like_comment",
            EventKind::UnlikeComment => "unlike_comment",
        }
    }

    /// Every kind, for metrics and documentation.
    pub const ALL: [EventKind; 21] = [
        EventKind::View,
        EventKind::Skip,
        EventKind::Like,
        EventKind::Unlike,
        EventKind::Share,
        EventKind::Comment,
        EventKind::Follow,
        EventKind::Unfollow,
        EventKind::NotInterested,
        EventKind::Refresh,
        EventKind::Publish,
        EventKind::Unpublish,
        EventKind::ApproveFollower,
        EventKind::DeclineFollower,
        EventKind::UndoNotInterested,
        EventKind::Erased,
        EventKind::Impression,
        EventKind::Save,
        EventKind::Unsave,
        EventKind::LikeComment,
        EventKind::UnlikeComment,
    ];

    /// Whether only the platform writes this kind (never a client's event batch).
    pub fn platform_only(self) -> bool {
        matches!(
            self,
            EventKind::Refresh
                | EventKind::Publish
                | EventKind::Unpublish
                | EventKind::Erased
                | EventKind::Impression
        )
    }
}

/// What a `not_interested` event is about.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum NotInterestedTarget {
    /// This one video.
    Video,
    /// Everything by the video's creator.
    Creator,
    /// Everything using the video's sound.
    Sound,
}

/// One event as a client sends it in `POST /v1/events`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// Client-chosen id (1–64 printable ASCII characters); resending the same id is a no-op.
    pub id: String,
    /// What happened.
    pub kind: EventKind,
    /// The video it happened on (required except for `follow`/`unfollow` with a `target`).
    #[serde(default)]
    pub video_id: Option<VideoId>,
    /// Milliseconds watched (`view`, `skip`).
    #[serde(default)]
    pub watch_ms: Option<i64>,
    /// `follow`/`unfollow`: the creator's user id; `not_interested`: `video`, `creator` or `sound`;
    /// `comment`: the id of the comment replied to (none for a new thread); `like_comment`/
    /// `unlike_comment`: the comment's id.
    #[serde(default)]
    pub target: Option<String>,
    /// `comment`: the comment text.
    #[serde(default)]
    pub text: Option<String>,
}

/// One event as stored in its user's home-region event log, enriched with what the engine needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Position in the region's log, from 1, gap-free.
    pub seq: u64,
    /// The client's event id.
    pub id: String,
    /// Who acted.
    pub user: UserId,
    /// The user's home region (the log's region).
    pub region: Region,
    /// What happened.
    pub kind: EventKind,
    /// Server time of acceptance, Unix milliseconds.
    pub ts_ms: u64,
    /// The video, when the event is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<VideoId>,
    /// The video's creator, or the followed creator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<UserId>,
    /// The video's sound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sound: Option<SoundId>,
    /// The video's duration, so watch ratio and completion follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Milliseconds watched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch_ms: Option<u64>,
    /// What a `not_interested` event is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_interested: Option<NotInterestedTarget>,
    /// A comment's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The comment created by a `comment` event, or liked by a `like_comment` event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<CommentId>,
    /// A reply's thread: the top-level comment it answers (replies to replies join the thread).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<CommentId>,
    /// A published video's hashtags (`publish` records only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Set when the person had personalisation off: the record counts (views, likes) but the
    /// engine does not learn from it, now or on any replay.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_learned: bool,
    /// Set when the person did not allow their activity in shared statistics: the record never
    /// counts in a region's differentially private release.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_released: bool,
    /// The page an `impression` record is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impression: Option<Impression>,
}

/// A served page of the For You feed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Impression {
    /// The ranking configuration's version (as served at `/v1/recommender`).
    pub config: String,
    /// The items, in page order.
    pub items: Vec<ShownItem>,
}

/// One item of a served page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShownItem {
    /// The video.
    pub video: VideoId,
    /// Its place on the page, from 0.
    pub position: u16,
    /// The candidate sources that proposed it.
    pub sources: Vec<String>,
    /// Its score.
    pub score: f32,
    /// The probability that the page's policy would show it there (1 for a ranked slot; the
    /// chance of being drawn for an exploration slot).
    pub propensity: f32,
    /// The ranker's features of it, as scored.
    pub features: Vec<f32>,
}

impl EventRecord {
    /// A record of `kind` by `user` at `ts_ms`, about nothing else yet (no video, no text, not
    /// sequenced): set the fields the kind needs with struct update syntax.
    pub fn new(id: String, user: UserId, region: Region, kind: EventKind, ts_ms: u64) -> Self {
        EventRecord {
            seq: 0,
            id,
            user,
            region,
            kind,
            ts_ms,
            video: None,
            creator: None,
            sound: None,
            duration_ms: None,
            watch_ms: None,
            not_interested: None,
            text: None,
            comment: None,
            reply_to: None,
            tags: Vec::new(),
            not_learned: false,
            not_released: false,
            impression: None,
        }
    }

    /// Watch time over duration (2.5 = watched two and a half times), when known.
    pub fn watch_ratio(&self) -> Option<f64> {
        match (self.watch_ms, self.duration_ms) {
            (Some(w), Some(d)) if d > 0 => Some(w as f64 / d as f64),
            _ => None,
        }
    }

    /// Whether the video was watched to the end (at least 90% of it).
    pub fn completed(&self) -> bool {
        self.watch_ratio().is_some_and(|r| r >= 0.9)
    }

    /// Full replays after the first watch.
    pub fn replays(&self) -> u64 {
        match (self.watch_ms, self.duration_ms) {
            (Some(w), Some(d)) if d > 0 => (w / d).saturating_sub(if w % d == 0 { 1 } else { 0 }),
            _ => 0,
        }
    }
}
