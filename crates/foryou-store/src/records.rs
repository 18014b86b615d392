//! The records a region store holds. Each carries its region.

use foryou_types::{CommentId, Date, Region, Role, SoundId, UserId, VideoId};
use serde::{Deserialize, Serialize};

/// A user account. Personal data: lives in `region` only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// The account id.
    pub id: UserId,
    /// The handle as chosen (uniqueness ignores case).
    pub handle: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Date of birth.
    pub birthdate: Date,
    /// ISO 3166-1 alpha-2 country of residence.
    pub country: String,
    /// Home region, fixed by the country at sign-up.
    pub region: Region,
    /// What the account may do.
    pub role: Role,
    /// Creation time, Unix ms.
    pub created_ms: u64,
    /// Locked by a moderator (e.g. confirmed under 13): it may sign in only to read the decision,
    /// appeal and export; its videos are hidden from everyone else.
    #[serde(default)]
    pub locked: bool,
}

/// A session token, stored under the SHA-256 of the bearer secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Whose session.
    pub user: UserId,
    /// The user's region.
    pub region: Region,
    /// Issued, Unix ms.
    pub created_ms: u64,
    /// Expires, Unix ms.
    pub expires_ms: u64,
}

/// An uploaded video. Stored in its creator's region.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Video {
    /// The video id.
    pub id: VideoId,
    /// The uploader.
    pub creator: UserId,
    /// The uploader's region.
    pub region: Region,
    /// Caption as written.
    pub caption: String,
    /// Hashtags parsed from the caption.
    pub hashtags: Vec<String>,
    /// The sound it uses.
    pub sound: SoundId,
    /// Duration from the container.
    pub duration_ms: u64,
    /// Picture width.
    pub width: u32,
    /// Picture height.
    pub height: u32,
    /// `video/mp4` or `video/webm`.
    pub mime: String,
    /// `h264`, `vp8`, `vp9` or `av1`.
    pub video_codec: String,
    /// `aac`, `opus`, `vorbis`, or none.
    pub audio_codec: Option<String>,
    /// Object-store key of the media file.
    pub media_key: String,
    /// Object-store key of the poster.
    pub poster_key: String,
    /// The poster's MIME type.
    pub poster_mime: String,
    /// Media size in bytes.
    pub size_bytes: u64,
    /// Marked mature by its creator or a moderator: never in the feeds of people under 18.
    #[serde(default)]
    pub mature: bool,
    /// Taken down by a moderator (kept, with its media, while its creator may appeal).
    #[serde(default)]
    pub removed: bool,
    /// The creation studio's effects it was made with (`foryou_types::EFFECTS`).
    #[serde(default)]
    pub effects: Vec<String>,
    /// Upload time, Unix ms.
    pub created_ms: u64,
}

/// A sound: first used by `creator`'s video `origin`, reusable by anyone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sound {
    /// The sound id.
    pub id: SoundId,
    /// Its title ("original sound - handle" unless named).
    pub title: String,
    /// Who first used it.
    pub creator: UserId,
    /// That user's region.
    pub region: Region,
    /// The video it came from.
    pub origin: VideoId,
    /// Creation time, Unix ms.
    pub created_ms: u64,
}

/// A comment, stored in its author's region.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    /// The comment id.
    pub id: CommentId,
    /// The video commented on.
    pub video: VideoId,
    /// The author.
    pub author: UserId,
    /// The author's region.
    pub region: Region,
    /// The text.
    pub text: String,
    /// Time, Unix ms.
    pub created_ms: u64,
    /// Taken down by a moderator (kept while its author may appeal).
    #[serde(default)]
    pub removed: bool,
    /// For a reply: the top-level comment whose thread it joins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<CommentId>,
    /// Its record's place in its region's log (0 where stored before it was kept): orders the
    /// comments a region took in the same millisecond as they were posted.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub seq: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Comment {
    /// The comment a `comment` log record on `video` makes (its id from the record, or its
    /// position when the record names none).
    pub fn from_record(rec: &foryou_types::EventRecord, video: VideoId) -> Comment {
        Comment {
            id: rec.comment.unwrap_or(CommentId(rec.seq)),
            video,
            author: rec.user,
            region: rec.region.clone(),
            text: rec.text.clone().unwrap_or_default(),
            created_ms: rec.ts_ms,
            removed: false,
            reply_to: rec.reply_to,
            seq: rec.seq,
        }
    }

    /// The order comments are listed in, oldest first: by time, then, within a millisecond, by
    /// place in the log (ids are random), then by id.
    pub fn order_key(&self) -> (u64, u64, CommentId) {
        (self.created_ms, self.seq, self.id)
    }
}

/// What applying a log record changed in the tables.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Nothing beyond the log entry.
    None,
    /// A like was added.
    LikeAdded,
    /// A like was removed.
    LikeRemoved,
    /// A follow was added.
    FollowAdded,
    /// A follow was removed.
    FollowRemoved,
    /// A comment was stored.
    CommentAdded(Comment),
    /// A video was saved to favourites.
    SaveAdded,
    /// A video was taken out of favourites.
    SaveRemoved,
    /// A comment was liked (the record's `comment`).
    CommentLiked,
    /// A comment like was taken back.
    CommentUnliked,
    /// A private account approved a follower.
    FollowerApproved,
    /// A private account declined a follower (or took an approval back).
    FollowerDeclined,
}

