//! `foryou`: the command line — serve the platform, run the demo, create admins, make clips.

mod alloc;
mod audit;
mod backends;
mod bench;
mod bench_log;
mod bench_reach;
mod cli;
mod counterfactual;
mod demo;
mod edge;
mod eval;
mod front;
mod lease;
mod proxy;

use anyhow::{bail, Context, Result};
use clap::Parser;
use cli::{regions, AdminCommand, Cli, Command};
use foryou_server::{Config, ConnLimits, Platform};
use foryou_types::Role;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

#[global_allocator]
static ALLOCATOR: alloc::HugePages = alloc::HugePages;

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
/// PostgreSQL, their leases are taken first, as `how` says (a server waits while another node
/// serves them; an operator's command is refused at once).
fn open(
    config: Config,
    file: Option<&Path>,
    how: &lease::Taking,
) -> Result<(Arc<Platform>, Option<lease::Held>)> {
    let data = config.data_dir.display().to_string();
    let fail = |e: foryou_server::PlatformError| {
        anyhow::anyhow!("opening the data dir {data}: {}", e.message)
    };
    match file {
        Some(path) => {
            let mut chosen = backends::Configured::load(path, &config.regions)?;
            if let Some(serve) = &config.serve {
                chosen.serve_only(serve)?;
            }
            for line in chosen.describe() {
                tracing::info!("backend {line}");
            }
            let held = lease::take(&chosen, how)?;
            let platform = Arc::new(Platform::open(config, &chosen).map_err(fail)?);
            platform.follow_public_feed();
            Ok((platform, Some(held)))
        }
        None if config.serve.is_some() => bail!(
            "serving some regions needs the public feed between regions: [public] events = \"nats://...\" in a --config file"
        ),
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

/// `foryou serve --config FILE`: the node listens at once; while another node holds a region's
/// lease it forwards requests to that node ([`front::Front`]), and once it holds every lease it
/// opens the platform and serves itself, on the same listener.
fn serve_node(args: &cli::ServeArgs, file: &Path) -> Result<()> {
    let config = args.config()?;
    let mut chosen = backends::Configured::load(file, &config.regions)?;
    if let Some(serve) = &config.serve {
        chosen.serve_only(serve)?;
    }
    for line in chosen.describe() {
        tracing::info!("backend {line}");
    }
    let address = args.advertise()?;
    let own = match &address {
        Some(a) => Some(proxy::node_addr(a)?),
        None => None,
    };
    let listener = std::net::TcpListener::bind(args.addr)
        .with_context(|| format!("listening on {}", args.addr))?;
    listener.set_nonblocking(true)?;
    let front = front::Front::new(own);
    let (opened, platform) = std::sync::mpsc::channel();
    let (f, addr) = (Arc::clone(&front), args.addr);
    std::thread::spawn(move || {
        let standing_by =
            |r: &foryou_types::Region, h: &foryou_postgres::Holder| f.holder(r, &h.address);
        let how = lease::Taking {
            wait: true,
            address: address.as_deref().unwrap_or(""),
            standing_by: &standing_by,
        };
        let data = config.data_dir.display().to_string();
        let held = lease::take(&chosen, &how).and_then(|held| {
            let p = Platform::open(config, &chosen)
                .map_err(|e| anyhow::anyhow!("opening the data dir {data}: {}", e.message))?;
            let p = Arc::new(p);
            p.follow_public_feed();
            Ok((p, held))
        });
        match held {
            Ok((p, held)) => {
                f.serve(foryou_server::router(Arc::clone(&p)));
                println!("Foryou is serving on http://{addr}");
                let _ = opened.send((p, held));
            }
            Err(e) => {
                eprintln!("Error: {e:#}");
                std::process::exit(1);
            }
        }
    });
    println!("Foryou is listening on http://{addr} (forwarding until it serves)");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let app = front.app();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        foryou_server::serve_with(listener, app, args.conn_limits()?, shutdown_signal()).await?;
        anyhow::Ok(())
    })
    .with_context(|| format!("serving on {}", args.addr))?;
    if let Ok((platform, held)) = platform.try_recv() {
        // Everything acknowledged is already in the logs; the snapshot only shortens the next start.
        platform
            .snapshot_engines()
            .map_err(|e| anyhow::anyhow!("writing engine snapshots: {}", e.message))?;
        held.release();
        tracing::info!("engine snapshots written; leases released; bye");
    }
    Ok(())
}

fn main() -> Result<()> {
    alloc::heap_huge_pages();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            init_logs(&args.log_format)?;
            if let Some(file) = &args.config {
                return serve_node(&args, file);
            }
            let (platform, _) = open(args.config()?, None, &lease::Taking::at_once())?;
            println!("Foryou is serving on http://{}", args.addr);
            run_server(platform, args.addr, args.conn_limits()?)
        }
        Command::Demo {
            serve,
            catalog,
            users,
            extra_videos,
            rows,
        } => {
            init_logs(&serve.log_format)?;
            let how = lease::Taking {
                wait: true,
                ..lease::Taking::at_once()
            };
            let (platform, held) = open(serve.config()?, serve.config.as_deref(), &how)?;
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
            config.serve = cli::serve_list(&config.regions, spec.as_deref())?;
            let (platform, held) = open(config, file.as_deref(), &lease::Taking::at_once())?;
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
            let train = eval::read_tsv(&train)?;
            let timed = eval::is_timed(&train);
            let r = eval::run(
                &train,
                &eval::read_tsv(&test)?,
                k,
                eval::offline_config_for(timed, config.as_deref())?,
                recs_out.as_deref(),
            )?;
            let obj = serde_json::json!({
                format!("recall@{k}"): r.recall, format!("ndcg@{k}"): r.ndcg, format!("coverage@{k}"): r.coverage,
                "users": r.users, "train_seconds": r.train_seconds, "model": "foryou-engine",
                "timed": timed,
                "blend_by_stage": r.blend, "by_known": r.by_known,
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
                "events_per_second": r.events_per_second, "model": "foryou-engine",
                "by_known": r.by_known, "blend_by_stage": r.blend,
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
