//! A real `foryou serve` process and a tiny blocking HTTP client, shared by the process tests.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A tiny blocking HTTP/1.1 client: one request per connection.
pub fn http(
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

pub fn call(
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

pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
}

pub fn start(data: &Path) -> Server {
    start_with(data, &[], None)
}

/// Starts the server on `data` with `extra` flags, its log (stderr) to `log` when given.
pub fn start_with(data: &Path, extra: &[&str], log: Option<&Path>) -> Server {
    start_env(data, extra, log, &[])
}

/// As [`start_with`], with environment variables set for the server.
pub fn start_env(data: &Path, extra: &[&str], log: Option<&Path>, env: &[(&str, &str)]) -> Server {
    let server = spawn_env(data, extra, log, env);
    assert!(
        wait_up(server.addr, Duration::from_secs(20)),
        "server did not come up"
    );
    server
}

/// Starts the server without waiting for it to answer.
pub fn spawn_env(data: &Path, extra: &[&str], log: Option<&Path>, env: &[(&str, &str)]) -> Server {
    let port = foryou_types::ports::loopback_port().expect("free port");
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
        .args(extra)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(match log {
            Some(p) => Stdio::from(std::fs::File::create(p).expect("log file")),
            None => Stdio::null(),
        })
        .spawn()
        .expect("spawn foryou");
    Server { child, addr }
}

/// Whether the server at `addr` answers `/healthz` within `timeout`.
/// Whether the 200 answer to `GET path` at `addr` was forwarded by a standing-by node to the
/// node serving its region; `None` without a 200.
pub fn forwarded(addr: SocketAddr, path: &str) -> Option<bool> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let raw = String::from_utf8_lossy(&raw).to_ascii_lowercase();
    let head = raw.split("\r\n\r\n").next().unwrap_or("");
    head.starts_with("http/1.1 200")
        .then(|| head.contains("\r\nforyou-forwarded: 1"))
}

/// Waits until the node at `addr` serves (itself, not by forwarding).
pub fn wait_serving(addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while forwarded(addr, "/healthz") != Some(false) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

pub fn wait_up(addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while http(addr, "GET", "/healthz", None, "text/plain", b"")
        .map(|r| r.0)
        .ok()
        != Some(200)
    {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

impl Server {
    /// A graceful stop (SIGTERM), waiting for the process to write its snapshots and exit.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server did not stop within 30 s of SIGTERM");
    }

    pub fn kill9(mut self) {
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

pub fn data_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("foryou-crash-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

pub fn upload(addr: SocketAddr, token: &str, file: &[u8]) -> (u16, Value) {
    try_upload(addr, token, file).expect("upload")
}

pub fn try_upload(addr: SocketAddr, token: &str, file: &[u8]) -> std::io::Result<(u16, Value)> {
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
