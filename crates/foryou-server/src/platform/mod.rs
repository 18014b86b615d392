//! The platform's operations, free of HTTP: accounts, sessions, uploads, events and feeds over
//! the region stores, the media stores and one engine per region. Handlers are thin wrappers.
//! This file holds the configuration, the `Platform` value and its start (open, rebuild); the
//! operations live by area beside it.

mod accounts;
pub(crate) mod agegate;
mod cells;
pub mod consent;
mod engines;
mod erasure;
mod error;
mod events;
mod export;
pub mod family;
pub mod moderation;
mod public;
pub(crate) mod settings;
pub mod snapshots;
mod staff;
mod transparency;
mod videos;
mod witness;
mod world;

pub use erasure::ErasureReceipt;
pub use transparency::{BoostState, WitnessConfig};
pub use videos::upload_too_large;
pub(crate) use world::World;

use crate::auth;
use crate::metrics::Metrics;
use cells::{Cells, ENGINE_SNAPSHOT};
pub use error::{Kind, PlatformError};
use foryou_engine::{Engine, EngineConfig, FeedMode, FeedRequest, ItemMeta};
use foryou_media::ObjectStore;
use foryou_store::{
    Account, Comment, Effect, EventLog, KeyStore, Publish, RegionStore, Sound, TokenRecord, Video,
};
use foryou_types::{
    age_on, hashtags, parse_date, validate_caption, validate_handle, validate_password, CommentId,
    Date, EventInput, EventKind, EventRecord, NotInterestedTarget, Region, RegionMap, Role,
    SoundId, UserId, VideoId,
};
use rand::Rng;
pub use snapshots::SnapshotStore;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// Server configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where every region's files live.
    pub data_dir: PathBuf,
    /// Regions and the countries they home.
    pub regions: RegionMap,
    /// Longest accepted video, ms (60 s by default; 15 s for the classic format).
    pub max_video_ms: u64,
    /// Largest accepted upload, bytes.
    pub max_upload_bytes: u64,
    /// Session lifetime, ms.
    pub token_ttl_ms: u64,
    /// Youngest age allowed to sign up.
    pub min_age: i32,
    /// Most events in one batch.
    pub max_batch: usize,
    /// Abuse limits (`--limits`).
    pub limits: crate::limits::Limits,
    /// Most uploads one user may make in 24 hours.
    pub max_uploads_per_day: usize,
    /// Most bytes of media one user may keep stored.
    pub max_user_storage_bytes: u64,
    /// Page cache of each region's store, bytes.
    pub store_cache_bytes: usize,
    /// Password hashes (and upload checks) computed at once; each argon2id check takes ~19 MiB,
    /// an upload check reads its file whole.
    pub max_concurrent_hashes: usize,
    /// Log-ins and sign-ups waiting for a hash slot before more are told to come back.
    pub max_queued_hashes: usize,
    /// Mark the web UI's cookies `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
    /// The published privacy parameters of what a region releases to the others.
    pub release: foryou_engine::release::ReleaseConfig,
    /// Regions that import nothing from other regions (a "region-only" algorithm).
    pub region_only: BTreeSet<Region>,
    /// The regions this node serves (`None`: every region). A node serving some opens only
    /// their backends and answers requests that need another region with 421 `other_region`.
    pub serve: Option<BTreeSet<Region>>,
    /// Who of the staff may reach which region's personal data (`--access-policy`).
    pub access_policy: crate::gateway::Policy,
    /// The transparency log's origin (and its key's name), e.g. `foryou.example/log`; `None`
    /// keeps the existing log's, or names a new log `foryou.localhost/log`.
    pub log_origin: Option<String>,
    /// The witness that cosigns the transparency log's checkpoints, if any.
    pub witness: Option<WitnessConfig>,
    /// Where people reach this server (`--public-url`), for links sent by e-mail.
    pub public_url: String,
    /// Every parameter and weight of the ranking (logged and served at `/v1/recommender`).
    pub engine: EngineConfig,
}

