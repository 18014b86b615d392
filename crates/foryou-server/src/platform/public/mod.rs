//! The public feed between regions (`foryou_store::PublicFeed`): what each region makes public
//! — profiles (handle, role, age band, the settings others see), sounds, videos, follows, likes,
//! comments and their likes, follower approvals, view/share/save counts, erasures and the
//! differentially private releases — published by the node that serves the region and applied
//! by the nodes of every other region to their projection and engines. So a node that serves
//! only `eu` (`Config::serve`) shows the whole catalog and every public interaction while it
//! never opens another region's backends. Nothing private crosses: no birthdate, no watch
//! history, no favourites list (only counts), no settings but the public ones. Two kinds of
//! message are for other regions' staff rather than public: a report of another region's
//! content (the reporter named by a pseudonym, with their note) for that region's moderators,
//! and a boost in another region's feeds (public anyway, in every transparency log it reaches).
//!
//! Facts are states, not changes ("A likes V", "V has 12 views from region us"), so applying one
//! twice changes nothing and a node may publish its region's whole public state again at any
//! time. Each message holds the facts about one person (subject: their id), so an erasure
//! purges every message about them from the feed before it publishes the erasure itself.

use super::*;
use crate::platform::settings::{effective_for, Band};
use foryou_engine::release::Release;
use foryou_store::CommentPolicy;
use serde::{Deserialize, Serialize};

/// One public fact, as its region published it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
pub(crate) enum Fact {
    /// A person's public profile as it stands.
    Person {
        id: UserId,
        handle: String,
        role: Role,
        created_ms: u64,
        locked: bool,
        band: Band,
        private: bool,
        comments: CommentPolicy,
        downloads: bool,
        bio: String,
    },
    /// A person (or, without one, only videos) erased, with what went with them.
    Erased {
        user: Option<UserId>,
        videos: Vec<VideoId>,
        comments: Vec<CommentId>,
    },
    Sound(Sound),
    /// A video in the catalog as it stands (published, changed or restored).
    Video(Video),
    /// A video out of the catalog (deleted or taken down).
    VideoGone(VideoId),
    Follow {
        from: UserId,
        to: UserId,
        on: bool,
    },
    Like {
        user: UserId,
        video: VideoId,
        on: bool,
    },
    CommentLike {
        user: UserId,
        comment: CommentId,
        on: bool,
    },
    /// A comment as it stands (`removed`: hidden by a moderator).
    Comment(Comment),
    Approval {
        account: UserId,
        follower: UserId,
        approved: bool,
    },
    /// A video's counts from the publishing region's people.
    Counts {
        video: VideoId,
        views: u64,
        shares: u64,
        saves: u64,
    },
    /// The region's latest differentially private release.
    Release(Release),
    /// A report for the moderators of region `to` (where the reported content lives).
    Report {
        to: Region,
        report: foryou_store::Report,
    },
    /// A staff boost, suppression or clearing of a video in some regions' feeds, as the
    /// publishing node's transparency log recorded it; a node serving one of those regions
    /// records it in its own log before it takes effect there.
    Boost {
        ts_ms: u64,
        actor: String,
        role: String,
        video: VideoId,
        action: String,
        regions: Vec<String>,
        reason: String,
    },
}

/// The public fact a log record makes, with its subject (a record about one person's public
/// doings); `None` for what stays in the region (views, skips, searches, favourites...).
pub(super) fn fact_of(rec: &EventRecord, effect: &Effect) -> Option<(u64, Fact)> {
    let user = rec.user;
    let fact = match effect {
        Effect::LikeAdded | Effect::LikeRemoved => Fact::Like {
            user,
            video: rec.video?,
            on: *effect == Effect::LikeAdded,
        },
        Effect::FollowAdded | Effect::FollowRemoved => Fact::Follow {
            from: user,
            to: rec.creator?,
            on: *effect == Effect::FollowAdded,
        },
        Effect::CommentLiked | Effect::CommentUnliked => Fact::CommentLike {
            user,
            comment: rec.comment?,
            on: *effect == Effect::CommentLiked,
        },
        Effect::CommentAdded(c) => Fact::Comment(c.clone()),
        Effect::FollowerApproved | Effect::FollowerDeclined => Fact::Approval {
            account: user,
            follower: rec.creator?,
            approved: *effect == Effect::FollowerApproved,
        },
        _ => return None,
    };
    Some((user.0, fact))
}

/// Counts per (region, video): views, shares, saves.
pub(super) type Tallies = HashMap<(Region, VideoId), [u64; 3]>;

