//! `foryou edge`: the front door. It keeps nothing and reads only what routing needs: a request
//! with a session (a bearer token or the web app's cookie) goes to a node of the session's
//! home region (the token's `fy_<region>_` prefix says which), any other request to any node.
//! Within a region it sends the request to the first node that takes the connection, so when
//! the node serving a region dies and a standing-by node takes the region's lease, the edge
//! follows without being told. The accept loop is the server's own (connection caps, header
//! deadline, graceful stop).
//!
//! ```toml
//! [edge]
//! nodes = ["http://127.0.0.1:8081", "http://127.0.0.1:8082"]   # every node, for any request
//! [edge.regions]                                             # optional: a region's own nodes
//! eu = ["http://10.0.1.5:8080", "http://10.0.1.6:8080"]
//! ```

use crate::proxy::{self, node_addr, session_region, Sent};
use anyhow::{bail, Context, Result};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Request, Response, StatusCode};
use axum::Router;
use foryou_types::Region;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// The `[edge]` table.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct EdgeTable {
    /// Every node, tried in order for requests without a session (and for a region without
    /// nodes of its own).
    #[serde(default)]
    nodes: Vec<String>,
    /// Nodes per region, for requests with a session of that region.
    #[serde(default)]
    regions: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct EdgeFile {
    #[serde(default)]
    edge: Option<EdgeTable>,
}

/// Where the edge sends requests.
pub struct Edge {
    any: Vec<SocketAddr>,
    regions: BTreeMap<Region, Vec<SocketAddr>>,
}

impl Edge {
    /// Reads the `[edge]` table of `path`.
    pub fn load(path: &std::path::Path) -> Result<Edge> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading --config {}", path.display()))?;
        // The file may hold the nodes' tables too; only [edge] is read here.
        let value: toml::Table =
            toml::from_str(&text).with_context(|| format!("--config {}", path.display()))?;
        let edge = value
            .get("edge")
            .cloned()
            .unwrap_or(toml::Value::Table(Default::default()));
        let file = EdgeFile {
            edge: Some(edge.try_into().context("[edge]")?),
        };
        let t = file.edge.unwrap_or_default();
        let any = t
            .nodes
            .iter()
            .map(|n| node_addr(n))
            .collect::<Result<Vec<_>>>()?;
        let mut regions = BTreeMap::new();
        for (name, nodes) in &t.regions {
            let r = Region::new(name).map_err(|e| anyhow::anyhow!("[edge.regions] {name}: {e}"))?;
            regions.insert(
                r,
                nodes
                    .iter()
                    .map(|n| node_addr(n))
                    .collect::<Result<Vec<_>>>()?,
            );
        }
        if any.is_empty() && regions.is_empty() {
            bail!("[edge] names no node: nodes = [\"http://host:port\", ...]");
        }
        Ok(Edge { any, regions })
    }

    /// The nodes for a request of `region` (none: any node).
    fn nodes(&self, region: Option<&Region>) -> &[SocketAddr] {
        match region.and_then(|r| self.regions.get(r)) {
            Some(n) if !n.is_empty() => n,
            _ if !self.any.is_empty() => &self.any,
            _ => self
                .regions
                .values()
                .next()
                .map(Vec::as_slice)
                .unwrap_or(&[]),
        }
    }
}

fn unavailable(region: Option<&Region>) -> Response<Body> {
    let what = region
        .map(|r| format!("region {r}"))
        .unwrap_or_else(|| "any region".into());
    proxy::unavailable(
        "no_node",
        format!("no node of {what} answers; try again in a moment"),
    )
}

/// The largest request body the edge keeps to send again.
const KEPT_BODY: usize = 64 * 1024;

/// Sends the request to the first node that takes the connection; streams the answer back.
/// A node that serves only some regions answers a request that needs another with 421 and
/// that region's name (`Foryou-Region`): the edge sends it once more, to that region's nodes,
/// when it kept the request (one without a body, or with a small one: a sign-up, a log-in).
async fn forward(State(edge): State<Arc<Edge>>, req: Request<Body>) -> Response<Body> {
    let region = session_region(&req);
    let length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let chunked = req.headers().contains_key(header::TRANSFER_ENCODING);
    let keep = !chunked && length.is_none_or(|n| n <= KEPT_BODY);
    let (first, again) = if keep {
        let (parts, body) = req.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, KEPT_BODY).await else {
            let mut r = proxy::unavailable(
                "bad_body",
                format!("the request body was cut off or is longer than its Content-Length (at most {KEPT_BODY} bytes here); send it again whole"),
            );
            *r.status_mut() = StatusCode::BAD_REQUEST;
            r.headers_mut().remove(axum::http::header::RETRY_AFTER);
            return r;
        };
        let copy = |bytes: axum::body::Bytes| {
            let mut r = Request::new(Body::from(bytes));
            *r.method_mut() = parts.method.clone();
            *r.uri_mut() = parts.uri.clone();
            *r.version_mut() = parts.version;
            *r.headers_mut() = parts.headers.clone();
            r
        };
        (copy(bytes.clone()), Some(copy(bytes)))
    } else {
        (req, None)
    };
    let answer = |sent: Sent| match sent {
        Sent::Answered(res) => res,
        Sent::Failed => {
            let mut r = unavailable(region.as_ref());
            *r.status_mut() = StatusCode::BAD_GATEWAY;
            r
        }
        Sent::NoneAnswered => unavailable(region.as_ref()),
    };
    let res = answer(proxy::send(edge.nodes(region.as_ref()), first).await);
    let elsewhere = (res.status() == StatusCode::MISDIRECTED_REQUEST)
        .then(|| res.headers().get(foryou_server::REGION_HEADER))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|r| Region::new(r).ok());
    match (elsewhere, again) {
        (Some(other), Some(req)) => answer(proxy::send(edge.nodes(Some(&other)), req).await),
        _ => res,
    }
}

/// Serves the edge on `addr` until SIGTERM or Ctrl-C.
pub fn run(
    edge: Edge,
    addr: SocketAddr,
    limits: foryou_server::ConnLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let app = Router::new().fallback(forward).with_state(Arc::new(edge));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        tracing::info!(addr = %listener.local_addr()?, "edge listening");
        foryou_server::serve_with(listener, app, limits, shutdown).await
    })
    .with_context(|| format!("serving the edge on {addr}"))
}
