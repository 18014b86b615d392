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

use anyhow::{bail, Context, Result};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Request, Response, StatusCode, Uri};
use axum::Router;
use foryou_types::Region;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

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

/// `http://host:port` (a node's address as the edge dials it).
fn node_addr(url: &str) -> Result<SocketAddr> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("node '{url}': write it as http://host:port"))?;
    let hostport = rest.trim_end_matches('/');
    use std::net::ToSocketAddrs;
    hostport
        .to_socket_addrs()
        .with_context(|| format!("node '{url}': not a host:port"))?
        .next()
        .with_context(|| format!("node '{url}': no address"))
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

/// The region a request's session names, if it carries one.
fn session_region(req: &Request<Body>) -> Option<Region> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let cookie = || {
        req.headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().strip_prefix("fy_session="))
            .next()
    };
    bearer.or_else(cookie).and_then(foryou_server::token_region)
}

fn unavailable(region: Option<&Region>) -> Response<Body> {
    let what = region
        .map(|r| format!("region {r}"))
        .unwrap_or_else(|| "any region".into());
    let body = serde_json::json!({"error": {"code": "no_node", "message": format!("no node of {what} answers; try again in a moment")}});
    let mut res = Response::new(Body::from(body.to_string()));
    *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    res
}

/// Sends the request to the first node that takes the connection; streams the answer back.
async fn forward(State(edge): State<Arc<Edge>>, mut req: Request<Body>) -> Response<Body> {
    let region = session_region(&req);
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let Ok(uri) = path.parse::<Uri>() else {
        return unavailable(region.as_ref());
    };
    *req.uri_mut() = uri;
    for addr in edge.nodes(region.as_ref()) {
        let Ok(Ok(stream)) =
            tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr))
                .await
        else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok((mut sender, conn)) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
        else {
            continue;
        };
        tokio::spawn(async move {
            let _ = conn.await;
        });
        // The body can be sent once: the first node that took the connection answers.
        return match sender.send_request(req).await {
            Ok(res) => res.map(Body::new),
            Err(e) => {
                tracing::warn!(node = %addr, error = %e, "the node failed the request");
                let mut r = unavailable(region.as_ref());
                *r.status_mut() = StatusCode::BAD_GATEWAY;
                r
            }
        };
    }
    unavailable(region.as_ref())
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
