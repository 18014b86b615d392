//! The command line: every subcommand and its flags (clap), and how `serve`'s flags become the
//! platform's configuration.

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use foryou_server::{Config, ConnLimits, Limits};
use foryou_types::RegionMap;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Foryou: an open short-video platform with a For You feed, home-region data stores and
/// an engine you can read.
#[derive(Parser)]
#[command(name = "foryou", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Serve the API and the web UI.
    Serve(ServeArgs),
    /// Like `serve`, but first seed a demo world (catalog, creators, sounds, users) when the data dir is empty.
    Demo {
        #[command(flatten)]
        serve: ServeArgs,
        /// A KuaiRand-style catalog CSV (author_id, music_id, video_duration, tag columns); the bundled KuaiRand-Pure rows when omitted.
        #[arg(long)]
        catalog: Option<PathBuf>,
        /// How many simulated viewers to create.
        #[arg(long, default_value_t = 300)]
        users: usize,
        /// Extra videos grown around the real rows (creators with many videos, reused sounds).
        #[arg(long, default_value_t = 5000)]
        extra_videos: usize,
        /// Use only the first N catalog rows (0 = all), for a quicker start.
        #[arg(long, default_value_t = 0)]
        rows: usize,
    },
    /// The independent monitor's tools: run a witness, verify a server's transparency log.
    Audit {
        #[command(subcommand)]
        command: crate::audit::AuditCommand,
    },
    /// Administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Offline top-K evaluation (docs/EVALUATION.md): train on TRAIN, score on TEST, print JSON.
    Eval {
        /// Training interactions (user, item, ts, weight TSV with header).
        #[arg(long, required_unless_present = "counterfactual")]
        train: Option<PathBuf>,
        /// Held-out interactions, same format.
        #[arg(long, required_unless_present = "counterfactual")]
        test: Option<PathBuf>,
        /// Estimate instead how the --config candidate would have done on the logged
        /// impressions in --impressions (self-normalised inverse propensity), against the
        /// policy that served them.
        #[arg(long, requires = "impressions")]
        counterfactual: bool,
        /// Log records as JSON lines (a region's log, or an export's events.jsonl) with the
        /// impressions and the events that followed.
        #[arg(long)]
        impressions: Option<PathBuf>,
        /// Cut-off K.
        #[arg(long, default_value_t = 10)]
        k: usize,
        /// Write the top-K per test user here (user, item, rank).
        #[arg(long)]
        recs_out: Option<PathBuf>,
        /// A JSON object of engine parameters to change (as served at /v1/recommender), over the
        /// offline configuration; e.g. {"ranker_rate": 0} for the untrained heads.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Streaming replay (docs/EVALUATION.md): test-then-learn over EVENTS in time order, print JSON.
    Replay {
        /// Interactions in the EVAL.md format (user, item, ts, weight TSV with header).
        #[arg(long)]
        events: PathBuf,
        /// Cut-off K.
        #[arg(long, default_value_t = 10)]
        k: usize,
        /// Engine parameters to change, as for `eval`.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Benchmarks of the engine on seeded synthetic data: feed latency, learner throughput, ANN.
    Bench {
        /// Catalog size.
        #[arg(long, default_value_t = 1_000_000)]
        videos: usize,
        /// Users.
        #[arg(long, default_value_t = 100_000)]
        users: usize,
        /// Events learned before the feed is measured.
        #[arg(long, default_value_t = 2_000_000)]
        events: usize,
        /// Feed requests measured.
        #[arg(long, default_value_t = 2_000)]
        requests: usize,
        /// Vectors in the ANN recall measurement.
        #[arg(long, default_value_t = 100_000)]
        ann_vectors: usize,
        /// A JSON file of engine parameters to change from the serving defaults, e.g.
        /// {"ranker_every": 4} to see what a setting costs.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// How long a new upload waits for its first audience: a demo-sized region with thousands
    /// of unwatched recent videos in the pool receives For You traffic while a new creator
    /// uploads; counts the pages until each upload has had its first-stage audience.
    BenchReach {
        /// Videos in the catalog, the waiting ones included.
        #[arg(long, default_value_t = 12_500)]
        videos: usize,
        /// Of those, uploaded in the last two days and never shown.
        #[arg(long, default_value_t = 3_000)]
        waiting: usize,
        /// Viewers sending the traffic.
        #[arg(long, default_value_t = 300)]
        viewers: usize,
        /// The new creator's uploads.
        #[arg(long, default_value_t = 15)]
        uploads: usize,
        /// For You pages served per second in the region.
        #[arg(long, default_value_t = 10.0)]
        pages_per_second: f64,
        /// Items per page.
        #[arg(long, default_value_t = 8)]
        page: usize,
        /// Engine parameters to change, as for `eval`.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// The front door: sends each request to a node of the caller's home region (any node when
    /// it has no session), following a region to whichever node serves it now.
    Edge {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// The file with the `[edge]` table naming the nodes.
        #[arg(long)]
        config: PathBuf,
        /// Log format: text or json.
        #[arg(long, default_value = "text")]
        log_format: String,
    },
    /// Benchmarks of the transparency log in a temporary directory: appends (one per commit and
    /// batched), proofs, a full audit.
    BenchLog {
        /// Entries appended.
        #[arg(long, default_value_t = 100_000)]
        entries: u64,
        /// Concurrent writers for the batched appends.
        #[arg(long, default_value_t = 64)]
        threads: u64,
        /// Inclusion and consistency proofs made and checked.
        #[arg(long, default_value_t = 1_000)]
        proofs: u64,
    },
    /// Write a playable synthetic MP4 clip (H.264, made without ffmpeg), e.g. to try an upload.
    SynthClip {
        /// Length in seconds.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Varies colours and motion.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Give the clip the synthesised music of this sound seed (FLAC audio).
        #[arg(long)]
        music: Option<u64>,
        /// Large text across the picture (e.g. a hashtag); it also picks the motion.
        #[arg(long, default_value = "")]
        headline: String,
        /// Smaller text under it.
        #[arg(long, default_value = "")]
        caption: String,
        /// Also write the first frame as a PNG here.
        #[arg(long)]
        poster: Option<PathBuf>,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub(crate) enum AdminCommand {
    /// Create an admin account and print its one-time password. Run it while the server is stopped.
    Create {
        /// The admin's handle.
        #[arg(long)]
        handle: String,
        /// Country of residence (ISO 3166-1 alpha-2); fixes the admin's home region.
        #[arg(long, default_value = "IE")]
        country: String,
        /// Data directory.
        #[arg(long, default_value = "./foryou-data")]
        data: PathBuf,
        /// Region list, as for `serve` (names alone: only those regions are opened).
        #[arg(long)]
        regions: Option<String>,
        /// Backends per region, as for `serve`.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Args, Clone)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) addr: SocketAddr,
    /// Data directory: one store per region under DIR/regions/<region>.
    #[arg(long, default_value = "./foryou-data")]
    pub(crate) data: PathBuf,
    /// Longest accepted video in seconds.
    #[arg(long, default_value_t = 60)]
    pub(crate) max_video_seconds: u64,
    /// The classic format: videos of at most 15 seconds (overrides --max-video-seconds).
    #[arg(long)]
    pub(crate) classic_15s: bool,
    /// Largest accepted upload in MiB.
    #[arg(long, default_value_t = 50)]
    pub(crate) max_upload_mib: u64,
    /// Regions and their countries: "eu=DE,FR,...;us=US;row=;default=row". Default: eu (EU/EEA),
    /// us, row. Names alone ("eu,us") are the regions this node serves, as --serve-regions.
    #[arg(long)]
    pub(crate) regions: Option<String>,
    /// Log format: text or json.
    #[arg(long, default_value = "text")]
    pub(crate) log_format: String,
    /// Abuse limits over the defaults, e.g. "login_per_handle=5/15m,signup_per_client=off"
    /// (names: login_per_handle, login_per_client, signup_per_client, comments_per_user,
    /// events_per_user, uploads_per_user; rates N/30s, N/10m, N/1h or off).
    #[arg(long)]
    pub(crate) limits: Option<String>,
    /// Most uploads per user in 24 hours.
    #[arg(long, default_value_t = 50)]
    pub(crate) max_uploads_per_day: usize,
    /// Most media one user may keep stored, in MiB.
    #[arg(long, default_value_t = 2048)]
    pub(crate) max_user_storage_mib: u64,
    /// Page cache of each region's store, in MiB.
    #[arg(long, default_value_t = 64)]
    pub(crate) store_cache_mib: usize,
    /// Most open connections; past it new ones are closed at once.
    #[arg(long, default_value_t = 4096)]
    pub(crate) max_connections: usize,
    /// Most open connections from one client address.
    #[arg(long, default_value_t = 256)]
    pub(crate) max_connections_per_client: usize,
    /// Seconds a client has to send request headers (also how long an idle connection stays).
    #[arg(long, default_value_t = 10)]
    pub(crate) header_timeout_seconds: u64,
    /// Mark the web session cookies Secure (serve behind HTTPS).
    #[arg(long)]
    pub(crate) secure_cookies: bool,
    /// The staff access policy (JSON; default: the compiled-in policy/access-policy.json).
    #[arg(long)]
    pub(crate) access_policy: Option<PathBuf>,
    /// Regions that import nothing from other regions, not even private aggregates
    /// (comma-separated, e.g. "us": a US-only algorithm).
    #[arg(long)]
    pub(crate) region_only: Option<String>,
    /// The transparency log's origin, e.g. "foryou.example/log" (fixed when the log is created;
    /// default for a new log: foryou.localhost/log).
    #[arg(long)]
    pub(crate) log_origin: Option<String>,
    /// A witness to cosign the transparency log's checkpoints: its URL prefix
    /// (POST <URL>/add-checkpoint, C2SP tlog-witness).
    #[arg(long, requires = "witness_key")]
    pub(crate) witness_url: Option<String>,
    /// The witness's verifier key (printed by `foryou audit witness`).
    #[arg(long, requires = "witness_url")]
    pub(crate) witness_key: Option<String>,
    /// Where people reach this server, for links in e-mails written to DATA/outbox (parental
    /// consent); default: http://<--addr>.
    #[arg(long)]
    pub(crate) public_url: Option<String>,
    /// Backends per region (TOML: `[regions.eu] store = "postgres://..."`); regions it does
    /// not name stay embedded under --data. See README, "Running at scale".
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// Where other nodes reach this one (http://host:port), recorded with the regions' leases
    /// so that standing-by nodes forward requests here; default: http://<--addr> (nothing when
    /// --addr is a wildcard such as 0.0.0.0).
    #[arg(long)]
    pub(crate) advertise: Option<String>,
    /// Serve only these regions (comma-separated, e.g. "eu"): the node opens no backend of any
    /// other region and answers what needs one with 421 `other_region` (the edge sends it on).
    /// Default: every region.
    #[arg(long)]
    pub(crate) serve_regions: Option<String>,
}

/// The country map `--regions` gives (the default one when it gives none, or names alone).
pub(crate) fn regions(spec: &Option<String>) -> Result<RegionMap> {
    match spec {
        Some(s) if s.contains('=') => {
            RegionMap::parse(s).map_err(|e| anyhow::anyhow!("--regions: {e}"))
        }
        _ => Ok(RegionMap::default()),
    }
}

/// The regions a node serves: `list` is "eu,us" (from --serve-regions, or --regions with names
/// alone); `None` (every region) without one, or when `list` is a country map.
pub(crate) fn serve_list(
    map: &RegionMap,
    list: Option<&str>,
) -> Result<Option<std::collections::BTreeSet<foryou_types::Region>>> {
    let Some(list) = list.filter(|l| !l.contains('=')) else {
        return Ok(None);
    };
    let all = map.all();
    let mut serve = std::collections::BTreeSet::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let r = foryou_types::Region::new(name)
            .ok()
            .filter(|r| all.contains(r))
            .with_context(|| format!("'{name}' is not one of this deployment's regions"))?;
        serve.insert(r);
    }
    if serve.is_empty() {
        bail!("the list of regions to serve names no region");
    }
    Ok(Some(serve))
}

impl ServeArgs {
    /// Where other nodes reach this one, checked; `None` when nothing says.
    pub(crate) fn advertise(&self) -> Result<Option<String>> {
        match &self.advertise {
            Some(url) => {
                crate::proxy::node_addr(url).context("--advertise")?;
                Ok(Some(url.trim_end_matches('/').to_string()))
            }
            None if self.addr.ip().is_unspecified() => Ok(None),
            None => Ok(Some(format!("http://{}", self.addr))),
        }
    }

    pub(crate) fn config(&self) -> Result<Config> {
        let mut c = Config::new(&self.data);
        if self.regions.as_deref().is_some_and(|s| !s.contains('=')) && self.serve_regions.is_some()
        {
            bail!("--regions eu,us and --serve-regions say the same thing: give one");
        }
        c.regions = regions(&self.regions)?;
        c.serve = serve_list(
            &c.regions,
            self.serve_regions.as_deref().or(self.regions.as_deref()),
        )?;
        c.max_video_ms = if self.classic_15s {
            15_000
        } else {
            self.max_video_seconds * 1000
        };
        c.max_upload_bytes = self.max_upload_mib << 20;
        if c.max_video_ms == 0 || c.max_upload_bytes == 0 {
            bail!("--max-video-seconds and --max-upload-mib must be above zero");
        }
        if let Some(spec) = &self.limits {
            c.limits = Limits::parse(spec).map_err(|e| anyhow::anyhow!("--limits: {e}"))?;
        }
        c.max_uploads_per_day = self.max_uploads_per_day;
        c.max_user_storage_bytes = self.max_user_storage_mib << 20;
        c.store_cache_bytes = self.store_cache_mib << 20;
        c.secure_cookies = self.secure_cookies;
        c.log_origin = self.log_origin.clone();

        c.public_url = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.addr));
        if let (Some(url), Some(vkey)) = (&self.witness_url, &self.witness_key) {
            c.witness = Some(foryou_server::WitnessConfig {
                url: url.clone(),
                vkey: vkey.clone(),
            });
        }
        if let Some(path) = &self.access_policy {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading --access-policy {}", path.display()))?;
            c.access_policy = foryou_server::gateway::Policy::parse(&text)
                .map_err(|e| anyhow::anyhow!("--access-policy {}: {e}", path.display()))?;
        }
        for name in self
            .region_only
            .iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let r = foryou_types::Region::new(name)
                .map_err(|e| anyhow::anyhow!("--region-only: {e}"))?;
            if !c.regions.all().contains(&r) {
                bail!("--region-only: '{name}' is not one of the configured regions");
            }
            c.region_only.insert(r);
        }
        Ok(c)
    }

    pub(crate) fn conn_limits(&self) -> Result<ConnLimits> {
        if self.max_connections == 0
            || self.max_connections_per_client == 0
            || self.header_timeout_seconds == 0
        {
            bail!("--max-connections, --max-connections-per-client and --header-timeout-seconds must be above zero");
        }
        Ok(ConnLimits {
            max_connections: self.max_connections,
            max_per_client: self.max_connections_per_client,
            header_timeout: std::time::Duration::from_secs(self.header_timeout_seconds),
            ..ConnLimits::default()
        })
    }
}