/// The largest message body published; more facts about one subject go in several.
const MAX_MESSAGE: usize = 256 * 1024;

/// How long the feed's thread waits once it has caught up (the feed's lag, at most).
const ROUND_MS: u64 = 50;

/// Messages read from the feed at a time (each at most `MAX_MESSAGE` as this node publishes them,
/// and never more than the stream's message limit: a batch is bounded in memory).
const READ_BATCH: usize = 100;

impl Platform {
    /// The person's public profile as this node holds it.
    pub(super) fn person_fact(w: &World, id: UserId) -> Option<Fact> {
        let u = w.users.get(&id)?;
        let s = effective_for(u);
        Some(Fact::Person {
            id,
            handle: u.handle.clone(),
            role: u.role,
            created_ms: u.created_ms,
            locked: u.locked,
            band: u.band(),
            private: s.private,
            comments: s.comments,
            downloads: s.downloads,
            bio: s.bio,
        })
    }

    /// Publishes `facts` from `region` (grouped by subject), when this deployment has a feed;
    /// with [`Publish::Restate`], the facts are all there is about each subject and replace what
    /// the feed held about it. A failure is logged: the write it describes is committed in its
    /// region already (the next start restates the region).
    pub(super) fn publish_facts(&self, region: &Region, facts: Vec<(u64, Fact)>, mode: Publish) {
        let Some(feed) = self.feed.as_deref() else {
            return;
        };
        let mut by_subject: BTreeMap<u64, Vec<Fact>> = BTreeMap::new();
        for (s, f) in facts {
            by_subject.entry(s).or_default().push(f);
        }
        for (subject, facts) in by_subject {
            let mut chunk: Vec<Vec<u8>> = Vec::new();
            let mut size = 0;
            let mut first = true;
            let mut send = |chunk: &mut Vec<Vec<u8>>| {
                if chunk.is_empty() {
                    return;
                }
                // The facts' JSON, already serialised, as one array.
                let mut body = b"[".to_vec();
                body.extend_from_slice(&chunk.join(&b","[..]));
                body.push(b']');
                let mode = match mode {
                    Publish::Restate if !std::mem::take(&mut first) => Publish::Append,
                    m => m,
                };
                if let Err(e) = feed.publish(region, subject, &body, mode) {
                    tracing::warn!(region = %region, error = %e, "public facts not published");
                }
                chunk.clear();
            };
            for f in facts {
                let Ok(b) = serde_json::to_vec(&f) else {
                    continue;
                };
                if size + b.len() > MAX_MESSAGE {
                    send(&mut chunk);
                    size = 0;
                }
                size += b.len() + 1;
                chunk.push(b);
            }
            send(&mut chunk);
        }
    }

    /// Publishes a person's profile (after a change to it).
    pub(super) fn publish_person(&self, id: UserId) {
        if self.feed.is_none() {
            return;
        }
        let fact = match self.world.read() {
            Ok(w) => Self::person_fact(&w, id).map(|f| (w.users[&id].region.clone(), f)),
            Err(_) => None,
        };
        if let Some((region, f)) = fact {
            self.publish_facts(&region, vec![(id.0, f)], Publish::Append);
        }
    }

    /// The counts of `videos` from `region`'s people, each about the video's creator.
    fn count_facts(&self, region: &Region, videos: &BTreeSet<VideoId>) -> Vec<(u64, Fact)> {
        let (Ok(w), Ok(t)) = (self.world.read(), self.tallies.lock()) else {
            return Vec::new();
        };
        videos
            .iter()
            .filter_map(|v| {
                let creator = w.videos.get(v)?.video.creator;
                let [views, shares, saves] =
                    t.get(&(region.clone(), *v)).copied().unwrap_or_default();
                Some((
                    creator.0,
                    Fact::Counts {
                        video: *v,
                        views,
                        shares,
                        saves,
                    },
                ))
            })
            .collect()
    }

    /// Publishes the counts of `videos` from `region`'s people.
    pub(super) fn publish_counts(&self, region: &Region, videos: &BTreeSet<VideoId>) {
        if self.feed.is_none() || videos.is_empty() {
            return;
        }
        let facts = self.count_facts(region, videos);
        self.publish_facts(region, facts, Publish::Append);
    }

