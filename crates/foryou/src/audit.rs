//! `foryou audit`: the independent monitor's tools. `witness` runs a C2SP tlog-witness for one
//! Foryou log; `verify` is what an outside auditor runs against a server (or a copy of its log
//! directory): signature, witnesses, consistency with the last run, the whole tree recomputed
//! from the entries, every entry parsed, and the ranking configuration in force checked
//! against the last one the log activated.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use foryou_tlog::audit::{self, DirSource, Source, Trust};
use foryou_tlog::entry::Entry;
use foryou_tlog::note::{CosignatureVerifier, Cosigner};
use foryou_tlog::witness::{AddError, Witness};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Run a witness (C2SP tlog-witness) that cosigns a Foryou log's checkpoints, each only if
    /// it extends the last one it cosigned.
    Witness {
        /// Address to listen on (POST /add-checkpoint).
        #[arg(long, default_value = "127.0.0.1:8090")]
        addr: SocketAddr,
        /// The witness's private key; created (readable by its owner only) when missing.
        #[arg(long)]
        key_file: PathBuf,
        /// The witness's name, for a new key.
        #[arg(long, default_value = "witness.localhost/w1")]
        name: String,
        /// The verifier key of the log it witnesses (GET /log/key on the server).
        #[arg(long)]
        log_key: String,
        /// Where it keeps the last checkpoint it cosigned (default: KEY_FILE.state).
        #[arg(long)]
        state: Option<PathBuf>,
    },
    /// Verify a Foryou server's transparency log, or a copy of its log directory.
    Verify {
        /// The server, e.g. http://127.0.0.1:8080 (reads /log/... and /v1/recommender).
        #[arg(long, conflicts_with = "dir", required_unless_present = "dir")]
        server: Option<String>,
        /// A copy of the log's directory (DATA/transparency/log), from any host.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The log's verifier key, pinned from a source you trust.
        #[arg(long)]
        key: String,
        /// The checkpoint saved by the last run; this run checks the log extends it, then
        /// saves the new one here.
        #[arg(long)]
        state: Option<PathBuf>,
        /// A witness's verifier key (repeat for several).
        #[arg(long)]
        witness_key: Vec<String>,
        /// How many of those witnesses must have cosigned (default: all of them).
        #[arg(long)]
        min_witnesses: Option<usize>,
    },
}

pub fn run(cmd: AuditCommand) -> Result<()> {
    match cmd {
        AuditCommand::Witness {
            addr,
            key_file,
            name,
            log_key,
            state,
        } => witness(addr, &key_file, &name, &log_key, state),
        AuditCommand::Verify {
            server,
            dir,
            key,
            state,
            witness_key,
            min_witnesses,
        } => {
            let witnesses = witness_key
                .iter()
                .map(|k| {
                    CosignatureVerifier::new(k).map_err(|e| anyhow::anyhow!("--witness-key: {e}"))
                })
                .collect::<Result<Vec<_>>>()?;
            let trust = Trust {
                log_vkey: key,
                min_cosigners: min_witnesses.unwrap_or(witnesses.len()),
                witnesses,
            };
            match verify(server.as_deref(), dir.as_deref(), &trust, state.as_deref()) {
                Ok(()) => Ok(()),
                Err(e) => {
                    eprintln!("FAILED: {e:#}");
                    std::process::exit(1);
                }
            }
        }
    }
}

/// Reads the log through a server's API.
struct HttpSource(String);

impl Source for HttpSource {
    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        let url = format!("{}/log/{path}", self.0);
        match foryou_server::client::get(&url) {
            Ok((200, b)) => Ok(Some(b)),
            Ok((404, _)) => Ok(None),
            Ok((s, _)) => Err(format!("{url} answered {s}")),
            Err(e) => Err(format!("{url}: {e}")),
        }
    }
}

