//! Another region's facts applied to this node's projection: each a state, so applying one
//! twice changes nothing.

use super::{Fact, Tallies};
use crate::platform::world::{UserEntry, World};
use crate::platform::*;

impl World {
    /// Applies another region's fact to the projection (idempotent).
    pub(super) fn apply_fact(&mut self, region: &Region, fact: Fact, foreign: &mut Tallies) {
        match fact {
            Fact::Person {
                id,
                handle,
                role,
                created_ms,
                locked,
                band,
                private,
                comments,
                downloads,
                bio,
            } => {
                if let Some(old) = self.users.get(&id) {
                    self.handles.remove(&old.handle.to_ascii_lowercase());
                }
                self.handles.insert(handle.to_ascii_lowercase(), id);
                let settings = foryou_store::Settings {
                    private,
                    comments,
                    downloads,
                    bio,
                    ..Default::default()
                };
                self.users.insert(
                    id,
                    UserEntry {
                        handle,
                        region: region.clone(),
                        role,
                        created_ms,
                        birthdate: Date::from_unix_ms(0),
                        published_band: Some(band),
                        settings: Some(settings),
                        locked,
                        family: None,
                    },
                );
            }
            Fact::Erased {
                user,
                videos,
                comments,
            } => self.erase(user, &videos, &comments),
            Fact::Sound(s) => {
                self.sounds.insert(s.id, s);
            }
            Fact::Video(v) => {
                if v.removed {
                    self.remove_video(&v);
                } else if let Some(e) = self.videos.get_mut(&v.id) {
                    e.video = v;
                } else {
                    self.add_video(v);
                }
            }
            Fact::VideoGone(id) => {
                if let Some(v) = self.videos.get(&id).map(|e| e.video.clone()) {
                    self.remove_video(&v);
                }
            }
            Fact::Follow { from, to, on } => {
                let set = self.following.entry(from).or_default();
                let changed = if on { set.insert(to) } else { set.remove(&to) };
                if changed {
                    let n = self.followers.entry(to).or_default();
                    *n = if on { *n + 1 } else { n.saturating_sub(1) };
                }
            }
            Fact::Like { user, video, on } => {
                let changed = if on {
                    self.likes.insert((user, video))
                } else {
                    self.likes.remove(&(user, video))
                };
                if let (true, Some(e)) = (changed, self.videos.get_mut(&video)) {
                    e.likes = if on {
                        e.likes + 1
                    } else {
                        e.likes.saturating_sub(1)
                    };
                }
            }
            Fact::CommentLike { user, comment, on } => {
                let changed = if on {
                    self.comment_likes.insert((user, comment))
                } else {
                    self.comment_likes.remove(&(user, comment))
                };
                if changed {
                    let n = self.comment_like_counts.entry(comment).or_default();
                    *n = if on { *n + 1 } else { n.saturating_sub(1) };
                }
            }
            Fact::Comment(c) => {
                if let Some((video, root)) = self.comment_at.get(&c.id).copied() {
                    self.hide_comment(c.id, video, root);
                }
                if let Some(root) = c.reply_to {
                    if let Some(l) = self.replies.get_mut(&root) {
                        l.retain(|x| x.id != c.id);
                    }
                }
                if !c.removed && self.videos.contains_key(&c.video) {
                    self.show_comment(c);
                }
            }
            Fact::Approval {
                account,
                follower,
                approved,
            } => {
                self.approvals.insert((account, follower), approved);
            }
            Fact::Counts {
                video,
                views,
                shares,
                saves,
            } => {
                let old = foreign
                    .insert((region.clone(), video), [views, shares, saves])
                    .unwrap_or_default();
                if let Some(e) = self.videos.get_mut(&video) {
                    e.views = (e.views + views).saturating_sub(old[0]);
                    e.shares = (e.shares + shares).saturating_sub(old[1]);
                    e.saves = (e.saves + saves).saturating_sub(old[2]);
                }
            }
            Fact::Release(_) | Fact::Report { .. } | Fact::Boost { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::settings::Band;
    use foryou_store::CommentPolicy;

    fn facts() -> Vec<Fact> {
        let us = Region::new("us").expect("region");
        let video = foryou_store::suite::video(&us, 7, UserId(1));
        let comment = |id: u64, reply_to: Option<u64>| Comment {
            id: CommentId(id),
            video: VideoId(7),
            author: UserId(2),
            region: us.clone(),
            text: format!("c{id}"),
            created_ms: id,
            removed: false,
            reply_to: reply_to.map(CommentId),
            seq: id,
        };
        vec![
            Fact::Person {
                id: UserId(1),
                handle: "Maker".into(),
                role: Role::User,
                created_ms: 1,
                locked: false,
                band: Band::Adult,
                private: false,
                comments: CommentPolicy::Everyone,
                downloads: true,
                bio: "hi".into(),
            },
            Fact::Video(video),
            Fact::Follow {
                from: UserId(2),
                to: UserId(1),
                on: true,
            },
            Fact::Like {
                user: UserId(2),
                video: VideoId(7),
                on: true,
            },
            Fact::Comment(comment(10, None)),
            Fact::Comment(comment(11, Some(10))),
            Fact::CommentLike {
                user: UserId(3),
                comment: CommentId(10),
                on: true,
            },
            Fact::Counts {
                video: VideoId(7),
                views: 40,
                shares: 2,
                saves: 1,
            },
        ]
    }

    /// What a person sees of the fact's subjects.
    fn seen(w: &World) -> (usize, u64, u64, u64, u64, u64, u64) {
        let e = &w.videos[&VideoId(7)];
        (
            w.users.len(),
            w.followers.get(&UserId(1)).copied().unwrap_or(0),
            e.likes,
            e.comments,
            e.views,
            w.comment_like_counts
                .get(&CommentId(10))
                .copied()
                .unwrap_or(0),
            w.replies.get(&CommentId(10)).map_or(0, |r| r.len() as u64),
        )
    }

    /// Facts are states: a second application (a restatement, a replay) changes nothing.
    #[test]
    fn applying_facts_again_changes_nothing() {
        let us = Region::new("us").expect("region");
        let (mut w, mut t) = (World::default(), Tallies::new());
        for f in facts() {
            w.apply_fact(&us, f, &mut t);
        }
        let once = seen(&w);
        assert_eq!(once, (1, 1, 1, 2, 40, 1, 1));
        assert_eq!(w.handles.get("maker"), Some(&UserId(1)));
        for f in facts() {
            w.apply_fact(&us, f, &mut t);
        }
        assert_eq!(seen(&w), once);
        // Newer states replace older ones: an unlike, a moderator's removal, fewer counts.
        let changes = [
            Fact::Like {
                user: UserId(2),
                video: VideoId(7),
                on: false,
            },
            Fact::Counts {
                video: VideoId(7),
                views: 45,
                shares: 2,
                saves: 1,
            },
        ];
        for f in changes {
            w.apply_fact(&us, f, &mut t);
        }
        let e = &w.videos[&VideoId(7)];
        assert_eq!((e.likes, e.views), (0, 45));
        // An erasure takes the person, their videos and comments out.
        w.apply_fact(
            &us,
            Fact::Erased {
                user: Some(UserId(1)),
                videos: vec![VideoId(7)],
                comments: vec![],
            },
            &mut t,
        );
        assert!(w.videos.is_empty() && w.users.is_empty() && w.handles.is_empty());
    }
}
