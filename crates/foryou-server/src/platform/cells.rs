//! The region cells and the only ways into them. A [`Cell`] owns everything of one region: its
//! directory, record store, event log, media store, engine, upload directory and private-release
//! state. The map of cells is private to this file; code reaches a cell only through one of the
//! methods below, each of which takes the proof of why it may:
//!
//! - [`Cells::home`]: a signed-in [`Caller`] reaches their own region (a `Caller` is made only by
//!   the platform, from a valid session);
//! - [`Cells::granted`]: staff reach another region with a [`Grant`], which only the gateway
//!   makes, after it has recorded an allowed decision;
//! - [`Cells::credentials`]: a person signing up, logging in or presenting a token reaches the
//!   region their country, account or token names, to check what they presented;
//! - [`Cells::public`]: anyone reaches a region's public side ([`Public`]): published media, the
//!   catalog records every region's log carries, the engine's non-personalised ranking, and the
//!   differentially private releases;
//! - [`Cells::ledger`]: the gateway's record of decisions about a region's data;
//! - [`Cells::upkeep`]: the platform's own work while serving no one (the start, snapshots, bulk
//!   imports and operator commands);
//! - [`Cells::family`]: a parent reaches their linked child's region with a [`Guardianship`],
//!   which only Family Pairing makes after checking the link;
//! - [`Cells::purge`]: an erasure, with the [`Purge`] that only the erasure makes once the
//!   transparency log records it.

use super::*;
use crate::platform::erasure::Purge;
use crate::platform::family::Guardianship;
use crate::platform::staff::Grant;
use foryou_engine::release::{Release, Releaser};
use foryou_engine::Recommendation;
use foryou_store::{AccessRecord, SealedLog};

/// One region's everything.
pub(crate) struct Cell {
    pub(super) store: Arc<dyn RegionStore>,
    /// The region's event log, each record sealed under its subject's key.
    pub(super) log: SealedLog,
    pub(super) media: Box<dyn ObjectStore>,
    /// Where the engine's snapshot is kept.
    pub(super) snapshots: Arc<dyn super::SnapshotStore>,
    pub(super) engine: Arc<RwLock<Engine>>,
    /// Set while the ANN index is being rebuilt in the background.
    pub(super) reindexing: Arc<std::sync::atomic::AtomicBool>,
    /// Set while the batch model is being refit in the background.
    pub(super) refitting: Arc<std::sync::atomic::AtomicBool>,
    /// Log position of the last engine snapshot.
    pub(super) snapshot_seq: Mutex<u64>,
    /// Uploads being received, inside the region's own directory.
    pub(super) tmp: PathBuf,
    /// The differentially private releaser, fed by this region's events.
    releaser: Mutex<Releaser>,
    /// Held from an append to this region's log until every consumer has applied it, so the
    /// store, the projection and the engine see records in log order.
    append: Mutex<()>,
    /// Appends waiting for the next group commit.
    queue: Mutex<Vec<Job>>,
    /// People erased since the start: nothing more is appended for them (in memory only; their
    /// sessions are gone, so after a restart no request can act for them).
    erased: Mutex<HashSet<UserId>>,
    /// Generation of the engine state: bumped by an erasure, so a snapshot taken before it is
    /// never written after it.
    pub(super) generation: Arc<Mutex<u64>>,
}

/// One caller's records waiting in the queue, and where its outcome goes.
type Job = (
    Vec<EventRecord>,
    std::sync::mpsc::Sender<Result<Vec<Appended>, PlatformError>>,
);

/// Most records committed in one group.
const MAX_GROUP: usize = 4096;

/// What every append does with its records once they are in the log and the store (the same
/// function for every caller, so one caller may run it for a whole group).
pub(super) type Project<'a> = &'a (dyn Fn(&[Appended]) -> Result<(), PlatformError> + Sync);

