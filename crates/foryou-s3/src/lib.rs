//! Media on S3-compatible storage: [`S3Store`] implements foryou-media's [`ObjectStore`] with
//! presigned requests (AWS Signature V4, by `rusty-s3`) over plain HTTP(S) (`ureq`): `PUT` for
//! small objects, multipart upload for large files, `HEAD` for sizes, `GET` with `Range` for
//! reads, `ListObjectsV2` for the keys. Path-style URLs, so MinIO, SeaweedFS and Garage work as
//! AWS does. Credentials come from `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and
//! `AWS_SESSION_TOKEN`), never from the URL; no message repeats them.
//!
//! The location is a URL: `s3://BUCKET?endpoint=http://127.0.0.1:8333&region=us-east-1&prefix=eu/`
//! (`region` defaults to `us-east-1`, `prefix` to none). The bucket is made on open when absent.

#[cfg(feature = "test-server")]
pub mod test_server;

use foryou_media::{check_key, ObjectStore, StoreError};
pub use rusty_s3::Credentials;
use rusty_s3::{Bucket, S3Action, UrlStyle};
use std::io::Read;
use std::path::Path;
use std::time::Duration;

/// How long a signed request stays valid.
const SIGNED_FOR: Duration = Duration::from_secs(300);
/// Files above this go up in parts.
const SINGLE_PUT_MAX: u64 = 16 << 20;
/// The size of each part of a multipart upload (S3 wants at least 5 MiB but for the last).
const PART: usize = 8 << 20;
/// The most keys one listing page asks for.
const PAGE: usize = 1000;
/// The largest object read into memory at once (a `read_range` asks for less).
const MAX_READ: u64 = 64 << 20;

/// A bucket (and optional key prefix) on an S3-compatible service.
pub struct S3Store {
    bucket: Bucket,
    credentials: Credentials,
    prefix: String,
    agent: ureq::Agent,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "S3Store({}/{})", self.bucket.base_url(), self.prefix)
    }
}

fn remote(key: &str, message: impl Into<String>) -> StoreError {
    StoreError::Remote {
        key: key.to_string(),
        message: message.into(),
    }
}

/// The parts of an `s3://` location.
#[derive(Debug, PartialEq)]
pub struct Location {
    /// The bucket.
    pub bucket: String,
    /// The service's endpoint (`http://host:port` or `https://…`).
    pub endpoint: String,
    /// The signing region.
    pub region: String,
    /// A prefix before every key (empty or ending in `/`).
    pub prefix: String,
}

impl Location {
    /// Parses `s3://BUCKET?endpoint=URL[&region=R][&prefix=P]`.
    pub fn parse(url: &str) -> Result<Location, String> {
        let u = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        if u.scheme() != "s3" {
            return Err("the scheme must be s3://".into());
        }
        if !u.username().is_empty() || u.password().is_some() {
            return Err(
                "credentials do not go in the URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                    .into(),
            );
        }
        let bucket = u.host_str().unwrap_or("").to_string();
        let ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !ok {
            return Err("the bucket name must be 3 to 63 of a-z, 0-9, '-' and '.'".into());
        }
        let (mut endpoint, mut region, mut prefix) = (None, "us-east-1".to_string(), String::new());
        for (k, v) in u.query_pairs() {
            match k.as_ref() {
                "endpoint" => endpoint = Some(v.to_string()),
                "region" => region = v.to_string(),
                "prefix" => prefix = v.to_string(),
                other => {
                    return Err(format!(
                        "unknown parameter '{other}' (endpoint, region, prefix)"
                    ))
                }
            }
        }
        let endpoint = endpoint.ok_or("name the service: ?endpoint=http://host:port")?;
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err("the endpoint must be an http:// or https:// URL".into());
        }
        if !prefix.is_empty()
            && (!prefix.ends_with('/') || check_key(&format!("{prefix}x")).is_err())
        {
            return Err("the prefix must be a key path ending in '/'".into());
        }
        Ok(Location {
            bucket,
            endpoint,
            region,
            prefix,
        })
    }
}

impl S3Store {
    /// Opens the bucket at `url` with the credentials in the environment, making the bucket
    /// when it is absent.
    pub fn open(url: &str) -> Result<S3Store, StoreError> {
        let loc = Location::parse(url).map_err(|m| remote("", m))?;
        let credentials = Credentials::from_env().ok_or_else(|| {
            remote(
                "",
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the S3 media store",
            )
        })?;
        S3Store::with_credentials(&loc, credentials)
    }