    /// Publishes everything public of every region this node serves (idempotent: facts are
    /// states). Run at start and after a bulk import.
    pub(crate) fn publish_all(&self) -> Result<(), PlatformError> {
        if self.feed.is_none() {
            return Ok(());
        }
        let served: BTreeSet<Region> = self.cells.regions().cloned().collect();
        let mut per_region: BTreeMap<Region, Vec<(u64, Fact)>> = BTreeMap::new();
        {
            let w = self.world.read().map_err(lock_err)?;
            let home = |u: &UserId| w.users.get(u).map(|e| e.region.clone());
            let mut push = |region: Option<Region>, subject: u64, f: Fact| {
                if let Some(r) = region.filter(|r| served.contains(r)) {
                    per_region.entry(r).or_default().push((subject, f));
                }
            };
            for (id, u) in &w.users {
                if let Some(f) = Self::person_fact(&w, *id) {
                    push(Some(u.region.clone()), id.0, f);
                }
            }
            for s in w.sounds.values() {
                push(home(&s.creator), s.creator.0, Fact::Sound(s.clone()));
            }
            for e in w.videos.values() {
                let v = &e.video;
                push(Some(v.region.clone()), v.creator.0, Fact::Video(v.clone()));
            }
            for (from, tos) in &w.following {
                for to in tos {
                    let f = Fact::Follow {
                        from: *from,
                        to: *to,
                        on: true,
                    };
                    push(home(from), from.0, f);
                }
            }
            for (user, video) in &w.likes {
                let f = Fact::Like {
                    user: *user,
                    video: *video,
                    on: true,
                };
                push(home(user), user.0, f);
            }
            for (user, comment) in &w.comment_likes {
                let f = Fact::CommentLike {
                    user: *user,
                    comment: *comment,
                    on: true,
                };
                push(home(user), user.0, f);
            }
            let comments = w
                .comments
                .values()
                .flatten()
                .chain(w.replies.values().flatten());
            for c in comments {
                push(Some(c.region.clone()), c.author.0, Fact::Comment(c.clone()));
            }
            for ((account, follower), approved) in &w.approvals {
                let f = Fact::Approval {
                    account: *account,
                    follower: *follower,
                    approved: *approved,
                };
                push(home(account), account.0, f);
            }
        }
        let counted: BTreeMap<Region, BTreeSet<VideoId>> = {
            let t = self.tallies.lock().map_err(lock_err)?;
            let mut m: BTreeMap<Region, BTreeSet<VideoId>> = BTreeMap::new();
            for (r, v) in t.keys() {
                m.entry(r.clone()).or_default().insert(*v);
            }
            m
        };
        for (region, videos) in counted {
            let facts = self.count_facts(&region, &videos);
            per_region.entry(region).or_default().extend(facts);
        }
        for (region, facts) in per_region {
            self.publish_facts(&region, facts, Publish::Restate);
        }
        Ok(())
    }

    /// Reads one batch of the feed from position `next` (moved on past it): the other regions'
    /// messages, parsed, and how many messages it read (0: nothing new). Takes no lock of the
    /// projection.
    #[allow(clippy::type_complexity)]
    pub(super) fn read_public(
        &self,
        next: &mut u64,
    ) -> Result<(usize, Vec<(Region, Vec<Fact>)>), PlatformError> {
        let Some(feed) = self.feed.as_deref() else {
            return Ok((0, Vec::new()));
        };
        let msgs = feed.read(*next, READ_BATCH)?;
        let Some(last) = msgs.last().map(|m| m.0) else {
            return Ok((0, Vec::new()));
        };
        let read = msgs.len();
        *next = last + 1;
        let mut out = Vec::new();
        for (_, region, body) in msgs {
            if self.cells.regions().any(|r| *r == region) {
                continue; // this node's own region: applied as it was written
            }
            match serde_json::from_slice::<Vec<Fact>>(&body) {
                Ok(facts) => out.push((region, facts)),
                Err(_) => tracing::warn!(region = %region, "an unreadable public message skipped"),
            }
        }
        Ok((read, out))
    }

    /// Applies a batch of other regions' facts to `w`. Returns what asks more of this node
    /// (erasures, reports, boosts: see [`Platform::act_on`]) and the catalog changes (for its
    /// engines).
    #[allow(clippy::type_complexity)]
    pub(super) fn apply_public(
        &self,
        w: &mut World,
        batch: Vec<(Region, Vec<Fact>)>,
    ) -> Result<(Vec<Fact>, Vec<(Option<Video>, VideoId)>), PlatformError> {
        let mut actions = Vec::new();
        let mut catalog: Vec<(Option<Video>, VideoId)> = Vec::new();
        let mut foreign = self.foreign_tallies.lock().map_err(lock_err)?;
        let mut releases = self.releases.lock().map_err(lock_err)?;
        for (region, facts) in batch {
            for f in facts {
                match &f {
                    Fact::Erased { .. } | Fact::Report { .. } | Fact::Boost { .. } => {
                        actions.push(f.clone())
                    }
                    Fact::Video(v) => catalog.push((Some(v.clone()), v.id)),
                    Fact::VideoGone(id) => catalog.push((None, *id)),
                    Fact::Release(r) => {
                        releases.insert(region.clone(), r.clone());
                    }
                    _ => {}
                }
                w.apply_fact(&region, f, &mut foreign);
            }
        }
        Ok((actions, catalog))
    }

