//! `foryou serve --config`: a region's records on a real PostgreSQL, its media on a real S3
//! service and its event log on a real NATS JetStream (all started on loopback for the test), the
//! rest embedded, with nothing changed in handlers or the engine. A European's account, video,
//! like and comment land in the eu database, bucket and stream and nowhere else, survive kill -9,
//! play back, are served by a second node with an empty disk (the first one's sessions
//! included), and leave when the person erases their account (the stream keeps only sealed
//! records whose key is gone); an American's stay embedded on the first node's disk.

mod common;

use common::{
    call, data_dir, forwarded, http, spawn_env, start_env, upload, wait_serving, wait_up,
};
use foryou_media::ObjectStore;
use foryou_nats::test_server::TestNats;
use foryou_postgres::test_server::TestServer;
use foryou_postgres::{PgOptions, PgStore};
use foryou_s3::test_server::{TestS3, ACCESS_KEY, SECRET_KEY};
use foryou_store::{EventLog, RegionStore};
use foryou_types::Region;
use serde_json::json;

fn login(a: std::net::SocketAddr, handle: &str) -> String {
    let (s, v) = call(
        a,
        "POST",
        "/v1/sessions",
        None,
        Some(json!({"handle": handle, "password": "postgres password"})),
    );
    assert_eq!(s, 201, "{v}");
    v["token"].as_str().expect("token").to_string()
}

fn sign_up(a: std::net::SocketAddr, handle: &str, country: &str) -> String {
    let (s, v) = call(
        a,
        "POST",
        "/v1/accounts",
        None,
        Some(
            json!({"handle": handle, "password": "postgres password", "birthdate": "1990-01-01", "country": country}),
        ),
    );
    assert_eq!(s, 201, "{v}");
    login(a, handle)
}