/// A record as the log took it: its position, whether it was there already, and what applying
/// it changed in the store.
pub(super) struct Appended {
    /// The record with its position (the earlier one for a duplicate).
    pub record: EventRecord,
    /// True when the log had it already; nothing was applied.
    pub duplicate: bool,
    /// What it changed in the record tables.
    pub effect: Effect,
}

/// Where a region's spent privacy budget is kept in its store (`RegionStore::state`).
const PRIVACY_STATE: &str = "privacy-budget";
/// File name of a region's spent privacy budget beside its store, before it moved into it.
const PRIVACY_BUDGET: &str = "privacy-budget.json";

impl Cell {
    /// Opens a region's cell in `dir`: the log before the store (an older store moves its log
    /// out), a fresh upload directory, the engine from its snapshot.
    pub(super) fn open(
        region: &Region,
        dir: PathBuf,
        config: &Config,
        backends: &dyn Backends,
    ) -> Result<Cell, PlatformError> {
        // Uploads interrupted by a crash are dropped at the next start.
        let tmp = dir.join("tmp");
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(PlatformError::internal)?;
        let log = SealedLog::open(
            backends.log(region, &dir, config)?,
            backends.keys(region, &dir)?,
        )?;
        let store: Arc<dyn RegionStore> = Arc::from(backends.store(region, &dir, config)?);
        // The spent budget lives in the region's store, so a node that takes the region over
        // cannot spend it again; a budget from before that lived in a file beside the store.
        let budget = match store.state(PRIVACY_STATE)? {
            Some(b) => Some(b),
            None => std::fs::read(dir.join(PRIVACY_BUDGET)).ok(),
        }
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
        let snapshots: Arc<dyn super::SnapshotStore> = Arc::from(backends.snapshots(region, &dir)?);
        let engine = load_engine(snapshots.as_ref(), &config.engine);
        Ok(Cell {
            store,
            log,
            media: backends.media(region, &dir)?,
            snapshots,
            engine: Arc::new(RwLock::new(engine)),
            reindexing: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            refitting: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            snapshot_seq: Mutex::new(0),
            tmp,
            releaser: Mutex::new(Releaser::new(config.release.clone(), now_ms(), budget)),
            append: Mutex::new(()),
            queue: Mutex::new(Vec::new()),
            erased: Mutex::new(HashSet::new()),
            generation: Arc::new(Mutex::new(0)),
        })
    }

