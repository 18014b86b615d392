//! The platform's side of the transparency log: its key and directory (`DIR/transparency/`),
//! the keyed pseudonyms that stand for people in it, what is logged (gateway decisions,
//! private releases, ranking configurations, the access policy, boosts, operator role grants),
//! the boosts in force (rebuilt from the log at start, so none can exist unlogged), the
//! recommender configurations served at `/v1/recommender`, and the witness it submits to.

use super::*;
use foryou_tlog::entry::{Entry, VERSION};
use foryou_tlog::log::Sequencer;
use foryou_tlog::note::{CosignatureVerifier, LogSigner};
use hmac::{Hmac, Mac};

mod home;
use home::reconcile;
pub(crate) use home::{home_secret, secret_file};

/// Where a server submits its checkpoints to be cosigned.
#[derive(Clone, Debug)]
pub struct WitnessConfig {
    /// The witness's URL prefix (`POST <url>/add-checkpoint`).
    pub url: String,
    /// The witness's verifier key.
    pub vkey: String,
}

/// A boost or suppression in force.
#[derive(Clone, Debug, PartialEq)]
pub struct BoostState {
    /// `boost` or `suppress`.
    pub action: String,
    /// Regions whose feeds it applies to.
    pub regions: Vec<String>,
    /// The reason staff gave.
    pub reason: String,
}

pub(crate) struct Transparency {
    seq: Sequencer,
    dir: PathBuf,
    /// The log's home: the store of the first region this node serves, which keeps every entry
    /// (`RegionStore::journal`), the keys and the recommender configurations, so a node that
    /// takes the regions over continues the same log.
    home: Arc<dyn RegionStore>,
    pseudonym_key: Vec<u8>,
    boosts: RwLock<BTreeMap<VideoId, BoostState>>,
    /// When each video's latest boost entry in the log was made (clearings included).
    boost_ts: RwLock<BTreeMap<VideoId, u64>>,
    config_version: String,
    /// The latest checkpoint with the witness's cosignature, once it has cosigned it.
    cosigned: Arc<Mutex<Option<Vec<u8>>>>,
    /// Wakes the witness thread after an append.
    witness: Option<Mutex<std::sync::mpsc::Sender<()>>>,
    /// The version each trained component last published.
    published: Mutex<BTreeMap<String, String>>,
}

const LOG_KEY: &str = "log.key";
/// The origin of a new log when the operator names none.
const DEFAULT_ORIGIN: &str = "foryou.localhost/log";
const PSEUDONYM_KEY: &str = "pseudonym.key";
const RECOMMENDER: &str = "recommender";

/// The SHA-256 hex of bytes.
fn sha256_hex(b: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    crate::auth::hex(&Sha256::digest(b))
}

pub(super) fn log_err(e: impl std::fmt::Display) -> PlatformError {
    PlatformError::internal(format!("transparency log: {e}"))
}

