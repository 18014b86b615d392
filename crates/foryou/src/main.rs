//! `foryou`: the command line — serve the platform, run the demo, create admins, make clips.

mod audit;
mod backends;
mod bench;
mod bench_log;
mod bench_reach;
mod counterfactual;
mod demo;
mod edge;
mod eval;
mod lease;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use foryou_server::{Config, ConnLimits, Limits, Platform};
use foryou_types::{RegionMap, Role};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Foryou: an open short-video platform with a For You feed, home-region data stores and
/// an engine you can read.
#[derive(Parser)]
#[command(name = "foryou", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
        command: audit::AuditCommand,
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
enum AdminCommand {
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
        /// Region list, as for `serve`.
        #[arg(long)]
        regions: Option<String>,
        /// Backends per region, as for `serve`.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Data directory: one store per region under DIR/regions/<region>.
    #[arg(long, default_value = "./foryou-data")]
    data: PathBuf,
    /// Longest accepted video in seconds.
    #[arg(long, default_value_t = 60)]
    max_video_seconds: u64,
    /// The classic format: videos of at most 15 seconds (overrides --max-video-seconds).
    #[arg(long)]
    classic_15s: bool,
    /// Largest accepted upload in MiB.
    #[arg(long, default_value_t = 50)]
    max_upload_mib: u64,
    /// Regions and their countries: "eu=DE,FR,...;us=US;row=;default=row". Default: eu (EU/EEA), us, row.
    #[arg(long)]
    regions: Option<String>,
    /// Log format: text or json.
    #[arg(long, default_value = "text")]
    log_format: String,
    /// Abuse limits over the defaults, e.g. "login_per_handle=5/15m,signup_per_client=off"
    /// (names: login_per_handle, login_per_client, signup_per_client, comments_per_user,
    /// events_per_user, uploads_per_user; rates N/30s, N/10m, N/1h or off).
    #[arg(long)]
    limits: Option<String>,
    /// Most uploads per user in 24 hours.
    #[arg(long, default_value_t = 50)]
    max_uploads_per_day: usize,
    /// Most media one user may keep stored, in MiB.
    #[arg(long, default_value_t = 2048)]
    max_user_storage_mib: u64,
    /// Page cache of each region's store, in MiB.
    #[arg(long, default_value_t = 64)]
    store_cache_mib: usize,
    /// Most open connections; past it new ones are closed at once.
    #[arg(long, default_value_t = 4096)]
    max_connections: usize,
    /// Most open connections from one client address.
    #[arg(long, default_value_t = 256)]
    max_connections_per_client: usize,
    /// Seconds a client has to send request headers (also how long an idle connection stays).
    #[arg(long, default_value_t = 10)]
    header_timeout_seconds: u64,
    /// Mark the web session cookies Secure (serve behind HTTPS).
    #[arg(long)]
    secure_cookies: bool,
    /// The staff access policy (JSON; default: the compiled-in policy/access-policy.json).
    #[arg(long)]
    access_policy: Option<PathBuf>,
    /// Regions that import nothing from other regions, not even private aggregates
    /// (comma-separated, e.g. "us": a US-only algorithm).
    #[arg(long)]
    region_only: Option<String>,
    /// The transparency log's origin, e.g. "foryou.example/log" (fixed when the log is created;
    /// default for a new log: foryou.localhost/log).
    #[arg(long)]
    log_origin: Option<String>,
    /// A witness to cosign the transparency log's checkpoints: its URL prefix
    /// (POST <URL>/add-checkpoint, C2SP tlog-witness).
    #[arg(long, requires = "witness_key")]
    witness_url: Option<String>,
    /// The witness's verifier key (printed by `foryou audit witness`).
    #[arg(long, requires = "witness_url")]
    witness_key: Option<String>,
    /// Where people reach this server, for links in e-mails written to DATA/outbox (parental
    /// consent); default: http://<--addr>.
    #[arg(long)]
    public_url: Option<String>,
    /// Backends per region (TOML: `[regions.eu] store = "postgres://..."`); regions it does
    /// not name stay embedded under --data. See README, "Running at scale".
    #[arg(long)]
    config: Option<PathBuf>,
}

