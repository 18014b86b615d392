//! The JSON shapes the API returns, built by the handlers from the public projection (the
//! platform answers in ids and engine reasons; only this layer knows JSON).

use crate::platform::World;
use foryou_engine::Reason;
use foryou_types::{Region, SoundId, UserId, VideoId};
use serde::Serialize;

/// A creator as shown on a video.
#[derive(Serialize, Clone, Debug)]
pub struct CreatorRef {
    /// User id.
    pub id: UserId,
    /// Handle.
    pub handle: String,
}

/// A sound as shown on a video.
#[derive(Serialize, Clone, Debug)]
pub struct SoundRef {
    /// Sound id.
    pub id: SoundId,
    /// Title.
    pub title: String,
}

/// Public counters of a video.
#[derive(Serialize, Clone, Debug)]
pub struct Counts {
    /// Likes.
    pub likes: u64,
    /// Times saved to favourites.
    pub saves: u64,
    /// Comments.
    pub comments: u64,
    /// Shares.
    pub shares: u64,
    /// Views.
    pub views: u64,
}

/// A video as the API shows it.
#[derive(Serialize, Clone, Debug)]
pub struct VideoView {
    /// Video id.
    pub id: VideoId,
    /// Duration from the container.
    pub duration_ms: u64,
    /// Picture width.
    pub width: u32,
    /// Picture height.
    pub height: u32,
    /// The sound's id.
    pub sound_id: SoundId,
    /// Where the bytes are served (Range supported).
    pub media_url: String,
    /// Where the poster is served.
    pub poster_url: String,
    /// `video/mp4` or `video/webm`.
    pub mime: String,
    /// The studio effects it was made with.
    pub effects: Vec<String>,
    /// The audio track's codec (`aac`, `flac`, `opus`, `vorbis`), or null for a silent video.
    pub audio_codec: Option<String>,
    /// Caption.
    pub caption: String,
    /// Hashtags from the caption.
    pub hashtags: Vec<String>,
    /// The creator.
    pub creator: CreatorRef,
    /// The sound.
    pub sound: SoundRef,
    /// Counters.
    pub counts: Counts,
    /// Whether the viewer liked it.
    pub liked: bool,
    /// Whether the viewer saved it to their favourites.
    pub saved: bool,
    /// Whether the viewer follows the creator.
    pub following: bool,
    /// Upload time, Unix ms.
    pub created_ms: u64,
    /// Marked mature: never in the feeds of people under 18.
    pub mature: bool,
    /// Where to download it, when its creator allows downloads (never for people under 18).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
}

/// A reason rendered for people.
#[derive(Serialize, Clone, Debug)]
pub struct ReasonView {
    /// Stable code of the stage that gave it.
    pub code: String,
    /// The sentence shown in "why this video".
    pub text: String,
}

/// One feed item: the video and why it is shown.
#[derive(Serialize, Clone, Debug)]
pub struct FeedItem {
    /// The video.
    #[serde(flatten)]
    pub video: VideoView,
    /// Why it is shown.
    pub reasons: Vec<ReasonView>,
    /// True when staff boosted it into this feed (the boost is in the transparency log).
    pub boosted: bool,
}

pub(crate) fn handle_of(w: &World, u: UserId) -> String {
    w.users
        .get(&u)
        .map(|x| x.handle.clone())
        .unwrap_or_else(|| "unknown".into())
}

pub(crate) fn video(w: &World, id: VideoId, viewer: Option<UserId>) -> Option<VideoView> {
    let e = w.videos.get(&id)?;
    let v = &e.video;
    let sound_title = w
        .sounds
        .get(&v.sound)
        .map(|s| s.title.clone())
        .unwrap_or_else(|| "original sound".into());
    Some(VideoView {
        id,
        duration_ms: v.duration_ms,
        width: v.width,
        height: v.height,
        sound_id: v.sound,
        media_url: format!("/v1/videos/{id}/media"),
        poster_url: format!("/v1/videos/{id}/poster"),
        mime: v.mime.clone(),
        audio_codec: v.audio_codec.clone(),
        effects: v.effects.clone(),
        caption: v.caption.clone(),
        hashtags: v.hashtags.clone(),
        creator: CreatorRef {
            id: v.creator,
            handle: handle_of(w, v.creator),
        },
        sound: SoundRef {
            id: v.sound,
            title: sound_title,
        },
        counts: Counts {
            likes: e.likes,
            saves: e.saves,
            comments: e.comments,
            shares: e.shares,
            views: e.views,
        },
        liked: viewer.is_some_and(|u| w.likes.contains(&(u, id))),
        saved: viewer.is_some_and(|u| w.saves.contains(&(u, id))),
        following: viewer
            .is_some_and(|u| w.following.get(&u).is_some_and(|s| s.contains(&v.creator))),
        created_ms: v.created_ms,
        mature: v.mature,
        download_url: w
            .users
            .get(&v.creator)
            .is_some_and(|u| crate::platform::settings::effective_for(u).downloads)
            .then(|| format!("/v1/videos/{id}/download")),
    })
}

