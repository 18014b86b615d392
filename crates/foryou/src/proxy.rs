//! Passing a request on to another node, as the edge does for every request and a standing-by
//! node does for the node that holds its region's lease. Only what routing needs is read: the
//! session's region from its token's `fy_<region>_` prefix; nothing is kept.

use anyhow::{Context, Result};
use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response, StatusCode, Uri};
use foryou_types::Region;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::Duration;

/// Set by a standing-by node on the requests it forwards and on their answers: a request that
/// carries it is never forwarded again, so two nodes cannot pass one request back and forth.
pub const FORWARDED: &str = "foryou-forwarded";

/// `http://host:port` (a node's address as it is dialled).
pub fn node_addr(url: &str) -> Result<SocketAddr> {
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

/// The region a request's session names, if it carries one (a bearer token or the web app's
/// cookie).
pub fn session_region(req: &Request<Body>) -> Option<Region> {
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

/// A 503 with a JSON body and `Retry-After`.
pub fn unavailable(code: &str, message: String) -> Response<Body> {
    let body = serde_json::json!({"error": {"code": code, "message": message}});
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

/// What became of a forwarded request.
pub enum Sent {
    /// A node answered (whatever its status).
    Answered(Response<Body>),
    /// A node took the connection and then failed the request (the body is spent).
    Failed,
    /// No node took the connection.
    NoneAnswered,
}

/// Sends `req` to the first of `nodes` that takes the connection and streams its answer back.
pub async fn send(nodes: &[SocketAddr], mut req: Request<Body>) -> Sent {
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let Ok(uri) = path.parse::<Uri>() else {
        return Sent::NoneAnswered;
    };
    *req.uri_mut() = uri;
    for addr in nodes {
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
            Ok(res) => Sent::Answered(res.map(Body::new)),
            Err(e) => {
                tracing::warn!(node = %addr, error = %e, "the node failed the request");
                Sent::Failed
            }
        };
    }
    Sent::NoneAnswered
}