    /// Appends `records` to the region's log, applies the new ones to the store, lets
    /// `project` apply them to the projection, and has the engine and the releaser learn them:
    /// all in log order, under the region's append lock. Concurrent callers are committed as a
    /// group: whoever holds the lock takes everything queued meanwhile into one log append and
    /// one store transaction (every caller queues, then takes the lock, so none is left behind).
    pub(super) fn append(
        &self,
        records: Vec<EventRecord>,
        project: Project<'_>,
    ) -> Result<Vec<Appended>, PlatformError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.queue.lock().map_err(lock_err)?.push((records, tx));
        {
            let _order = self.append.lock().map_err(lock_err)?;
            let jobs: Vec<Job> = {
                let mut q = self.queue.lock().map_err(lock_err)?;
                let mut n = 0;
                let take = q
                    .iter()
                    .take_while(|(r, _)| {
                        n += r.len();
                        n <= MAX_GROUP || n == r.len()
                    })
                    .count();
                q.drain(..take).collect()
            };
            // Whatever is queued for someone erased meanwhile is refused, not sealed anew.
            let jobs: Vec<Job> = {
                let erased = self.erased.lock().map_err(lock_err)?;
                jobs.into_iter()
                    .filter(|(records, tx)| {
                        let gone = records.iter().any(|r| erased.contains(&r.user));
                        if gone {
                            let _ =
                                tx.send(Err(PlatformError::not_found("this account was erased")));
                        }
                        !gone
                    })
                    .collect()
            };
            if !jobs.is_empty() {
                let sizes: Vec<usize> = jobs.iter().map(|(r, _)| r.len()).collect();
                let (all, senders): (Vec<Vec<EventRecord>>, Vec<_>) = jobs.into_iter().unzip();
                let result = self.commit(all.into_iter().flatten().collect(), project);
                match result {
                    Ok(mut appended) => {
                        for (size, tx) in sizes.into_iter().zip(senders) {
                            let rest = appended.split_off(size.min(appended.len()));
                            let _ = tx.send(Ok(std::mem::replace(&mut appended, rest)));
                        }
                    }
                    Err(e) => {
                        for tx in senders {
                            let _ = tx.send(Err(e.clone()));
                        }
                    }
                }
            }
        }
        rx.recv()
            .map_err(|_| PlatformError::internal("an append was lost by its group"))?
    }

    /// One group commit (the caller holds the append lock).
    fn commit(
        &self,
        records: Vec<EventRecord>,
        project: Project<'_>,
    ) -> Result<Vec<Appended>, PlatformError> {
        let logged = self.log.append(&records)?;
        let mut out: Vec<Appended> = records
            .into_iter()
            .zip(logged)
            .map(|(mut record, l)| {
                record.seq = l.seq;
                Appended {
                    record,
                    duplicate: l.duplicate,
                    effect: Effect::None,
                }
            })
            .collect();
        let fresh: Vec<EventRecord> = out
            .iter()
            .filter(|a| !a.duplicate)
            .map(|a| a.record.clone())
            .collect();
        let effects = self.store.apply(&fresh)?;
        for (a, effect) in out.iter_mut().filter(|a| !a.duplicate).zip(effects) {
            a.effect = effect;
        }
        project(&out)?;
        let mut engine = self.engine.write().map_err(lock_err)?;
        let mut releaser = self.releaser.lock().map_err(lock_err)?;
        for rec in &fresh {
            engine.observe(rec);
            releaser.observe(rec);
        }
        engine.tick(now_ms());
        Ok(out)
    }

    /// Destroys `user`'s key in this region, under the append lock, so no record of theirs is
    /// being sealed meanwhile and none is afterwards. True when the region held a key for them.
    pub(super) fn forget(&self, user: UserId) -> Result<bool, PlatformError> {
        let _order = self.append.lock().map_err(lock_err)?;
        self.erased.lock().map_err(lock_err)?.insert(user);
        Ok(self.log.forget(user)?)
    }

    /// Writes the engine's snapshot now (after an erasure), so no file keeps what it forgot; a
    /// background snapshot taken before is then never written.
    pub(super) fn snapshot_now(&self) -> Result<(), PlatformError> {
        // Lock order everywhere: engine, then the cell's bookkeeping.
        let e = self.engine.read().map_err(lock_err)?;
        let mut generation = self.generation.lock().map_err(lock_err)?;
        *generation += 1;
        let bytes = e.snapshot().map_err(PlatformError::internal)?;
        *self.snapshot_seq.lock().map_err(lock_err)? = e.last_seq();
        drop(e);
        self.snapshots.write(&bytes)
    }

    /// Applies to the store whatever of the log it has not applied (after a crash between the
    /// two), then has the engine learn the log after its snapshot.
    pub(super) fn catch_up(&self) -> Result<(), PlatformError> {
        let mut from = self.store.applied_seq()? + 1;
        loop {
            let batch = self.log.read(from, 10_000)?;
            let Some(last) = batch.last() else { break };
            from = last.seq + 1;
            self.store.apply(&batch)?;
        }
        let mut e = self.engine.write().map_err(lock_err)?;
        *self.snapshot_seq.lock().map_err(lock_err)? = e.last_seq();
        // The releaser counts only what happens in its current window, so it replays nothing.
        let mut from = e.last_seq() + 1;
        loop {
            let batch = self.log.read(from, 10_000)?;
            let Some(last) = batch.last() else { break };
            from = last.seq + 1;
            for rec in &batch {
                e.observe(rec);
            }
        }
        Ok(())
    }
}

/// A region's public side.
pub(super) struct Public<'a> {
    region: &'a Region,
    cell: &'a Cell,
}