    /// Opens the bucket at `loc` with these credentials.
    pub fn with_credentials(
        loc: &Location,
        credentials: Credentials,
    ) -> Result<S3Store, StoreError> {
        let endpoint = loc
            .endpoint
            .parse()
            .map_err(|e| remote("", format!("endpoint: {e}")))?;
        let bucket = Bucket::new(
            endpoint,
            UrlStyle::Path,
            loc.bucket.clone(),
            loc.region.clone(),
        )
        .map_err(|e| remote("", format!("bucket: {e}")))?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(5)))
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        let s = S3Store {
            bucket,
            credentials,
            prefix: loc.prefix.clone(),
            agent,
        };
        s.ensure_bucket()?;
        Ok(s)
    }

    fn ensure_bucket(&self) -> Result<(), StoreError> {
        let url = self
            .bucket
            .head_bucket(Some(&self.credentials))
            .sign(SIGNED_FOR);
        let r = self
            .agent
            .head(url.as_str())
            .call()
            .map_err(|e| remote("", e.to_string()))?;
        match r.status().as_u16() {
            200 => Ok(()),
            404 => {
                let action = self.bucket.create_bucket(&self.credentials);
                let url = action.sign(SIGNED_FOR);
                let mut r = self
                    .agent
                    .put(url.as_str())
                    .send(action.body())
                    .map_err(|e| remote("", e.to_string()))?;
                check(&mut r, "")
            }
            s => Err(remote("", format!("the bucket answered {s}"))),
        }
    }

    fn full(&self, key: &str) -> Result<String, StoreError> {
        check_key(key)?;
        Ok(format!("{}{key}", self.prefix))
    }

    fn put_bytes(&self, key: &str, object: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let url = self
            .bucket
            .put_object(Some(&self.credentials), object)
            .sign(SIGNED_FOR);
        let mut r = self
            .agent
            .put(url.as_str())
            .send(bytes)
            .map_err(|e| remote(key, e.to_string()))?;
        check(&mut r, key)
    }

    fn put_parts(
        &self,
        key: &str,
        object: &str,
        file: &mut std::fs::File,
    ) -> Result<(), StoreError> {
        let create = self
            .bucket
            .create_multipart_upload(Some(&self.credentials), object);
        let url = create.sign(SIGNED_FOR);
        let mut r = self
            .agent
            .post(url.as_str())
            .send_empty()
            .map_err(|e| remote(key, e.to_string()))?;
        let body = read_body(&mut r, key, 1 << 20)?;
        if !r.status().is_success() {
            return Err(remote(key, status_text(r.status().as_u16(), &body)));
        }
        let created = rusty_s3::actions::CreateMultipartUpload::parse_response(
            &String::from_utf8_lossy(&body),
        )
        .map_err(|e| remote(key, format!("multipart upload: {e}")))?;
        let upload_id = created.upload_id().to_string();
        let result = (|| {
            let mut etags = Vec::new();
            let mut buf = vec![0u8; PART];
            for part in 1u16.. {
                let n = read_full(file, &mut buf).map_err(|source| StoreError::Io {
                    key: key.to_string(),
                    source,
                })?;
                if n == 0 && part > 1 {
                    break;
                }
                let url = self
                    .bucket
                    .upload_part(Some(&self.credentials), object, part, &upload_id)
                    .sign(SIGNED_FOR);
                let mut r = self
                    .agent
                    .put(url.as_str())
                    .send(&buf[..n])
                    .map_err(|e| remote(key, e.to_string()))?;
                let etag = r
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                check(&mut r, key)?;
                etags.push(etag.ok_or_else(|| remote(key, "a part came back without an ETag"))?);
                if n < PART {
                    break;
                }
            }
            let done = self.bucket.complete_multipart_upload(
                Some(&self.credentials),
                object,
                &upload_id,
                etags.iter().map(String::as_str),
            );
            let url = done.sign(SIGNED_FOR);
            let mut r = self
                .agent
                .post(url.as_str())
                .send(done.body())
                .map_err(|e| remote(key, e.to_string()))?;
            check(&mut r, key)
        })();
        if result.is_err() {
            let url = self
                .bucket
                .abort_multipart_upload(Some(&self.credentials), object, &upload_id)
                .sign(SIGNED_FOR);
            let _ = self.agent.delete(url.as_str()).call();
        }
        result
    }
}

/// Reads until `buf` is full or the file ends.
fn read_full(f: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn read_body(
    r: &mut ureq::http::Response<ureq::Body>,
    key: &str,
    limit: u64,
) -> Result<Vec<u8>, StoreError> {
    r.body_mut()
        .with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(|e| remote(key, e.to_string()))
}

/// The status and the service's error code, from an S3 error body.
fn status_text(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let code = text
        .split("<Code>")
        .nth(1)
        .and_then(|s| s.split("</Code>").next())
        .unwrap_or("");
    format!(
        "HTTP {status} {}",
        code.chars().take(64).collect::<String>()
    )
}

/// Success, or the status and code as an error.
fn check(r: &mut ureq::http::Response<ureq::Body>, key: &str) -> Result<(), StoreError> {
    let status = r.status().as_u16();
    let body = read_body(r, key, 1 << 20)?;
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(remote(key, status_text(status, &body)))
    }
}

