//! The public projection of every region's records (accounts, videos, sounds, follows, likes,
//! saves, comments and their threads and likes), rebuilt at start and kept current on writes.

use super::*;

#[derive(Clone, Debug)]
pub(crate) struct UserEntry {
    pub handle: String,
    pub region: Region,
    pub role: Role,
    pub created_ms: u64,
    /// For the age band's limits (in memory only; the account in the home store holds it).
    /// Unknown for a person of a region another node serves (see `band`).
    pub birthdate: Date,
    /// The age band another region's node published for its person (who never sends a
    /// birthdate across regions); `None` for this node's own people.
    pub published_band: Option<super::settings::Band>,
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
    /// Times saved to someone's favourites.
    pub saves: u64,
    /// Visible comments, replies included.
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
    /// Visible top-level comments per video, oldest first.
    pub comments: HashMap<VideoId, Vec<Comment>>,
    /// Replies per top-level comment, oldest first; shown while that comment is.
    pub replies: HashMap<CommentId, Vec<Comment>>,
    /// Every visible comment: its video and, for a reply, its thread.
    pub comment_at: HashMap<CommentId, (VideoId, Option<CommentId>)>,
    /// (user, video) saved to favourites.
    pub saves: HashSet<(UserId, VideoId)>,
    /// Each person's favourites, in the order saved (private to them).
    pub favourites: HashMap<UserId, Vec<VideoId>>,
    /// (user, comment) likes of comments.
    pub comment_likes: HashSet<(UserId, CommentId)>,
    /// Likes per comment.
    pub comment_like_counts: HashMap<CommentId, u64>,
}