fn regions(spec: &Option<String>) -> Result<RegionMap> {
    match spec {
        Some(s) => RegionMap::parse(s).map_err(|e| anyhow::anyhow!("--regions: {e}")),
        None => Ok(RegionMap::default()),
    }
}

impl ServeArgs {
    fn config(&self) -> Result<Config> {
        let mut c = Config::new(&self.data);
        c.regions = regions(&self.regions)?;
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

    fn conn_limits(&self) -> Result<ConnLimits> {
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

fn init_logs(format: &str) -> Result<()> {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        "json" => b.json().init(),
        "text" => b.init(),
        other => bail!("--log-format: '{other}' is not text or json"),
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Opens the platform on the backends `file` chooses (embedded without one). With regions on
/// PostgreSQL, their leases are taken first: waited for when `wait` (a server stands by while
/// another node serves them), refused at once otherwise.
fn open(
    config: Config,
    file: Option<&Path>,
    wait: bool,
) -> Result<(Arc<Platform>, Option<lease::Held>)> {
    let data = config.data_dir.display().to_string();
    let fail = |e: foryou_server::PlatformError| {
        anyhow::anyhow!("opening the data dir {data}: {}", e.message)
    };
    match file {
        Some(path) => {
            let chosen = backends::Configured::load(path, &config.regions)?;
            for line in chosen.describe() {
                tracing::info!("backend {line}");
            }
            let held = lease::take(&chosen, wait)?;
            let platform = Platform::open(config, &chosen).map_err(fail)?;
            Ok((Arc::new(platform), Some(held)))
        }
        None => Ok((
            Arc::new(Platform::open(config, &backends::Embedded).map_err(fail)?),
            None,
        )),
    }
}

fn run_server(platform: Arc<Platform>, addr: SocketAddr, limits: ConnLimits) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(foryou_server::serve(
        Arc::clone(&platform),
        addr,
        limits,
        shutdown_signal(),
    ))
    .with_context(|| format!("serving on {addr}"))?;
    // Everything acknowledged is already in the logs; the snapshot only shortens the next start.
    platform
        .snapshot_engines()
        .map_err(|e| anyhow::anyhow!("writing engine snapshots: {}", e.message))?;
    tracing::info!("engine snapshots written; bye");
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            init_logs(&args.log_format)?;
            let (platform, held) = open(args.config()?, args.config.as_deref(), true)?;
            println!("Foryou is serving on http://{}", args.addr);
            run_server(platform, args.addr, args.conn_limits()?)?;
            if let Some(h) = held {
                h.release();
            }
            Ok(())
        }
        Command::Demo {
            serve,
            catalog,
            users,
            extra_videos,
            rows,
        } => {
            init_logs(&serve.log_format)?;
            let (platform, held) = open(serve.config()?, serve.config.as_deref(), true)?;
            let login = demo::ensure(
                &platform,
                &serve.data,
                demo::DemoOptions {
                    catalog,
                    users,
                    extra_videos,
                    rows,
                },
            )?;
            println!("\nForyou demo is ready: open http://{}", serve.addr);
            println!(
                "Log in as '{}' with password '{}' (or sign up).\n",
                login.0, login.1
            );
            run_server(platform, serve.addr, serve.conn_limits()?)?;
            if let Some(h) = held {
                h.release();
            }
            Ok(())
        }
        Command::Admin {
            command:
                AdminCommand::Create {
                    handle,
                    country,
                    data,
                    regions: spec,
                    config: file,
                },
        } => {
            let mut config = Config::new(&data);
            config.regions = regions(&spec)?;
            let (platform, held) = open(config, file.as_deref(), false)?;
            let password = demo::random_password();
            platform
                .create_account(&handle, &password, "1970-01-01", &country, Role::Admin)
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            println!("created admin '{handle}'; one-time password: {password}");
            println!("log in with it and keep it safe: it is stored only as an argon2id hash");
            if let Some(h) = held {
                h.release();
            }
            Ok(())
        }
        Command::Eval {
            train,
            test,
            k,
            recs_out,
            config,
            counterfactual,
            impressions,
        } => {
            if k == 0 {
                bail!("--k must be at least 1");
            }
            if counterfactual {
                let path = impressions.context("--counterfactual needs --impressions")?;
                let r = counterfactual::run(&path, &eval::offline_config(config.as_deref())?, k)?;
                println!("{}", serde_json::to_string(&r)?);
                return Ok(());
            }
            let (Some(train), Some(test)) = (train, test) else {
                bail!("--train and --test are required (or --counterfactual with --impressions)");
            };
            let r = eval::run(
                &eval::read_tsv(&train)?,
                &eval::read_tsv(&test)?,
                k,
                eval::offline_config(config.as_deref())?,
                recs_out.as_deref(),
            )?;
            let obj = serde_json::json!({
                format!("recall@{k}"): r.recall, format!("ndcg@{k}"): r.ndcg, format!("coverage@{k}"): r.coverage,
                "users": r.users, "train_seconds": r.train_seconds, "model": "foryou-engine"
            });
            println!("{obj}");
            Ok(())
        }
        Command::Replay { events, k, config } => {
            if k == 0 {
                bail!("--k must be at least 1");
            }
            let r = eval::replay(
                &eval::read_tsv(&events)?,
                k,
                eval::offline_config(config.as_deref())?,
            )?;
            let obj = serde_json::json!({
                format!("hr@{k}"): r.hr, format!("mrr@{k}"): r.mrr, format!("hr@{k}_by_tenth"): r.hr_by_tenth,
                "scored_events": r.scored, "events": r.events, "seconds": r.seconds,
                "events_per_second": r.events_per_second, "model": "foryou-engine"
            });
            println!("{obj}");
            Ok(())
        }
        Command::Bench {
            videos,
            users,
            events,
            requests,
            ann_vectors,
            config,
        } => {
            let report = bench::run(bench::BenchOptions {
                videos,
                users,
                events,
                requests,
                ann_vectors,
                engine: eval::config_with_changes(
                    foryou_engine::EngineConfig::default(),
                    config.as_deref(),
                )?,
            })?;
            println!("{report}");
            Ok(())
        }
        Command::BenchReach {
            videos,
            waiting,
            viewers,
            uploads,
            pages_per_second,
            page,
            config,
        } => {
            if !(pages_per_second > 0.0 && pages_per_second.is_finite())
                || page == 0
                || viewers == 0
            {
                anyhow::bail!("--pages-per-second, --page and --viewers must be positive");
            }
            let report = bench_reach::run(bench_reach::ReachOptions {
                videos,
                waiting,
                viewers,
                uploads,
                pages_per_second,
                page,
                engine: eval::config_with_changes(
                    foryou_engine::EngineConfig::default(),
                    config.as_deref(),
                )?,
            })?;
            println!("{report}");
            Ok(())
        }
        Command::Edge {
            addr,
            config,
            log_format,
        } => {
            init_logs(&log_format)?;
            let edge = edge::Edge::load(&config)?;
            println!("Foryou's edge is serving on http://{addr}");
            edge::run(edge, addr, ConnLimits::default(), shutdown_signal())
        }
        Command::BenchLog {
            entries,
            threads,
            proofs,
        } => {
            let report = bench_log::run(bench_log::LogBenchOptions {
                entries,
                threads,
                proofs,
            })?;
            println!("{report}");
            Ok(())
        }
        Command::Audit { command } => {
            init_logs("text")?;
            audit::run(command)
        }
        Command::SynthClip {
            seconds,
            seed,
            music,
            headline,
            caption,
            poster,
            out,
        } => {
            if !(0.1..=600.0).contains(&seconds) {
                bail!("--seconds must be between 0.1 and 600");
            }
            let spec = foryou_media::synth::ClipSpec {
                seconds,
                seed,
                hue: (seed * 47 % 360) as f64,
                band_hue: (seed * 91 % 360) as f64,
                music,
                headline,
                caption,
                ..Default::default()
            };
            if let Some(p) = &poster {
                std::fs::write(p, foryou_media::synth::poster_png(&spec))
                    .with_context(|| format!("writing {}", p.display()))?;
            }
            std::fs::write(&out, foryou_media::synth::clip_mp4(&spec))
                .with_context(|| format!("writing {}", out.display()))?;
            println!(
                "wrote {} ({seconds} s, {}x{})",
                out.display(),
                foryou_media::synth::WIDTH,
                foryou_media::synth::HEIGHT
            );
            Ok(())
        }
    }
}