impl ObjectStore for S3Store {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let object = self.full(key)?;
        self.put_bytes(key, &object, bytes)
    }

    fn put_file(&self, key: &str, file: &Path) -> Result<(), StoreError> {
        let object = self.full(key)?;
        let io = |source| StoreError::Io {
            key: key.to_string(),
            source,
        };
        let mut f = std::fs::File::open(file).map_err(io)?;
        let len = f.metadata().map_err(io)?.len();
        if len <= SINGLE_PUT_MAX {
            let mut bytes = Vec::with_capacity(len as usize);
            f.read_to_end(&mut bytes).map_err(io)?;
            self.put_bytes(key, &object, &bytes)?;
        } else {
            self.put_parts(key, &object, &mut f)?;
        }
        // The file is in the store now: moved, as the local store does.
        std::fs::remove_file(file).map_err(io)
    }

    fn size(&self, key: &str) -> Result<Option<u64>, StoreError> {
        let object = self.full(key)?;
        let url = self
            .bucket
            .head_object(Some(&self.credentials), &object)
            .sign(SIGNED_FOR);
        let r = self
            .agent
            .head(url.as_str())
            .call()
            .map_err(|e| remote(key, e.to_string()))?;
        match r.status().as_u16() {
            404 => Ok(None),
            s if (200..300).contains(&s) => r
                .headers()
                .get("content-length")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .map(Some)
                .ok_or_else(|| remote(key, "no Content-Length")),
            s => Err(remote(key, format!("HTTP {s}"))),
        }
    }

    fn read_range(&self, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, StoreError> {
        let object = self.full(key)?;
        let len = len.min(MAX_READ);
        if len == 0 {
            return Ok(Vec::new());
        }
        let last = offset
            .checked_add(len - 1)
            .ok_or_else(|| remote(key, "range past 2^64"))?;
        let url = self
            .bucket
            .get_object(Some(&self.credentials), &object)
            .sign(SIGNED_FOR);
        let mut r = self
            .agent
            .get(url.as_str())
            .header("Range", format!("bytes={offset}-{last}"))
            .call()
            .map_err(|e| remote(key, e.to_string()))?;
        let status = r.status().as_u16();
        let body = read_body(&mut r, key, len.saturating_add(1 << 20))?;
        match status {
            206 => Ok(body),
            // A whole object sent back (a service that ignores ranges): cut it here.
            200 => Ok(body
                .get(offset.min(body.len() as u64) as usize..)
                .map(|b| b[..b.len().min(len as usize)].to_vec())
                .unwrap_or_default()),
            // Past the end: nothing there, as a file read past its end.
            416 => Ok(Vec::new()),
            404 => Err(StoreError::Io {
                key: key.to_string(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such object"),
            }),
            s => Err(remote(key, status_text(s, &body))),
        }
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        let object = self.full(key)?;
        let url = self
            .bucket
            .delete_object(Some(&self.credentials), &object)
            .sign(SIGNED_FOR);
        let mut r = self
            .agent
            .delete(url.as_str())
            .call()
            .map_err(|e| remote(key, e.to_string()))?;
        if r.status().as_u16() == 404 {
            return Ok(());
        }
        check(&mut r, key)
    }

    fn keys(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut list = self.bucket.list_objects_v2(Some(&self.credentials));
            list.with_max_keys(PAGE);
            if !self.prefix.is_empty() {
                list.with_prefix(self.prefix.as_str());
            }
            if let Some(t) = &token {
                list.with_continuation_token(t.as_str());
            }
            let url = list.sign(SIGNED_FOR);
            let mut r = self
                .agent
                .get(url.as_str())
                .call()
                .map_err(|e| remote("", e.to_string()))?;
            let status = r.status().as_u16();
            let body = read_body(&mut r, "", 32 << 20)?;
            if status != 200 {
                return Err(remote("", status_text(status, &body)));
            }
            let page =
                rusty_s3::actions::ListObjectsV2::parse_response(&String::from_utf8_lossy(&body))
                    .map_err(|e| remote("", format!("listing: {e}")))?;
            for c in page.contents {
                if let Some(k) = c.key.strip_prefix(self.prefix.as_str()) {
                    if check_key(k).is_ok() {
                        out.push(k.to_string());
                    }
                }
            }
            match page.next_continuation_token {
                Some(t) if Some(&t) != token.as_ref() => token = Some(t),
                _ => break,
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_parsed_and_checked() {
        let l = Location::parse("s3://foryou-eu?endpoint=http://127.0.0.1:8333&prefix=media/")
            .expect("parse");
        assert_eq!(
            l,
            Location {
                bucket: "foryou-eu".into(),
                endpoint: "http://127.0.0.1:8333".into(),
                region: "us-east-1".into(),
                prefix: "media/".into()
            }
        );
        for (bad, says) in [
            ("http://b?endpoint=http://h", "s3://"),
            ("s3://AB?endpoint=http://h", "bucket name"),
            (
                "s3://key:secret@bucket?endpoint=http://h",
                "credentials do not go",
            ),
            ("s3://bucket", "endpoint"),
            ("s3://bucket?endpoint=ftp://h", "http://"),
            ("s3://bucket?endpoint=http://h&acl=x", "unknown parameter"),
            ("s3://bucket?endpoint=http://h&prefix=../", "prefix"),
        ] {
            let e = Location::parse(bad).expect_err(bad);
            assert!(e.contains(says), "{bad}: {e}");
            assert!(!e.contains("secret"), "{e}");
        }
    }
}