fn reason_view(
    w: &World,
    r: &Reason,
    region: Option<&Region>,
    boost: Option<&crate::BoostState>,
) -> ReasonView {
    let code = serde_json::to_value(r)
        .ok()
        .and_then(|v| v.get("code").and_then(|c| c.as_str().map(str::to_string)))
        .unwrap_or_default();
    let text = match r {
        Reason::FollowedCreator { creator } => format!("you follow @{}", handle_of(w, *creator)),
        Reason::EngagedCreator { creator } => format!(
            "you watched @{}'s videos to the end",
            handle_of(w, *creator)
        ),
        Reason::LikedSound { sound } => {
            let t = w
                .sounds
                .get(sound)
                .map(|s| s.title.clone())
                .unwrap_or_else(|| "this sound".into());
            format!("uses a sound you finished or replayed: \u{201c}{t}\u{201d}")
        }
        Reason::Hashtag { tag } => format!("tagged #{tag}, which you watch"),
        Reason::WatchedTogether { video } => {
            let what = w
                .videos
                .get(video)
                .map(|e| {
                    let c = e.video.caption.chars().take(40).collect::<String>();
                    if c.trim().is_empty() {
                        format!("@{}'s video", handle_of(w, e.video.creator))
                    } else {
                        format!("\u{201c}{}\u{201d}", c.trim())
                    }
                })
                .unwrap_or_else(|| "a video you watched".into());
            format!("people who watched {what} to the end also watched this")
        }
        Reason::SimilarTaste => "close to what you have been watching".into(),
        Reason::PopularWorldwide => "popular in other regions (privacy-protected counts)".into(),
        Reason::Boosted => format!(
            "promoted by Foryou staff: \u{201c}{}\u{201d} (every promotion is in the public transparency log)",
            boost.map(|b| b.reason.as_str()).unwrap_or("no reason recorded")
        ),
        Reason::Exploring => "something different, to learn what you like".into(),
        Reason::Newest => "among the newest videos you have not seen".into(),
        Reason::PopularInRegion => match region {
            Some(region) => format!("popular in your region ({region})"),
            None => "popular on Foryou right now".into(),
        },
        Reason::NewVideo => "a new video being tried with a small audience".into(),
        Reason::NotPersonalised => {
            "non-personalised feed: ranked by popularity, not by your activity".into()
        }
    };
    ReasonView { code, text }
}

pub(crate) fn feed_item(
    w: &World,
    id: VideoId,
    viewer: Option<UserId>,
    region: Option<&Region>,
    reasons: &[Reason],
    boost: Option<&crate::BoostState>,
) -> Option<FeedItem> {
    Some(FeedItem {
        video: video(w, id, viewer)?,
        reasons: reasons
            .iter()
            .map(|r| reason_view(w, r, region, boost))
            .collect(),
        boosted: reasons.contains(&Reason::Boosted),
    })
}

pub(crate) fn profile(w: &World, id: UserId, viewer: Option<UserId>) -> serde_json::Value {
    let videos = w.by_creator.get(&id).map(Vec::len).unwrap_or(0);
    let likes: u64 = w
        .by_creator
        .get(&id)
        .into_iter()
        .flatten()
        .filter_map(|v| w.videos.get(v))
        .map(|e| e.likes)
        .sum();
    serde_json::json!({
        "id": id,
        "handle": handle_of(w, id),
        "bio": w.users.get(&id).and_then(|u| u.settings.as_ref()).map(|s| s.bio.as_str()).unwrap_or(""),
        "followers": w.followers.get(&id).copied().unwrap_or(0),
        "following": w.following.get(&id).map(|s| s.len()).unwrap_or(0),
        "video_count": videos,
        "likes_received": likes,
        "followed_by_me": viewer.is_some_and(|u| w.following.get(&u).is_some_and(|s| s.contains(&id))),
    })
}
