//! The engines' side: feeds (personal, non-personalised, signed out, following), worldwide
//! aggregates, background index rebuilds and snapshots.

use super::*;

impl Platform {
    /// Background upkeep of a region's engine after it learned: rebuilds the ANN index and refits
    /// the batch model off the lock when the state has moved on, and snapshots the learned state every
    /// `SNAPSHOT_EVERY` events so a restart replays only the log after it.
    pub(super) fn maintain_engine(&self, cell: &cells::Cell) -> Result<(), PlatformError> {
        use std::sync::atomic::Ordering;
        let engine = &cell.engine;
        // Lock order everywhere: engine, then the cell's bookkeeping.
        let mut e = engine.write().map_err(lock_err)?;
        if e.index_stale() && !cell.reindexing.swap(true, Ordering::SeqCst) {
            let job = e.index_job();
            let engine = Arc::clone(engine);
            let busy = Arc::clone(&cell.reindexing);
            // All cores but one, so requests keep a core while a large catalog is indexed.
            let threads = std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .saturating_sub(1)
                .max(1);
            std::thread::spawn(move || {
                let built = job.build_on(threads);
                if let Ok(mut e) = engine.write() {
                    e.install_index(built);
                }
                busy.store(false, Ordering::SeqCst);
            });
        }
        // The batch item-to-item model is refit the same way, off the lock, on one thread (the
        // fit is cubic in `batch_items`; the request threads keep the other cores).
        if e.batch_stale() && !cell.refitting.swap(true, Ordering::SeqCst) {
            let job = e.batch_job();
            let engine = Arc::clone(engine);
            let busy = Arc::clone(&cell.refitting);
            std::thread::spawn(move || {
                let model = job.fit(1);
                if let Ok(mut e) = engine.write() {
                    e.install_batch(model);
                }
                busy.store(false, Ordering::SeqCst);
            });
        }
        let mut last = cell.snapshot_seq.lock().map_err(lock_err)?;
        if e.last_seq() >= *last + SNAPSHOT_EVERY {
            // Learned state of users idle for half a year goes, so memory stays bounded; their
            // events stay in the log.
            e.expire_idle(now_ms().saturating_sub(IDLE_USER_EXPIRY_MS));
            let bytes = e.snapshot().map_err(PlatformError::internal)?;
            *last = e.last_seq();
            // The trained heads as they are now: a published, logged version.
            let heads =
                serde_json::to_vec_pretty(&e.state().heads).map_err(PlatformError::internal)?;
            let taken = *cell.generation.lock().map_err(lock_err)?;
            drop(e);
            let snapshots = Arc::clone(&cell.snapshots);
            let cell_generation = Arc::clone(&cell.generation);
            // Any snapshot, even one overtaken by a newer write, is correct: a start replays the
            // log after the snapshot's own sequence number. One taken before an erasure is not
            // written after it.
            let component = format!("ranker/{}", cell.log.region());
            if let Err(err) = self.transparency.publish_version(&component, &heads) {
                tracing::warn!(error = %err, "trained ranker version not published");
            }
            std::thread::spawn(move || {
                let Ok(generation) = cell_generation.lock() else {
                    return;
                };
                if *generation != taken {
                    return;
                }
                if let Err(err) = snapshots.write(&bytes) {
                    tracing::warn!(at = %snapshots.describe(), error = %err.message, "engine snapshot not written");
                }
            });
        }
        Ok(())
    }

    /// Writes every region's engine snapshot (at graceful shutdown), so the next start replays
    /// nothing it already learned, and publishes each region's trained ranker as it is.
    pub fn snapshot_engines(&self) -> Result<(), PlatformError> {
        for (region, cell) in self.cells.upkeep() {
            let (bytes, heads) = {
                let e = cell.engine.read().map_err(lock_err)?;
                (
                    e.snapshot().map_err(PlatformError::internal)?,
                    serde_json::to_vec_pretty(&e.state().heads).map_err(PlatformError::internal)?,
                )
            };
            self.transparency
                .publish_version(&format!("ranker/{region}"), &heads)?;
            cell.snapshots.write(&bytes)?;
        }
        Ok(())
    }

    /// One page of a feed for a signed-in caller, or for an anonymous visitor (`None`): the
    /// non-personalised For You of the default region, reading and storing nothing about them.
    pub fn feed(
        &self,
        caller: Option<&Caller>,
        kind: FeedKind,
        limit: usize,
        cursor: usize,
    ) -> Result<Vec<Shown>, PlatformError> {
        self.feed_for(caller, kind, limit, cursor, false)
    }

