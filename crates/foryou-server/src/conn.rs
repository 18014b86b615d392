//! The accept loop: HTTP/1.1 connections with a cap in all and per client address, a deadline
//! for request headers (which also closes idle keep-alive connections), and a graceful stop that
//! waits for requests in flight only so long.

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tower_service::Service;

/// Connection limits and timeouts.
#[derive(Clone, Debug)]
pub struct ConnLimits {
    /// Open connections at most; past it new ones are closed at once.
    pub max_connections: usize,
    /// Open connections from one client address at most.
    pub max_per_client: usize,
    /// Time a client has to send a request's headers, and the longest an idle keep-alive
    /// connection stays open.
    pub header_timeout: Duration,
    /// At a graceful stop, how long requests in flight may still run.
    pub shutdown_grace: Duration,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            max_connections: 4_096,
            max_per_client: 256,
            header_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Open connections per client address.
#[derive(Default)]
struct Open {
    total: usize,
    by_client: HashMap<IpAddr, usize>,
}

/// One admitted connection; gives its place back when dropped.
struct Admitted {
    open: Arc<Mutex<Open>>,
    ip: IpAddr,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if let Ok(mut o) = self.open.lock() {
            o.total = o.total.saturating_sub(1);
            let gone = match o.by_client.get_mut(&self.ip) {
                Some(n) => {
                    *n = n.saturating_sub(1);
                    *n == 0
                }
                None => false,
            };
            if gone {
                o.by_client.remove(&self.ip);
            }
        }
    }
}

/// The address a per-client limit counts by: the IPv4 address, or the /64 prefix of an IPv6
/// one (a single subscriber usually holds a whole /64).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

fn admit(open: &Arc<Mutex<Open>>, ip: IpAddr, limits: &ConnLimits) -> Option<Admitted> {
    let ip = client_key(ip);
    let mut o = open.lock().ok()?;
    let mine = o.by_client.get(&ip).copied().unwrap_or(0);
    if o.total >= limits.max_connections || mine >= limits.max_per_client {
        return None;
    }
    o.total += 1;
    *o.by_client.entry(ip).or_default() += 1;
    Some(Admitted {
        open: Arc::clone(open),
        ip,
    })
}

/// File descriptors kept free for everything but client connections (stores, media, logs).
const FD_RESERVE: usize = 256;

/// The soft limit on open files of this process (Linux: `/proc/self/limits`), if known.
fn open_file_limit() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// The connection cap actually enforced: the configured one, lowered so that connections can
/// never use up the process's file descriptors (accept would then fail for everyone).
fn effective_limits(mut limits: ConnLimits) -> ConnLimits {
    if let Some(n) = open_file_limit() {
        let room = n.saturating_sub(FD_RESERVE).max(16);
        if limits.max_connections > room {
            tracing::warn!(
                configured = limits.max_connections,
                open_file_limit = n,
                enforced = room,
                "the connection cap is lowered to fit the open-file limit (raise it with ulimit -n)"
            );
            limits.max_connections = room;
        }
    }
    limits
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting, lets requests in
/// flight finish for up to `limits.shutdown_grace`, and returns.
pub async fn serve_with(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = effective_limits(limits);
    let open = Arc::new(Mutex::new(Open::default()));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(place) = admit(&open, remote.ip(), &limits) else {
            tracing::debug!(client = %remote.ip(), "connection refused: at the connection cap");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let svc =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(remote));
                let mut app = app.clone();
                async move { app.call(req).await }
            });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .max_buf_size(64 * 1024)
            .serve_connection(TokioIo::new(stream), svc);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(place);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_s = limits.shutdown_grace.as_secs(),
            "connections still open after the grace period; closing them"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_capped_in_all_and_per_client() {
        let open = Arc::new(Mutex::new(Open::default()));
        let limits = ConnLimits {
            max_connections: 3,
            max_per_client: 2,
            ..ConnLimits::default()
        };
        let a: IpAddr = [127, 0, 0, 2].into();
        let b: IpAddr = [127, 0, 0, 3].into();
        let a1 = admit(&open, a, &limits).expect("first");
        let _a2 = admit(&open, a, &limits).expect("second");
        assert!(admit(&open, a, &limits).is_none(), "third from one client");
        let b1 = admit(&open, b, &limits).expect("another client");
        assert!(admit(&open, b, &limits).is_none(), "over the total");
        drop(a1);
        drop(b1);
        let b2 = admit(&open, b, &limits);
        assert!(b2.is_some());
        assert_eq!(open.lock().map(|o| o.by_client.len()).unwrap_or(0), 2);
    }

    #[test]
    fn the_cap_fits_the_open_file_limit() {
        let huge = ConnLimits {
            max_connections: usize::MAX,
            ..ConnLimits::default()
        };
        let enforced = effective_limits(huge).max_connections;
        if let Some(n) = open_file_limit() {
            assert!(
                enforced < n,
                "{enforced} connections with {n} files allowed"
            );
        }
    }

    #[test]
    fn ipv6_clients_count_by_their_64_prefix() {
        let a: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:127.0.0.2".parse().expect("ip");
        assert_eq!(client_key(mapped), IpAddr::from([127, 0, 0, 2]));
    }
}