impl Config {
    /// Defaults for a data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            data_dir: data_dir.into(),
            regions: RegionMap::default(),
            max_video_ms: 60_000,
            max_upload_bytes: 50 << 20,
            token_ttl_ms: 30 * 86_400_000,
            min_age: 13,
            max_batch: 100,
            limits: crate::limits::Limits::default(),
            max_uploads_per_day: 50,
            max_user_storage_bytes: 2 << 30,
            store_cache_bytes: 64 << 20,
            max_concurrent_hashes: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            max_queued_hashes: 64,
            secure_cookies: false,
            release: foryou_engine::release::ReleaseConfig::default(),
            region_only: BTreeSet::new(),
            serve: None,
            // The compiled-in policy is checked by a test; were it unreadable, nothing is allowed.
            access_policy: crate::gateway::Policy::parse(crate::gateway::DEFAULT_POLICY).unwrap_or(
                crate::gateway::Policy {
                    about: String::new(),
                    rules: Vec::new(),
                },
            ),
            log_origin: None,
            witness: None,
            public_url: "http://127.0.0.1:8080".into(),
            engine: EngineConfig::default(),
        }
    }
}

/// The current Unix time in ms.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A new random id below 2^53, so that every client language holds it exactly.
fn new_id() -> u64 {
    rand::thread_rng().gen_range(1..(1u64 << 53))
}

/// A signed-in caller. Only the platform makes one (from a valid session, or for the demo's
/// simulated viewers), so holding one is proof of acting for `user` in `region`: it is the key to
/// that region's cell and no other.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Who.
    pub user: UserId,
    /// Handle.
    pub handle: String,
    /// Home region.
    pub region: Region,
    /// Role.
    pub role: Role,
    /// The token's hash (for log-out).
    pub token_hash: [u8; 32],
    /// Keeps code outside the platform from making one.
    _sealed: Sealed,
}

/// A field only the platform can fill.
#[derive(Clone, Debug)]
struct Sealed;

/// What an upload brings besides the media file.
pub struct UploadInput {
    /// The received file, already on local disk; consumed (moved or deleted) by the upload.
    pub file: PathBuf,
    /// Caption with hashtags.
    pub caption: String,
    /// "Use this sound", or a new original sound when absent.
    pub sound_id: Option<SoundId>,
    /// Optional poster image bytes.
    pub poster: Option<Vec<u8>>,
    /// Optional title for a new original sound.
    pub sound_title: Option<String>,
    /// The creator marks it mature: never in the feeds of people under 18.
    pub mature: bool,
    /// The studio's effects it was made with.
    pub effects: Vec<String>,
}

/// One event's outcome in a batch.
#[derive(serde::Serialize, Debug, Clone)]
pub struct EventResult {
    /// The client's event id.
    pub id: String,
    /// Position in the region's log.
    pub seq: u64,
    /// True when this id had been accepted before.
    pub duplicate: bool,
    /// The comment created, for `comment` events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment_id: Option<CommentId>,
}

/// One video of a feed page and why it is shown.
#[derive(Clone, Debug)]
pub struct Shown {
    /// The video.
    pub video: VideoId,
    /// Why, as the engine (or the following feed) says.
    pub reasons: Vec<foryou_engine::Reason>,
}

/// Which feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedKind {
    /// The For You feed.
    ForYou {
        /// False for the non-personalised option.
        personalised: bool,
    },
    /// Newest from followed creators.
    Following,
}

/// How a region's event log, subject keys, record store and media store are opened. The binary
/// chooses the implementations (embedded files today; a stream, PostgreSQL or S3 fit the same
/// slots): nothing in this crate names one. A cell opens its log and keys first, then its store,
/// then its media.
pub trait Backends {
    /// Opens (creating) the keys under which `region`'s log records are sealed.
    fn keys(&self, region: &Region, dir: &Path) -> Result<Box<dyn KeyStore>, PlatformError>;
    /// Opens (creating) the event log of `region` in its directory `dir`.
    fn log(
        &self,
        region: &Region,
        dir: &Path,
        config: &Config,
    ) -> Result<Box<dyn EventLog>, PlatformError>;
    /// Opens (creating) the record store of `region` in its directory `dir`.
    fn store(
        &self,
        region: &Region,
        dir: &Path,
        config: &Config,
    ) -> Result<Box<dyn RegionStore>, PlatformError>;
    /// Opens (creating) the media store of `region` in its directory `dir`.
    fn media(&self, region: &Region, dir: &Path) -> Result<Box<dyn ObjectStore>, PlatformError>;
    /// Where `region`'s engine snapshot is kept: a file in its directory unless chosen otherwise.
    fn snapshots(
        &self,
        _region: &Region,
        dir: &Path,
    ) -> Result<Box<dyn SnapshotStore>, PlatformError> {
        Ok(Box::new(snapshots::FileSnapshot::in_dir(dir)))
    }
    /// The deployment's public feed between regions, when it has one (a node that serves only
    /// some regions needs it; a node that serves them all publishes to it for the others).
    fn public_feed(&self) -> Result<Option<Box<dyn foryou_store::PublicFeed>>, PlatformError> {
        Ok(None)
    }
}