    /// Reads the feed on from where this node stopped and applies what other regions
    /// published. Returns how many messages it read.
    pub fn catch_up_public(&self) -> Result<usize, PlatformError> {
        if self.feed.is_none() {
            return Ok(0);
        }
        // Held until the batch is applied: batches apply in the feed's order.
        let mut next = self.feed_next.lock().map_err(lock_err)?;
        let (read, batch) = self.read_public(&mut next)?;
        if batch.is_empty() {
            return Ok(read);
        }
        let (erasures, catalog) = {
            let mut w = self.world.write().map_err(lock_err)?;
            self.apply_public(&mut w, batch)?
        };
        // The engines learn the other regions' catalog; erasures reach this node's stores.
        for (_, cell) in self.cells.upkeep() {
            let mut e = cell.engine.write().map_err(lock_err)?;
            for (video, id) in &catalog {
                match video {
                    Some(v) if !v.removed => e.upsert_item(item_meta(v)),
                    _ => e.remove_item(*id),
                }
            }
        }
        self.act_on(erasures)?;
        drop(next);
        Ok(read)
    }

    /// What other regions' facts ask of this node beyond its projection: erasures reach its
    /// stores and engines, reports its moderation queues, boosts its transparency log and feeds.
    pub(super) fn act_on(&self, facts: Vec<Fact>) -> Result<(), PlatformError> {
        for f in facts {
            match f {
                Fact::Erased {
                    user,
                    videos,
                    comments,
                } => self.purge_foreign(user, videos, comments)?,
                Fact::Report { to, report } => {
                    let Ok(store) = self.cells.moderation(&to) else {
                        continue; // for another region's nodes
                    };
                    let known = store.reports()?.iter().any(|r| {
                        r.id == report.id
                            || ((r.video, r.comment, r.creator)
                                == (report.video, report.comment, report.creator)
                                && r.reporter == report.reporter
                                && r.status == foryou_store::ReportStatus::Open)
                    });
                    if !known {
                        store.put_report(&report)?;
                    }
                }
                Fact::Boost {
                    ts_ms,
                    actor,
                    role,
                    video,
                    action,
                    regions,
                    reason,
                } => {
                    // Once, in order: a replay finds the entry in this node's log already.
                    let here = self
                        .cells
                        .regions()
                        .any(|r| regions.iter().any(|x| x == r.as_str()));
                    if here && ts_ms > self.transparency.boost_made(video) {
                        self.transparency.set_boost(
                            video,
                            foryou_tlog::entry::Entry::Boost {
                                v: foryou_tlog::entry::VERSION,
                                ts_ms,
                                actor,
                                role,
                                video: video.to_string(),
                                action,
                                regions,
                                reason,
                            },
                        )?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Follows the public feed on a thread of its own while the platform lives (a node whose
    /// deployment has a feed): other regions' facts within a fraction of a second; this
    /// node's changed counts published, at most once per round whatever the rate of views;
    /// its regions' releases made as their windows end.
    pub fn follow_public_feed(self: &Arc<Self>) {
        if self.feed.is_none() {
            return;
        }
        let weak = Arc::downgrade(self);
        std::thread::spawn(move || loop {
            let Some(p) = weak.upgrade() else {
                return;
            };
            let read = match p.catch_up_public() {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e.message, "public feed not read");
                    0
                }
            };
            let dirty = p
                .dirty_counts
                .lock()
                .map(|mut d| std::mem::take(&mut *d))
                .unwrap_or_default();
            for (region, videos) in dirty {
                p.publish_counts(&region, &videos);
            }
            let now = now_ms();
            let served: Vec<Region> = p.cells.regions().cloned().collect();
            for r in served {
                if let Err(e) = p.try_release(&r, now) {
                    tracing::warn!(region = %r, error = %e.message, "release not made");
                }
            }
            drop(p);
            if read < READ_BATCH {
                std::thread::sleep(std::time::Duration::from_millis(ROUND_MS));
            }
        });
    }
}

mod apply;