impl Transparency {
    /// Opens the log in `dir`, rebuilds the boosts in force from it, and logs the engine
    /// configuration and the access policy when they differ from the last ones logged.
    pub fn open(
        dir: &Path,
        home: Arc<dyn RegionStore>,
        origin: Option<&str>,
        engine: &EngineConfig,
        policy: &crate::gateway::Policy,
        witness: Option<WitnessConfig>,
    ) -> Result<Transparency, PlatformError> {
        std::fs::create_dir_all(dir.join(RECOMMENDER)).map_err(PlatformError::internal)?;
        let mut made = None;
        let skey = home_secret(
            home.as_ref(),
            "transparency/log.key",
            &dir.join(LOG_KEY),
            || match LogSigner::generate(origin.unwrap_or(DEFAULT_ORIGIN)) {
                Ok((skey, _)) => skey.into_bytes(),
                Err(e) => {
                    made = Some(e.to_string());
                    Vec::new()
                }
            },
        )?;
        if let Some(e) = made {
            return Err(PlatformError::bad_request(format!("--log-origin: {e}")));
        }
        let signer = LogSigner::from_skey(&String::from_utf8_lossy(&skey)).map_err(log_err)?;
        if origin.is_some_and(|o| o != signer.origin()) {
            return Err(PlatformError::bad_request(format!(
                "--log-origin: the log in {} was created as '{}', not '{}'; its origin cannot change",
                dir.display(),
                signer.origin(),
                origin.unwrap_or_default()
            )));
        }
        let pseudonym_key = home_secret(
            home.as_ref(),
            "transparency/pseudonym.key",
            &dir.join(PSEUDONYM_KEY),
            || {
                let mut k = vec![0u8; 32];
                rand::thread_rng().fill(&mut k[..]);
                k
            },
        )?;
        drop(signer);
        let log = reconcile(
            &dir.join("log"),
            &String::from_utf8_lossy(&skey),
            home.as_ref(),
        )?;
        // What the log says is in force.
        let mut boosts = BTreeMap::new();
        let mut boost_ts: BTreeMap<VideoId, u64> = BTreeMap::new();
        let (mut last_config, mut last_policy) = (None, None);
        let mut from = 0;
        loop {
            let batch = log.entries(from, 4096).map_err(log_err)?;
            if batch.is_empty() {
                break;
            }
            from += batch.len() as u64;
            for raw in batch {
                match Entry::parse(&raw) {
                    Ok(Entry::Boost {
                        video,
                        action,
                        regions,
                        reason,
                        ts_ms,
                        ..
                    }) => {
                        let Ok(id) = video.parse::<u64>() else {
                            continue;
                        };
                        let t = boost_ts.entry(VideoId(id)).or_default();
                        *t = (*t).max(ts_ms);
                        if action == "clear" {
                            boosts.remove(&VideoId(id));
                        } else {
                            boosts.insert(
                                VideoId(id),
                                BoostState {
                                    action,
                                    regions,
                                    reason,
                                },
                            );
                        }
                    }
                    Ok(Entry::Config { version, .. }) => last_config = Some(version),
                    Ok(Entry::Policy { version, .. }) => last_policy = Some(version),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "unreadable transparency log entry"),
                }
            }
        }
        let config_json = serde_json::to_vec_pretty(engine).map_err(PlatformError::internal)?;
        let config_version = sha256_hex(&config_json);
        let stored = dir.join(RECOMMENDER).join(format!("{config_version}.json"));
        if !stored.exists() {
            write_atomically(&stored, &config_json).map_err(PlatformError::internal)?;
        }
        home.set_state(&format!("recommender/{config_version}"), &config_json)?;
        let policy_version =
            sha256_hex(&serde_json::to_vec(policy).map_err(PlatformError::internal)?);
        let seq = Sequencer::start(log);
        let cosigned = Arc::new(Mutex::new(None));
        let witness = match witness {
            Some(w) => {
                let verifier = CosignatureVerifier::new(&w.vkey)
                    .map_err(|e| PlatformError::bad_request(format!("--witness-key: {e}")))?;
                let (tx, rx) = std::sync::mpsc::channel();
                let (s, c) = (seq.clone(), Arc::clone(&cosigned));
                std::thread::Builder::new()
                    .name("witness".into())
                    .spawn(move || super::witness::witness_loop(s, w, verifier, c, rx))
                    .map_err(PlatformError::internal)?;
                let _ = tx.send(());
                Some(Mutex::new(tx))
            }
            None => None,
        };
        let t = Transparency {
            seq,
            dir: dir.to_path_buf(),
            home,
            pseudonym_key,
            boosts: RwLock::new(boosts),
            boost_ts: RwLock::new(boost_ts),
            config_version: config_version.clone(),
            cosigned,
            witness,
            published: Mutex::new(BTreeMap::new()),
        };
        if last_config.as_deref() != Some(config_version.as_str()) {
            t.append(Entry::Config {
                v: VERSION,
                ts_ms: now_ms(),
                component: "engine".into(),
                version: config_version,
            })?;
        }
        if last_policy.as_deref() != Some(policy_version.as_str()) {
            t.append(Entry::Policy {
                v: VERSION,
                ts_ms: now_ms(),
                version: policy_version,
            })?;
        }
        Ok(t)
    }

    /// A person as the log names them: an HMAC of their id under a key only this server holds,
    /// so the log links one person's entries without saying who they are.
    pub fn pseudonym(&self, id: UserId) -> String {
        let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(&self.pseudonym_key) {
            Ok(m) => m,
            Err(_) => return "p-unavailable".into(),
        };
        mac.update(b"foryou-log-pseudonym\0");
        mac.update(&id.0.to_be_bytes());
        format!(
            "p-{}",
            &crate::auth::hex(&mac.finalize().into_bytes())[..16]
        )
    }

    /// Appends an entry; returns its index once it is durable under a signed checkpoint.
    pub fn append(&self, e: Entry) -> Result<u64, PlatformError> {
        let bytes = e.to_bytes();
        let i = self.seq.append(bytes.clone()).map_err(log_err)?;
        // Acknowledged only once the home keeps it too (a crash in between: the copy puts it
        // there at the next start).
        self.home.journal_put(i, &bytes)?;
        if let Some(w) = &self.witness {
            if let Ok(tx) = w.lock() {
                let _ = tx.send(());
            }
        }
        Ok(i)
    }

    /// The checkpoint to serve: the latest, with the witness's cosignature once it has one.
    pub fn checkpoint(&self) -> Result<Vec<u8>, PlatformError> {
        let latest = self
            .seq
            .read(|l| l.checkpoint().to_vec())
            .map_err(log_err)?;
        if let Ok(c) = self.cosigned.lock() {
            if let Some(c) = c.as_ref() {
                if c.starts_with(&latest) {
                    return Ok(c.clone());
                }
            }
        }
        Ok(latest)
    }

    /// The log's verifier key.
    pub fn vkey(&self) -> Result<String, PlatformError> {
        self.seq.read(|l| l.vkey().to_string()).map_err(log_err)
    }

    /// A tile's bytes, as the tlog-tiles layout names it.
    pub fn tile(
        &self,
        path: &foryou_tlog::paths::TilePath,
    ) -> Result<Option<Vec<u8>>, PlatformError> {
        self.seq
            .read(|l| l.tile(path))
            .map_err(log_err)?
            .map_err(log_err)
    }

    /// The version of the ranking configuration in force.
    pub fn config_version(&self) -> &str {
        &self.config_version
    }

    /// A ranking configuration by version, as activated.
    pub fn recommender(&self, version: &str) -> Option<Vec<u8>> {
        if version.len() != 64 || !version.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        std::fs::read(self.dir.join(RECOMMENDER).join(format!("{version}.json")))
            .ok()
            .or_else(|| self.home.state(&format!("recommender/{version}")).ok()?)
    }

    /// Runs `f` over every entry of the log, in order, with its index.
    fn each_entry(&self, mut f: impl FnMut(u64, &[u8])) -> Result<(), PlatformError> {
        let mut from = 0;
        loop {
            let batch = self
                .seq
                .read(|l| l.entries(from, 4096))
                .map_err(log_err)?
                .map_err(log_err)?;
            if batch.is_empty() {
                return Ok(());
            }
            for (i, raw) in batch.iter().enumerate() {
                f(from + i as u64, raw);
            }
            from += batch.len() as u64;
        }
    }

    /// Every log entry that names `pseudonym` (as actor or subject), with its index.
    pub fn entries_naming(
        &self,
        pseudonym: &str,
    ) -> Result<Vec<(u64, serde_json::Value)>, PlatformError> {
        let mut out = Vec::new();
        self.each_entry(|i, raw| {
            if raw
                .windows(pseudonym.len())
                .any(|w| w == pseudonym.as_bytes())
            {
                if let Ok(v) = serde_json::from_slice(raw) {
                    out.push((i, v));
                }
            }
        })?;
        Ok(out)
    }

    /// Every configuration version ever activated here, newest last.
    pub fn recommender_versions(&self) -> Result<Vec<(u64, String, String)>, PlatformError> {
        let mut out = Vec::new();
        self.each_entry(|_, raw| {
            if let Ok(Entry::Config {
                ts_ms,
                version,
                component,
                ..
            }) = Entry::parse(raw)
            {
                out.push((ts_ms, component, version));
            }
        })?;
        Ok(out)
    }

    /// Publishes a trained version of a component (e.g. `ranker/eu`, a region's trained heads):
    /// its JSON is kept under its SHA-256 and served at `/v1/recommender/{version}`, and its
    /// activation is logged, unless it is the version this component last published.
    pub fn publish_version(&self, component: &str, json: &[u8]) -> Result<String, PlatformError> {
        let version = sha256_hex(json);
        {
            let mut last = self.published.lock().map_err(lock_err)?;
            if last.get(component) == Some(&version) {
                return Ok(version);
            }
            let path = self.dir.join(RECOMMENDER).join(format!("{version}.json"));
            if !path.exists() {
                write_atomically(&path, json).map_err(PlatformError::internal)?;
                self.home
                    .set_state(&format!("recommender/{version}"), json)?;
            }
            last.insert(component.to_string(), version.clone());
        }
        self.append(Entry::Config {
            v: VERSION,
            ts_ms: now_ms(),
            component: component.to_string(),
            version: version.clone(),
        })?;
        Ok(version)
    }

    /// Boosted and suppressed videos for `region`'s feeds.
    pub fn boosts_for(&self, region: &Region) -> (Vec<VideoId>, Vec<VideoId>) {
        let (mut up, mut down) = (Vec::new(), Vec::new());
        if let Ok(b) = self.boosts.read() {
            for (v, s) in b.iter() {
                if s.regions.iter().any(|r| r == region.as_str()) {
                    if s.action == "boost" {
                        up.push(*v);
                    } else {
                        down.push(*v);
                    }
                }
            }
        }
        (up, down)
    }

    /// When the log's latest boost entry about `video` was made (0: none).
    pub fn boost_made(&self, video: VideoId) -> u64 {
        self.boost_ts
            .read()
            .ok()
            .and_then(|t| t.get(&video).copied())
            .unwrap_or(0)
    }

    /// The boost in force on a video.
    pub fn boost_of(&self, video: VideoId) -> Option<BoostState> {
        self.boosts.read().ok()?.get(&video).cloned()
    }

    /// Records a boost, suppression or clearing in the log, then puts it in force.
    pub fn set_boost(&self, video: VideoId, entry: Entry) -> Result<u64, PlatformError> {
        let Entry::Boost {
            action,
            regions,
            reason,
            ts_ms,
            ..
        } = &entry
        else {
            return Err(PlatformError::internal("not a boost entry"));
        };
        let state = BoostState {
            action: action.clone(),
            regions: regions.clone(),
            reason: reason.clone(),
        };
        let clear = action == "clear";
        let made = *ts_ms;
        let mut boosts = self.boosts.write().map_err(lock_err)?;
        let index = self.append(entry)?;
        if clear {
            boosts.remove(&video);
        } else {
            boosts.insert(video, state);
        }
        if let Ok(mut t) = self.boost_ts.write() {
            let e = t.entry(video).or_default();
            *e = (*e).max(made);
        }
        Ok(index)
    }
}

