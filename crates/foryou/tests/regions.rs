//! Nodes that serve only their own region (`--serve-regions`), each region on its own
//! PostgreSQL database and NATS stream, two nodes per region behind one edge, with the public
//! feed between them: an American's clip reaches a European's For You feed and plays, the
//! European's like and comment reach the American's node; the node serving eu is killed with
//! -9 and the other eu node takes the region over with every acknowledged write, the feed
//! still answering through the edge; the European's erasure then reaches the us node too and
//! leaves nothing about them in the feed. And the proof of the boundary: each node's
//! configuration names the other region's backends at addresses where a listener counts every
//! connection, and none is ever made.

mod common;

use common::{call, data_dir, http, spawn_env, wait_up};
use foryou_nats::test_server::TestNats;
use foryou_postgres::test_server::TestServer;
use foryou_postgres::{PgOptions, PgStore};
use foryou_store::{PublicFeed, RegionStore};
use foryou_types::Region;
use serde_json::{json, Value};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A port where any connection is counted (and closed): where one region's node is told the
/// other region's backends live.
struct Trap {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

impl Trap {
    fn new() -> Trap {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = l.local_addr().expect("addr");
        let hits = Arc::new(AtomicUsize::new(0));
        let h = Arc::clone(&hits);
        std::thread::spawn(move || {
            for c in l.incoming() {
                h.fetch_add(1, Ordering::SeqCst);
                drop(c);
            }
        });
        Trap { addr, hits }
    }
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `f` until it gives `Some` (20 s at most).
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "not within 20 s: {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn sign_up(edge: SocketAddr, handle: &str, country: &str) -> String {
    let (s, v) = call(
        edge,
        "POST",
        "/v1/accounts",
        None,
        Some(
            json!({"handle": handle, "password": "regional password", "birthdate": "1990-01-01", "country": country}),
        ),
    );
    assert_eq!(s, 201, "{v}");
    // The edge's log-in reaches the eu node first, whatever the person's region: it finds the
    // person on the public feed (published before the sign-up was answered) and sends the
    // edge on to their region.
    let (s, v) = call(
        edge,
        "POST",
        "/v1/sessions",
        None,
        Some(json!({"handle": handle, "password": "regional password"})),
    );
    assert_eq!(s, 201, "{v}");
    v["token"].as_str().expect("token").to_string()
}

#[test]
fn each_region_has_its_own_nodes_and_only_public_facts_cross() {
    let pg = TestServer::start().unwrap_or_else(|e| panic!("cannot start PostgreSQL: {e}"));
    let nats = TestNats::start().unwrap_or_else(|e| panic!("cannot start nats-server: {e}"));
    let (eu_db, us_db) = (
        pg.database().expect("database"),
        pg.database().expect("database"),
    );
    let (trap_us, trap_eu) = (Trap::new(), Trap::new());
    let dir = data_dir("regions");
    std::fs::create_dir_all(&dir).expect("dir");
    let nats_url = nats.url();
    // Each node's file names its own region's servers and, for the other region, the trap.
    let config = |own: &str, db: &str, other: &str, trap: SocketAddr| {
        format!(
            "[regions.{own}]\nstore = \"{db}\"\nevents = \"{nats_url}\"\n\n\
             [regions.{other}]\nstore = \"postgres://foryou@{trap}/foryou_{other}\"\nevents = \"nats://{trap}\"\n\n\
             [public]\nevents = \"{nats_url}\"\n\n[postgres]\nlease_ttl_ms = 2000\n"
        )
    };
    let (eu_cfg, us_cfg) = (dir.join("eu.toml"), dir.join("us.toml"));
    std::fs::write(&eu_cfg, config("eu", &eu_db, "us", trap_us.addr)).expect("config");
    std::fs::write(&us_cfg, config("us", &us_db, "eu", trap_eu.addr)).expect("config");
    let eu_cfg_arg = eu_cfg.display().to_string();
    let us_cfg_arg = us_cfg.display().to_string();
    // The operator makes a us admin with the us node's file, opening us and row only.
    let made = Command::new(env!("CARGO_BIN_EXE_foryou"))
        .args([
            "admin",
            "create",
            "--handle",
            "usboss",
            "--country",
            "US",
            "--data",
        ])
        .arg(dir.join("us-node"))
        .args(["--config", &us_cfg_arg, "--regions", "us,row"])
        .output()
        .expect("admin create");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    // A node with a disk of its own (`name`), its region's file and the regions it serves.
    let node = |name: &str, cfg: &str, flag: &str, serve: &str| {
        let n = spawn_env(
            &dir.join(name),
            &["--config", cfg, flag, serve],
            Some(&dir.join(format!("{name}.log"))),
            &[],
        );
        assert!(wait_up(n.addr, Duration::from_secs(30)), "{name}");
        n
    };
    // (`--regions` with names alone says the same as `--serve-regions`.)
    let eu_node = node("eu-node", &eu_cfg_arg, "--regions", "eu");
    let us_node = node("us-node", &us_cfg_arg, "--serve-regions", "us,row");
    // A second node per region: standing by, forwarding.
    let eu_second = node("eu-second", &eu_cfg_arg, "--serve-regions", "eu");
    let us_second = node("us-second", &us_cfg_arg, "--serve-regions", "us,row");
    let edge_cfg = dir.join("edge.toml");
    std::fs::write(
        &edge_cfg,
        format!(
            "[edge]\nnodes = [\"http://{eu}\", \"http://{us}\"]\n[edge.regions]\neu = [\"http://{eu}\", \"http://{eu2}\"]\nus = [\"http://{us}\", \"http://{us2}\"]\nrow = [\"http://{us}\", \"http://{us2}\"]\n",
            eu = eu_node.addr,
            us = us_node.addr,
            eu2 = eu_second.addr,
            us2 = us_second.addr,
        ),
    )
    .expect("edge config");
    let e = std::net::SocketAddr::from((
        [127, 0, 0, 1],
        foryou_types::ports::loopback_port().expect("port"),
    ));
    let _edge = Proc(
        Command::new(env!("CARGO_BIN_EXE_foryou"))
            .args(["edge", "--addr", &e.to_string(), "--config"])
            .arg(&edge_cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("edge"),
    );
    assert!(wait_up(e, Duration::from_secs(20)), "edge");

    // The admin logs in through the edge (the eu node first, which finds them on the feed).
    let password = String::from_utf8_lossy(&made.stdout)
        .split("one-time password: ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .expect("password")
        .to_string();
    let (s, v) = call(
        e,
        "POST",
        "/v1/sessions",
        None,
        Some(json!({"handle": "usboss", "password": password})),
    );
    assert_eq!(s, 201, "{v}");
    assert!(
        v["token"].as_str().is_some_and(|t| t.starts_with("fy_us_")),
        "{v}"
    );

    // A node asked for another region's work says which region serves it.
    let (s, v) = call(
        eu_node.addr,
        "POST",
        "/v1/accounts",
        None,
        Some(
            json!({"handle": "misdirected", "password": "regional password", "birthdate": "1990-01-01", "country": "US"}),
        ),
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (421, Some("other_region")),
        "{v}"
    );
    assert_eq!(v["error"]["region"], "us", "{v}");

    // An American signs up through the edge (the eu node sends it on) and posts a clip.
    let maker = sign_up(e, "americanmaker", "US");
    assert!(maker.starts_with("fy_us_"), "{maker}");
    let clip = foryou_media::synth::clip_mp4(&foryou_media::synth::ClipSpec {
        seconds: 2.0,
        ..Default::default()
    });
    let (s, v) = common::upload(e, &maker, &clip);
    assert_eq!(s, 201, "{v}");
    let vid = v["id"].as_str().expect("id").to_string();

    // A European, on the eu node, finds it in their For You feed and plays it (the media is the
    // us node's: the edge is sent on).
    let fan = sign_up(e, "europeanfan", "DE");
    // Handles are one namespace: the eu node knows the American's (from the feed).
    let (s, v) = call(
        e,
        "POST",
        "/v1/accounts",
        None,
        Some(
            json!({"handle": "AmericanMaker", "password": "regional password", "birthdate": "1990-01-01", "country": "FR"}),
        ),
    );
    assert_eq!(s, 409, "{v}");
    assert!(fan.starts_with("fy_eu_"), "{fan}");
    eventually("the American's clip in the European's For You feed", || {
        let (s, v) = call(e, "GET", "/v1/feed?limit=10", Some(&fan), None);
        assert_eq!(s, 200, "{v}");
        v["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|i| i["id"] == vid.as_str()))
            .then_some(())
    });
    let (s, body) = http(
        e,
        "GET",
        &format!("/v1/videos/{vid}/media"),
        Some(&fan),
        "text/plain",
        b"",
    )
    .expect("media");
    assert_eq!((s, body.len()), (200, clip.len()));

    // The European watches, likes and comments: stored in eu, seen on the us node.
    let (s, v) = call(
        e,
        "POST",
        "/v1/events",
        Some(&fan),
        Some(json!({"events": [
            {"id": "v1", "kind": "view", "video_id": vid, "watch_ms": 1500},
            {"id": "l1", "kind": "like", "video_id": vid},
            {"id": "c1", "kind": "comment", "video_id": vid, "text": "greetings from Europe"},
        ]})),
    );
    assert_eq!(s, 200, "{v}");
    let seen = |v: &Value| {
        v["counts"]["likes"] == 1 && v["counts"]["comments"] == 1 && v["counts"]["views"] == 1
    };
    eventually("the European's like and comment on the us node", || {
        let (_, v) = call(
            us_node.addr,
            "GET",
            &format!("/v1/videos/{vid}"),
            None,
            None,
        );
        seen(&v).then_some(())
    });
    let (_, v) = call(
        us_node.addr,
        "GET",
        &format!("/v1/videos/{vid}/comments"),
        None,
        None,
    );
    assert_eq!(v["comments"][0]["text"], "greetings from Europe", "{v}");
    // The European reports the clip: the report reaches the us moderation queue (in the us
    // database), through the feed.
    let (s, v) = call(
        e,
        "POST",
        "/v1/reports",
        Some(&fan),
        Some(json!({"video_id": vid, "reason": "spam", "note": "looks automated"})),
    );
    assert!(s == 200 || s == 201, "{s}: {v}");
    let us_store = PgStore::open(
        Region::new("us").expect("region"),
        &us_db,
        &PgOptions::default(),
    )
    .expect("open us");
    eventually("the report in the us moderation queue", || {
        let reports = us_store.reports().expect("reports");
        reports
            .iter()
            .any(|r| r.video.map(|v| v.to_string()) == Some(vid.clone()) && r.reason == "spam")
            .then_some(())
    });
    // Each database holds only its own region's people.
    let handles = |url: &str, r: &str| -> Vec<String> {
        let store = PgStore::open(Region::new(r).expect("region"), url, &PgOptions::default())
            .expect("open");
        let mut h: Vec<String> = store
            .accounts()
            .expect("accounts")
            .into_iter()
            .map(|a| a.handle)
            .collect();
        h.sort();
        h
    };
    assert_eq!(handles(&eu_db, "eu"), ["europeanfan"]);
    assert_eq!(handles(&us_db, "us"), ["americanmaker", "usboss"]);

    // The eu node's transparency log, as an auditor saw it before the node died.
    let text = |addr, path: &str| {
        let (s, b) = http(addr, "GET", path, None, "text/plain", b"").expect("log");
        assert_eq!(s, 200, "{path}");
        String::from_utf8_lossy(&b).into_owned()
    };
    let (key, before) = (
        text(eu_node.addr, "/log/key"),
        text(eu_node.addr, "/log/checkpoint"),
    );
    let size = |c: &str| -> u64 { c.lines().nth(1).and_then(|l| l.parse().ok()).expect("size") };

    // The node serving eu dies. The second eu node takes the region over from the servers
    // (and the other regions' public side from the feed): the European's session, like and
    // feed work again through the edge.
    eu_node.kill9();
    let died = Instant::now();
    let v = eventually("the second eu node serving the European", || {
        let (s, v) = call(e, "GET", &format!("/v1/videos/{vid}"), Some(&fan), None);
        (s == 200).then_some(v)
    });
    println!(
        "eu served again {} ms after kill -9 (lease 2000 ms)",
        died.elapsed().as_millis()
    );
    assert_eq!(v["liked"], true, "the acknowledged like: {v}");
    // It goes on with the same transparency log (its entries and key kept in the eu database),
    // not a new one.
    assert_eq!(
        text(eu_second.addr, "/log/key"),
        key,
        "a new log after the takeover"
    );
    let after = text(eu_second.addr, "/log/checkpoint");
    assert!(size(&after) >= size(&before), "{before} -> {after}");
    assert_eq!(v["counts"]["comments"], 1, "{v}");
    eventually("the feed after the takeover", || {
        let (s, v) = call(e, "GET", "/v1/feed?limit=10", Some(&fan), None);
        (s == 200 && v["items"].as_array().is_some_and(|i| !i.is_empty())).then_some(())
    });

    // The European erases their account: the us node forgets their like and comment, and the
    // public feed holds nothing about them.
    let (s, v) = call(
        e,
        "DELETE",
        "/v1/me",
        Some(&fan),
        Some(json!({"password": "regional password"})),
    );
    assert_eq!(s, 200, "{v}");
    eventually("the erasure on the us node", || {
        let (_, v) = call(
            us_node.addr,
            "GET",
            &format!("/v1/videos/{vid}"),
            None,
            None,
        );
        (v["counts"]["likes"] == 0 && v["counts"]["comments"] == 0).then_some(())
    });
    let (s, _) = call(us_node.addr, "GET", "/v1/users/europeanfan", None, None);
    assert_eq!(s, 404);
    let feed = foryou_nats::NatsFeed::open(&nats_url).expect("feed");
    let all = feed.read(1, 100_000).expect("read");
    assert!(!all.is_empty());
    for (_, _, body) in &all {
        let text = String::from_utf8_lossy(body);
        assert!(
            !text.contains("europeanfan") && !text.contains("greetings from Europe"),
            "the feed still holds the erased person: {text}"
        );
    }
    // No node ever connected to the other region's backends.
    assert_eq!(
        trap_us.hits.load(Ordering::SeqCst),
        0,
        "the eu node reached for us"
    );
    assert_eq!(
        trap_eu.hits.load(Ordering::SeqCst),
        0,
        "the us node reached for eu"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