#[test]
fn a_region_runs_on_the_three_servers_survives_kill_9_and_moves_to_a_fresh_node() {
    let pg = TestServer::start().unwrap_or_else(|e| panic!("cannot start PostgreSQL: {e}"));
    let s3 = TestS3::start().unwrap_or_else(|e| panic!("cannot start the S3 service: {e}"));
    let nats = TestNats::start().unwrap_or_else(|e| panic!("cannot start nats-server: {e}"));
    let url = pg.database().expect("database");
    let media_url = format!("{}&prefix=eu/", s3.url("foryou-media"));
    let dir = data_dir("postgres");
    std::fs::create_dir_all(&dir).expect("dir");
    let cfg = dir.join("foryou.toml");
    let toml = format!(
        "[regions.eu]\nstore = \"{url}\"\nmedia = \"{media_url}\"\nevents = \"{}\"\n\n[postgres]\nlease_ttl_ms = 2000\n",
        nats.url()
    );
    std::fs::write(&cfg, toml).expect("config");
    let cfg_arg = cfg.display().to_string();
    let extra = ["--config", cfg_arg.as_str()];
    let env = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
    ];
    let data = dir.join("data");
    let loc = foryou_s3::Location::parse(&media_url).expect("location");
    let creds = foryou_s3::Credentials::new(ACCESS_KEY, SECRET_KEY);
    let bucket = foryou_s3::S3Store::with_credentials(&loc, creds).expect("bucket");

    let server = start_env(&data, &extra, None, &env);
    let a = server.addr;
    let eu_token = sign_up(a, "europeanmaker", "DE");
    let us_token = sign_up(a, "americanviewer", "US");
    let fan_token = sign_up(a, "europeanfan", "FR");
    let clip = foryou_media::synth::clip_mp4(&foryou_media::synth::ClipSpec {
        seconds: 2.0,
        ..Default::default()
    });
    let (s, v) = upload(a, &eu_token, &clip);
    assert_eq!(s, 201, "{v}");
    let vid = v["id"].as_str().expect("id").to_string();
    // The video and its poster are objects in the eu bucket.
    let keys = bucket.keys().expect("keys");
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.iter().any(|k| k.starts_with("videos/")), "{keys:?}");
    let (s, v) = call(
        a,
        "POST",
        "/v1/events",
        Some(&eu_token),
        Some(json!({"events": [
            {"id": "p1", "kind": "comment", "video_id": vid, "text": "stored in postgres"},
            {"id": "p2", "kind": "save", "video_id": vid},
        ]})),
    );
    assert_eq!(s, 200, "{v}");
    let (s, v) = call(
        a,
        "POST",
        "/v1/events",
        Some(&us_token),
        Some(json!({"events": [
            {"id": "u1", "kind": "like", "video_id": vid},
        ]})),
    );
    assert_eq!(s, 200, "{v}");
    let like = json!({"events": [{"id": "f1", "kind": "like", "video_id": vid}]});
    let (s, v) = call(a, "POST", "/v1/events", Some(&fan_token), Some(like));
    assert_eq!(s, 200, "{v}");
    // The eu log is the JetStream stream: the sign-up's, upload's and events' records, sealed.
    let stream = foryou_nats::NatsLog::open(Region::new("eu").expect("region"), &nats.url())
        .expect("stream");
    let logged = stream.read(1, 1000).expect("read");
    assert!(logged.len() >= 3, "{} records", logged.len());
    assert!(
        logged
            .iter()
            .all(|s| !String::from_utf8_lossy(&s.body).contains("stored in postgres")),
        "a comment's words in clear in the stream"
    );
    server.kill9();

    // The eu database holds the European's records, not the American's.
    let eu = Region::new("eu").expect("region");
    {
        let store = PgStore::open(eu.clone(), &url, &PgOptions::default()).expect("open");
        let handles: Vec<String> = store
            .accounts()
            .expect("accounts")
            .into_iter()
            .map(|a| a.handle)
            .collect();
        assert_eq!(handles.len(), 2, "{handles:?}");
        assert!(
            handles.iter().all(|h| h.starts_with("european")),
            "{handles:?}"
        );
        assert_eq!(store.videos().expect("videos").len(), 1);
        assert_eq!(
            store.comments().expect("comments")[0].text,
            "stored in postgres"
        );
        assert_eq!(store.saves().expect("saves").len(), 1);
        assert_eq!(
            store.likes().expect("likes").len(),
            1,
            "the European fan's like; the American's is in the us store"
        );
    }

    // After kill -9, everything acknowledged is served again, the media from the bucket.
    let server = start_env(&data, &extra, None, &env);
    let a = server.addr;
    let media = format!("/v1/videos/{vid}/media");
    let (s, body) = http(a, "GET", &media, None, "text/plain", b"").expect("media");
    assert_eq!((s, body.len()), (200, clip.len()));
    assert!(body == clip, "the bytes came back changed");
    let eu_token = login(a, "europeanmaker");
    let (s, v) = call(
        a,
        "GET",
        &format!("/v1/videos/{vid}"),
        Some(&eu_token),
        None,
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["counts"]["likes"], 2, "{v}");
    assert_eq!(v["counts"]["comments"], 1, "{v}");
    assert_eq!(v["saved"], true, "{v}");
    let (s, _) = call(a, "GET", "/v1/me", Some(&login(a, "americanviewer")), None);
    assert_eq!(s, 200);
    // A graceful stop leaves the engine's snapshot beside the media.
    server.stop();
    assert!(bucket.size("engine/snapshot").expect("size").is_some());

    // The first node serves again; a second node, with an empty disk, stands by: the first
    // holds the eu region's lease.
    let first = start_env(&data, &extra, None, &env);
    let data2 = dir.join("data-second-node");
    let log2 = dir.join("second-node.log");
    let server = spawn_env(&data2, &extra, Some(&log2), &env);
    assert!(
        wait_up(server.addr, std::time::Duration::from_secs(20)),
        "the standing-by node does not answer"
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(
        forwarded(server.addr, "/healthz"),
        Some(true),
        "two nodes serve the eu region at once"
    );
    let last = json!({"events": [{"id": "f2", "kind": "comment", "video_id": vid, "text": "just before the crash"}]});
    let (s, v) = call(
        first.addr,
        "POST",
        "/v1/events",
        Some(&fan_token),
        Some(last),
    );
    assert_eq!(s, 200, "{v}");
    // The first node dies: the second takes the region over once the lease runs out, from the
    // servers alone: the session made on the first node still works; the records (the last
    // acknowledged comment included), the media and the engine (from the snapshot in the
    // bucket, then the stream) are all there. The us region lived on the first node's disk, so
    // the American is unknown here.
    first.kill9();
    let died = std::time::Instant::now();
    assert!(
        wait_serving(server.addr, std::time::Duration::from_secs(30)),
        "the standing-by node did not take over"
    );
    let took = died.elapsed();
    println!(
        "eu taken over {} ms after kill -9 (lease 2000 ms)",
        took.as_millis()
    );
    let a = server.addr;
    let said = std::fs::read_to_string(&log2).expect("log");
    assert!(said.contains("standing by"), "{said}");
    assert!(
        said.contains("engine restored from snapshot") && said.contains("engine/snapshot"),
        "{said}"
    );
    let (s, v) = call(a, "GET", "/v1/me", Some(&eu_token), None);
    assert_eq!(
        (s, v["handle"].as_str()),
        (200, Some("europeanmaker")),
        "{v}"
    );
    let (s, body) = http(a, "GET", &media, None, "text/plain", b"").expect("media");
    assert_eq!((s, body.len()), (200, clip.len()));
    let (s, v) = call(
        a,
        "GET",
        &format!("/v1/videos/{vid}"),
        Some(&eu_token),
        None,
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["counts"]["likes"], 1, "the eu like only: {v}");
    assert_eq!(v["counts"]["comments"], 2, "{v}");
    assert_eq!(v["saved"], true, "{v}");
    let (s, _) = call(a, "GET", "/v1/me", Some(&fan_token), None);
    assert_eq!(s, 200);
    let wrong = json!({"handle": "americanviewer", "password": "postgres password"});
    let (s, _) = call(a, "POST", "/v1/sessions", None, Some(wrong));
    assert_eq!(s, 401, "the us region is on the first node's disk");

    // Erasure reaches the database.
    let (s, v) = call(
        a,
        "DELETE",
        "/v1/me",
        Some(&eu_token),
        Some(json!({"password": "postgres password"})),
    );
    assert_eq!(s, 200, "{v}");
    let store = PgStore::open(eu, &url, &PgOptions::default()).expect("open");
    let left: Vec<String> = store
        .accounts()
        .expect("accounts")
        .into_iter()
        .map(|a| a.handle)
        .collect();
    assert_eq!(left, ["europeanfan"]);
    assert!(
        store.likes().expect("likes").is_empty(),
        "the fan's like of the erased video went"
    );
    assert!(store.videos().expect("videos").is_empty());
    assert!(store.comments().expect("comments").is_empty());
    assert_eq!(
        bucket.keys().expect("keys"),
        ["engine/snapshot"],
        "the media left the bucket; the engine's snapshot, written anew, stays"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_config_stops_the_server_before_it_serves() {
    let dir = data_dir("badconfig");
    std::fs::create_dir_all(&dir).expect("dir");
    let cfg = dir.join("foryou.toml");
    std::fs::write(&cfg, "[regions.eu]\nevents = \"kafka://127.0.0.1:9092\"\n").expect("config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_foryou"))
        .args(["serve", "--addr", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .arg("--data")
        .arg(dir.join("data"))
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[regions.eu] events") && err.contains("embedded"),
        "{err}"
    );
    // Serving some regions needs the public feed between regions, from a file; and the regions
    // must be the deployment's.
    let refused = |args: &[&str], says: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_foryou"))
            .args(["serve", "--addr", "127.0.0.1:0", "--data"])
            .arg(dir.join("data"))
            .args(args)
            .output()
            .expect("run");
        assert!(!out.status.success(), "{args:?} started");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    };
    std::fs::write(&cfg, "[regions.eu]\nstore = \"embedded\"\n").expect("config");
    let file = cfg.display().to_string();
    refused(
        &["--config", &file, "--serve-regions", "eu"],
        "[public] events",
    );
    refused(&["--regions", "eu,us"], "[public] events");
    refused(
        &["--serve-regions", "mars"],
        "'mars' is not one of this deployment's regions",
    );
    refused(
        &["--regions", "eu", "--serve-regions", "eu"],
        "say the same thing",
    );
    let _ = std::fs::remove_dir_all(&dir);
}