fn verify(
    server: Option<&str>,
    dir: Option<&Path>,
    trust: &Trust,
    state: Option<&Path>,
) -> Result<()> {
    let base = server.map(|s| s.trim_end_matches('/').to_string());
    let src: Box<dyn Source> = match (&base, dir) {
        (Some(b), _) => Box::new(HttpSource(b.clone())),
        (None, Some(d)) => Box::new(DirSource(d.to_path_buf())),
        (None, None) => bail!("name --server or --dir"),
    };
    let previous = match state {
        Some(p) if p.exists() => {
            Some(std::fs::read(p).with_context(|| format!("reading --state {}", p.display()))?)
        }
        _ => None,
    };
    let mut kinds: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut last_config: Option<String> = None;
    let mut boosts = 0u64;
    let v = audit::verify(src.as_ref(), trust, previous.as_deref(), |_, raw| {
        let e = Entry::parse(raw).map_err(|e| format!("not a Foryou log entry: {e}"))?;
        let kind = match &e {
            Entry::Access { .. } => "staff access decisions",
            Entry::Release { .. } => "private cross-region releases",
            Entry::Config {
                version, component, ..
            } => {
                if component == "engine" {
                    last_config = Some(version.clone());
                    "ranking configurations activated"
                } else {
                    "trained ranker versions published"
                }
            }
            Entry::Policy { .. } => "access policies",
            Entry::Boost { .. } => {
                boosts += 1;
                "boosts and suppressions"
            }
            Entry::Role { .. } => "operator role grants",
            Entry::Erasure { .. } => "erasures",
        };
        *kinds.entry(kind).or_default() += 1;
        Ok(())
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("origin:     {}", v.origin);
    println!("checkpoint: {} entries, root {}", v.size, v.root);
    println!("signature:  verified against the pinned key");
    match &v.extends {
        Some(s) => println!("history:    extends the checkpoint of {s} entries saved last time"),
        None => println!(
            "history:    no saved checkpoint (pass --state to check the next run against this one)"
        ),
    }
    if trust.witnesses.is_empty() {
        println!("witnesses:  none trusted (pass --witness-key)");
    } else {
        println!("witnesses:  cosigned by {}", v.cosigned_by.join(", "));
    }
    println!(
        "tree:       recomputed from every entry; {} hash tiles match",
        v.tiles
    );
    for (k, n) in &kinds {
        println!("entries:    {n} {k}");
    }
    let _ = boosts;
    if let Some(b) = &base {
        let (status, body) = foryou_server::client::get(&format!("{b}/v1/recommender"))
            .map_err(|e| anyhow::anyhow!("{b}/v1/recommender: {e}"))?;
        if status != 200 {
            bail!("{b}/v1/recommender answered {status}");
        }
        let served: serde_json::Value = serde_json::from_slice(&body)?;
        let version = served["version"].as_str().unwrap_or_default().to_string();
        let (_, params) = foryou_server::client::get(&format!("{b}/v1/recommender/{version}"))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let hashed = {
            use sha2::Digest;
            sha2::Sha256::digest(&params)
                .iter()
                .map(|x| format!("{x:02x}"))
                .collect::<String>()
        };
        if hashed != version {
            bail!("RECOMMENDER MISMATCH: the parameters served for version {version} hash to {hashed}");
        }
        if last_config.as_deref() != Some(version.as_str()) {
            bail!(
                "RECOMMENDER MISMATCH: the server ranks with configuration {version}, but the last one the log activated is {}",
                last_config.as_deref().unwrap_or("none")
            );
        }
        println!("ranking:    the configuration served at /v1/recommender ({}) is the last one the log activated", &version[..12]);
    }
    if let Some(p) = state {
        write_file(p, &v.checkpoint)?;
        println!("state:      saved the checkpoint to {}", p.display());
    }
    println!("OK");
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn witness(
    addr: SocketAddr,
    key_file: &Path,
    name: &str,
    log_key: &str,
    state: Option<PathBuf>,
) -> Result<()> {
    let cosigner = match std::fs::read_to_string(key_file) {
        Ok(k) => {
            Cosigner::from_skey(&k).map_err(|e| anyhow::anyhow!("{}: {e}", key_file.display()))?
        }
        Err(_) => {
            let (skey, c) = Cosigner::generate(name).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                o.mode(0o600);
            }
            use std::io::Write;
            o.open(key_file)
                .and_then(|mut f| f.write_all(skey.as_bytes()))
                .with_context(|| format!("writing --key-file {}", key_file.display()))?;
            c
        }
    };
    let state = state.unwrap_or_else(|| key_file.with_extension("state"));
    let w = Witness::open(cosigner, log_key, state).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("witness key: {}", w.vkey());
    println!(
        "witnessing on http://{addr}/add-checkpoint (cosigned size so far: {})",
        w.size()
    );
    let w = Arc::new(w);
    let app = axum::Router::new()
        .route("/add-checkpoint", axum::routing::post(add_checkpoint))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .with_state(w);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            foryou_server::serve_with(listener, app, foryou_server::ConnLimits::default(), async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
        })
        .with_context(|| format!("witnessing on {addr}"))
}

async fn add_checkpoint(
    axum::extract::State(w): axum::extract::State<Arc<Witness>>,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::http::{header, StatusCode};
    use axum::response::IntoResponse;
    let result = tokio::task::spawn_blocking(move || w.add_checkpoint(&body)).await;
    let text =
        |s: StatusCode, m: String| (s, [(header::CONTENT_TYPE, "text/plain")], m).into_response();
    match result {
        Ok(Ok(lines)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain")],
            lines,
        )
            .into_response(),
        Ok(Err(AddError::Conflict(size))) => (
            StatusCode::CONFLICT,
            [(header::CONTENT_TYPE, "text/x.tlog.size")],
            format!("{size}\n"),
        )
            .into_response(),
        Ok(Err(e @ AddError::BadRequest(_))) => text(StatusCode::BAD_REQUEST, format!("{e}\n")),
        Ok(Err(e @ AddError::Forbidden(_))) => text(StatusCode::FORBIDDEN, format!("{e}\n")),
        Ok(Err(e @ AddError::UnknownLog(_))) => text(StatusCode::NOT_FOUND, format!("{e}\n")),
        Ok(Err(e @ AddError::BadProof(_))) => {
            tracing::error!(error = %e, "REFUSED a checkpoint that does not extend the last one cosigned");
            text(StatusCode::UNPROCESSABLE_ENTITY, format!("{e}\n"))
        }
        Ok(Err(e @ AddError::State(_))) => {
            text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n"))
        }
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}
