//! The in-process client the API tests share: a platform in a temporary directory, requests
//! through the router, uploads as multipart.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use foryou_media::synth::{clip_mp4, ClipSpec};
use foryou_media::{LocalObjectStore, ObjectStore};
use foryou_server::{router, Backends, Config, Platform, PlatformError};
use foryou_store::{EmbeddedKeys, EmbeddedLog, EmbeddedStore, EventLog, KeyStore, RegionStore};
use foryou_types::Region;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;

/// The embedded backends, as the binary chooses them.
pub struct Embedded;

impl Backends for Embedded {
    fn keys(&self, region: &Region, dir: &Path) -> Result<Box<dyn KeyStore>, PlatformError> {
        Ok(Box::new(EmbeddedKeys::open(region.clone(), dir)?))
    }

    fn log(
        &self,
        region: &Region,
        dir: &Path,
        config: &Config,
    ) -> Result<Box<dyn EventLog>, PlatformError> {
        Ok(Box::new(EmbeddedLog::open(
            region.clone(),
            dir,
            config.store_cache_bytes,
        )?))
    }

    fn store(
        &self,
        region: &Region,
        dir: &Path,
        config: &Config,
    ) -> Result<Box<dyn RegionStore>, PlatformError> {
        Ok(Box::new(EmbeddedStore::open(
            region.clone(),
            dir,
            config.store_cache_bytes,
        )?))
    }

    fn media(&self, _: &Region, dir: &Path) -> Result<Box<dyn ObjectStore>, PlatformError> {
        Ok(Box::new(LocalObjectStore::open(dir.join("media"))?))
    }
}

/// Opens a platform on the embedded backends.
pub fn platform(c: Config) -> Platform {
    Platform::open(c, &Embedded).expect("platform opens")
}

pub struct Env {
    pub dir: PathBuf,
    pub app: Router,
    pub keep_dir: bool,
}

pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "foryou-api-{name}-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0)
}

pub fn open(dir: &Path, tweak: impl Fn(&mut Config)) -> Router {
    let mut c = Config::new(dir);
    tweak(&mut c);
    router(Arc::new(platform(c)))
}

impl Env {
    /// A platform over an existing directory (a restart), kept or removed when dropped.
    pub fn at(dir: &Path, keep_dir: bool) -> Env {
        Env {
            dir: dir.to_path_buf(),
            app: open(dir, |_| {}),
            keep_dir,
        }
    }

    pub fn new(name: &str) -> Env {
        Env::with(name, |_| {})
    }

    /// An environment and its platform, for tests that also act on the platform directly.
    pub fn with_platform(name: &str, tweak: impl Fn(&mut Config)) -> (Env, Arc<Platform>) {
        let dir = temp_dir(name);
        let mut c = Config::new(&dir);
        tweak(&mut c);
        let p = Arc::new(platform(c));
        let env = Env {
            dir,
            app: router(Arc::clone(&p)),
            keep_dir: false,
        };
        (env, p)
    }

    /// An environment and its platform over `dir`, which is kept when they are dropped (for a
    /// restart).
    pub fn with_platform_at(dir: &Path, tweak: impl Fn(&mut Config)) -> (Env, Arc<Platform>) {
        let mut c = Config::new(dir);
        tweak(&mut c);
        let p = Arc::new(platform(c));
        let env = Env {
            dir: dir.to_path_buf(),
            app: router(Arc::clone(&p)),
            keep_dir: true,
        };
        (env, p)
    }

