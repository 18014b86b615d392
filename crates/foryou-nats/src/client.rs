//! A small blocking NATS client: the text protocol over one TCP connection (INFO, CONNECT,
//! PING/PONG, SUB, PUB/HPUB, MSG/HMSG), enough for JetStream's request/reply API. One request at
//! a time; replies arrive on a private inbox. Every length the server sends is checked against
//! the largest payload it announced before anything is allocated.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// A message received: its subject, headers (with the status line's code, if any) and payload.
#[derive(Debug, Default)]
pub struct Msg {
    /// The subject it was sent to.
    pub subject: String,
    /// The status code of a header-only status message (e.g. 404, 204, 503), if any.
    pub status: Option<u16>,
    /// Its headers, in order.
    pub headers: Vec<(String, String)>,
    /// Its payload.
    pub payload: Vec<u8>,
}

impl Msg {
    /// The first header named `name` (case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A failure talking to the server.
#[derive(Debug)]
pub struct NatsError(pub String);

impl std::fmt::Display for NatsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err(m: impl Into<String>) -> NatsError {
    NatsError(m.into())
}

fn io(e: std::io::Error) -> NatsError {
    err(format!("nats: {e}"))
}

/// The longest protocol line accepted.
const MAX_LINE: usize = 64 * 1024;
/// The largest payload accepted whatever the server announces.
const MAX_PAYLOAD: usize = 64 << 20;

/// One connection.
pub struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    inbox: String,
    next: u64,
    max_payload: usize,
    timeout: Duration,
}

impl Client {
    /// Connects to `host:port`, optionally with a user and password.
    pub fn connect(
        addr: &str,
        auth: Option<(&str, &str)>,
        timeout: Duration,
    ) -> Result<Client, NatsError> {
        let sock = addr
            .to_socket_addrs()
            .map_err(io)?
            .next()
            .ok_or_else(|| err(format!("nats: cannot resolve {addr}")))?;
        let stream = TcpStream::connect_timeout(&sock, timeout).map_err(io)?;
        stream.set_read_timeout(Some(timeout)).map_err(io)?;
        stream.set_write_timeout(Some(timeout)).map_err(io)?;
        stream.set_nodelay(true).map_err(io)?;
        let writer = stream.try_clone().map_err(io)?;
        let mut c = Client {
            reader: BufReader::new(stream),
            writer,
            inbox: format!(
                "_INBOX.{:016x}{:016x}",
                rand::random::<u64>(),
                rand::random::<u64>()
            ),
            next: 0,
            max_payload: 1 << 20,
            timeout,
        };
        let info = c.line()?;
        let json = info
            .strip_prefix("INFO ")
            .ok_or_else(|| err("nats: the server did not start with INFO"))?;
        let info: serde_json::Value =
            serde_json::from_str(json).map_err(|e| err(format!("nats: INFO: {e}")))?;
        if let Some(n) = info["max_payload"].as_u64() {
            c.max_payload = (n as usize).min(MAX_PAYLOAD);
        }
        if info["headers"].as_bool() == Some(false) {
            return Err(err(
                "nats: the server does not support headers (JetStream needs 2.2+)",
            ));
        }
        let mut connect = serde_json::json!({
            "verbose": false, "pedantic": false, "headers": true, "no_responders": true,
            "protocol": 1, "lang": "rust-foryou", "version": env!("CARGO_PKG_VERSION"),
        });
        if let Some((user, pass)) = auth {
            connect["user"] = user.into();
            connect["pass"] = pass.into();
        }
        let sub = format!("SUB {}.* 1\r\n", c.inbox);
        c.send(format!("CONNECT {connect}\r\nPING\r\n{sub}").as_bytes())?;
        // The PONG (after any -ERR, such as an authorization failure) says the CONNECT took.
        loop {
            let l = c.line()?;
            if l == "PONG" {
                break;
            }
            if let Some(e) = l.strip_prefix("-ERR") {
                return Err(err(format!("nats: {}", e.trim())));
            }
        }
        Ok(c)
    }

    /// The largest payload the server takes.
    pub fn max_payload(&self) -> usize {
        self.max_payload
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), NatsError> {
        self.writer.write_all(bytes).map_err(io)
    }

