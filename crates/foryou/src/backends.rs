//! The backends this binary runs on. By default every region is embedded: one redb file for the
//! event log, one for the records, a local directory for media, under `--data`. A `--config`
//! file names other backends per region; only the binary knows them (the server and the engine
//! see the traits).
//!
//! ```toml
//! [regions.eu]
//! store = "postgres://foryou@127.0.0.1:5432/foryou_eu"   # or "embedded" (the default)
//! media = "s3://foryou-eu?endpoint=http://127.0.0.1:8333" # credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
//! events = "nats://127.0.0.1:4222"                        # a JetStream stream FORYOU_EU
//!
//! [postgres]              # optional
//! max_connections = 8
//! statement_timeout_ms = 10000
//! lease_ttl_ms = 10000    # one node serves a region: see lease.rs
//! ```

use anyhow::{bail, Context, Result};
use foryou_media::{LocalObjectStore, ObjectStore};
use foryou_nats::NatsLog;
use foryou_postgres::{Lease, PgKeys, PgOptions, PgStore};
use foryou_s3::S3Store;
use foryou_server::{Backends, Config, ObjectSnapshot, PlatformError, SnapshotStore};
use foryou_store::{EmbeddedKeys, EmbeddedLog, EmbeddedStore, EventLog, KeyStore, RegionStore};
use foryou_types::{Region, RegionMap};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// Embedded storage: no server to install.
pub struct Embedded;

impl Backends for Embedded {
    fn keys(&self, region: &Region, dir: &Path) -> Result<Box<dyn KeyStore>, PlatformError> {
        Ok(Box::new(EmbeddedKeys::open(region.clone(), dir)?))
    }

    fn log(
        &self,
        region: &Region,
        dir: &Path,
        config: &Config,
    ) -> Result<Box<dyn EventLog>, PlatformError> {
        Ok(Box::new(EmbeddedLog::open(
            region.clone(),
            dir,
            config.store_cache_bytes,
        )?))
    }

    fn store(
        &self,
        region: &Region,
        dir: &Path,
        config: &Config,
    ) -> Result<Box<dyn RegionStore>, PlatformError> {
        Ok(Box::new(EmbeddedStore::open(
            region.clone(),
            dir,
            config.store_cache_bytes,
        )?))
    }

    fn media(&self, _: &Region, dir: &Path) -> Result<Box<dyn ObjectStore>, PlatformError> {
        Ok(Box::new(LocalObjectStore::open(dir.join("media"))?))
    }
}

/// The `--config` file.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Backends per region; a region without a table stays embedded.
    #[serde(default)]
    regions: BTreeMap<String, RegionTable>,
    /// How PostgreSQL stores connect.
    #[serde(default)]
    postgres: PgTable,
    /// The edge's table (`foryou edge` reads it; nodes ignore it).
    #[serde(default)]
    #[allow(dead_code)]
    edge: Option<toml::Table>,
    /// The public feed between regions.
    #[serde(default)]
    public: PublicTable,
}

