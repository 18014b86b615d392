//! The platform's operations, free of HTTP: accounts, sessions, uploads, events and feeds over
//! the region stores, the media stores and one engine per region. Handlers are thin wrappers.

use crate::auth;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::views::{self, FeedItem, VideoView};
use foryou_engine::{Engine, EngineConfig, FeedMode, FeedRequest, ItemMeta};
use foryou_media::{LocalObjectStore, ObjectStore};
use foryou_store::{
    Account, Comment, Effect, EmbeddedStore, NewEvent, RegionStore, Sound, TokenRecord, Video,
};
use foryou_types::{
    age_on, hashtags, parse_date, validate_caption, validate_handle, validate_password, CommentId,
    Date, EventInput, EventKind, EventRecord, NotInterestedTarget, Region, RegionMap, Role,
    SoundId, UserId, VideoId,
};
use rand::Rng;
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
    /// Password hashes computed at once (each argon2id check takes ~19 MiB).
    pub max_concurrent_hashes: usize,
    /// Log-ins and sign-ups waiting for a hash slot before more are told to come back.
    pub max_queued_hashes: usize,
    /// Mark the web UI's cookies `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
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

/// A signed-in caller.
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
}

#[derive(Clone, Debug)]
pub(crate) struct UserEntry {
    pub handle: String,
    pub region: Region,
    pub role: Role,
    pub created_ms: u64,
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
    pub sounds: HashMap<SoundId, Sound>,
    pub following: HashMap<UserId, BTreeSet<UserId>>,
    pub followers: HashMap<UserId, u64>,
    pub likes: HashSet<(UserId, VideoId)>,
    pub comments: HashMap<VideoId, Vec<Comment>>,
}

impl World {
    fn add_account(&mut self, a: Account) {
        self.handles.insert(a.handle.to_ascii_lowercase(), a.id);
        let entry = UserEntry {
            handle: a.handle,
            region: a.region,
            role: a.role,
            created_ms: a.created_ms,
        };
        self.users.insert(a.id, entry);
    }

    fn add_video(&mut self, v: Video) {
        self.by_creator.entry(v.creator).or_default().push(v.id);
        self.by_sound.entry(v.sound).or_default().push(v.id);
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

    fn apply(&mut self, rec: &EventRecord, effect: &Effect) {
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
            Effect::None => {}
        }
    }
}

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

/// Foryou's state and operations.
pub struct Platform {
    config: Config,
    stores: BTreeMap<Region, Box<dyn RegionStore>>,
    media: BTreeMap<Region, Box<dyn ObjectStore>>,
    engines: BTreeMap<Region, Arc<RwLock<Engine>>>,
    /// Regions whose ANN index is being rebuilt in the background.
    reindexing: Arc<Mutex<HashSet<Region>>>,
    /// Log position of each region's last engine snapshot.
    snapshot_seq: Mutex<HashMap<Region, u64>>,
    pub(crate) world: RwLock<World>,
    signup: Mutex<()>,
    tmp: PathBuf,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// Rate limits of log-ins, sign-ups, comments, events and uploads.
    pub(crate) limiters: crate::limits::Limiters,
    /// The cap on concurrent password hashes.
    pub(crate) hash_gate: crate::limits::HashGate,
}

fn lock_err<T>(_: T) -> ApiError {
    ApiError::internal("a lock was poisoned by a panic")
}

impl Platform {
    /// Opens every region's store under `config.data_dir`, rebuilds the public projection and
    /// the engines from the stores and event logs, and removes media left by interrupted uploads.
    pub fn open(config: Config) -> Result<Platform, ApiError> {
        let tmp = config.data_dir.join("tmp");
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(ApiError::internal)?;
        let mut stores: BTreeMap<Region, Box<dyn RegionStore>> = BTreeMap::new();
        let mut media: BTreeMap<Region, Box<dyn ObjectStore>> = BTreeMap::new();
        let mut engines = BTreeMap::new();
        for r in config.regions.all() {
            let dir = config.data_dir.join("regions").join(r.as_str());
            stores.insert(
                r.clone(),
                Box::new(EmbeddedStore::open(
                    r.clone(),
                    &dir,
                    config.store_cache_bytes,
                )?),
            );
            media.insert(
                r.clone(),
                Box::new(LocalObjectStore::open(dir.join("media"))?),
            );
            engines.insert(r.clone(), Arc::new(RwLock::new(load_engine(&dir))));
        }
        let p = Platform {
            stores,
            media,
            engines,
            reindexing: Arc::new(Mutex::new(HashSet::new())),
            snapshot_seq: Mutex::new(HashMap::new()),
            world: RwLock::new(World::default()),
            signup: Mutex::new(()),
            tmp,
            metrics: Metrics::default(),
            limiters: crate::limits::Limiters::new(config.limits.clone()),
            hash_gate: crate::limits::HashGate::new(
                config.max_concurrent_hashes,
                config.max_queued_hashes,
            ),
            config,
        };
        p.rebuild()?;
        Ok(p)
    }