    /// One protocol line, without its CRLF.
    fn line(&mut self) -> Result<String, NatsError> {
        let mut buf = Vec::new();
        let n = (&mut self.reader)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut buf)
            .map_err(io)?;
        if n == 0 {
            return Err(err("nats: the server closed the connection"));
        }
        if buf.last() != Some(&b'\n') {
            return Err(err("nats: a protocol line too long"));
        }
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        String::from_utf8(buf).map_err(|_| err("nats: a protocol line not in UTF-8"))
    }

    /// Publishes `payload` (with `headers`) to `subject`, the reply to go to `reply`.
    fn publish(
        &mut self,
        subject: &str,
        reply: &str,
        headers: &[(&str, &str)],
        payload: &[u8],
    ) -> Result<(), NatsError> {
        if payload.len() > self.max_payload {
            return Err(err(format!(
                "nats: a {} byte message is over the server's {} byte limit",
                payload.len(),
                self.max_payload
            )));
        }
        let mut out = Vec::with_capacity(payload.len() + 256);
        if headers.is_empty() {
            out.extend_from_slice(
                format!("PUB {subject} {reply} {}\r\n", payload.len()).as_bytes(),
            );
        } else {
            let mut h = String::from("NATS/1.0\r\n");
            for (k, v) in headers {
                h.push_str(&format!("{k}: {v}\r\n"));
            }
            h.push_str("\r\n");
            let total = h.len() + payload.len();
            out.extend_from_slice(
                format!("HPUB {subject} {reply} {} {total}\r\n", h.len()).as_bytes(),
            );
            out.extend_from_slice(h.as_bytes());
        }
        out.extend_from_slice(payload);
        out.extend_from_slice(b"\r\n");
        self.send(&out)
    }

    /// The next message (answering the server's PINGs on the way).
    fn next_msg(&mut self, deadline: Instant) -> Result<Msg, NatsError> {
        loop {
            if Instant::now() > deadline {
                return Err(err("nats: no reply in time"));
            }
            let l = self.line()?;
            if l == "PING" {
                self.send(b"PONG\r\n")?;
                continue;
            }
            if l == "PONG" || l == "+OK" || l.starts_with("INFO ") {
                continue;
            }
            if let Some(e) = l.strip_prefix("-ERR") {
                return Err(err(format!("nats: {}", e.trim())));
            }
            let parts: Vec<&str> = l.split_whitespace().collect();
            let (subject, hdr_len, total) = match parts.as_slice() {
                ["MSG", subject, _sid, n] | ["MSG", subject, _sid, _, n] => {
                    (*subject, 0, parse(n)?)
                }
                ["HMSG", subject, _sid, h, n] | ["HMSG", subject, _sid, _, h, n] => {
                    (*subject, parse(h)?, parse(n)?)
                }
                _ => {
                    return Err(err(format!(
                        "nats: unexpected '{}'",
                        l.chars().take(80).collect::<String>()
                    )))
                }
            };
            if total > self.max_payload.saturating_add(MAX_LINE) || hdr_len > total {
                return Err(err("nats: a message larger than the server's limit"));
            }
            let mut body = vec![0u8; total + 2];
            self.reader.read_exact(&mut body).map_err(io)?;
            body.truncate(total);
            let payload = body.split_off(hdr_len);
            let mut msg = Msg {
                subject: subject.to_string(),
                payload,
                ..Msg::default()
            };
            if hdr_len > 0 {
                let text = String::from_utf8_lossy(&body);
                let mut lines = text.split("\r\n");
                let status = lines.next().unwrap_or("");
                msg.status = status
                    .strip_prefix("NATS/1.0")
                    .and_then(|s| s.split_whitespace().next())
                    .and_then(|c| c.parse().ok());
                for line in lines.filter(|l| !l.is_empty()) {
                    if let Some((k, v)) = line.split_once(':') {
                        msg.headers
                            .push((k.trim().to_string(), v.trim().to_string()));
                    }
                }
            }
            return Ok(msg);
        }
    }

    /// Sends a request and waits for its one reply.
    pub fn request(
        &mut self,
        subject: &str,
        headers: &[(&str, &str)],
        payload: &[u8],
    ) -> Result<Msg, NatsError> {
        let mut all = self.request_many(subject, headers, payload, &mut |_| true)?;
        all.pop().ok_or_else(|| err("nats: no reply"))
    }

    /// Sends a request and collects its replies until `last` says one is the last.
    pub fn request_many(
        &mut self,
        subject: &str,
        headers: &[(&str, &str)],
        payload: &[u8],
        last: &mut dyn FnMut(&Msg) -> bool,
    ) -> Result<Vec<Msg>, NatsError> {
        self.next += 1;
        let reply = format!("{}.{}", self.inbox, self.next);
        self.publish(subject, &reply, headers, payload)?;
        let deadline = Instant::now() + self.timeout;
        let mut out = Vec::new();
        loop {
            let m = self.next_msg(deadline)?;
            // Replies to an earlier request that timed out are dropped.
            if m.subject != reply {
                continue;
            }
            if m.status == Some(503) {
                return Err(err(format!(
                    "nats: no responders on {subject} (is JetStream enabled?)"
                )));
            }
            let done = last(&m);
            out.push(m);
            if done {
                return Ok(out);
            }
        }
    }
}

fn parse(s: &str) -> Result<usize, NatsError> {
    s.parse()
        .map_err(|_| err(format!("nats: bad length '{s}'")))
}