/// One decision of the staff gateway on personal data of a region: who asked, as what, why,
/// about what, how many records were touched and what was decided. Kept in the target region's
/// store; the transparency log publishes them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccessRecord {
    /// Position in the region's access log (set by the store).
    pub seq: u64,
    /// When, Unix ms.
    pub ts_ms: u64,
    /// The staff account.
    pub actor: UserId,
    /// Its role.
    pub role: Role,
    /// Its home region.
    pub actor_region: Region,
    /// The region whose data was asked for.
    pub target_region: Region,
    /// The purpose named with the request.
    pub purpose: String,
    /// The category of data.
    pub category: String,
    /// What was asked, e.g. `list accounts` or `remove video 123`.
    pub action: String,
    /// Records read or changed (0 when denied).
    pub records: u64,
    /// Allowed or denied.
    pub allowed: bool,
    /// Whether the answer was pseudonymised.
    pub pseudonymised: bool,
    /// The policy rule that decided (its index and text), or the default deny.
    pub rule: String,
    /// What was done, without ids (as the public transparency log says it).
    #[serde(default)]
    pub verb: String,
    /// What it was done to, in public form (`video:<id>`, `user:<pseudonym>` or empty).
    #[serde(default)]
    pub subject: String,
}

/// Who may comment on a person's videos.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommentPolicy {
    /// Anyone signed in.
    #[default]
    Everyone,
    /// People who follow them.
    Followers,
    /// No one.
    Nobody,
}

fn yes() -> bool {
    true
}

/// A family link: a parent (or guardian) and a minor, kept in the minor's home store. A teen's
/// link exists once both confirmed (the parent's invitation code, entered by the teen); an
/// under-13 account exists only as `supervised`, made by the parent after verifiable consent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Family {
    /// The parent's account.
    pub guardian: UserId,
    /// An under-13 account the parent made (it cannot leave the link; the parent may erase it).
    #[serde(default)]
    pub supervised: bool,
    /// The parent's daily limit, minutes (the feed stops for the day once it is reached).
    #[serde(default)]
    pub daily_limit_min: Option<u32>,
    /// Restricted mode: no mature videos, and none that is still new (being tried on its first
    /// viewers, not yet vetted by an audience).
    #[serde(default)]
    pub restricted: bool,
    /// The most the parent allows on who may comment (the teen may choose less).
    #[serde(default)]
    pub comments: Option<CommentPolicy>,
    /// Whether the parent allows the account to be public (only 16–17 may be).
    #[serde(default)]
    pub may_be_public: bool,
    /// When the link was made, Unix ms.
    pub since_ms: u64,
}

/// A person's own choices. The platform applies the limits of their age band over whatever is
/// stored here, so a stored value can never weaken them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// A personalised For You feed; off means the non-personalised feed, and nothing is learned
    /// from what they do.
    #[serde(default = "yes")]
    pub personalised: bool,
    /// A private account: not suggested to others; its videos listed to its followers only.
    #[serde(default)]
    pub private: bool,
    /// Who may comment on their videos.
    #[serde(default)]
    pub comments: CommentPolicy,
    /// Words and hashtags whose videos never reach their feeds.
    #[serde(default)]
    pub filters: Vec<String>,
    /// Others may download their videos (never the videos of people under 18).
    #[serde(default = "yes")]
    pub downloads: bool,
    /// Data category: what they watch (watch time, skips) may be learned for their feed; off,
    /// only what they like, share, follow or mark not interested is.
    #[serde(default = "yes")]
    pub watch_history: bool,
    /// Data category: their activity may count in the differentially private statistics a
    /// region shares with the others.
    #[serde(default = "yes")]
    pub shared_statistics: bool,
    /// A line about them on their profile (at most 80 characters).
    #[serde(default)]
    pub bio: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            personalised: true,
            private: false,
            comments: CommentPolicy::Everyone,
            filters: Vec::new(),
            downloads: true,
            watch_history: true,
            shared_statistics: true,
            bio: String::new(),
        }
    }
}

/// Where a report stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// Waiting for a moderator.
    Open,
    /// A moderator found nothing wrong.
    Dismissed,
    /// A moderator took the video down or locked the account; its creator may appeal once.
    Removed,
    /// Its creator appealed; waiting for a moderator.
    Appealed,
    /// The appeal was refused: the video stays down.
    Upheld,
    /// The appeal was granted: the video is back.
    Reversed,
}

/// A report of a video or an account to the moderators of its region, kept in that region's
/// store. The reporter appears only as a keyed pseudonym.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Random id.
    pub id: u64,
    /// When it was filed, Unix ms.
    pub ts_ms: u64,
    /// The video, for a report of a video (or of a comment on it).
    #[serde(default)]
    pub video: Option<VideoId>,
    /// The comment, for a report of a comment.
    #[serde(default)]
    pub comment: Option<CommentId>,
    /// The video's creator, or the reported account.
    pub creator: UserId,
    /// One of spam, harassment, nudity, violence, under_13, other.
    pub reason: String,
    /// What the reporter added (at most 500 characters).
    pub note: String,
    /// The reporter, as a keyed pseudonym.
    pub reporter: String,
    /// Where it stands.
    pub status: ReportStatus,
    /// The moderator's reason for the last decision (shown to the creator).
    pub decision: String,
    /// The creator's appeal.
    pub appeal: String,
    /// When it was last decided, Unix ms (0 while open).
    pub decided_ms: u64,
}