/// Longest reason a boost may give.
const MAX_BOOST_REASON: usize = 500;

impl Platform {
    /// The transparency log's latest checkpoint (cosigned by the witness once it has cosigned).
    pub fn log_checkpoint(&self) -> Result<Vec<u8>, PlatformError> {
        self.transparency.checkpoint()
    }

    /// A person as the transparency log names them (a keyed pseudonym).
    pub fn pseudonym(&self, id: UserId) -> String {
        self.transparency.pseudonym(id)
    }

    /// The transparency log's verifier key.
    pub fn log_key(&self) -> Result<String, PlatformError> {
        self.transparency.vkey()
    }

    /// A tile of the transparency log; `None` when the log has no such tile.
    pub fn log_tile(
        &self,
        path: &foryou_tlog::paths::TilePath,
    ) -> Result<Option<Vec<u8>>, PlatformError> {
        self.transparency.tile(path)
    }

    /// The version of the ranking configuration in force (named by every feed response).
    pub fn ranking_version(&self) -> &str {
        self.transparency.config_version()
    }

    /// A ranking configuration as activated (its JSON), by version.
    pub fn recommender(&self, version: &str) -> Option<Vec<u8>> {
        self.transparency.recommender(version)
    }

    /// Every activation of a ranking configuration or trained version: (time, component,
    /// version), oldest first.
    pub fn recommender_history(&self) -> Result<Vec<(u64, String, String)>, PlatformError> {
        self.transparency.recommender_versions()
    }