impl Public<'_> {
    /// The size of a media object of a published video.
    pub fn media_size(&self, key: &str) -> Result<Option<u64>, PlatformError> {
        Ok(self.cell.media.size(key)?)
    }

    /// Bytes of a media object of a published video.
    pub fn media_range(&self, key: &str, start: u64, len: u64) -> Result<Vec<u8>, PlatformError> {
        Ok(self.cell.media.read_range(key, start, len)?)
    }

    /// Appends catalog records (publish, unpublish) to the region's log; its engine learns them
    /// at their place in the stream.
    pub fn append_catalog(
        &self,
        records: &[EventRecord],
        project: Project<'_>,
    ) -> Result<(), PlatformError> {
        let batch = records
            .iter()
            .map(|r| EventRecord {
                region: self.region.clone(),
                ..r.clone()
            })
            .collect();
        self.cell.append(batch, project)?;
        Ok(())
    }

    /// The region's non-personalised ranking, for a visitor who is no one's user.
    pub fn recommend_anonymous(
        &self,
        mut req: FeedRequest,
    ) -> Result<Vec<Recommendation>, PlatformError> {
        req.user = UserId(0);
        req.mode = FeedMode::NonPersonalised;
        req.following.clear();
        Ok(self.cell.engine.read().map_err(lock_err)?.recommend(&req))
    }

    /// Makes the region's next differentially private release when its window is over and its
    /// daily budget allows, persisting the budget first so a restart cannot spend it twice.
    /// Returns the release and the budget spent today with it.
    pub fn release(&self, now: u64) -> Result<Option<(Release, f64)>, PlatformError> {
        let mut r = self.cell.releaser.lock().map_err(lock_err)?;
        match r.release(now, &mut rand::thread_rng()) {
            Ok(rel) => {
                let budget = serde_json::to_vec(r.budget()).map_err(PlatformError::internal)?;
                self.cell.store.set_state(PRIVACY_STATE, &budget)?;
                tracing::info!(
                    region = %self.region,
                    videos = rel.counts.len(),
                    epsilon = rel.epsilon,
                    spent_today = r.budget().spent,
                    "differentially private release"
                );
                let spent = r.budget().spent;
                Ok(Some((rel, spent)))
            }
            Err(foryou_engine::release::Withheld::WindowOpen) => Ok(None),
            Err(e) => {
                tracing::debug!(region = %self.region, reason = %e, "no release");
                Ok(None)
            }
        }
    }
}

/// Every served region's cell.
pub(crate) struct Cells {
    map: BTreeMap<Region, Cell>,
    /// Regions of the deployment that other nodes serve (`Config::serve`): their backends are
    /// never opened here.
    elsewhere: BTreeSet<Region>,
}

impl Cells {
    /// Opens the cell of every region this node serves under `config.data_dir`, and nothing
    /// of any other region.
    pub(super) fn open(config: &Config, backends: &dyn Backends) -> Result<Cells, PlatformError> {
        let mut map = BTreeMap::new();
        let mut elsewhere = BTreeSet::new();
        for r in config.regions.all() {
            if config.serve.as_ref().is_some_and(|s| !s.contains(&r)) {
                elsewhere.insert(r);
                continue;
            }
            let dir = config.data_dir.join("regions").join(r.as_str());
            let cell = Cell::open(&r, dir, config, backends)?;
            map.insert(r, cell);
        }
        Ok(Cells { map, elsewhere })
    }

    fn get(&self, r: &Region) -> Result<&Cell, PlatformError> {
        match self.map.get(r) {
            Some(c) => Ok(c),
            None if self.elsewhere.contains(r) => Err(PlatformError::other_region(r)),
            None => Err(PlatformError::internal(format!("no cell for region {r}"))),
        }
    }

    /// The caller's own region.
    pub(super) fn home(&self, caller: &Caller) -> Result<&Cell, PlatformError> {
        self.get(&caller.region)
    }