    fn rebuild(&self) -> Result<(), ApiError> {
        let mut w = World::default();
        let mut referenced: HashMap<Region, HashSet<String>> = HashMap::new();
        for (r, s) in &self.stores {
            for a in s.accounts()? {
                w.add_account(a);
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
                w.add_video(v);
            }
            for (a, b) in s.follows()? {
                w.following.entry(a).or_default().insert(b);
                *w.followers.entry(b).or_default() += 1;
            }
            for (u, v) in s.likes()? {
                w.likes.insert((u, v));
                if let Some(e) = w.videos.get_mut(&v) {
                    e.likes += 1;
                }
            }
            for c in s.comments()? {
                if let Some(e) = w.videos.get_mut(&c.video) {
                    e.comments += 1;
                }
                w.comments.entry(c.video).or_default().push(c);
            }
        }
        for list in w.comments.values_mut() {
            list.sort_by_key(|c| (c.created_ms, c.id));
        }
        for (r, engine) in &self.engines {
            let mut e = engine.write().map_err(lock_err)?;
            for v in w.videos.values() {
                e.upsert_item(item_meta(&v.video));
            }
            let store = &self.stores[r];
            self.snapshot_seq
                .lock()
                .map_err(lock_err)?
                .insert(r.clone(), e.last_seq());
            let mut from = 1;
            loop {
                let batch = store.events_from(from, 10_000)?;
                let Some(last) = batch.last() else { break };
                from = last.seq + 1;
                for rec in &batch {
                    if let Some(v) = rec.video.and_then(|v| w.videos.get_mut(&v)) {
                        match rec.kind {
                            EventKind::View => v.views += 1,
                            EventKind::Share => v.shares += 1,
                            _ => {}
                        }
                    }
                    e.observe(rec);
                }
            }
            // Videos removed after the snapshot was taken leave the engine too.
            for id in e.live_items() {
                if !w.videos.contains_key(&id) {
                    e.remove_item(id);
                }
            }
            e.tick(now_ms());
            e.rebuild_index();
        }
        // Media written by an upload that never committed its record is removed.
        for (r, m) in &self.media {
            let refs = referenced.remove(r).unwrap_or_default();
            for key in m.keys()? {
                if !refs.contains(&key) {
                    tracing::warn!(region = %r, key = %key, "removing orphan media object");
                    m.delete(&key)?;
                }
            }
        }
        *self.world.write().map_err(lock_err)? = w;
        Ok(())
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A region's store.
    fn store(&self, r: &Region) -> Result<&dyn RegionStore, ApiError> {
        self.stores
            .get(r)
            .map(|b| b.as_ref())
            .ok_or_else(|| ApiError::internal(format!("no store for region {r}")))
    }

    fn media_store(&self, r: &Region) -> Result<&dyn ObjectStore, ApiError> {
        self.media
            .get(r)
            .map(|b| b.as_ref())
            .ok_or_else(|| ApiError::internal(format!("no media store for region {r}")))
    }

    /// Where uploads are received before they are checked.
    pub fn tmp_dir(&self) -> &Path {
        &self.tmp
    }

    /// Signs a new user up. The country fixes the home region; the handle is unique across regions.
    pub fn create_account(
        &self,
        handle: &str,
        password: &str,
        birthdate: &str,
        country: &str,
        role: Role,
    ) -> Result<Account, ApiError> {
        validate_handle(handle)?;
        validate_password(password)?;
        let birth = parse_date(birthdate)?;
        let today = Date::from_unix_ms(now_ms());
        let age = age_on(birth, today);
        if birth > today {
            return Err(ApiError::unprocessable(
                "invalid",
                "birthdate: is in the future; send your real date of birth",
            ));
        }
        if age < self.config.min_age {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "too_young",
                format!(
                    "you must be at least {} years old to use Foryou",
                    self.config.min_age
                ),
            ));
        }
        if age > 130 {
            return Err(ApiError::unprocessable(
                "invalid",
                "birthdate: is more than 130 years ago; send your real date of birth",
            ));
        }
        let region = self.config.regions.home_of(country)?;
        let password_hash = auth::hash_password(password).map_err(ApiError::internal)?;
        let _guard = self.signup.lock().map_err(lock_err)?;
        let lower = handle.to_ascii_lowercase();
        if self
            .world
            .read()
            .map_err(lock_err)?
            .handles
            .contains_key(&lower)
        {
            return Err(foryou_store::StoreError::HandleTaken {
                handle: handle.to_string(),
            }
            .into());
        }
        let account = Account {
            id: UserId(new_id()),
            handle: handle.to_string(),
            password_hash,
            birthdate: birth,
            country: country.trim().to_ascii_uppercase(),
            region: region.clone(),
            role,
            created_ms: now_ms(),
        };
        self.store(&region)?.insert_account(&account)?;
        self.world
            .write()
            .map_err(lock_err)?
            .add_account(account.clone());
        Ok(account)
    }

    /// Bulk-loads a catalog: accounts (their password hashes as given; `!` locks an account),
    /// sounds, and videos with their media and poster bytes. Every record goes to its own region.
    pub fn import(
        &self,
        accounts: Vec<Account>,
        sounds: Vec<Sound>,
        videos: Vec<(Video, Vec<u8>, Vec<u8>)>,
    ) -> Result<(), ApiError> {
        {
            let w = self.world.read().map_err(lock_err)?;
            if let Some(a) = accounts
                .iter()
                .find(|a| w.handles.contains_key(&a.handle.to_ascii_lowercase()))
            {
                return Err(foryou_store::StoreError::HandleTaken {
                    handle: a.handle.clone(),
                }
                .into());
            }
        }
        for (v, media, poster) in &videos {
            let m = self.media_store(&v.region)?;
            m.put(&v.media_key, media)?;
            m.put(&v.poster_key, poster)?;
        }
        for (r, store) in &self.stores {
            let a: Vec<Account> = accounts
                .iter()
                .filter(|x| &x.region == r)
                .cloned()
                .collect();
            let s: Vec<Sound> = sounds.iter().filter(|x| &x.region == r).cloned().collect();
            let v: Vec<Video> = videos
                .iter()
                .map(|x| &x.0)
                .filter(|x| &x.region == r)
                .cloned()
                .collect();
            store.import(&a, &s, &v)?;
        }
        {
            let mut w = self.world.write().map_err(lock_err)?;
            for a in accounts {
                w.add_account(a);
            }
            for s in sounds {
                w.sounds.insert(s.id, s);
            }
        }
        let mut sorted: Vec<Video> = videos.into_iter().map(|x| x.0).collect();
        sorted.sort_by_key(|v| (v.created_ms, v.id));
        for v in sorted {
            self.index_video(v, None)?;
        }
        Ok(())
    }

    /// Records events on behalf of a user, as the demo's simulated users do.
    pub fn record_events_as(
        &self,
        user: UserId,
        inputs: &[EventInput],
    ) -> Result<Vec<EventResult>, ApiError> {
        let caller = {
            let w = self.world.read().map_err(lock_err)?;
            let u = w
                .users
                .get(&user)
                .ok_or_else(|| ApiError::not_found(format!("no user with id {user}")))?;
            Caller {
                user,
                handle: u.handle.clone(),
                region: u.region.clone(),
                role: u.role,
                token_hash: [0; 32],
            }
        };
        self.record_events(&caller, inputs)
    }

    /// Whether the platform holds no account yet.
    pub fn is_empty(&self) -> Result<bool, ApiError> {
        Ok(self.world.read().map_err(lock_err)?.users.is_empty())
    }

    /// Changes a user's role.
    pub fn set_role(&self, user: UserId, role: Role) -> Result<(), ApiError> {
        let region = self.user_region(user)?;
        if !self.store(&region)?.set_role(user, role)? {
            return Err(ApiError::not_found(format!("no user with id {user}")));
        }
        if let Some(u) = self.world.write().map_err(lock_err)?.users.get_mut(&user) {
            u.role = role;
        }
        Ok(())
    }

    fn user_region(&self, user: UserId) -> Result<Region, ApiError> {
        let w = self.world.read().map_err(lock_err)?;
        w.users
            .get(&user)
            .map(|u| u.region.clone())
            .ok_or_else(|| ApiError::not_found(format!("no user with id {user}")))
    }

    /// Resolves a handle (any case) to a user id.
    pub fn user_by_handle(&self, handle: &str) -> Result<Option<UserId>, ApiError> {
        Ok(self
            .world
            .read()
            .map_err(lock_err)?
            .handles
            .get(&handle.to_ascii_lowercase())
            .copied())
    }

    /// Checks a password and opens a session; the same error for unknown handles and wrong passwords.
    pub fn login(&self, handle: &str, password: &str) -> Result<(String, UserId), ApiError> {
        let denied = || ApiError::unauthorized("wrong handle or password");
        let id = self.user_by_handle(handle)?;
        let account = match id {
            Some(id) => self.store(&self.user_region(id)?)?.account(id)?,
            None => None,
        };
        let Some(account) = account else {
            let _ = auth::verify_password(password, auth::dummy_hash());
            return Err(denied());
        };
        if !auth::verify_password(password, &account.password_hash) {
            return Err(denied());
        }
        let token = auth::new_token(&account.region);
        let now = now_ms();
        let rec = TokenRecord {
            user: account.id,
            region: account.region.clone(),
            created_ms: now,
            expires_ms: now + self.config.token_ttl_ms,
        };
        self.store(&account.region)?
            .insert_token(&auth::token_hash(&token), &rec)?;
        Ok((token, account.id))
    }

    /// Who holds this bearer token, if it is valid.
    pub fn authenticate(&self, token: &str) -> Result<Option<Caller>, ApiError> {
        let Some(region) = auth::token_region(token) else {
            return Ok(None);
        };
        let Some(store) = self.stores.get(&region) else {
            return Ok(None);
        };
        let hash = auth::token_hash(token);
        let Some(rec) = store.token(&hash)? else {
            return Ok(None);
        };
        if rec.expires_ms < now_ms() {
            return Ok(None);
        }
        let w = self.world.read().map_err(lock_err)?;
        Ok(w.users.get(&rec.user).map(|u| Caller {
            user: rec.user,
            handle: u.handle.clone(),
            region: u.region.clone(),
            role: u.role,
            token_hash: hash,
        }))
    }

    /// Revokes the caller's token.
    pub fn logout(&self, caller: &Caller) -> Result<(), ApiError> {
        self.store(&caller.region)?
            .delete_token(&caller.token_hash)?;
        Ok(())
    }

    /// Checks, stores and indexes an upload. On any refusal nothing is left behind.
    pub fn upload(&self, caller: &Caller, input: UploadInput) -> Result<VideoView, ApiError> {
        let file = input.file.clone();
        let result = self.upload_inner(caller, input);
        let _ = std::fs::remove_file(&file);
        match &result {
            Ok(_) => self.metrics.upload("accepted"),
            Err(e) => self.metrics.upload(e.code),
        }
        result
    }

    fn upload_inner(&self, caller: &Caller, input: UploadInput) -> Result<VideoView, ApiError> {
        validate_caption(&input.caption)?;
        let size = std::fs::metadata(&input.file)
            .map_err(ApiError::internal)?
            .len();
        if size > self.config.max_upload_bytes {
            return Err(too_large(size, self.config.max_upload_bytes));
        }
        self.check_upload_quota(caller, size)?;
        let data = std::fs::read(&input.file).map_err(ApiError::internal)?;
        let info = foryou_media::probe(&data)?;
        drop(data);
        if info.duration_ms > self.config.max_video_ms {
            return Err(ApiError::unprocessable(
                "video_too_long",
                format!(
                    "the video is {:.1} s long; the limit is {} s, so trim it",
                    info.duration_ms as f64 / 1000.0,
                    self.config.max_video_ms / 1000
                ),
            ));
        }
        let poster = match input.poster {
            Some(bytes) if !bytes.is_empty() => {
                let mime = foryou_media::image_mime(&bytes).ok_or_else(|| {
                    ApiError::new(
                        axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "unsupported_poster",
                        "the poster must be a PNG, JPEG or WebP image",
                    )
                })?;
                if bytes.len() > 2 << 20 {
                    return Err(ApiError::new(
                        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                        "poster_too_large",
                        "the poster is over 2 MiB; send a smaller image",
                    ));
                }
                (bytes, mime)
            }
            _ => (
                placeholder_poster(info.width, info.height, caller.user.0),
                "image/png",
            ),
        };
        let sound_title = input
            .sound_title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| t.chars().take(100).collect::<String>());
        let id = VideoId(new_id());
        let now = now_ms();
        let (sound, new_sound) = match input.sound_id {
            Some(s) => {
                if !self.world.read().map_err(lock_err)?.sounds.contains_key(&s) {
                    return Err(ApiError::unprocessable("unknown_sound", format!("sound_id: no sound with id {s}; leave it out to use the video's own sound")));
                }
                (s, None)
            }
            None => {
                let s = Sound {
                    id: SoundId(new_id()),
                    title: sound_title
                        .unwrap_or_else(|| format!("original sound - {}", caller.handle)),
                    creator: caller.user,
                    region: caller.region.clone(),
                    origin: id,
                    created_ms: now,
                };
                (s.id, Some(s))
            }
        };
        let media_key = format!("videos/{id}.{}", info.container.extension());
        let poster_key = format!("posters/{id}.{}", poster.1.trim_start_matches("image/"));
        let media = self.media_store(&caller.region)?;
        let video = Video {
            id,
            creator: caller.user,
            region: caller.region.clone(),
            caption: input.caption.clone(),
            hashtags: hashtags(&input.caption),
            sound,
            duration_ms: info.duration_ms,
            width: info.width,
            height: info.height,
            mime: info.container.mime().to_string(),
            video_codec: info.video_codec.to_string(),
            audio_codec: info.audio_codec.map(str::to_string),
            media_key: media_key.clone(),
            poster_key: poster_key.clone(),
            poster_mime: poster.1.to_string(),
            size_bytes: size,
            created_ms: now,
        };
        let stored = media
            .put_file(&media_key, &input.file)
            .and_then(|_| media.put(&poster_key, &poster.0))
            .map_err(ApiError::from)
            .and_then(|_| {
                self.store(&caller.region)?
                    .insert_video(&video, new_sound.as_ref())
                    .map_err(ApiError::from)
            });
        if let Err(e) = stored {
            let _ = media.delete(&media_key);
            let _ = media.delete(&poster_key);
            return Err(e);
        }
        self.index_video(video.clone(), new_sound)?;
        self.video_view(id, Some(caller.user))
    }

    /// Adds a stored video to the projection and every region's engine.
    pub(crate) fn index_video(
        &self,
        video: Video,
        new_sound: Option<Sound>,
    ) -> Result<(), ApiError> {
        for e in self.engines.values() {
            e.write().map_err(lock_err)?.upsert_item(item_meta(&video));
        }
        let mut w = self.world.write().map_err(lock_err)?;
        if let Some(s) = new_sound {
            w.sounds.insert(s.id, s);
        }
        w.add_video(video);
        Ok(())
    }

    /// Removes a video: its creator, a moderator or an admin may. Media and poster go too.
    pub fn delete_video(&self, caller: &Caller, id: VideoId) -> Result<(), ApiError> {
        let video = {
            let w = self.world.read().map_err(lock_err)?;
            w.videos
                .get(&id)
                .map(|e| e.video.clone())
                .ok_or_else(|| ApiError::not_found(format!("no video with id {id}")))?
        };
        if video.creator != caller.user && !matches!(caller.role, Role::Moderator | Role::Admin) {
            return Err(ApiError::forbidden(
                "only the creator, a moderator or an admin may remove this video",
            ));
        }
        self.store(&video.region)?.delete_video(id)?;
        let media = self.media_store(&video.region)?;
        media.delete(&video.media_key)?;
        media.delete(&video.poster_key)?;
        for e in self.engines.values() {
            e.write().map_err(lock_err)?.remove_item(id);
        }
        let mut w = self.world.write().map_err(lock_err)?;
        w.videos.remove(&id);
        if let Some(l) = w.by_creator.get_mut(&video.creator) {
            l.retain(|v| *v != id);
        }
        if let Some(l) = w.by_sound.get_mut(&video.sound) {
            l.retain(|v| *v != id);
        }
        tracing::info!(video = %id, by = %caller.user, role = ?caller.role, "video removed");
        Ok(())
    }

    /// A video's public view, with the viewer's own like and follow flags.
    pub fn video_view(&self, id: VideoId, viewer: Option<UserId>) -> Result<VideoView, ApiError> {
        let w = self.world.read().map_err(lock_err)?;
        views::video(&w, id, viewer)
            .ok_or_else(|| ApiError::not_found(format!("no video with id {id}")))
    }

    /// The media or poster bytes of a video: (mime, total size, bytes of the range).
    pub fn read_media(
        &self,
        id: VideoId,
        poster: bool,
        range: Option<(u64, u64)>,
    ) -> Result<(String, u64, Vec<u8>), ApiError> {
        let (region, key, mime) = {
            let w = self.world.read().map_err(lock_err)?;
            let v = &w
                .videos
                .get(&id)
                .ok_or_else(|| ApiError::not_found(format!("no video with id {id}")))?
                .video;
            if poster {
                (
                    v.region.clone(),
                    v.poster_key.clone(),
                    v.poster_mime.clone(),
                )
            } else {
                (v.region.clone(), v.media_key.clone(), v.mime.clone())
            }
        };
        let store = self.media_store(&region)?;
        let size = store
            .size(&key)?
            .ok_or_else(|| ApiError::not_found("the media file is missing"))?;
        let (start, len) = match range {
            Some((s, e)) => (s, e - s + 1),
            None => (0, size),
        };
        Ok((mime, size, store.read_range(&key, start, len)?))
    }

    /// The MIME type and size of a video's media file, or of its poster.
    pub fn media_meta(&self, id: VideoId, poster: bool) -> Result<(String, u64), ApiError> {
        let (region, key, mime) = {
            let w = self.world.read().map_err(lock_err)?;
            let v = &w
                .videos
                .get(&id)
                .ok_or_else(|| ApiError::not_found(format!("no video with id {id}")))?
                .video;
            if poster {
                (
                    v.region.clone(),
                    v.poster_key.clone(),
                    v.poster_mime.clone(),
                )
            } else {
                (v.region.clone(), v.media_key.clone(), v.mime.clone())
            }
        };
        let size = self
            .media_store(&region)?
            .size(&key)?
            .ok_or_else(|| ApiError::not_found("the media file is missing"))?;
        Ok((mime, size))
    }

    /// Refuses an upload of `size` more bytes when the caller has made
    /// `config.max_uploads_per_day` uploads in the last 24 hours or would keep more than
    /// `config.max_user_storage_bytes`.
    pub fn check_upload_quota(&self, caller: &Caller, size: u64) -> Result<(), ApiError> {
        let since = now_ms().saturating_sub(86_400_000);
        let (today, stored) = {
            let w = self.world.read().map_err(lock_err)?;
            let mine = w
                .by_creator
                .get(&caller.user)
                .map(|v| v.as_slice())
                .unwrap_or(&[]);
            mine.iter()
                .filter_map(|id| w.videos.get(id))
                .fold((0usize, 0u64), |(n, bytes), e| {
                    (
                        n + usize::from(e.video.created_ms >= since),
                        bytes.saturating_add(e.video.size_bytes),
                    )
                })
        };
        let quota = |msg: String| ApiError {
            retry_after_s: Some(3600),
            ..ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "upload_quota",
                msg,
            )
        };
        if today >= self.config.max_uploads_per_day {
            return Err(quota(format!(
                "you have posted {today} videos in the last 24 hours, the most allowed; post again tomorrow"
            )));
        }
        if stored.saturating_add(size) > self.config.max_user_storage_bytes {
            return Err(ApiError::new(
                axum::http::StatusCode::INSUFFICIENT_STORAGE,
                "storage_quota",
                format!(
                    "your videos take {} MiB of your {} MiB; remove some to post more",
                    stored >> 20,
                    self.config.max_user_storage_bytes >> 20
                ),
            ));
        }
        Ok(())
    }

    /// Validates a batch, appends it durably to the caller's home-region log, applies its effects
    /// and feeds the region's engine. Nothing is written when any item is invalid.
    pub fn record_events(
        &self,
        caller: &Caller,
        inputs: &[EventInput],
    ) -> Result<Vec<EventResult>, ApiError> {
        if inputs.is_empty() {
            return Err(ApiError::bad_request("events: send at least one event"));
        }
        if inputs.len() > self.config.max_batch {
            return Err(ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
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
            for (i, ev) in inputs.iter().enumerate() {
                batch.push(NewEvent {
                    record: self.check_event(&w, caller, i, ev, now)?,
                });
            }
        }
        let appended = self.store(&caller.region)?.append_events(&batch)?;
        let mut results = Vec::with_capacity(appended.len());
        let mut fresh = Vec::new();
        {
            let mut w = self.world.write().map_err(lock_err)?;
            for (ne, a) in batch.into_iter().zip(appended) {
                let mut rec = ne.record;
                rec.seq = a.seq;
                let comment_id = match &a.effect {
                    Effect::CommentAdded(c) => Some(c.id),
                    _ => None,
                };
                results.push(EventResult {
                    id: rec.id.clone(),
                    seq: a.seq,
                    duplicate: a.duplicate,
                    comment_id,
                });
                if !a.duplicate {
                    w.apply(&rec, &a.effect);
                    self.metrics.event(rec.kind);
                    fresh.push(rec);
                }
            }
        }
        let mut engine = self
            .engines
            .get(&caller.region)
            .ok_or_else(|| ApiError::internal("no engine for region"))?
            .write()
            .map_err(lock_err)?;
        for rec in &fresh {
            engine.observe(rec);
        }
        engine.tick(now);
        drop(engine);
        self.maintain_engine(&caller.region)?;
        Ok(results)
    }

    /// Background upkeep of a region's engine after it learned: rebuilds the ANN index off the
    /// lock when the embeddings have moved on, and snapshots the learned state every
    /// `SNAPSHOT_EVERY` events so a restart replays only the log after it.
    fn maintain_engine(&self, region: &Region) -> Result<(), ApiError> {
        let Some(engine) = self.engines.get(region) else {
            return Ok(());
        };
        // Lock order everywhere: engine, then the bookkeeping maps.
        let mut e = engine.write().map_err(lock_err)?;
        if e.index_stale()
            && self
                .reindexing
                .lock()
                .map_err(lock_err)?
                .insert(region.clone())
        {
            let job = e.index_job();
            let engine = Arc::clone(engine);
            let region = region.clone();
            let busy = Arc::clone(&self.reindexing);
            std::thread::spawn(move || {
                let built = job.build();
                if let Ok(mut e) = engine.write() {
                    e.install_index(built);
                }
                if let Ok(mut b) = busy.lock() {
                    b.remove(&region);
                }
            });
        }
        let mut seqs = self.snapshot_seq.lock().map_err(lock_err)?;
        let last = seqs.get(region).copied().unwrap_or(0);
        if e.last_seq() >= last + SNAPSHOT_EVERY {
            // Learned state of users idle for half a year goes, so memory stays bounded; their
            // events stay in the log.
            e.expire_idle(now_ms().saturating_sub(IDLE_USER_EXPIRY_MS));
            let bytes = e.snapshot().map_err(ApiError::internal)?;
            seqs.insert(region.clone(), e.last_seq());
            drop(e);
            let path = self.engine_snapshot_path(region);
            // Any snapshot, even one overtaken by a newer write, is correct: a start replays the
            // log after the snapshot's own sequence number.
            std::thread::spawn(move || {
                if let Err(err) = write_atomically(&path, &bytes) {
                    tracing::warn!(path = %path.display(), error = %err, "engine snapshot not written");
                }
            });
        }
        Ok(())
    }

    fn engine_snapshot_path(&self, region: &Region) -> PathBuf {
        self.config
            .data_dir
            .join("regions")
            .join(region.as_str())
            .join(ENGINE_SNAPSHOT)
    }

    /// Writes every region's engine snapshot (at graceful shutdown), so the next start replays
    /// nothing it already learned.
    pub fn snapshot_engines(&self) -> Result<(), ApiError> {
        for (r, engine) in &self.engines {
            let bytes = engine
                .read()
                .map_err(lock_err)?
                .snapshot()
                .map_err(ApiError::internal)?;
            write_atomically(&self.engine_snapshot_path(r), &bytes).map_err(ApiError::internal)?;
        }
        Ok(())
    }

    fn check_event(
        &self,
        w: &World,
        caller: &Caller,
        i: usize,
        ev: &EventInput,
        now: u64,
    ) -> Result<EventRecord, ApiError> {
        let field = |f: &str| format!("events[{i}].{f}");
        let bad = |f: &str, m: String| ApiError::bad_request(format!("{}: {m}", field(f)));
        let unproc = |code: &'static str, f: &str, m: String| {
            ApiError::unprocessable(code, format!("{}: {m}", field(f)))
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
        let video = match ev.video_id {
            Some(v) => Some(w.videos.get(&v).ok_or_else(|| {
                unproc("unknown_video", "video_id", format!("no video with id {v}"))
            })?),
            None => None,
        };
        let needs_video =
            !matches!(ev.kind, EventKind::Follow | EventKind::Unfollow) || ev.target.is_none();
        if needs_video && video.is_none() {
            return Err(bad(
                "video_id",
                format!("a {} event needs a video_id", ev.kind.as_str()),
            ));
        }
        let mut rec = EventRecord {
            seq: 0,
            id: ev.id.clone(),
            user: caller.user,
            region: caller.region.clone(),
            kind: ev.kind,
            ts_ms: now,
            video: video.map(|v| v.video.id),
            creator: video.map(|v| v.video.creator),
            sound: video.map(|v| v.video.sound),
            duration_ms: video.map(|v| v.video.duration_ms),
            watch_ms: None,
            not_interested: None,
            text: None,
            comment: None,
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
                rec.text = Some(text.to_string());
                rec.comment = Some(CommentId(new_id()));
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
            }
            EventKind::NotInterested => {
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

    /// One page of a feed for a signed-in caller, or for an anonymous visitor (`None`): the
    /// non-personalised For You of the default region, reading and storing nothing about them.
    pub fn feed(
        &self,
        caller: Option<&Caller>,
        kind: FeedKind,
        limit: usize,
        cursor: usize,
    ) -> Result<Vec<FeedItem>, ApiError> {
        let limit = limit.clamp(1, 50);
        let recs: Vec<(VideoId, Vec<foryou_engine::Reason>)> = match (kind, caller) {
            (FeedKind::Following, None) => {
                return Err(ApiError::unauthorized(
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
                let personalised = personalised && caller.is_some();
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
                let req = FeedRequest {
                    user: caller.map(|c| c.user).unwrap_or(UserId(0)),
                    limit,
                    mode: if personalised {
                        FeedMode::Personalised
                    } else {
                        FeedMode::NonPersonalised
                    },
                    now_ms: now_ms(),
                    following,
                    skip: cursor,
                    worldwide: self.worldwide_popular(now_ms())?,
                    seed: rand::thread_rng().gen(),
                };
                let engine = self
                    .engines
                    .get(&region)
                    .ok_or_else(|| ApiError::internal("no engine for region"))?;
                let recs = engine.read().map_err(lock_err)?.recommend(&req);
                recs.into_iter().map(|r| (r.video, r.reasons)).collect()
            }
        };
        let w = self.world.read().map_err(lock_err)?;
        Ok(recs
            .into_iter()
            .filter_map(|(id, reasons)| {
                views::feed_item(
                    &w,
                    id,
                    caller.map(|c| c.user),
                    caller.map(|c| &c.region),
                    &reasons,
                )
            })
            .collect())
    }

    /// Forgets the engine's learned interests for the caller ("refresh"); follows stay. The
    /// refresh is a record in the caller's home-region log, so a restart does not relearn what
    /// came before it.
    pub fn refresh_interests(&self, caller: &Caller) -> Result<(), ApiError> {
        let record = EventRecord {
            seq: 0,
            id: format!("refresh-{}", new_id()),
            user: caller.user,
            region: caller.region.clone(),
            kind: EventKind::Refresh,
            ts_ms: now_ms(),
            video: None,
            creator: None,
            sound: None,
            duration_ms: None,
            watch_ms: None,
            not_interested: None,
            text: None,
            comment: None,
        };
        let appended = self.store(&caller.region)?.append_events(&[NewEvent {
            record: record.clone(),
        }])?;
        let engine = self
            .engines
            .get(&caller.region)
            .ok_or_else(|| ApiError::internal("no engine for region"))?;
        let mut e = engine.write().map_err(lock_err)?;
        for a in appended {
            let mut rec = record.clone();
            rec.seq = a.seq;
            e.observe(&rec);
        }
        Ok(())
    }

    /// Popularity in every region, summed: aggregate counts from each engine's trending set,
    /// no personal record crosses regions.
    fn worldwide_popular(&self, now: u64) -> Result<Vec<(VideoId, f64)>, ApiError> {
        let mut sum: HashMap<VideoId, f64> = HashMap::new();
        for engine in self.engines.values() {
            for (v, p) in engine.read().map_err(lock_err)?.trending(100, now) {
                *sum.entry(v).or_default() += p;
            }
        }
        let mut v: Vec<(VideoId, f64)> = sum.into_iter().collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(100);
        Ok(v)
    }

    /// Runs `f` over the projection.
    pub(crate) fn read_world<T>(&self, f: impl FnOnce(&World) -> T) -> Result<T, ApiError> {
        Ok(f(&*self.world.read().map_err(lock_err)?))
    }
}

fn too_large(size: u64, max: u64) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        "video_too_large",
        format!(
            "the file is {:.1} MiB; the limit is {} MiB, so compress or trim it",
            size as f64 / 1_048_576.0,
            max >> 20
        ),
    )
}

/// The 413 for an upload cut off at the limit while receiving.
pub fn upload_too_large(max: u64) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        "video_too_large",
        format!(
            "the file is over the {} MiB limit; compress or trim it",
            max >> 20
        ),
    )
}