/// Foryou's state and operations.
pub struct Platform {
    config: Config,
    /// One cell per region, reached only through `Cells`' methods.
    cells: Cells,
    pub(crate) world: RwLock<World>,
    signup: Mutex<()>,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// Rate limits of log-ins, sign-ups, comments, events and uploads.
    pub(crate) limiters: crate::limits::Limiters,
    /// The cap on concurrent password hashes.
    pub(crate) hash_gate: crate::limits::Gate,
    /// The threads every password hash runs on.
    pub(crate) hashers: auth::Hashers,
    /// Each region's latest release (what other regions may import).
    releases: Mutex<BTreeMap<Region, foryou_engine::release::Release>>,
    /// The public feed between regions, when the deployment has one.
    feed: Option<Box<dyn foryou_store::PublicFeed>>,
    /// The next feed position to read.
    feed_next: Mutex<u64>,
    /// Counts per video from the people of each region this node serves (published).
    tallies: Mutex<public::Tallies>,
    /// Counts per video from other regions' people, as they published them.
    foreign_tallies: Mutex<public::Tallies>,
    /// Videos whose counts changed since they were last published, per region.
    dirty_counts: Mutex<BTreeMap<Region, BTreeSet<VideoId>>>,
    /// The cap on concurrent upload checks (each reads its file whole to probe it).
    pub(crate) upload_gate: crate::limits::Gate,
    /// The transparency log and what it keeps in force.
    pub(crate) transparency: transparency::Transparency,
    /// Handles refused by the age gate, blocked for a day (as keyed hashes only).
    age_gate: agegate::AgeGate,
    /// Watch time today per person (UTC day, ms watched), for the screen-time reminder; kept in
    /// memory only.
    screen_time: Mutex<HashMap<UserId, (i64, u64)>>,
    /// Family Pairing invitation codes waiting for a teen to enter them.
    invitations: family::Invitations,
    /// Parental consent requests waiting for the parent.
    consents: consent::Consents,
    /// Served pages' impression records waiting to be appended, per region.
    impressions: Mutex<HashMap<Region, Vec<EventRecord>>>,
}

/// Impressions a region keeps waiting before they are appended on their own.
const IMPRESSIONS_WAITING: usize = 256;

fn lock_err<T>(_: T) -> PlatformError {
    PlatformError::internal("a lock was poisoned by a panic")
}

