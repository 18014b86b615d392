//! A minimal blocking HTTP/1.1 client for plain `http://` URLs: the server submits checkpoints
//! to its witness with it and the auditor fetches a server's log with it. One request per
//! connection, bounded time and size. (For `https://`, mirror the log with any HTTPS client and
//! audit the copy with `--dir`.)

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The most bytes of a response read.
const MAX_RESPONSE: u64 = 64 << 20;

/// A failed request.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Not an `http://host:port/path` URL.
    #[error("'{0}' is not an http:// URL")]
    Url(String),
    /// The connection or the transfer failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The response does not parse.
    #[error("malformed response: {0}")]
    Response(String),
}

/// Sends one request; returns the status and the body.
pub fn request(
    method: &str,
    url: &str,
    content_type: &str,
    body: &[u8],
    timeout: Duration,
) -> Result<(u16, Vec<u8>), ClientError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| ClientError::Url(url.to_string()))?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if host.is_empty() || host.contains(['@', ' ']) {
        return Err(ClientError::Url(url.to_string()));
    }
    let addr = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:80")
    };
    let mut stream = {
        use std::net::ToSocketAddrs;
        let sa = addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| ClientError::Url(url.to_string()))?;
        TcpStream::connect_timeout(&sa, timeout)?
    };
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nUser-Agent: foryou\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.take(MAX_RESPONSE).read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| ClientError::Response("no end of headers".into()))?;
    let head = std::str::from_utf8(&raw[..split])
        .map_err(|_| ClientError::Response("headers are not UTF-8".into()))?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ClientError::Response("no status".into()))?;
    let lower = head.to_ascii_lowercase();
    let mut body = raw[split + 4..].to_vec();
    if lower.contains("transfer-encoding: chunked") {
        body = dechunk(&body)?;
    } else if let Some(n) = lower
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        body.truncate(n);
    }
    Ok((status, body))
}

fn dechunk(mut b: &[u8]) -> Result<Vec<u8>, ClientError> {
    let bad = || ClientError::Response("bad chunked body".into());
    let mut out = Vec::new();
    loop {
        let line_end = b.windows(2).position(|w| w == b"\r\n").ok_or_else(bad)?;
        let size_str = std::str::from_utf8(&b[..line_end]).map_err(|_| bad())?;
        let size = usize::from_str_radix(size_str.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| bad())?;
        b = &b[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = b.get(..size).ok_or_else(bad)?;
        out.extend_from_slice(chunk);
        b = b.get(size + 2..).ok_or_else(bad)?;
    }
}

/// `GET url`.
pub fn get(url: &str) -> Result<(u16, Vec<u8>), ClientError> {
    request("GET", url, "text/plain", &[], Duration::from_secs(20))
}
