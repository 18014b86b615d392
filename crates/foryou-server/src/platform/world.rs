//! The public projection of every region's records (accounts, videos, sounds, follows, likes,
//! comments), rebuilt at start and kept current on writes.

use super::*;

#[derive(Clone, Debug)]
pub(crate) struct UserEntry {
    pub handle: String,
    pub region: Region,
    pub role: Role,
    pub created_ms: u64,
    /// For the age band's limits (in memory only; the account in the home store holds it).
    pub birthdate: Date,
    /// Stored settings (`None`: the band's defaults).
    pub settings: Option<foryou_store::Settings>,
    /// Locked by a moderator.
    pub locked: bool,
    /// The family link, when a parent is linked (minors only).
    pub family: Option<foryou_store::Family>,
}

#[derive(Clone, Debug)]
pub(crate) struct VideoEntry {
    pub video: Video,
    pub likes: u64,
    pub comments: u64,
    pub shares: u64,
    pub views: u64,
}

/// The public projection of every region's records, rebuilt at start, kept current on writes.
#[derive(Default)]
pub(crate) struct World {
    pub users: HashMap<UserId, UserEntry>,
    pub handles: HashMap<String, UserId>,
    pub videos: HashMap<VideoId, VideoEntry>,
    pub by_creator: HashMap<UserId, Vec<VideoId>>,
    pub by_sound: HashMap<SoundId, Vec<VideoId>>,
    /// Videos by hashtag (lower case, without `#`), oldest first.
    pub by_tag: HashMap<String, Vec<VideoId>>,
    /// Videos by the studio effect they were made with, oldest first.
    pub by_effect: HashMap<String, Vec<VideoId>>,
    pub sounds: HashMap<SoundId, Sound>,
    pub following: HashMap<UserId, BTreeSet<UserId>>,
    pub followers: HashMap<UserId, u64>,
    pub likes: HashSet<(UserId, VideoId)>,
    /// Private accounts' decisions on followers: (account, follower) → approved.
    pub approvals: HashMap<(UserId, UserId), bool>,
    pub comments: HashMap<VideoId, Vec<Comment>>,
}

impl World {
    pub(super) fn add_account(&mut self, a: Account) {
        self.handles.insert(a.handle.to_ascii_lowercase(), a.id);
        let entry = UserEntry {
            handle: a.handle,
            region: a.region,
            role: a.role,
            created_ms: a.created_ms,
            birthdate: a.birthdate,
            settings: None,
            locked: a.locked,
            family: None,
        };
        self.users.insert(a.id, entry);
    }

    pub(super) fn add_video(&mut self, v: Video) {
        self.by_creator.entry(v.creator).or_default().push(v.id);
        self.by_sound.entry(v.sound).or_default().push(v.id);
        for t in &v.hashtags {
            self.by_tag.entry(t.clone()).or_default().push(v.id);
        }
        for e in &v.effects {
            self.by_effect.entry(e.clone()).or_default().push(v.id);
        }
        self.videos.insert(
            v.id,
            VideoEntry {
                video: v,
                likes: 0,
                comments: 0,
                shares: 0,
                views: 0,
            },
        );
    }

    /// Takes a video out of the projection (its lists included).
    pub(super) fn remove_video(&mut self, v: &Video) {
        self.videos.remove(&v.id);
        if let Some(l) = self.by_creator.get_mut(&v.creator) {
            l.retain(|x| *x != v.id);
        }
        if let Some(l) = self.by_sound.get_mut(&v.sound) {
            l.retain(|x| *x != v.id);
        }
        for t in &v.hashtags {
            if let Some(l) = self.by_tag.get_mut(t) {
                l.retain(|x| *x != v.id);
                if l.is_empty() {
                    self.by_tag.remove(t);
                }
            }
        }
        for e in &v.effects {
            if let Some(l) = self.by_effect.get_mut(e) {
                l.retain(|x| *x != v.id);
            }
        }
    }