    /// The region a gateway grant names.
    pub(super) fn granted(&self, grant: &Grant) -> Result<&Cell, PlatformError> {
        self.get(grant.region())
    }

    /// The region a person's credentials name (a sign-up's country, an account being logged
    /// into, a token's region prefix); `None` when the deployment has no such region, 421 when
    /// another node serves it.
    pub(super) fn credentials(&self, region: &Region) -> Result<Option<&Cell>, PlatformError> {
        if self.elsewhere.contains(region) {
            return Err(PlatformError::other_region(region));
        }
        Ok(self.map.get(region))
    }

    /// A region's public side.
    pub(super) fn public<'a>(&'a self, region: &'a Region) -> Result<Public<'a>, PlatformError> {
        Ok(Public {
            region,
            cell: self.get(region)?,
        })
    }

    /// Every region's public side.
    pub(super) fn publics(&self) -> impl Iterator<Item = Public<'_>> {
        self.map
            .iter()
            .map(|(region, cell)| Public { region, cell })
    }

    /// The store where `region`'s moderation queue lives, for filing a report about its content
    /// (the reporter named only by a pseudonym) and checking for a duplicate.
    pub(super) fn moderation(&self, region: &Region) -> Result<&dyn RegionStore, PlatformError> {
        Ok(self.get(region)?.store.as_ref())
    }

    /// Writes a gateway decision about `region`'s data in that region's record.
    pub(super) fn ledger_write(
        &self,
        region: &Region,
        rec: &AccessRecord,
    ) -> Result<u64, PlatformError> {
        Ok(self.get(region)?.store.record_access(rec)?)
    }

    /// Reads the gateway's decisions about `region`'s data.
    pub(super) fn ledger(
        &self,
        region: &Region,
        from: u64,
        max: usize,
    ) -> Result<Vec<AccessRecord>, PlatformError> {
        Ok(self.get(region)?.store.access_records(from, max)?)
    }

    /// Whether other nodes serve some of the deployment's regions.
    pub(super) fn serves_some(&self) -> bool {
        !self.elsewhere.is_empty()
    }

    /// The served regions.
    pub(super) fn regions(&self) -> impl Iterator<Item = &Region> {
        self.map.keys()
    }

    /// Every cell, for the platform's own work while serving no one.
    pub(super) fn upkeep(&self) -> impl Iterator<Item = (&Region, &Cell)> {
        self.map.iter()
    }

    /// The home region of a parent's linked child.
    pub(super) fn family(&self, g: &Guardianship) -> Result<&Cell, PlatformError> {
        self.get(g.region())
    }

    /// Every cell, for an erasure the transparency log has recorded.
    pub(super) fn purge(&self, _: &Purge) -> impl Iterator<Item = (&Region, &Cell)> {
        self.map.iter()
    }

    /// One cell, for the platform's own work while serving no one (an operator's command).
    pub(super) fn upkeep_of(&self, region: &Region) -> Result<&Cell, PlatformError> {
        self.get(region)
    }
}

/// File name of a region's engine snapshot, beside its store.
pub(super) const ENGINE_SNAPSHOT: &str = "engine.snapshot";

/// A region's engine: restored from its snapshot when one is readable, else empty (the event log
/// then rebuilds it all).
fn load_engine(snapshots: &dyn super::SnapshotStore, config: &EngineConfig) -> Engine {
    let at = snapshots.describe();
    match snapshots.read() {
        Ok(Some(bytes)) => match Engine::restore(config.clone(), &bytes) {
            Ok(e) => {
                tracing::info!(at = %at, last_seq = e.last_seq(), "engine restored from snapshot");
                e
            }
            Err(err) => {
                tracing::warn!(at = %at, error = %err, "engine snapshot unreadable; relearning from the log");
                Engine::new(config.clone())
            }
        },
        Ok(None) => Engine::new(config.clone()),
        Err(err) => {
            tracing::warn!(at = %at, error = %err.message, "engine snapshot not readable; relearning from the log");
            Engine::new(config.clone())
        }
    }
}
