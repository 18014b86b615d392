//! `foryou edge` in front of two nodes sharing the `eu` region's servers (PostgreSQL and NATS,
//! started on loopback): the standing-by node answers too, forwarding to the node that holds
//! the region's lease (the lease says where it is); when that node is killed and the
//! standing-by one takes the lease, the same session keeps working through the edge, which
//! follows on its own, and the new holder answers for itself; with no node answering, the edge
//! says so in a 503 with a JSON body.

mod common;

use common::{call, data_dir, forwarded, wait_up};
use foryou_nats::test_server::TestNats;
use foryou_postgres::test_server::TestServer;
use serde_json::json;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free() -> SocketAddr {
    let port = foryou_types::ports::loopback_port().expect("free port");
    SocketAddr::from(([127, 0, 0, 1], port))
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn foryou(args: &[&str]) -> Proc {
    Proc(
        Command::new(env!("CARGO_BIN_EXE_foryou"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn foryou"),
    )
}

#[test]
fn the_edge_routes_by_region_and_follows_a_takeover() {
    let pg = TestServer::start().unwrap_or_else(|e| panic!("cannot start PostgreSQL: {e}"));
    let nats = TestNats::start().unwrap_or_else(|e| panic!("cannot start nats-server: {e}"));
    let url = pg.database().expect("database");
    let dir = data_dir("edge");
    std::fs::create_dir_all(&dir).expect("dir");
    let (a, b, e) = (free(), free(), free());
    let cfg = dir.join("foryou.toml");
    std::fs::write(
        &cfg,
        format!(
            "[regions.eu]\nstore = \"{url}\"\nevents = \"{}\"\n\n[postgres]\nlease_ttl_ms = 2000\n\n[edge]\nnodes = [\"http://{a}\", \"http://{b}\"]\n",
            nats.url()
        ),
    )
    .expect("config");
    let cfg = cfg.display().to_string();
    let node = |addr: SocketAddr, data: &str| {
        let data = dir.join(data).display().to_string();
        let addr = addr.to_string();
        foryou(&[
            "serve",
            "--addr",
            &addr,
            "--data",
            &data,
            "--config",
            &cfg,
            "--limits",
            "signup_per_client=off",
        ])
    };
    let mut first = node(a, "node-a");
    assert!(
        wait_up(a, Duration::from_secs(30)),
        "the first node did not start"
    );
    let _second = node(b, "node-b");
    let _edge = foryou(&["edge", "--addr", &e.to_string(), "--config", &cfg]);
    assert!(
        wait_up(e, Duration::from_secs(20)),
        "the edge did not start"
    );
    // The second node stands by and answers by forwarding to the first.
    assert!(
        wait_up(b, Duration::from_secs(20)),
        "the standing-by node does not answer"
    );
    assert!(
        forwarded(b, "/healthz") == Some(true),
        "the second node serves eu itself"
    );
    assert!(
        forwarded(a, "/healthz") == Some(false),
        "the serving node forwarded"
    );

    // A European signs up at the standing-by node (forwarded), then logs in and changes a
    // setting through the edge.
    let (s, v) = call(
        b,
        "POST",
        "/v1/accounts",
        None,
        Some(
            json!({"handle": "edgewalker", "password": "edge password 1", "birthdate": "1990-01-01", "country": "DE"}),
        ),
    );
    assert_eq!(s, 201, "{v}");
    let (s, v) = call(
        e,
        "POST",
        "/v1/sessions",
        None,
        Some(json!({"handle": "edgewalker", "password": "edge password 1"})),
    );
    assert_eq!(s, 201, "{v}");
    let token = v["token"].as_str().expect("token").to_string();
    assert!(token.starts_with("fy_eu_"), "{token}");
    let (s, v) = call(
        e,
        "PUT",
        "/v1/me/settings",
        Some(&token),
        Some(json!({"bio": "walking through the edge"})),
    );
    assert_eq!(s, 200, "{v}");

    // The node serving eu dies; the other takes the lease; the edge follows on its own.
    let _ = first.0.kill();
    let _ = first.0.wait();
    let died = Instant::now();
    let mut back = None;
    while died.elapsed() < Duration::from_secs(30) {
        let (s, v) = call(e, "GET", "/v1/me/settings", Some(&token), None);
        if s == 200 {
            back = Some(v);
            break;
        }
        assert!(s == 503 || s == 502, "{s}: {v}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let v = back.expect("the session did not work again through the edge within 30 s");
    println!(
        "the edge served eu again {} ms after kill -9",
        died.elapsed().as_millis()
    );
    assert_eq!(v["settings"]["bio"], "walking through the edge", "{v}");
    let (s, _) = call(e, "GET", "/healthz", None, None);
    assert_eq!(s, 200);
    assert!(
        forwarded(b, "/healthz") == Some(false),
        "the node that took the lease still forwards"
    );

    // A body cut off short of its Content-Length: a 400 that says so, nothing sent on.
    {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(e).expect("connect");
        s.write_all(b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"handle\":")
            .expect("send");
        s.shutdown(std::net::Shutdown::Write).expect("shutdown");
        let mut raw = String::new();
        let _ = s.read_to_string(&mut raw);
        assert!(raw.starts_with("HTTP/1.1 400"), "{raw}");
        assert!(raw.contains("bad_body"), "{raw}");
    }

    // No node answers: a 503 that says so.
    drop(_second);
    let (s, v) = call(e, "GET", "/v1/feed", Some(&token), None);
    assert_eq!(s, 503, "{v}");
    assert_eq!(v["error"]["code"], "no_node", "{v}");
    let _ = std::fs::remove_dir_all(&dir);
}