impl Platform {
    /// Opens every region's store under `config.data_dir`, rebuilds the public projection and
    /// the engines from the stores and event logs, and removes media left by interrupted uploads.
    pub fn open(config: Config, backends: &dyn Backends) -> Result<Platform, PlatformError> {
        // Uploads once shared one directory for every region; nothing of a region lives outside
        // its own directory now.
        let _ = std::fs::remove_dir_all(config.data_dir.join("tmp"));
        let cells = Cells::open(&config, backends)?;
        // The log's home is the first served region's store (see `Transparency`).
        let home = cells
            .upkeep()
            .next()
            .map(|(_, c)| Arc::clone(&c.store))
            .ok_or_else(|| PlatformError::internal("no region to serve"))?;
        let transparency = transparency::Transparency::open(
            &config.data_dir.join("transparency"),
            Arc::clone(&home),
            config.log_origin.as_deref(),
            &config.engine,
            &config.access_policy,
            config.witness.clone(),
        )?;
        let p = Platform {
            cells,
            world: RwLock::new(World::default()),
            signup: Mutex::new(()),
            metrics: Metrics::default(),
            limiters: crate::limits::Limiters::new(config.limits.clone()),
            hash_gate: crate::limits::Gate::new(
                config.max_concurrent_hashes,
                config.max_queued_hashes,
            ),
            releases: Mutex::new(BTreeMap::new()),
            feed: backends.public_feed()?,
            feed_next: Mutex::new(1),
            tallies: Mutex::new(HashMap::new()),
            foreign_tallies: Mutex::new(HashMap::new()),
            dirty_counts: Mutex::new(BTreeMap::new()),
            transparency,
            age_gate: agegate::AgeGate::open(&config.data_dir.join("agegate"), Some(home))?,
            screen_time: Mutex::new(HashMap::new()),
            invitations: family::Invitations::default(),
            consents: consent::Consents::open(&config.data_dir)?,
            impressions: Mutex::new(HashMap::new()),
            hashers: auth::Hashers::new(config.max_concurrent_hashes, config.max_queued_hashes),
            upload_gate: crate::limits::Gate::new(
                config.max_concurrent_hashes,
                config.max_queued_hashes,
            ),
            config,
        };
        p.rebuild()?;
        if p.feed.is_some() {
            // Other regions' public facts, then this node's regions restated for them.
            while p.catch_up_public()? > 0 {}
            p.publish_all()?;
        }
        Ok(p)
    }