#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct PublicTable {
    /// `nats://…`: the stream every region's nodes publish their public facts to and read the
    /// others' from (needed by nodes started with --serve-regions).
    events: Option<String>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct RegionTable {
    store: Option<String>,
    events: Option<String>,
    media: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct PgTable {
    #[serde(default = "default_connections")]
    max_connections: usize,
    #[serde(default = "default_timeout_ms")]
    statement_timeout_ms: u64,
    #[serde(default = "default_lease_ms")]
    lease_ttl_ms: u64,
}

impl Default for PgTable {
    fn default() -> Self {
        PgTable {
            max_connections: default_connections(),
            statement_timeout_ms: default_timeout_ms(),
            lease_ttl_ms: default_lease_ms(),
        }
    }
}

fn default_lease_ms() -> u64 {
    10_000
}

fn default_connections() -> usize {
    8
}

fn default_timeout_ms() -> u64 {
    10_000
}

/// Where one region's records live.
#[derive(Clone, Debug, PartialEq)]
enum StoreChoice {
    Embedded,
    Postgres(String),
}

/// Where one region's media live.
#[derive(Clone, Debug, PartialEq)]
enum MediaChoice {
    Embedded,
    S3(String),
}

/// Backends chosen per region by a configuration file.
pub struct Configured {
    stores: BTreeMap<Region, StoreChoice>,
    media: BTreeMap<Region, MediaChoice>,
    /// Regions whose event log is on NATS JetStream (the URL).
    events: BTreeMap<Region, String>,
    pg: PgOptions,
    /// How long a region's serving lease lasts unless renewed.
    lease_ttl: Duration,
    /// The public feed's NATS URL, if any.
    public: Option<String>,
}

impl Configured {
    /// Reads and checks `path` against the platform's regions.
    pub fn load(path: &Path, regions: &RegionMap) -> Result<Configured> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading --config {}", path.display()))?;
        Configured::parse(&text, regions).with_context(|| format!("--config {}", path.display()))
    }

    fn parse(text: &str, regions: &RegionMap) -> Result<Configured> {
        let file: FileConfig = toml::from_str(text)?;
        if file.postgres.max_connections == 0 || file.postgres.max_connections > 1000 {
            bail!("postgres.max_connections must be 1 to 1000");
        }
        if !(100..=600_000).contains(&file.postgres.statement_timeout_ms) {
            bail!("postgres.statement_timeout_ms must be 100 to 600000");
        }
        if !(1_000..=600_000).contains(&file.postgres.lease_ttl_ms) {
            bail!("postgres.lease_ttl_ms must be 1000 to 600000");
        }
        let mut stores = BTreeMap::new();
        let mut media = BTreeMap::new();
        let mut events = BTreeMap::new();
        for (name, t) in file.regions {
            let region = Region::new(&name)
                .ok()
                .filter(|r| regions.all().contains(r))
                .with_context(|| {
                    format!(
                        "[regions.{name}]: not one of this server's regions ({})",
                        regions
                            .all()
                            .iter()
                            .map(|r| r.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?;
            let store = match t.store.as_deref() {
                None | Some("embedded") => StoreChoice::Embedded,
                Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                    StoreChoice::Postgres(url.to_string())
                }
                Some(other) => bail!(
                    "[regions.{name}] store: '{}' is not \"embedded\" or a postgres:// URL",
                    scheme_of(other)
                ),
            };
            let files = match t.media.as_deref() {
                None | Some("embedded") => MediaChoice::Embedded,
                Some(url) if url.starts_with("s3://") => {
                    foryou_s3::Location::parse(url)
                        .map_err(|e| anyhow::anyhow!("[regions.{name}] media: {e}"))?;
                    MediaChoice::S3(url.to_string())
                }
                Some(other) => bail!(
                    "[regions.{name}] media: '{}' is not \"embedded\" or an s3:// URL",
                    scheme_of(other)
                ),
            };
            match t.events.as_deref() {
                None | Some("embedded") => {}
                Some(url) if url.starts_with("nats://") => {
                    foryou_nats::Location::parse(url)
                        .map_err(|e| anyhow::anyhow!("[regions.{name}] events: {e}"))?;
                    events.insert(region.clone(), url.to_string());
                }
                Some(other) => bail!(
                    "[regions.{name}] events: '{}' is not \"embedded\" or a nats:// URL",
                    scheme_of(other)
                ),
            }
            stores.insert(region.clone(), store);
            media.insert(region, files);
        }
        Ok(Configured {
            stores,
            media,
            events,
            pg: PgOptions {
                max_connections: file.postgres.max_connections,
                statement_timeout: Duration::from_millis(file.postgres.statement_timeout_ms),
            },
            lease_ttl: Duration::from_millis(file.postgres.lease_ttl_ms),
            public: match file.public.events.as_deref() {
                None => None,
                Some(url) if url.starts_with("nats://") => {
                    foryou_nats::Location::parse(url)
                        .map_err(|e| anyhow::anyhow!("[public] events: {e}"))?;
                    Some(url.to_string())
                }
                Some(other) => bail!(
                    "[public] events: '{}' is not a nats:// URL",
                    scheme_of(other)
                ),
            },
        })
    }

    /// Forgets every region but `serve`'s, so nothing of theirs is ever opened: no connection,
    /// no lease, no bucket. A node serving some regions learns the others' public side from
    /// the public feed, so it needs one.
    pub fn serve_only(&mut self, serve: &std::collections::BTreeSet<Region>) -> Result<()> {
        if self.public.is_none() {
            bail!("--serve-regions needs the public feed between regions: [public] events = \"nats://...\" in --config");
        }
        self.stores.retain(|r, _| serve.contains(r));
        self.media.retain(|r, _| serve.contains(r));
        self.events.retain(|r, _| serve.contains(r));
        Ok(())
    }

    /// The serving lease of every region whose records are on PostgreSQL, for node `owner`.
    pub fn leases(&self, owner: &str) -> Result<Vec<(Region, Lease)>> {
        let mut out = Vec::new();
        for (region, store) in &self.stores {
            if let StoreChoice::Postgres(url) = store {
                let lease = Lease::new(region.clone(), url, owner, self.lease_ttl, &self.pg)
                    .map_err(|e| anyhow::anyhow!("region {region}: {e}"))?;
                out.push((region.clone(), lease));
            }
        }
        Ok(out)
    }

    /// What each configured region uses, for the start-up log (no credentials).
    pub fn describe(&self) -> Vec<String> {
        self.stores
            .iter()
            .map(|(r, s)| {
                let records = match s {
                    StoreChoice::Embedded => "records embedded".to_string(),
                    StoreChoice::Postgres(url) => {
                        format!("records and keys on PostgreSQL {}", redact(url))
                    }
                };
                let files = match self.media.get(r) {
                    Some(MediaChoice::S3(url)) => format!("media and engine snapshots on S3 {url}"),
                    _ => "media embedded".to_string(),
                };
                let log = match self.events.get(r) {
                    Some(url) => format!("events on NATS JetStream {}", redact(url)),
                    None => "events embedded".to_string(),
                };
                format!("{r}: {records}, {files}, {log}")
            })
            .chain(self.public.iter().map(|url| {
                format!(
                    "public feed between regions on NATS JetStream {}",
                    redact(url)
                )
            }))
            .collect()
    }
}

/// A URL's scheme, never the rest (which may hold a password).
fn scheme_of(url: &str) -> String {
    url.split("://")
        .next()
        .unwrap_or("")
        .chars()
        .take(20)
        .collect()
}

/// A postgres URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{user}@{}", &url[..s], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

impl Backends for Configured {
    /// The keys live with the records: in the region's database when its records are there.
    fn keys(&self, region: &Region, dir: &Path) -> Result<Box<dyn KeyStore>, PlatformError> {
        match self.stores.get(region) {
            Some(StoreChoice::Postgres(url)) => {
                Ok(Box::new(PgKeys::open(region.clone(), url, &self.pg)?))
            }
            _ => Embedded.keys(region, dir),
        }
    }

    fn log(
        &self,
        region: &Region,
        dir: &Path,
        config: &Config,
    ) -> Result<Box<dyn EventLog>, PlatformError> {
        match self.events.get(region) {
            Some(url) => Ok(Box::new(NatsLog::open(region.clone(), url)?)),
            None => Embedded.log(region, dir, config),
        }
    }

    fn store(
        &self,
        region: &Region,
        dir: &Path,
        config: &Config,
    ) -> Result<Box<dyn RegionStore>, PlatformError> {
        match self.stores.get(region) {
            Some(StoreChoice::Postgres(url)) => {
                Ok(Box::new(PgStore::open(region.clone(), url, &self.pg)?))
            }
            _ => Embedded.store(region, dir, config),
        }
    }

    fn media(&self, region: &Region, dir: &Path) -> Result<Box<dyn ObjectStore>, PlatformError> {
        match self.media.get(region) {
            Some(MediaChoice::S3(url)) => Ok(Box::new(S3Store::open(url)?)),
            _ => Embedded.media(region, dir),
        }
    }

    /// With media on S3, the engine's snapshot is an object beside them (`engine/snapshot`), so
    /// a node that takes the region over starts from it.
    fn public_feed(&self) -> Result<Option<Box<dyn foryou_store::PublicFeed>>, PlatformError> {
        match &self.public {
            Some(url) => Ok(Some(Box::new(foryou_nats::NatsFeed::open(url)?))),
            None => Ok(None),
        }
    }

    fn snapshots(
        &self,
        region: &Region,
        dir: &Path,
    ) -> Result<Box<dyn SnapshotStore>, PlatformError> {
        match self.media.get(region) {
            Some(MediaChoice::S3(url)) => {
                Ok(Box::new(ObjectSnapshot::new(Box::new(S3Store::open(url)?))))
            }
            _ => Ok(Box::new(foryou_server::FileSnapshot::in_dir(dir))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_names_backends_per_region_and_refuses_what_it_cannot_run() {
        let regions = RegionMap::default();
        let c = Configured::parse(
            "[regions.eu]\nstore = \"postgres://foryou:secret@db.eu:5432/foryou_eu\"\n[regions.us]\nstore = \"embedded\"\n",
            &regions,
        )
        .expect("parse");
        assert_eq!(
            c.describe(),
            [
                "eu: records and keys on PostgreSQL postgres://foryou@db.eu:5432/foryou_eu, media embedded, events embedded",
                "us: records embedded, media embedded, events embedded"
            ]
        );
        let bad = |text: &str| {
            Configured::parse(text, &regions)
                .err()
                .map(|e| format!("{e:#}"))
                .expect("refused")
        };
        assert!(bad("[regions.mars]\nstore = \"embedded\"")
            .contains("not one of this server's regions"));
        assert!(bad("[regions.eu]\nstore = \"mysql://x:pw@h/db\"").contains("'mysql'"));
        assert!(
            !bad("[regions.eu]\nstore = \"mysql://x:pw@h/db\"").contains("pw"),
            "a password in an error"
        );
        assert!(bad("[regions.eu]\nevents = \"kafka://k:9092\"").contains("'kafka'"));
        assert!(bad("[regions.eu]\nevents = \"nats://h?replicas=2\"").contains("replicas"));
        assert!(bad("[regions.eu]\nstroe = \"embedded\"").contains("unknown field"));
        assert!(bad("[regions.eu]\nmedia = \"s3://bucket\"").contains("endpoint"));
        let leaky = "[regions.eu]\nmedia = \"s3://k:hush@bucket?endpoint=http://h\"";
        assert!(bad(leaky).contains("credentials do not go") && !bad(leaky).contains("hush"));
        assert!(bad("[postgres]\nmax_connections = 0").contains("max_connections"));
        assert!(Configured::parse("", &regions)
            .expect("empty")
            .stores
            .is_empty());
    }
}