    pub fn with(name: &str, tweak: impl Fn(&mut Config)) -> Env {
        let dir = temp_dir(name);
        let app = open(&dir, tweak);
        Env {
            dir,
            app,
            keep_dir: false,
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(v) => b
                .header("content-type", "application/json")
                .body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        }
        .expect("request");
        let res = self.app.clone().oneshot(req).await.expect("response");
        let status = res.status();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    pub async fn raw(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let res = self.app.clone().oneshot(req).await.expect("response");
        let (parts, body) = res.into_parts();
        (
            parts.status,
            parts.headers,
            body.collect().await.expect("body").to_bytes().to_vec(),
        )
    }

    pub async fn user(&self, handle: &str, country: &str) -> String {
        let (s, v) = self
            .call("POST", "/v1/accounts", None, Some(json!({"handle": handle, "password": "long enough pw", "birthdate": "1999-04-05", "country": country})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let (s, v) = self
            .call(
                "POST",
                "/v1/sessions",
                None,
                Some(json!({"handle": handle, "password": "long enough pw"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["token"].as_str().expect("token").to_string()
    }

    pub async fn upload(
        &self,
        token: &str,
        file: &[u8],
        caption: &str,
        sound: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut fields = vec![("caption", caption)];
        fields.extend(sound.map(|s| ("sound_id", s)));
        self.upload_form(token, file, &fields).await
    }

    /// Uploads `file` with these text fields before it, as the web app's form does.
    pub async fn upload_form(
        &self,
        token: &str,
        file: &[u8],
        fields: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let boundary = "XfOrYoUbOuNdArY";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
        }
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"clip.mp4\"\r\nContent-Type: video/mp4\r\n\r\n").as_bytes());
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Request::post("/v1/videos")
            .header("authorization", format!("Bearer {token}"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .expect("request");
        let (s, _, b) = self.raw(req).await;
        (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
    }

    pub fn media_files(&self) -> usize {
        fn count(p: &Path) -> usize {
            std::fs::read_dir(p)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| {
                            if e.path().is_dir() {
                                count(&e.path())
                            } else {
                                1
                            }
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        ["eu", "us", "row"]
            .iter()
            .map(|r| {
                let region = self.dir.join("regions").join(r);
                count(&region.join("media")) + count(&region.join("tmp"))
            })
            .sum::<usize>()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if !self.keep_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

pub fn clip(seconds: f64) -> Vec<u8> {
    clip_mp4(&ClipSpec {
        seconds,
        seed: 5,
        ..ClipSpec::default()
    })
}

pub fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

/// A birthdate `years` years ago (minus a day, so the birthday has passed).
pub fn born(years: i32) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64;
    let d = foryou_types::Date::from_unix_ms(now - 86_400_000);
    format!("{:04}-{:02}-{:02}", d.year - years, d.month, d.day.min(28))
}

/// Logs `handle` in; its bearer token.
pub async fn login(env: &Env, handle: &str, password: &str) -> String {
    let (s, v) = env
        .call(
            "POST",
            "/v1/sessions",
            None,
            Some(json!({"handle": handle, "password": password})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["token"].as_str().expect("token").to_string()
}

/// A US account `years` old (password "long enough pw"), logged in; its bearer token.
pub async fn person(env: &Env, handle: &str, years: i32) -> String {
    let (s, v) = env
        .call("POST", "/v1/accounts", None, Some(json!({"handle": handle, "password": "long enough pw", "birthdate": born(years), "country": "US"})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    login(env, handle, "long enough pw").await
}

/// The id of the account a token belongs to.
pub async fn id_of(env: &Env, token: &str) -> String {
    let (_, me) = env.call("GET", "/v1/me", Some(token), None).await;
    me["id"].as_str().expect("id").to_string()
}

/// The files of an export archive, by name within `foryou-export/`.
pub fn export_files(tar_bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    use std::io::Read;
    let mut files = std::collections::BTreeMap::new();
    let mut archive = tar::Archive::new(tar_bytes);
    for e in archive.entries().expect("tar") {
        let mut e = e.expect("entry");
        let name = e.path().expect("path").to_string_lossy().to_string();
        let mut b = Vec::new();
        e.read_to_end(&mut b).expect("read");
        let name = name
            .strip_prefix("foryou-export/")
            .map(str::to_string)
            .unwrap_or(name);
        files.insert(name, b);
    }
    files
}

/// A person's export (`GET /v1/me/export`, which must succeed), as its files.
pub async fn export(env: &Env, token: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
    let (s, _, body) = env
        .raw(
            Request::get("/v1/me/export")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    export_files(&body)
}