/// Users idle this long lose their learned engine state (at the next snapshot).
const IDLE_USER_EXPIRY_MS: u64 = 183 * 86_400_000;
/// Events between two engine snapshots.
const SNAPSHOT_EVERY: u64 = 5_000;
/// File name of a region's engine snapshot, beside its store.
const ENGINE_SNAPSHOT: &str = "engine.snapshot";

/// A region's engine: restored from its snapshot when one is readable, else empty (the event log
/// then rebuilds it all).
fn load_engine(dir: &Path) -> Engine {
    let path = dir.join(ENGINE_SNAPSHOT);
    match std::fs::read(&path) {
        Ok(bytes) => match Engine::restore(EngineConfig::default(), &bytes) {
            Ok(e) => {
                tracing::info!(path = %path.display(), last_seq = e.last_seq(), "engine restored from snapshot");
                e
            }
            Err(err) => {
                tracing::warn!(path = %path.display(), error = %err, "engine snapshot unreadable; relearning from the log");
                Engine::new(EngineConfig::default())
            }
        },
        Err(_) => Engine::new(EngineConfig::default()),
    }
}

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

/// A gradient poster for uploads that bring none (the server does not decode video).
fn placeholder_poster(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let (w, h) = if width >= height {
        (160u32, 90u32)
    } else {
        (90u32, 160u32)
    };
    let hue = (seed % 360) as f64;
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for _ in 0..w {
            let t = f64::from(y) / f64::from(h);
            let c =
                |o: f64| (((hue + o).to_radians().sin() * 0.5 + 0.5) * (200.0 - 120.0 * t)) as u8;
            rgb.extend_from_slice(&[c(0.0), c(120.0), c(240.0)]);
        }
    }
    foryou_media::png::encode(w, h, &rgb)
}
