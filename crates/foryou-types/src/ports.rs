//! Loopback ports for the servers tests start (feature `test-support`).
//!
//! A port the OS hands out for a bind to port 0 comes from its ephemeral range, the same range it
//! takes source ports from for outgoing connections. Between a test choosing such a port and its
//! server binding it (PostgreSQL's `initdb` alone takes seconds), a connection from another test
//! may take it, and the server fails to start. These ports come from below that range, each
//! checked by binding it, and one process never gets the same port twice.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};

/// How many ports below the ephemeral range are drawn from.
const SPAN: u32 = 12_000;

/// The first port of the OS's ephemeral range (Linux says; 32768 elsewhere).
fn ephemeral_low() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32_768)
}

/// A loopback port nothing listens on, outside the ephemeral range, never returned before in
/// this process. Processes start their walk at different places (their id and the clock), so
/// tests running side by side seldom try the same ports.
pub fn loopback_port() -> std::io::Result<u16> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    // Where this process's walk starts, fixed on its first call: one walk, so no port twice.
    static START: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let high = ephemeral_low().clamp(2_048, 32_768) - 1;
    let low = high.saturating_sub(SPAN).max(1_024);
    let span = high - low + 1;
    let start = *START.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        std::process::id()
            .wrapping_mul(2_654_435_761)
            .wrapping_add(nanos)
    }) % span;
    for _ in 0..span {
        let k = NEXT.fetch_add(1, Ordering::Relaxed) % span;
        // A stride prime to the span visits every port once before any comes again.
        let port = low + (start + k.wrapping_mul(7_919)) % span;
        let port = u16::try_from(port).expect("below 32768");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        format!("no free loopback port in {low}..={high}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_free_below_the_ephemeral_range_and_never_repeat() {
        let ports: Vec<u16> = (0..50).map(|_| loopback_port().expect("port")).collect();
        let mut unique = ports.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ports.len());
        for &p in &ports {
            assert!(u32::from(p) < ephemeral_low().max(2_048), "{p}");
            TcpListener::bind(("127.0.0.1", p)).expect("still free");
        }
    }
}
