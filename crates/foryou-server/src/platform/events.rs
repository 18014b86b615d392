//! Interaction events: validation against the projection, the durable append to the caller's
//! home-region log, and "refresh my interests".

use super::*;

impl Platform {
    /// Validates a batch, appends it durably to the caller's home-region log, applies its effects
    /// and feeds the region's engine. Nothing is written when any item is invalid.
    pub fn record_events(
        &self,
        caller: &Caller,
        inputs: &[EventInput],
    ) -> Result<Vec<EventResult>, PlatformError> {
        if inputs.is_empty() {
            return Err(PlatformError::bad_request(
                "events: send at least one event",
            ));
        }
        if inputs.len() > self.config.max_batch {
            return Err(PlatformError::new(
                Kind::TooLarge,
                "batch_too_large",
                format!(
                    "events: {} events in one batch; send at most {}",
                    inputs.len(),
                    self.config.max_batch
                ),
            ));
        }
        let now = now_ms();
        let mut batch = Vec::with_capacity(inputs.len());
        {
            let w = self.world.read().map_err(lock_err)?;
            // With personalisation off, what the caller does counts but is not learned; the
            // data categories they turned off are not learned or not shared.
            let s = w
                .users
                .get(&caller.user)
                .map(settings::effective_for)
                .unwrap_or_default();
            for (i, ev) in inputs.iter().enumerate() {
                let mut rec = self.check_event(&w, caller, i, ev, now)?;
                let watching = matches!(rec.kind, EventKind::View | EventKind::Skip);
                rec.not_learned = !s.personalised || (watching && !s.watch_history);
                rec.not_released = !s.shared_statistics;
                batch.push(rec);
            }
        }
        // The pages served before these events go first, so their outcomes find them.
        self.flush_impressions(caller)?;
        let cell = self.cells.home(caller)?;
        let appended = cell.append(batch, &|a| self.project(a))?;
        self.maintain_engine(cell)?;
        Ok(appended
            .into_iter()
            .map(|a| EventResult {
                comment_id: match &a.effect {
                    Effect::CommentAdded(c) => Some(c.id),
                    _ => None,
                },
                id: a.record.id,
                seq: a.record.seq,
                duplicate: a.duplicate,
            })
            .collect())
    }

    /// Applies appended records to the projection (counts, likes, follows, comments): the one
    /// projection every append runs, in log order.
    pub(super) fn project(&self, appended: &[cells::Appended]) -> Result<(), PlatformError> {
        let facts = self.project_locked(appended)?;
        if let Some((region, facts, counted)) = facts {
            self.publish_facts(&region, facts, Publish::Append);
            // Counts change with every view: they go out with the feed's next round.
            if !counted.is_empty() {
                let mut dirty = self.dirty_counts.lock().map_err(lock_err)?;
                dirty.entry(region).or_default().extend(counted);
            }
        }
        Ok(())
    }

