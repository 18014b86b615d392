//! Real sockets on loopback: idle and slow clients cannot lock others out, and a graceful stop
//! does not wait on them.

mod common;

use foryou_server::{router, serve_with, Config, ConnLimits};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn get(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// A socket from another loopback address (127.0.0.2), as a second client would have.
fn connect_from(local: [u8; 4], addr: SocketAddr) -> Option<TcpStream> {
    let sock = std::net::TcpListener::bind((std::net::Ipv4Addr::from(local), 0)).ok()?;
    let local_addr = sock.local_addr().ok()?;
    drop(sock);
    // std has no bind-before-connect; tokio's TcpSocket does.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    rt.block_on(async {
        let s = tokio::net::TcpSocket::new_v4().ok()?;
        s.bind(local_addr).ok()?;
        s.connect(addr).await.ok()?.into_std().ok()
    })
}

#[test]
fn idle_floods_neither_lock_others_out_nor_hold_up_a_stop() {
    let dir = std::env::temp_dir().join(format!("foryou-conn-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let platform = Arc::new(common::platform(Config::new(&dir)));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let limits = ConnLimits {
        max_connections: 200,
        max_per_client: 50,
        header_timeout: Duration::from_secs(2),
        shutdown_grace: Duration::from_secs(2),
    };
    let server = rt.spawn(serve_with(listener, router(platform), limits, async {
        let _ = stop_rx.await;
    }));
    // An attacker on 127.0.0.2 opens 300 idle sockets and drips half a request on some.
    let mut idle = Vec::new();
    for i in 0..300 {
        if let Some(mut s) = connect_from([127, 0, 0, 2], addr) {
            if i % 3 == 0 {
                let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nX-Slow: ");
            }
            idle.push(s);
        }
    }
    assert!(
        idle.len() > 50,
        "the attacker's sockets connect: {}",
        idle.len()
    );
    // Everyone else is still served at once.
    let t = Instant::now();
    let page = get(addr, "/healthz").expect("served");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(t.elapsed() < Duration::from_secs(2));
    // Idle and dripping sockets are closed after the header deadline.
    std::thread::sleep(Duration::from_secs(3));
    let mut closed = 0;
    for s in &mut idle {
        let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
        let mut b = [0u8; 256];
        match s.read(&mut b) {
            // Closed, or a 408 before the close.
            Ok(_) => closed += 1,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => closed += 1,
        }
    }
    assert_eq!(
        closed,
        idle.len(),
        "every idle socket is closed by the server"
    );
    // A graceful stop with slow clients connected returns within the grace period.
    let mut slow = Vec::new();
    for _ in 0..20 {
        if let Ok(mut s) = TcpStream::connect(addr) {
            let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n");
            slow.push(s);
        }
    }
    let t = Instant::now();
    let _ = stop_tx.send(());
    rt.block_on(server).expect("join").expect("serve");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "stopped in {:?}",
        t.elapsed()
    );
    drop(slow);
    let _ = std::fs::remove_dir_all(&dir);
}
