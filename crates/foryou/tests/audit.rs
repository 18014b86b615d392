//! The transparency log as an operator, a staff member, a viewer, a witness and an outside
//! auditor meet it, all through real processes: staff actions and a boost land in the log, the
//! boost is labelled in the feed, the witness cosigns, `foryou audit verify` passes (and extends
//! its saved state), a tampered copy fails, and acknowledged entries survive `kill -9`.

mod common;

use common::{call, data_dir, http, start_with, upload, Server};
use foryou_tlog::entry::Entry;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_foryou"))
}

/// `foryou admin create`: the one-time password.
fn create_admin(data: &Path, handle: &str) -> String {
    let out = bin()
        .args([
            "admin",
            "create",
            "--handle",
            handle,
            "--country",
            "US",
            "--data",
        ])
        .arg(data)
        .output()
        .expect("admin create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    text.split("one-time password: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("password")
        .to_string()
}

fn session(a: SocketAddr, handle: &str, password: &str) -> String {
    let (s, v) = call(
        a,
        "POST",
        "/v1/sessions",
        None,
        Some(json!({"handle": handle, "password": password})),
    );
    assert_eq!(s, 201, "{v}");
    v["token"].as_str().expect("token").to_string()
}

fn sign_up(a: SocketAddr, handle: &str, country: &str) -> String {
    let (s, v) = call(
        a,
        "POST",
        "/v1/accounts",
        None,
        Some(
            json!({"handle": handle, "password": "a fine long password", "birthdate": "1990-01-01", "country": country}),
        ),
    );
    assert_eq!(s, 201, "{v}");
    session(a, handle, "a fine long password")
}

fn text(a: SocketAddr, path: &str) -> (u16, Vec<u8>) {
    http(a, "GET", path, None, "text/plain", b"").expect("request")
}

struct Witness {
    child: Child,
    url: String,
    vkey: String,
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_witness(dir: &Path, log_key: &str) -> Witness {
    let port = foryou_types::ports::loopback_port().expect("port");
    let mut child = bin()
        .args([
            "audit",
            "witness",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--log-key",
            log_key,
            "--key-file",
        ])
        .arg(dir.join("witness.key"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("witness");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let vkey = lines
        .next()
        .and_then(|l| l.ok())
        .and_then(|l| l.strip_prefix("witness key: ").map(str::to_string))
        .expect("the witness prints its key");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "witness did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    Witness { child, url, vkey }
}

fn verify(args: &[&str]) -> Output {
    bin()
        .args(["audit", "verify"])
        .args(args)
        .output()
        .expect("verify")
}

/// Every entry of the log in a data directory, parsed.
fn entries(data: &Path) -> Vec<Entry> {
    let src = foryou_tlog::audit::DirSource(data.join("transparency/log"));
    let key = std::fs::read_to_string(data.join("transparency/log.key")).expect("key");
    let signer = foryou_tlog::note::LogSigner::from_skey(&key).expect("key");
    let trust = foryou_tlog::audit::Trust {
        log_vkey: signer.vkey().to_string(),
        witnesses: vec![],
        min_cosigners: 0,
    };
    let mut out = Vec::new();
    foryou_tlog::audit::verify(&src, &trust, None, |_, raw| {
        out.push(Entry::parse(raw).map_err(|e| e.to_string())?);
        Ok(())
    })
    .expect("the log verifies");
    out
}

fn clip() -> Vec<u8> {
    foryou_media::synth::clip_mp4(&foryou_media::synth::ClipSpec {
        seconds: 2.0,
        ..Default::default()
    })
}

#[test]
fn staff_actions_and_a_boost_are_logged_labelled_witnessed_and_verified() {
    let data = data_dir("audit");
    std::fs::create_dir_all(&data).expect("dir");
    let password = create_admin(&data, "boss");
    // The log's key, as an auditor pins it.
    let server = start_with(&data, &[], None);
    let (s, key) = text(server.addr, "/log/key");
    assert_eq!(s, 200);
    let vkey = String::from_utf8(key).expect("utf8").trim().to_string();
    server.stop();
    let witness = start_witness(&data, &vkey);
    let server: Server = start_with(
        &data,
        &[
            "--witness-url",
            &witness.url,
            "--witness-key",
            &witness.vkey,
        ],
        None,
    );
    let a = server.addr;

    let boss = session(a, "boss", &password);
    let creator = sign_up(a, "maker", "US");
    let viewer = sign_up(a, "looker", "US");
    let eu_person = sign_up(a, "fromparis", "FR");
    let (s, v) = upload(a, &creator, &clip());
    assert_eq!(s, 201, "{v}");
    let vid = v["id"].as_str().expect("id").to_string();
    let _ = eu_person;

    // A boost without a reason is refused; with one it is logged and labelled in the feed.
    let (s, _) = call(
        a,
        "POST",
        &format!("/v1/admin/videos/{vid}/boost"),
        Some(&boss),
        Some(json!({"action": "boost", "reason": " "})),
    );
    assert_eq!(s, 400);
    let (s, _) = call(
        a,
        "POST",
        &format!("/v1/admin/videos/{vid}/boost"),
        Some(&viewer),
        Some(json!({"action": "boost", "reason": "mine"})),
    );
    assert_eq!(s, 403, "a user cannot boost");
    let (s, v) = call(
        a,
        "POST",
        &format!("/v1/admin/videos/{vid}/boost"),
        Some(&boss),
        Some(json!({"action": "boost", "reason": "local news of public interest"})),
    );
    assert_eq!(s, 201, "{v}");
    let (s, feed) = call(a, "GET", "/v1/feed?limit=10", Some(&viewer), None);
    assert_eq!(s, 200, "{feed}");
    let item = feed["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["id"] == vid.as_str())
        .expect("the boosted video is in the feed")
        .clone();
    assert_eq!(item["boosted"], true, "{item}");
    assert!(
        item["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .any(|r| r["code"] == "boosted"
                && r["text"]
                    .as_str()
                    .unwrap_or("")
                    .contains("local news of public interest")),
        "{item}"
    );
    let ranking = feed["ranking_version"]
        .as_str()
        .expect("ranking version")
        .to_string();

    // Staff reach another region's data through the gateway: allowed or denied, it is logged.
    let (s, _) = call(
        a,
        "GET",
        "/v1/admin/users?region=eu&purpose=legal",
        Some(&boss),
        None,
    );
    assert!(s == 200 || s == 403, "{s}");

    // The recommender's parameters are public and their version is the feed's.
    let (s, rec) = call(a, "GET", "/v1/recommender", None, None);
    assert_eq!(s, 200);
    assert_eq!(rec["version"], ranking.as_str());
    assert!(rec["parameters"].is_object());

    // The checkpoint gets the witness's cosignature.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, cp) = text(a, "/log/checkpoint");
        let cp = String::from_utf8(cp).expect("utf8");
        if cp.matches('\u{2014}').count() >= 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the witness never cosigned: {cp}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // A tile is served as the spec names it, cacheable.
    let (s, tile) = text(a, "/log/tile/entries/000.p/1");
    assert_eq!(s, 200);
    assert!(!tile.is_empty());
    assert_eq!(text(a, "/log/tile/0/5").0, 404);

    // The outside auditor: everything checks out, and the next run extends the saved state.
    let state = data.join("auditor.state");
    let url = format!("http://{a}");
    let args = [
        "--server",
        &url,
        "--key",
        &vkey,
        "--witness-key",
        &witness.vkey,
        "--state",
    ];
    let out = verify(&[&args[..], &[state.to_str().expect("path")]].concat());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("OK")
            && stdout.contains("boosts and suppressions")
            && stdout.contains("witness.localhost/w1"),
        "{stdout}"
    );
    let (s, _) = call(
        a,
        "POST",
        &format!("/v1/admin/videos/{vid}/boost"),
        Some(&boss),
        Some(json!({"action": "clear", "reason": "the story is over"})),
    );
    assert_eq!(s, 201);
    std::thread::sleep(Duration::from_millis(300));
    let out = verify(&[&args[..], &[state.to_str().expect("path")]].concat());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("extends the checkpoint"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // An outside verifier written from the specs alone (Python's standard library, its own
    // Ed25519) recomputes the root from the tiles and checks the signed, witnessed checkpoint.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/verify-log.py");
    let out = Command::new("python3")
        .arg(&script)
        .args([
            "--server",
            &url,
            "--key",
            &vkey,
            "--witness-key",
            &witness.vkey,
        ])
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.starts_with("OK") && stdout.contains("witnessed"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The wrong key is refused.
    let (_, other) = foryou_tlog::note::LogSigner::generate("foryou.localhost/log").expect("key");
    let out = verify(&["--server", &url, "--key", other.vkey()]);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("BAD SIGNATURE")
    );
    server.stop();

    // The log holds the boost, its clearing, the staff access and the configuration, and no
    // handle of anyone.
    let all = entries(&data);
    assert!(all.iter().any(|e| matches!(e, Entry::Boost { action, reason, .. } if action == "boost" && reason == "local news of public interest")));
    assert!(all
        .iter()
        .any(|e| matches!(e, Entry::Boost { action, .. } if action == "clear")));
    assert!(all
        .iter()
        .any(|e| matches!(e, Entry::Access { target_region, .. } if target_region == "eu")));
    assert!(all
        .iter()
        .any(|e| matches!(e, Entry::Config { version, .. } if *version == ranking)));
    assert!(all
        .iter()
        .any(|e| matches!(e, Entry::Role { role, by, .. } if role == "admin" && by == "operator")));
    let raw: Vec<u8> = std::fs::read_dir(data.join("transparency/log/tile/entries"))
        .expect("bundles")
        .flat_map(|e| std::fs::read(e.expect("entry").path()).unwrap_or_default())
        .collect();
    for handle in ["boss", "maker", "looker", "fromparis"] {
        assert!(
            !raw.windows(handle.len()).any(|w| w == handle.as_bytes()),
            "{handle} is in the log"
        );
    }

    // A copy of the log with one entry changed fails, naming what happened.
    let copy = data.join("copied-log");
    let status = Command::new("cp")
        .args(["-r"])
        .arg(data.join("transparency/log"))
        .arg(&copy)
        .status()
        .expect("cp");
    assert!(status.success());
    let size: u64 = std::fs::read_to_string(copy.join("checkpoint"))
        .expect("checkpoint")
        .lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .expect("size");
    assert!(size < 256, "{size}");
    let bundle = copy.join(format!("tile/entries/000.p/{size}"));
    let mut b = std::fs::read(&bundle).expect("bundle");
    let at = b.len() - 3;
    b[at] ^= 0x20;
    std::fs::write(&bundle, b).expect("write");
    let out = verify(&["--dir", copy.to_str().expect("path"), "--key", &vkey]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("REWRITTEN ENTRY"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(witness);
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn acknowledged_log_entries_survive_kill_9() {
    let data = data_dir("tlog-kill");
    std::fs::create_dir_all(&data).expect("dir");
    let password = create_admin(&data, "chief");
    let server = start_with(&data, &[], None);
    let a = server.addr;
    let chief = session(a, "chief", &password);
    let maker = sign_up(a, "uploader", "US");
    let (s, v) = upload(a, &maker, &clip());
    assert_eq!(s, 201, "{v}");
    let vid = v["id"].as_str().expect("id").to_string();
    let writer = {
        let (chief, vid) = (chief.clone(), vid.clone());
        std::thread::spawn(move || {
            let mut acked = Vec::new();
            for i in 0..100_000 {
                let reason = format!("round {i}");
                let body =
                    json!({"action": if i % 2 == 0 { "boost" } else { "clear" }, "reason": reason});
                match http(
                    a,
                    "POST",
                    &format!("/v1/admin/videos/{vid}/boost"),
                    Some(&chief),
                    "application/json",
                    body.to_string().as_bytes(),
                ) {
                    Ok((201, b)) => {
                        let v: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
                        acked.push((v["log_index"].as_u64().expect("index"), reason));
                    }
                    _ => break,
                }
            }
            acked
        })
    };
    std::thread::sleep(Duration::from_millis(1500));
    server.kill9();
    let acked = writer.join().expect("writer");
    assert!(
        acked.len() > 5,
        "too few boosts acknowledged: {}",
        acked.len()
    );
    // After a restart the log verifies and holds every acknowledged entry at its index.
    let server = start_with(&data, &[], None);
    server.stop();
    let all = entries(&data);
    for (index, reason) in &acked {
        match all.get(*index as usize) {
            Some(Entry::Boost { reason: r, .. }) => assert_eq!(r, reason),
            other => panic!("entry {index} is {other:?}, not the acknowledged boost '{reason}'"),
        }
    }
    let _ = std::fs::remove_dir_all(&data);
}