    /// Takes a video out with everything attached: its likes and comments.
    pub(super) fn purge_video(&mut self, id: VideoId) {
        if let Some(e) = self.videos.get(&id) {
            let v = e.video.clone();
            self.remove_video(&v);
        }
        self.likes.retain(|(_, v)| *v != id);
        self.comments.remove(&id);
        for s in self.sounds.values_mut() {
            if s.origin == id {
                s.origin = VideoId(0);
            }
        }
    }

    /// Takes comments out (erased with their author or their video).
    pub(super) fn remove_comments(&mut self, ids: &[CommentId]) {
        if ids.is_empty() {
            return;
        }
        let ids: HashSet<CommentId> = ids.iter().copied().collect();
        for (video, list) in self.comments.iter_mut() {
            let before = list.len();
            list.retain(|c| !ids.contains(&c.id));
            let gone = (before - list.len()) as u64;
            if let Some(e) = self.videos.get_mut(video) {
                e.comments = e.comments.saturating_sub(gone);
            }
        }
    }

    /// Takes a person out: their account, handle, follows either way, likes, follower
    /// decisions, and their name on the sounds they first used (their videos and comments go
    /// through `purge_video` and `remove_comments`).
    pub(super) fn remove_user(&mut self, u: UserId) {
        if let Some(e) = self.users.remove(&u) {
            self.handles.remove(&e.handle.to_ascii_lowercase());
        }
        self.by_creator.remove(&u);
        if let Some(followed) = self.following.remove(&u) {
            for c in followed {
                if let Some(n) = self.followers.get_mut(&c) {
                    *n = n.saturating_sub(1);
                }
            }
        }
        self.followers.remove(&u);
        for set in self.following.values_mut() {
            set.remove(&u);
        }
        let liked: Vec<VideoId> = self
            .likes
            .iter()
            .filter(|(a, _)| *a == u)
            .map(|(_, v)| *v)
            .collect();
        for v in liked {
            self.likes.remove(&(u, v));
            if let Some(e) = self.videos.get_mut(&v) {
                e.likes = e.likes.saturating_sub(1);
            }
        }
        self.approvals.retain(|(a, b), _| *a != u && *b != u);
        for s in self.sounds.values_mut() {
            if s.creator == u {
                s.creator = UserId(0);
                s.title = "original sound".into();
            }
        }
    }

    pub(super) fn apply(&mut self, rec: &EventRecord, effect: &Effect) {
        let entry = rec.video.and_then(|v| self.videos.get_mut(&v));
        if let Some(e) = entry {
            match (rec.kind, effect) {
                (EventKind::View, _) => e.views += 1,
                (EventKind::Share, _) => e.shares += 1,
                (_, Effect::LikeAdded) => e.likes += 1,
                (_, Effect::LikeRemoved) => e.likes = e.likes.saturating_sub(1),
                (_, Effect::CommentAdded(_)) => e.comments += 1,
                _ => {}
            }
        }
        match effect {
            Effect::LikeAdded => {
                if let Some(v) = rec.video {
                    self.likes.insert((rec.user, v));
                }
            }
            Effect::LikeRemoved => {
                if let Some(v) = rec.video {
                    self.likes.remove(&(rec.user, v));
                }
            }
            Effect::FollowAdded => {
                if let Some(c) = rec.creator {
                    self.following.entry(rec.user).or_default().insert(c);
                    *self.followers.entry(c).or_default() += 1;
                }
            }
            Effect::FollowRemoved => {
                if let Some(c) = rec.creator {
                    if let Some(s) = self.following.get_mut(&rec.user) {
                        s.remove(&c);
                    }
                    let n = self.followers.entry(c).or_default();
                    *n = n.saturating_sub(1);
                }
            }
            Effect::CommentAdded(c) => self.comments.entry(c.video).or_default().push(c.clone()),
            Effect::FollowerApproved | Effect::FollowerDeclined => {
                if let Some(f) = rec.creator {
                    self.approvals
                        .insert((rec.user, f), *effect == Effect::FollowerApproved);
                }
            }
            Effect::None => {}
        }
    }
}