    fn rebuild(&self) -> Result<(), PlatformError> {
        let mut w = World::default();
        let mut referenced: HashMap<Region, HashSet<String>> = HashMap::new();
        // Comments, saves and comment likes of every region, shown once all are read (a reply
        // and its thread may live in different regions).
        let mut comments: Vec<Comment> = Vec::new();
        let mut saves: Vec<(UserId, VideoId, u64)> = Vec::new();
        for (r, cell) in self.cells.upkeep() {
            // The store first applies whatever of the log a crash kept from it.
            cell.catch_up()?;
            let s = &cell.store;
            for a in s.accounts()? {
                w.add_account(a);
            }
            for (id, settings) in s.all_settings()? {
                if let Some(u) = w.users.get_mut(&id) {
                    u.settings = Some(settings);
                }
            }
            for (id, link) in s.families()? {
                if let Some(u) = w.users.get_mut(&id) {
                    u.family = Some(link);
                }
            }
            for snd in s.sounds()? {
                w.sounds.insert(snd.id, snd);
            }
            let mut videos = s.videos()?;
            videos.sort_by_key(|v| (v.created_ms, v.id));
            for v in videos {
                let refs = referenced.entry(r.clone()).or_default();
                refs.insert(v.media_key.clone());
                refs.insert(v.poster_key.clone());
                // A video a moderator took down keeps its media (its creator may appeal) but is
                // in no projection and no engine.
                if !v.removed {
                    w.add_video(v);
                }
            }
        }
        // The other regions' public side, from the public feed (on a node serving some
        // regions): their people and videos before this node's records that point at them.
        let mut next = 1;
        let mut foreign_erasures = Vec::new();
        loop {
            let (read, batch) = self.read_public(&mut next)?;
            let (actions, _) = self.apply_public(&mut w, batch)?;
            foreign_erasures.extend(actions);
            if read == 0 {
                break;
            }
        }
        *self.feed_next.lock().map_err(lock_err)? = next;
        for (r, cell) in self.cells.upkeep() {
            let s = &cell.store;
            for (a, b) in s.follows()? {
                w.following.entry(a).or_default().insert(b);
                *w.followers.entry(b).or_default() += 1;
            }
            for (account, follower, approved) in s.approvals()? {
                w.approvals.insert((account, follower), approved);
            }
            for (u, v) in s.likes()? {
                w.likes.insert((u, v));
                if let Some(e) = w.videos.get_mut(&v) {
                    e.likes += 1;
                }
            }
            comments.extend(s.comments()?);
            let region_saves = s.saves()?;
            {
                let mut t = self.tallies.lock().map_err(lock_err)?;
                for (video, views, shares) in s.view_share_counts()? {
                    let e = t.entry((r.clone(), video)).or_default();
                    e[0] = views;
                    e[1] = shares;
                }
                for (_, video, _) in &region_saves {
                    t.entry((r.clone(), *video)).or_default()[2] += 1;
                }
            }
            saves.extend(region_saves);
            for (u, c) in s.comment_likes()? {
                if w.comment_likes.insert((u, c)) {
                    *w.comment_like_counts.entry(c).or_default() += 1;
                }
            }
        }
        // Threads first, then replies to the threads that still exist (taken down or not).
        comments.sort_by_key(|c| (c.reply_to.is_some(), c.order_key()));
        let threads: HashSet<CommentId> = comments
            .iter()
            .filter(|c| c.reply_to.is_none())
            .map(|c| c.id)
            .collect();
        for c in comments {
            let shown = w.videos.contains_key(&c.video)
                && !c.removed
                && c.reply_to.is_none_or(|r| threads.contains(&r));
            if shown {
                w.show_comment(c);
            }
        }
        saves.sort_by_key(|&(u, v, ts)| (ts, u, v));
        for (u, v, _) in saves {
            if let Some(e) = w.videos.get_mut(&v) {
                e.saves += 1;
                w.saves.insert((u, v));
                w.favourites.entry(u).or_default().push(v);
            }
        }
        for (_, cell) in self.cells.upkeep() {
            let mut e = cell.engine.write().map_err(lock_err)?;
            let store = &cell.store;
            // Counts are kept as the log is applied; the engine read only the log after its
            // snapshot (in `catch_up`).
            for (video, views, shares) in store.view_share_counts()? {
                if let Some(v) = w.videos.get_mut(&video) {
                    v.views += views;
                    v.shares += shares;
                }
            }
            // The log carries the catalog (publish and unpublish records at their place in the
            // stream). What it lacks — a store written before catalog records, or a crash between
            // a video's commit and its records — is reconciled here, after the replay.
            let live: HashSet<VideoId> = e.live_items().into_iter().collect();
            let mut missing: Vec<&Video> = w
                .videos
                .values()
                .map(|v| &v.video)
                .filter(|v| !live.contains(&v.id))
                .collect();
            missing.sort_by_key(|v| (v.created_ms, v.id));
            for v in missing {
                e.upsert_item(item_meta(v));
            }
            for id in live {
                if !w.videos.contains_key(&id) {
                    e.remove_item(id);
                }
            }
            e.tick(now_ms());
            e.rebuild_index();
        }
        // Media written by an upload that never committed its record is removed (only keys of
        // the kinds uploads write: a store may hold other things, such as engine snapshots).
        for (r, cell) in self.cells.upkeep() {
            let m = &cell.media;
            let refs = referenced.remove(r).unwrap_or_default();
            for key in m.keys()? {
                let uploaded = key.starts_with("videos/") || key.starts_with("posters/");
                if uploaded && !refs.contains(&key) {
                    tracing::warn!(region = %r, key = %key, "removing orphan media object");
                    m.delete(&key)?;
                }
            }
        }
        *self.world.write().map_err(lock_err)? = w;
        // Other regions' erasures, reports and boosts reach this node's stores, queues and log.
        self.act_on(foreign_erasures)?;
        Ok(())
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Where an upload by the caller is received before it is checked: inside their home
    /// region's own directory.
    pub fn tmp_dir(&self, caller: &Caller) -> Result<&Path, PlatformError> {
        Ok(&self.cells.home(caller)?.tmp)
    }

    /// Runs `f` over the projection.
    pub(crate) fn read_world<T>(&self, f: impl FnOnce(&World) -> T) -> Result<T, PlatformError> {
        Ok(f(&*self.world.read().map_err(lock_err)?))
    }
}

/// Users idle this long lose their learned engine state (at the next snapshot).
const IDLE_USER_EXPIRY_MS: u64 = 183 * 86_400_000;
/// Events between two engine snapshots.
const SNAPSHOT_EVERY: u64 = 5_000;

/// Writes `bytes` to a temporary name, fsyncs and renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn item_meta(v: &Video) -> ItemMeta {
    ItemMeta {
        id: v.id,
        creator: Some(v.creator),
        sound: Some(v.sound),
        hashtags: v.hashtags.clone(),
        duration_ms: v.duration_ms,
        created_ms: v.created_ms,
    }
}
