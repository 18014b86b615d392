//! A throwaway PostgreSQL server on loopback for tests (feature `test-server`): `initdb` into a
//! temporary directory, `postgres` on a free port of 127.0.0.1 (as the `postgres` user when the
//! tests run as root, which PostgreSQL refuses), stopped and removed on drop. The binaries come
//! from `FORYOU_PG_BIN`, `PATH`, or Debian's `/usr/lib/postgresql/<version>/bin`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A running server; stopped and deleted when dropped.
pub struct TestServer {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
    made: std::sync::atomic::AtomicU32,
}

fn find_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("FORYOU_PG_BIN") {
        return Some(PathBuf::from(p));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            if d.join("initdb").exists() && d.join("postgres").exists() && d.join("pg_ctl").exists()
            {
                // Where the links lead: the version's own directory has every tool.
                let real = std::fs::canonicalize(d.join("initdb")).ok();
                return Some(
                    real.and_then(|r| r.parent().map(Path::to_path_buf))
                        .unwrap_or(d),
                );
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl TestServer {
    /// Starts a server, or says why it could not.
    pub fn start() -> Result<TestServer, String> {
        let bin = find_bin().ok_or(
            "no PostgreSQL server binaries (initdb, postgres, pg_ctl): install Debian's postgresql, or set FORYOU_PG_BIN",
        )?;
        let port =
            foryou_types::ports::loopback_port().map_err(|e| format!("no free port: {e}"))?;
        let dir = std::env::temp_dir().join(format!("foryou-pg-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let as_postgres = is_root();
        let s = TestServer {
            bin,
            dir,
            port,
            as_postgres,
            made: std::sync::atomic::AtomicU32::new(0),
        };
        if as_postgres {
            s.run(
                "chown",
                &["-R", "postgres", &s.dir.display().to_string()],
                false,
            )?;
        }
        let data = s.dir.join("data").display().to_string();
        s.run_pg(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "foryou",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        )?;
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            s.dir.display()
        );
        let log = s.dir.join("log").display().to_string();
        s.run_pg(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-o", &opts, "-w", "-t", "30", "start",
            ],
        )?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err(format!("the server did not listen on {port}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(s)
    }

    /// A new, empty database; its URL.
    pub fn database(&self) -> Result<String, String> {
        let n = self.made.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("foryou_t{n}");
        self.run_pg(
            "createdb",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "foryou",
                &name,
            ],
        )?;
        Ok(self.url(&name))
    }

    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://foryou@127.0.0.1:{}/{name}", self.port)
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server at once (as a crash would) and starts it again on the same data.
    pub fn restart(&self) -> Result<(), String> {
        let data = self.dir.join("data").display().to_string();
        self.run_pg("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"])?;
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log").display().to_string();
        self.run_pg(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-o", &opts, "-w", "-t", "30", "start",
            ],
        )
    }

    fn run_pg(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let path = self.bin.join(tool);
        self.run(&path.display().to_string(), args, self.as_postgres)
    }

    fn run(&self, program: &str, args: &[&str], as_postgres: bool) -> Result<(), String> {
        let mut cmd = if as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", program]);
            c
        } else {
            Command::new(program)
        };
        let out = cmd
            .args(args)
            .current_dir(Path::new("/"))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{program}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} {}: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let data = self.dir.join("data").display().to_string();
        let _ = self.run_pg("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