    /// [`Platform::feed`], curated when `view_only` (a signed-out browser the age gate turned
    /// away: the view-only experience of a child, restricted like a parent's restricted mode).
    pub fn feed_for(
        &self,
        caller: Option<&Caller>,
        kind: FeedKind,
        limit: usize,
        cursor: usize,
        view_only: bool,
    ) -> Result<Vec<Shown>, PlatformError> {
        let limit = limit.clamp(1, 50);
        let recs: Vec<(VideoId, Vec<foryou_engine::Reason>)> = match (kind, caller) {
            (FeedKind::Following, None) => {
                return Err(PlatformError::unauthorized(
                    "sign in to see the creators you follow",
                ))
            }
            (FeedKind::Following, Some(caller)) => {
                let w = self.world.read().map_err(lock_err)?;
                let mut ids: Vec<&Video> = w
                    .following
                    .get(&caller.user)
                    .into_iter()
                    .flatten()
                    .flat_map(|c| w.by_creator.get(c).into_iter().flatten())
                    .filter_map(|v| w.videos.get(v).map(|e| &e.video))
                    // A private account's videos reach the followers it approved.
                    .filter(|v| self.may_see(&w, Some(caller.user), v.creator))
                    .collect();
                ids.sort_by(|a, b| b.created_ms.cmp(&a.created_ms).then(b.id.cmp(&a.id)));
                ids.into_iter()
                    .skip(cursor)
                    .take(limit)
                    .map(|v| {
                        (
                            v.id,
                            vec![foryou_engine::Reason::FollowedCreator { creator: v.creator }],
                        )
                    })
                    .collect()
            }
            (FeedKind::ForYou { personalised }, caller) => {
                if let Some(c) = caller {
                    self.check_daily_limit(c.user)?;
                }
                let personalised =
                    personalised && caller.is_some_and(|c| self.settings_of(c.user).personalised);
                let following = match caller {
                    Some(c) if personalised => self
                        .world
                        .read()
                        .map_err(lock_err)?
                        .following
                        .get(&c.user)
                        .map(|s| s.iter().copied().collect())
                        .unwrap_or_default(),
                    _ => Vec::new(),
                };
                let region = caller
                    .map(|c| c.region.clone())
                    .unwrap_or_else(|| self.config.regions.default.clone());
                let (boosted, suppressed) = self.transparency.boosts_for(&region);
                // Twice the page, so what the viewer may not see or filtered out still leaves a
                // full one.
                let req = FeedRequest {
                    boosted,
                    suppressed,
                    user: caller.map(|c| c.user).unwrap_or(UserId(0)),
                    limit: (limit * 2).min(100),
                    mode: if personalised {
                        FeedMode::Personalised
                    } else {
                        FeedMode::NonPersonalised
                    },
                    now_ms: now_ms(),
                    following,
                    skip: cursor,
                    worldwide: self.worldwide_popular(&region, now_ms())?,
                    seed: rand::thread_rng().gen(),
                };
                let recs = match caller {
                    Some(c) => self
                        .cells
                        .home(c)?
                        .engine
                        .read()
                        .map_err(lock_err)?
                        .recommend(&req),
                    None => self.cells.public(&region)?.recommend_anonymous(req)?,
                };
                // Private accounts are not suggested to people who do not follow them, and the
                // viewer's own filter words keep videos out.
                let viewer = caller.map(|c| c.user);
                let filters = viewer
                    .map(|v| self.settings_of(v).filters)
                    .unwrap_or_default();
                let w = self.world.read().map_err(lock_err)?;
                // Mature videos never reach people under 18, nor signed-out visitors (who may be
                // children: the view-only experience).
                let minor = viewer.is_none_or(|v| {
                    w.users
                        .get(&v)
                        .is_none_or(|u| u.band() != settings::Band::Adult)
                });
                // Restricted mode (a parent's control): nothing still new, not yet vetted by an
                // audience.
                let restricted = match viewer {
                    Some(v) => self.restricted(&w, v),
                    None => view_only,
                };
                let page: Vec<foryou_engine::Recommendation> = recs
                    .into_iter()
                    .filter(|r| {
                        let Some(e) = w.videos.get(&r.video) else {
                            return false;
                        };
                        let unvetted = r.reasons.iter().any(|x| {
                            matches!(
                                x,
                                foryou_engine::Reason::NewVideo | foryou_engine::Reason::Newest
                            )
                        });
                        let kept_out = (restricted && unvetted)
                            || (minor && e.video.mature)
                            || filtered(&filters, &e.video.caption, &e.video.hashtags);
                        self.may_see(&w, viewer, e.video.creator) && !kept_out
                    })
                    .take(limit)
                    .collect();
                drop(w);
                // A personalised page is an impression the ranker learns from (the outcomes
                // that follow label it); the non-personalised one teaches nothing.
                if let (Some(c), true) = (caller, personalised) {
                    self.note_impression(c, &page)?;
                }
                page.into_iter().map(|r| (r.video, r.reasons)).collect()
            }
        };
        Ok(recs
            .into_iter()
            .map(|(video, reasons)| Shown { video, reasons })
            .collect())
    }