    /// Applies appended records to the projection; returns, when the deployment has a public
    /// feed, what of them is public (facts, and the videos whose counts changed).
    #[allow(clippy::type_complexity)]
    fn project_locked(
        &self,
        appended: &[cells::Appended],
    ) -> Result<Option<(Region, Vec<(u64, public::Fact)>, BTreeSet<VideoId>)>, PlatformError> {
        let mut facts = Vec::new();
        let mut counted = BTreeSet::new();
        let mut region = None;
        if self.feed.is_some() {
            let mut t = self.tallies.lock().map_err(lock_err)?;
            for a in appended.iter().filter(|a| !a.duplicate) {
                let rec = &a.record;
                region.get_or_insert_with(|| rec.region.clone());
                if let Some((subject, fact)) = public::fact_of(rec, &a.effect) {
                    facts.push((subject, fact));
                }
                let slot = match (rec.kind, &a.effect) {
                    (EventKind::View, _) => Some((0, 1)),
                    (EventKind::Share, _) => Some((1, 1)),
                    (_, Effect::SaveAdded) => Some((2, 1)),
                    (_, Effect::SaveRemoved) => Some((2, -1)),
                    _ => None,
                };
                if let (Some((i, d)), Some(v)) = (slot, rec.video) {
                    let n = &mut t.entry((rec.region.clone(), v)).or_default()[i];
                    *n = if d > 0 { *n + 1 } else { n.saturating_sub(1) };
                    counted.insert(v);
                }
            }
        }
        let mut w = self.world.write().map_err(lock_err)?;
        let mut screen = self.screen_time.lock().map_err(lock_err)?;
        for a in appended.iter().filter(|a| !a.duplicate) {
            if let (EventKind::View, Some(ms)) = (a.record.kind, a.record.watch_ms) {
                let day = (a.record.ts_ms / 86_400_000) as i64;
                let t = screen.entry(a.record.user).or_insert((day, 0));
                if t.0 != day {
                    *t = (day, 0);
                }
                t.1 = t.1.saturating_add(ms);
            }
            w.apply(&a.record, &a.effect);
            if !a.record.kind.platform_only() && a.record.kind != EventKind::Refresh {
                self.metrics.event(a.record.kind);
            }
        }
        Ok(region.map(|r| (r, facts, counted)))
    }