    /// Each region's latest differentially private release.
    pub fn latest_releases(
        &self,
    ) -> Result<Vec<(Region, foryou_engine::release::Release)>, PlatformError> {
        for r in self.cells.regions() {
            self.try_release(r, now_ms())?;
        }
        Ok(self
            .releases
            .lock()
            .map_err(lock_err)?
            .iter()
            .map(|(r, rel)| (r.clone(), rel.clone()))
            .collect())
    }

    /// The boost or suppression in force on a video.
    pub fn boost_of(&self, video: VideoId) -> Option<BoostState> {
        self.transparency.boost_of(video)
    }

    /// Boosts, suppresses or clears a video in For You feeds, as a moderator or an admin, with a
    /// reason. It is in the transparency log before it takes effect. A moderator acts on their
    /// own region's feeds; an admin may name any served regions.
    pub fn boost(
        &self,
        caller: &Caller,
        video: VideoId,
        action: &str,
        reason: &str,
        regions: &[String],
    ) -> Result<u64, PlatformError> {
        if !matches!(caller.role, Role::Moderator | Role::Admin) {
            return Err(PlatformError::forbidden(
                "only moderators and admins may boost or suppress videos",
            ));
        }
        if !matches!(action, "boost" | "suppress" | "clear") {
            return Err(PlatformError::bad_request(
                "action: one of boost, suppress, clear",
            ));
        }
        let reason = reason.trim();
        let n = reason.chars().count();
        if n == 0 || n > MAX_BOOST_REASON {
            return Err(PlatformError::bad_request(format!(
                "reason: say why, in 1 to {MAX_BOOST_REASON} characters; it is published"
            )));
        }
        if !self
            .world
            .read()
            .map_err(lock_err)?
            .videos
            .contains_key(&video)
        {
            return Err(PlatformError::not_found(format!(
                "no video with id {video}"
            )));
        }
        let regions: Vec<String> = if regions.is_empty() {
            vec![caller.region.to_string()]
        } else {
            let mut rs = Vec::new();
            // With a public feed, a boost may name regions other nodes serve: it reaches them
            // there (and their transparency logs) through the feed.
            let known: Vec<Region> = if self.feed.is_some() {
                self.config.regions.all()
            } else {
                self.cells.regions().cloned().collect()
            };
            for r in regions {
                let Some(region) = known.iter().find(|x| x.as_str() == r) else {
                    return Err(PlatformError::bad_request(format!(
                        "regions: '{}' is not a served region",
                        r.chars().take(20).collect::<String>()
                    )));
                };
                if caller.role != Role::Admin && region != &caller.region {
                    return Err(PlatformError::forbidden(format!(
                        "a moderator acts on their own region's feeds ({}), not {region}",
                        caller.region
                    )));
                }
                if !rs.contains(&region.to_string()) {
                    rs.push(region.to_string());
                }
            }
            rs
        };
        let (ts_ms, actor) = (now_ms(), self.transparency.pseudonym(caller.user));
        let role = format!("{:?}", caller.role).to_lowercase();
        let elsewhere = regions
            .iter()
            .any(|r| !self.cells.regions().any(|x| x.as_str() == r));
        let fact = public::Fact::Boost {
            ts_ms,
            actor: actor.clone(),
            role: role.clone(),
            video,
            action: action.to_string(),
            regions: regions.clone(),
            reason: reason.to_string(),
        };
        let index = self.transparency.set_boost(
            video,
            Entry::Boost {
                v: VERSION,
                ts_ms,
                actor,
                role,
                video: video.to_string(),
                action: action.to_string(),
                regions,
                reason: reason.to_string(),
            },
        )?;
        if elsewhere {
            self.publish_facts(&caller.region, vec![(0, fact)], Publish::Append);
        }
        Ok(index)
    }
}