    /// Keeps a served page's impression record for the caller's region log; it is appended with
    /// the next events of that region (so it precedes its outcomes in the log), or once enough
    /// wait. A crash loses the waiting ones: impressions are training data, not anyone's write.
    fn note_impression(
        &self,
        caller: &Caller,
        page: &[foryou_engine::Recommendation],
    ) -> Result<(), PlatformError> {
        if page.is_empty() {
            return Ok(());
        }
        let items = page
            .iter()
            .enumerate()
            .map(|(i, r)| foryou_types::ShownItem {
                video: r.video,
                position: u16::try_from(i).unwrap_or(u16::MAX),
                sources: r.sources.iter().map(|s| s.to_string()).collect(),
                score: r.score as f32,
                propensity: r.propensity,
                features: r.features.to_vec(),
            })
            .collect();
        let rec = EventRecord {
            not_released: true,
            impression: Some(foryou_types::Impression {
                config: self.transparency.config_version().to_string(),
                items,
            }),
            ..EventRecord::new(
                format!("impression-{:x}", rand::thread_rng().gen::<u64>()),
                caller.user,
                caller.region.clone(),
                EventKind::Impression,
                now_ms(),
            )
        };
        let full = {
            let mut waiting = self.impressions.lock().map_err(lock_err)?;
            let list = waiting.entry(caller.region.clone()).or_default();
            list.push(rec);
            list.len() >= IMPRESSIONS_WAITING
        };
        if full {
            self.flush_impressions(caller)?;
        }
        Ok(())
    }

    /// Appends the impressions waiting for the caller's region.
    pub(super) fn flush_impressions(&self, caller: &Caller) -> Result<(), PlatformError> {
        let batch = self
            .impressions
            .lock()
            .map_err(lock_err)?
            .remove(&caller.region)
            .unwrap_or_default();
        if batch.is_empty() {
            return Ok(());
        }
        let cell = self.cells.home(caller)?;
        // Training data only: a failure is logged, never the failure of the request that
        // happened to flush it.
        if let Err(e) = cell.append(batch, &|a| self.project(a)) {
            tracing::warn!(region = %caller.region, error = %e, "impressions not appended");
        }
        Ok(())
    }

    /// What other regions say is popular, as `region` may see it: the sum of their latest
    /// differentially private releases (noisy counts of distinct engaged users, small counts
    /// suppressed), nothing when `region` imports nothing ("region-only"). No personal record,
    /// and no count one person could move alone, crosses regions.
    pub(super) fn worldwide_popular(
        &self,
        region: &Region,
        now: u64,
    ) -> Result<Vec<(VideoId, f64)>, PlatformError> {
        if self.config.region_only.contains(region) {
            return Ok(Vec::new());
        }
        let mut sum: HashMap<VideoId, f64> = HashMap::new();
        for other in self.cells.regions().filter(|r| *r != region) {
            self.try_release(other, now)?;
        }
        let max_age = self
            .config
            .release
            .window_ms
            .saturating_mul(RELEASE_LIFETIME_WINDOWS);
        // This node's other regions' releases and, on a node serving some regions, those the
        // public feed brought from the rest.
        for (_, rel) in self
            .releases
            .lock()
            .map_err(lock_err)?
            .iter()
            .filter(|(other, _)| *other != region)
            .filter(|(_, rel)| max_age == 0 || now.saturating_sub(rel.released_ms) <= max_age)
        {
            for (v, n) in &rel.counts {
                *sum.entry(*v).or_default() += n;
            }
        }
        let mut v: Vec<(VideoId, f64)> = sum.into_iter().collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(100);
        Ok(v)
    }

    /// What `region`'s feeds import from the other regions right now (for tests and audits).
    pub fn imports(&self, region: &Region) -> Result<Vec<(VideoId, f64)>, PlatformError> {
        self.worldwide_popular(region, now_ms())
    }

    /// Makes `region`'s next release when its window is over and its daily budget allows.
    pub(super) fn try_release(&self, region: &Region, now: u64) -> Result<(), PlatformError> {
        // An empty release keeps the last one in place: that choice reads only the released
        // (private) output, and stale releases age out by time alone.
        if let Some((rel, spent_today)) = self.cells.public(region)?.release(now)? {
            self.transparency
                .append(foryou_tlog::entry::Entry::Release {
                    v: foryou_tlog::entry::VERSION,
                    ts_ms: rel.released_ms,
                    region: region.to_string(),
                    epsilon: rel.epsilon,
                    delta: rel.delta,
                    spent_today,
                    items: rel.counts.len() as u64,
                })?;
            if !rel.counts.is_empty() {
                self.publish_facts(
                    region,
                    vec![(0, public::Fact::Release(rel.clone()))],
                    Publish::Append,
                );
                self.releases
                    .lock()
                    .map_err(lock_err)?
                    .insert(region.clone(), rel);
            }
        }
        Ok(())
    }
}

/// Whether a video's caption or hashtags hold one of the viewer's filter words.
fn filtered(filters: &[String], caption: &str, hashtags: &[String]) -> bool {
    if filters.is_empty() {
        return false;
    }
    let caption = caption.to_lowercase();
    filters
        .iter()
        .any(|f| hashtags.iter().any(|h| h == f) || caption.contains(f.as_str()))
}

/// A release is used for this many windows after it was made, then dropped.
const RELEASE_LIFETIME_WINDOWS: u64 = 4;
