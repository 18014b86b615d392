//! Crash safety: what the server acknowledged survives `kill -9`, even with writes in flight.

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A tiny blocking HTTP/1.1 client: one request per connection.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(20)))?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n", body.len());
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let headers = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = headers
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut body = raw[split + 4..].to_vec();
    if headers
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(nl) = rest.windows(2).position(|w| w == b"\r\n") {
            let n =
                usize::from_str_radix(String::from_utf8_lossy(&rest[..nl]).trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[nl + 2..nl + 2 + n]);
            rest = &rest[nl + 4 + n..];
        }
        body = out;
    }
    Ok((status, body))
}

fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let (s, b) = http(addr, method, path, token, "application/json", &bytes).expect("request");
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

fn start(data: &Path) -> Server {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let child = Command::new(env!("CARGO_BIN_EXE_foryou"))
        .args(["serve", "--addr", &addr.to_string(), "--data"])
        .arg(data)
        // One user writes as fast as it can here: no rate limit, no upload quota.
        .args([
            "--limits",
            "events_per_user=off,uploads_per_user=off,signup_per_client=off",
        ])
        .args(["--max-uploads-per-day", "100000"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn foryou");
    let deadline = Instant::now() + Duration::from_secs(20);
    while http(addr, "GET", "/healthz", None, "text/plain", b"")
        .map(|r| r.0)
        .ok()
        != Some(200)
    {
        assert!(Instant::now() < deadline, "server did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server { child, addr }
}

impl Server {
    fn kill9(mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn data_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("foryou-crash-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn upload(addr: SocketAddr, token: &str, file: &[u8]) -> (u16, Value) {
    try_upload(addr, token, file).expect("upload")
}

fn try_upload(addr: SocketAddr, token: &str, file: &[u8]) -> std::io::Result<(u16, Value)> {
    let b = "CrAsHbOuNdArY";
    let mut body = format!("--{b}\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\nsurvivor #kill9\r\n--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.mp4\"\r\nContent-Type: video/mp4\r\n\r\n").into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    let (s, r) = http(
        addr,
        "POST",
        "/v1/videos",
        Some(token),
        &format!("multipart/form-data; boundary={b}"),
        &body,
    )?;
    Ok((s, serde_json::from_slice(&r).unwrap_or(Value::Null)))
}

/// What one kill -9 round acknowledged, all checked after the restart.
struct Round {
    events: usize,
    uploads: usize,
}

/// One round: a writer of events and an uploader run until the process is killed with SIGKILL;
/// after a restart every acknowledged event, like and upload (its bytes intact) is there.
fn kill_round(dir: &Path, round: usize, clip: &[u8]) -> Round {
    let server = start(dir);
    let a = server.addr;
    let handle = format!("durable{round}");
    let (s, _) = call(
        a,
        "POST",
        "/v1/accounts",
        None,
        Some(
            json!({"handle": handle, "password": "durable password", "birthdate": "1990-01-01", "country": "US"}),
        ),
    );
    assert_eq!(s, 201);
    let (_, v) = call(
        a,
        "POST",
        "/v1/sessions",
        None,
        Some(json!({"handle": handle, "password": "durable password"})),
    );
    let token = v["token"].as_str().expect("token").to_string();
    let (s, v) = upload(a, &token, clip);
    assert_eq!(s, 201, "{v}");
    let vid = v["id"].as_str().expect("id").to_string();

    // A writer keeps sending events and an uploader keeps uploading; the process is killed while
    // they do.
    let writer = {
        let (token, vid) = (token.clone(), vid.clone());
        std::thread::spawn(move || {
            let mut acked: Vec<String> = Vec::new();
            for i in 0..100_000 {
                let id = format!("r{round}-w{i}");
                let body = json!({"events": [{"id": id, "kind": "view", "video_id": vid, "watch_ms": 1500}]});
                match http(
                    a,
                    "POST",
                    "/v1/events",
                    Some(&token),
                    "application/json",
                    body.to_string().as_bytes(),
                ) {
                    Ok((200, _)) => acked.push(id),
                    _ => break,
                }
            }
            acked
        })
    };
    let uploader = {
        let (token, clip) = (token.clone(), clip.to_vec());
        std::thread::spawn(move || {
            let mut acked: Vec<String> = Vec::new();
            for _ in 0..10_000 {
                match try_upload(a, &token, &clip) {
                    Ok((201, v)) => acked.push(v["id"].as_str().unwrap_or("").to_string()),
                    _ => break,
                }
            }
            acked
        })
    };
    std::thread::sleep(Duration::from_millis(400));
    let (s, _) = call(
        a,
        "POST",
        "/v1/events",
        Some(&token),
        Some(json!({"events": [{"id": "like-1", "kind": "like", "video_id": vid}]})),
    );
    assert_eq!(s, 200);
    std::thread::sleep(Duration::from_millis(200));
    server.kill9();
    let acked = writer.join().expect("writer");
    let uploaded = uploader.join().expect("uploader");
    assert!(
        acked.len() > 5,
        "the writer got {} acknowledgements before the kill",
        acked.len()
    );

    let server = start(dir);
    let a = server.addr;
    let (s, v) = call(a, "GET", &format!("/v1/videos/{vid}"), Some(&token), None);
    assert_eq!(s, 200, "the acknowledged upload survived");
    assert_eq!(v["liked"], true, "the acknowledged like survived");
    assert!(
        v["counts"]["views"].as_u64().unwrap_or(0) >= acked.len() as u64,
        "{} views < {} acknowledged",
        v["counts"]["views"],
        acked.len()
    );
    for id in uploaded.iter().chain(std::iter::once(&vid)) {
        let (s, media) = http(
            a,
            "GET",
            &format!("/v1/videos/{id}/media"),
            None,
            "text/plain",
            b"",
        )
        .expect("media");
        assert_eq!(
            (s, media.len()),
            (200, clip.len()),
            "acknowledged upload {id}"
        );
        assert_eq!(media, clip, "the media bytes of {id} are intact");
    }
    // Every acknowledged event id is known: resending them changes nothing.
    for chunk in acked.chunks(100) {
        let events: Vec<Value> = chunk
            .iter()
            .map(|id| json!({"id": id, "kind": "view", "video_id": vid, "watch_ms": 1500}))
            .collect();
        let (s, v) = call(
            a,
            "POST",
            "/v1/events",
            Some(&token),
            Some(json!({"events": events})),
        );
        assert_eq!(s, 200);
        assert_eq!(v["accepted"], 0, "an acknowledged event was lost: {v}");
    }
    drop(server);
    Round {
        events: acked.len() + 1,
        uploads: uploaded.len() + 1,
    }
}

/// `FORYOU_KILL9_ROUNDS` rounds (1 by default; BENCHMARKS.md runs more) over one data directory,
/// so later rounds start from the state earlier kills left.
#[test]
fn acknowledged_uploads_and_events_survive_kill_9() {
    let rounds: usize = std::env::var("FORYOU_KILL9_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let dir = data_dir("ack");
    let clip = foryou_media::synth::clip_mp4(&foryou_media::synth::ClipSpec {
        seconds: 3.0,
        ..Default::default()
    });
    let (mut events, mut uploads) = (0, 0);
    for round in 0..rounds {
        let r = kill_round(&dir, round, &clip);
        events += r.events;
        uploads += r.uploads;
    }
    println!(
        "kill -9: {rounds} rounds, {events} acknowledged events and {uploads} acknowledged uploads, none lost"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
