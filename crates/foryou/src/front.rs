//! A node's front door on its own address. While the node stands by (another node holds a
//! region's lease) it passes each request on to the node that does, read from the lease
//! (a request with a session to the holder of the session's region, any other to any holder),
//! so every node of a deployment answers; once this node holds its leases and has opened the
//! platform, the platform's own router answers everything. A forwarded request is marked
//! ([`proxy::FORWARDED`]) and never forwarded twice.

use crate::proxy::{self, session_region, Sent};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use foryou_types::Region;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock, RwLock};
use tower_service::Service;

/// What answers on this node's address.
pub struct Front {
    /// The platform's router, once this node serves.
    serving: OnceLock<Router>,
    /// Where each region's lease holder takes requests, as last read while standing by.
    holders: RwLock<BTreeMap<Region, SocketAddr>>,
    /// This node's own address (never forwarded to).
    own: Option<SocketAddr>,
}

impl Front {
    pub fn new(own: Option<SocketAddr>) -> Arc<Front> {
        Arc::new(Front {
            serving: OnceLock::new(),
            holders: RwLock::new(BTreeMap::new()),
            own,
        })
    }

    /// Notes where `region`'s lease holder takes requests (`http://host:port`; empty or
    /// unreadable: nowhere known).
    pub fn holder(&self, region: &Region, address: &str) {
        let addr = proxy::node_addr(address).ok();
        if let Ok(mut h) = self.holders.write() {
            match addr {
                Some(a) => h.insert(region.clone(), a),
                None => h.remove(region),
            };
        }
    }

    /// From now on the platform answers on this node.
    pub fn serve(&self, router: Router) {
        let _ = self.serving.set(router);
        if let Ok(mut h) = self.holders.write() {
            h.clear();
        }
    }

    /// The app the accept loop runs.
    pub fn app(self: &Arc<Self>) -> Router {
        Router::new().fallback(answer).with_state(Arc::clone(self))
    }

    /// Where a request goes while standing by.
    fn target(&self, region: Option<&Region>) -> Option<SocketAddr> {
        let h = self.holders.read().ok()?;
        region
            .and_then(|r| h.get(r))
            .or_else(|| h.values().next())
            .copied()
            .filter(|a| Some(*a) != self.own)
    }
}

async fn answer(State(front): State<Arc<Front>>, mut req: Request<Body>) -> Response<Body> {
    if let Some(router) = front.serving.get() {
        return match router.clone().call(req).await {
            Ok(res) => res,
            Err(never) => match never {},
        };
    }
    let standing_by = || {
        proxy::unavailable(
            "standing_by",
            "this node is standing by and the node serving this region does not answer; try again in a moment".into(),
        )
    };
    if req.headers().contains_key(proxy::FORWARDED) {
        return standing_by();
    }
    let region = session_region(&req);
    let Some(addr) = front.target(region.as_ref()) else {
        return standing_by();
    };
    req.headers_mut()
        .insert(proxy::FORWARDED, HeaderValue::from_static("1"));
    match proxy::send(&[addr], req).await {
        Sent::Answered(mut res) => {
            res.headers_mut()
                .insert(proxy::FORWARDED, HeaderValue::from_static("1"));
            res
        }
        Sent::Failed => (StatusCode::BAD_GATEWAY, standing_by()).into_response(),
        Sent::NoneAnswered => standing_by(),
    }
}