    pub(super) fn check_event(
        &self,
        w: &World,
        caller: &Caller,
        i: usize,
        ev: &EventInput,
        now: u64,
    ) -> Result<EventRecord, PlatformError> {
        let field = |f: &str| format!("events[{i}].{f}");
        let bad = |f: &str, m: String| PlatformError::bad_request(format!("{}: {m}", field(f)));
        let unproc = |code: &'static str, f: &str, m: String| {
            PlatformError::unprocessable(code, format!("{}: {m}", field(f)))
        };
        if ev.id.is_empty() || ev.id.len() > 64 || !ev.id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad(
                "id",
                "must be 1 to 64 printable ASCII characters, unique per event".into(),
            ));
        }
        if ev.kind == EventKind::Refresh {
            return Err(bad(
                "kind",
                "refresh is not sent as an event; call POST /v1/feed/refresh".into(),
            ));
        }
        if ev.kind.platform_only() {
            return Err(bad(
                "kind",
                format!(
                    "{} is written by the platform, not sent as an event",
                    ev.kind.as_str()
                ),
            ));
        }
        // A comment like is about the comment's video.
        let liked_comment = match ev.kind {
            EventKind::LikeComment | EventKind::UnlikeComment => {
                Some(self.comment_target(w, caller, ev, &field)?)
            }
            _ => None,
        };
        // A private account's videos do not exist for people who do not follow it.
        let video = match liked_comment.map(|(_, v)| v).or(ev.video_id) {
            Some(v) => Some(
                w.videos
                    .get(&v)
                    .filter(|e| self.may_see(w, Some(caller.user), e.video.creator))
                    .ok_or_else(|| {
                        unproc("unknown_video", "video_id", format!("no video with id {v}"))
                    })?,
            ),
            None => None,
        };
        let needs_video = !matches!(
            ev.kind,
            EventKind::Follow
                | EventKind::Unfollow
                | EventKind::ApproveFollower
                | EventKind::DeclineFollower
        ) || ev.target.is_none();
        if needs_video && video.is_none() {
            return Err(bad(
                "video_id",
                format!("a {} event needs a video_id", ev.kind.as_str()),
            ));
        }
        let mut rec = EventRecord {
            video: video.map(|v| v.video.id),
            creator: video.map(|v| v.video.creator),
            sound: video.map(|v| v.video.sound),
            duration_ms: video.map(|v| v.video.duration_ms),
            comment: liked_comment.map(|(c, _)| c),
            ..EventRecord::new(
                ev.id.clone(),
                caller.user,
                caller.region.clone(),
                ev.kind,
                now,
            )
        };
        match ev.kind {
            EventKind::View | EventKind::Skip => {
                let ms = match ev.watch_ms {
                    Some(ms) => ms,
                    None if ev.kind == EventKind::Skip => 0,
                    None => {
                        return Err(bad(
                            "watch_ms",
                            "a view needs watch_ms, the milliseconds watched".into(),
                        ))
                    }
                };
                if ms < 0 {
                    return Err(bad(
                        "watch_ms",
                        format!("is {ms}; send the milliseconds watched, 0 or more"),
                    ));
                }
                let dur = rec.duration_ms.unwrap_or(0);
                let cap = (dur.saturating_mul(20)).clamp(60_000, 3_600_000);
                if ms as u64 > cap {
                    return Err(unproc(
                        "absurd_watch_time",
                        "watch_ms",
                        format!("{ms} ms is not plausible for a {dur} ms video (at most {cap} ms, i.e. 20 plays)"),
                    ));
                }
                rec.watch_ms = Some(ms as u64);
            }
            EventKind::Comment => {
                let text = ev.text.as_deref().map(str::trim).unwrap_or("");
                let n = text.chars().count();
                if n == 0 || n > 1000 {
                    return Err(unproc(
                        "invalid",
                        "text",
                        format!("a comment needs 1 to 1000 characters, got {n}"),
                    ));
                }
                // A supervised child's account posts nothing others read.
                if w.users
                    .get(&caller.user)
                    .is_some_and(|u| u.band() == settings::Band::Child)
                {
                    return Err(PlatformError::new(
                        Kind::Forbidden,
                        "supervised_account",
                        "text: supervised accounts cannot comment",
                    ));
                }
                // The creator's choice (within their age band's limits) of who may comment.
                if let Some(v) = video {
                    let owner = v.video.creator;
                    let policy = w
                        .users
                        .get(&owner)
                        .map(|u| settings::effective_for(u).comments)
                        .unwrap_or_default();
                    // A private account's followers count once it approved them.
                    let follows = settings::approved_follower(w, caller.user, owner);
                    let allowed = caller.user == owner
                        || match policy {
                            foryou_store::CommentPolicy::Everyone => true,
                            foryou_store::CommentPolicy::Followers => follows,
                            foryou_store::CommentPolicy::Nobody => false,
                        };
                    if !allowed {
                        return Err(PlatformError::new(
                            Kind::Forbidden,
                            "comments_restricted",
                            format!(
                                "{}: the creator does not take comments from you on this video",
                                field("text")
                            ),
                        ));
                    }
                }
                rec.text = Some(text.to_string());
                rec.comment = Some(CommentId(new_id()));
                // A reply joins the thread of the comment it answers.
                if ev.target.is_some() {
                    let (parent, _) = self.comment_target(w, caller, ev, &field)?;
                    rec.reply_to = match w.comment_at.get(&parent) {
                        Some((_, Some(root))) => Some(*root),
                        _ => Some(parent),
                    };
                    // A reply is listed after what it answers, even one posted in the same
                    // millisecond or from a node whose clock runs a little behind; never
                    // stamped more than a second past this node's clock (a parent from a clock
                    // far ahead does not carry the record's time, and the engine's, with it).
                    if let Some(p) = w.comment(parent) {
                        let after = p.created_ms.saturating_add(1);
                        rec.ts_ms = rec.ts_ms.max(after.min(now.saturating_add(1_000)));
                    }
                }
            }
            EventKind::ApproveFollower | EventKind::DeclineFollower => {
                let id: UserId = ev
                    .target
                    .as_deref()
                    .and_then(|t| t.parse().ok())
                    .ok_or_else(|| bad("target", "name the follower's user id".into()))?;
                if !w
                    .following
                    .get(&id)
                    .is_some_and(|f| f.contains(&caller.user))
                {
                    return Err(unproc(
                        "not_a_follower",
                        "target",
                        format!("user {id} does not follow you"),
                    ));
                }
                rec.video = None;
                rec.creator = Some(id);
                rec.sound = None;
                rec.duration_ms = None;
            }
            EventKind::Follow | EventKind::Unfollow => {
                if let Some(t) = &ev.target {
                    let id: UserId = t
                        .parse()
                        .map_err(|_| bad("target", format!("'{t}' is not a user id")))?;
                    if !w.users.contains_key(&id) {
                        return Err(unproc(
                            "unknown_user",
                            "target",
                            format!("no user with id {id}"),
                        ));
                    }
                    rec.creator = Some(id);
                }
                if rec.creator == Some(caller.user) {
                    return Err(unproc(
                        "invalid",
                        "target",
                        "you cannot follow yourself".into(),
                    ));
                }
                // Nobody can follow (and so reach) a supervised child's account.
                let child = rec
                    .creator
                    .and_then(|c| w.users.get(&c))
                    .is_some_and(|u| u.band() == settings::Band::Child);
                if ev.kind == EventKind::Follow && child {
                    return Err(unproc(
                        "unknown_user",
                        "target",
                        format!(
                            "no user with id {}",
                            rec.creator.map(|c| c.0).unwrap_or_default()
                        ),
                    ));
                }
            }
            EventKind::NotInterested | EventKind::UndoNotInterested => {
                rec.not_interested = Some(match ev.target.as_deref() {
                    None | Some("video") => NotInterestedTarget::Video,
                    Some("creator") => NotInterestedTarget::Creator,
                    Some("sound") => NotInterestedTarget::Sound,
                    Some(o) => {
                        return Err(bad(
                            "target",
                            format!("'{o}' is not one of video, creator, sound"),
                        ))
                    }
                });
            }
            _ => {}
        }
        if ev.watch_ms.is_some() && !matches!(ev.kind, EventKind::View | EventKind::Skip) {
            return Err(bad(
                "watch_ms",
                format!(
                    "only view and skip events carry watch_ms, not {}",
                    ev.kind.as_str()
                ),
            ));
        }
        Ok(rec)
    }

    /// The visible comment an event's `target` names, and its video (checked against `video_id`
    /// when one is sent).
    fn comment_target(
        &self,
        w: &World,
        caller: &Caller,
        ev: &EventInput,
        field: &dyn Fn(&str) -> String,
    ) -> Result<(CommentId, VideoId), PlatformError> {
        let t = ev.target.as_deref().ok_or_else(|| {
            PlatformError::bad_request(format!(
                "{}: a {} event names the comment's id",
                field("target"),
                ev.kind.as_str()
            ))
        })?;
        let id: CommentId = t.parse().map_err(|_| {
            PlatformError::bad_request(format!("{}: '{t}' is not a comment id", field("target")))
        })?;
        let video = w
            .comment_at
            .get(&id)
            .map(|(v, _)| *v)
            .filter(|v| {
                w.videos
                    .get(v)
                    .is_some_and(|e| self.may_see(w, Some(caller.user), e.video.creator))
            })
            .ok_or_else(|| {
                PlatformError::unprocessable(
                    "unknown_comment",
                    format!("{}: no comment with id {id}", field("target")),
                )
            })?;
        if ev.video_id.is_some_and(|v| v != video) {
            return Err(PlatformError::unprocessable(
                "wrong_video",
                format!("{}: comment {id} is on video {video}", field("video_id")),
            ));
        }
        Ok((id, video))
    }

    /// Forgets the engine's learned interests for the caller ("refresh"); follows stay. The
    /// refresh is a record in the caller's home-region log, so a restart does not relearn what
    /// came before it.
    pub fn refresh_interests(&self, caller: &Caller) -> Result<(), PlatformError> {
        let record = EventRecord::new(
            format!("refresh-{}", new_id()),
            caller.user,
            caller.region.clone(),
            EventKind::Refresh,
            now_ms(),
        );
        self.cells
            .home(caller)?
            .append(vec![record], &|a| self.project(a))?;
        Ok(())
    }
}