impl UserEntry {
    /// The person's age band: from their birthdate, or as their region published it.
    pub fn band(&self) -> super::settings::Band {
        self.published_band
            .unwrap_or_else(|| super::settings::band(self.birthdate))
    }
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
            published_band: None,
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
                saves: 0,
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
        if self.saves.iter().any(|(_, v)| *v == id) {
            self.saves.retain(|(_, v)| *v != id);
            for list in self.favourites.values_mut() {
                list.retain(|v| *v != id);
            }
        }
        let mut gone: Vec<CommentId> = Vec::new();
        for c in self.comments.remove(&id).into_iter().flatten() {
            gone.extend(
                self.replies
                    .remove(&c.id)
                    .into_iter()
                    .flatten()
                    .map(|r| r.id),
            );
            gone.push(c.id);
        }
        // Threads under comments hidden by moderators.
        self.replies
            .retain(|_, l| l.first().is_none_or(|r| r.video != id));
        for c in &gone {
            self.comment_at.remove(c);
            self.comment_like_counts.remove(c);
        }
        for s in self.sounds.values_mut() {
            if s.origin == id {
                s.origin = VideoId(0);
            }
        }
    }

    /// Shows a comment: a new one, one loaded at start, or one a moderator restored. A
    /// top-level comment brings its thread back with it; a reply shows while its thread does.
    pub(super) fn show_comment(&mut self, c: Comment) {
        let (id, video) = (c.id, c.video);
        let shown = match c.reply_to {
            None => {
                let thread = self.replies.get(&id).map(Vec::as_slice).unwrap_or(&[]);
                for r in thread {
                    self.comment_at.insert(r.id, (video, Some(id)));
                }
                let n = 1 + thread.len() as u64;
                self.comment_at.insert(id, (video, None));
                insert_sorted(self.comments.entry(video).or_default(), c);
                n
            }
            Some(root) => {
                let visible = self.comment_at.get(&root).is_some_and(|(_, r)| r.is_none());
                if visible {
                    self.comment_at.insert(id, (video, Some(root)));
                }
                insert_sorted(self.replies.entry(root).or_default(), c);
                u64::from(visible)
            }
        };
        if let Some(e) = self.videos.get_mut(&video) {
            e.comments += shown;
        }
    }

    /// Hides a comment (a moderator's takedown, or on its way to erasure); a top-level
    /// comment's thread is hidden with it but kept, should it come back.
    pub(super) fn hide_comment(
        &mut self,
        id: CommentId,
        video: VideoId,
        reply_to: Option<CommentId>,
    ) {
        let visible = self.comment_at.remove(&id).is_some();
        let hidden = match reply_to {
            None => {
                if let Some(l) = self.comments.get_mut(&video) {
                    l.retain(|x| x.id != id);
                }
                let thread = self.replies.get(&id).map(Vec::as_slice).unwrap_or(&[]);
                for r in thread {
                    self.comment_at.remove(&r.id);
                }
                1 + thread.len() as u64
            }
            Some(root) => {
                if let Some(l) = self.replies.get_mut(&root) {
                    l.retain(|x| x.id != id);
                }
                1
            }
        };
        if let (true, Some(e)) = (visible, self.videos.get_mut(&video)) {
            e.comments = e.comments.saturating_sub(hidden);
        }
    }

    /// Takes out what an erasure removed: the videos with everything attached, the person, and
    /// the comments that went with them.
    pub(super) fn erase(
        &mut self,
        user: Option<UserId>,
        videos: &[VideoId],
        comments: &[CommentId],
    ) {
        for id in videos {
            self.purge_video(*id);
        }
        if let Some(u) = user {
            self.remove_user(u);
        }
        self.remove_comments(comments);
    }

    /// Takes comments out for good (erased with their author or their video): a top-level
    /// comment takes its thread out of view (the replies stay their authors'), and their likes go.
    pub(super) fn remove_comments(&mut self, ids: &[CommentId]) {
        if ids.is_empty() {
            return;
        }
        let ids: HashSet<CommentId> = ids.iter().copied().collect();
        for id in &ids {
            if let Some((video, root)) = self.comment_at.get(id).copied() {
                self.hide_comment(*id, video, root);
            }
        }
        self.replies.retain(|root, _| !ids.contains(root));
        for list in self.replies.values_mut() {
            list.retain(|c| !ids.contains(&c.id));
        }
        self.comment_likes.retain(|(_, c)| !ids.contains(c));
        for id in &ids {
            self.comment_like_counts.remove(id);
        }
    }

    /// One visible comment.
    pub(crate) fn comment(&self, id: CommentId) -> Option<&Comment> {
        let (video, root) = self.comment_at.get(&id)?;
        let list = match root {
            None => self.comments.get(video)?,
            Some(r) => self.replies.get(r)?,
        };
        list.iter().find(|c| c.id == id)
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
        for v in self.favourites.remove(&u).into_iter().flatten() {
            self.saves.remove(&(u, v));
            if let Some(e) = self.videos.get_mut(&v) {
                e.saves = e.saves.saturating_sub(1);
            }
        }
        let counts = &mut self.comment_like_counts;
        self.comment_likes.retain(|(a, c)| {
            if *a == u {
                if let Some(n) = counts.get_mut(c) {
                    *n = n.saturating_sub(1);
                }
            }
            *a != u
        });
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
                (_, Effect::SaveAdded) => e.saves += 1,
                (_, Effect::SaveRemoved) => e.saves = e.saves.saturating_sub(1),
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
            Effect::SaveAdded => {
                if let Some(v) = rec.video {
                    if self.saves.insert((rec.user, v)) {
                        self.favourites.entry(rec.user).or_default().push(v);
                    }
                }
            }
            Effect::SaveRemoved => {
                if let Some(v) = rec.video {
                    self.saves.remove(&(rec.user, v));
                    if let Some(l) = self.favourites.get_mut(&rec.user) {
                        l.retain(|x| *x != v);
                    }
                }
            }
            Effect::CommentLiked => {
                if let Some(c) = rec.comment {
                    if self.comment_likes.insert((rec.user, c)) {
                        *self.comment_like_counts.entry(c).or_default() += 1;
                    }
                }
            }
            Effect::CommentUnliked => {
                if let Some(c) = rec.comment {
                    if self.comment_likes.remove(&(rec.user, c)) {
                        if let Some(n) = self.comment_like_counts.get_mut(&c) {
                            *n = n.saturating_sub(1);
                        }
                    }
                }
            }
            Effect::CommentAdded(c) => self.show_comment(c.clone()),
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

/// Inserts a comment into a list kept oldest first (it is nearly always the newest).
fn insert_sorted(list: &mut Vec<Comment>, c: Comment) {
    let key = c.order_key();
    let at = list.partition_point(|x| x.order_key() <= key);
    list.insert(at, c);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(id: u64) -> Video {
        let eu = Region::new("eu").expect("region");
        foryou_store::suite::video(&eu, id, UserId(1))
    }

    fn comment(id: u64, reply_to: Option<u64>, at: u64) -> Comment {
        Comment {
            id: CommentId(id),
            video: VideoId(7),
            author: UserId(2),
            region: Region::new("eu").expect("region"),
            text: format!("c{id}"),
            created_ms: at,
            removed: false,
            reply_to: reply_to.map(CommentId),
            seq: 0,
        }
    }

    /// Replies posted in the same millisecond are listed as they were posted, whatever their
    /// random ids.
    #[test]
    fn replies_of_one_millisecond_keep_their_posting_order() {
        let mut w = World::default();
        w.add_video(video(7));
        w.show_comment(comment(10, None, 1));
        let reply = |id, seq| Comment {
            seq,
            ..comment(id, Some(10), 5)
        };
        w.show_comment(reply(90, 41));
        w.show_comment(reply(30, 42));
        w.show_comment(reply(60, 40));
        let ids: Vec<u64> = w.replies[&CommentId(10)].iter().map(|c| c.id.0).collect();
        assert_eq!(ids, [60, 90, 30]);
    }

    /// A thread is hidden and shown with its top-level comment, counted only while shown, and
    /// leaves view for good when that comment is erased.
    #[test]
    fn a_thread_follows_its_top_level_comment() {
        let mut w = World::default();
        w.add_video(video(7));
        let count = |w: &World| w.videos[&VideoId(7)].comments;
        w.show_comment(comment(10, None, 1));
        w.show_comment(comment(12, Some(10), 3));
        w.show_comment(comment(11, Some(10), 2));
        w.show_comment(comment(20, None, 4));
        assert_eq!(count(&w), 4);
        let ids: Vec<u64> = w.replies[&CommentId(10)].iter().map(|c| c.id.0).collect();
        assert_eq!(ids, [11, 12], "oldest first");
        assert_eq!(w.comment(CommentId(12)).map(|c| c.id), Some(CommentId(12)));

        // A moderator takes the thread's first comment down, then restores it.
        w.hide_comment(CommentId(10), VideoId(7), None);
        assert_eq!(count(&w), 1);
        assert!(w.comment(CommentId(11)).is_none());
        // A reply taken down while its thread is hidden is not counted twice.
        w.hide_comment(CommentId(12), VideoId(7), Some(CommentId(10)));
        assert_eq!(count(&w), 1);
        w.show_comment(comment(10, None, 1));
        assert_eq!(
            count(&w),
            3,
            "the thread came back without the reply taken down"
        );
        assert!(w.comment(CommentId(11)).is_some());

        // Erased: the thread leaves view, and so do the likes of what was erased.
        w.comment_likes.insert((UserId(3), CommentId(10)));
        w.comment_like_counts.insert(CommentId(10), 1);
        w.remove_comments(&[CommentId(10)]);
        assert_eq!(count(&w), 1);
        assert!(w.comment(CommentId(11)).is_none());
        assert!(!w.replies.contains_key(&CommentId(10)));
        assert!(w.comment_likes.is_empty() && w.comment_like_counts.is_empty());
        assert_eq!(w.comments[&VideoId(7)].len(), 1);
    }
}
