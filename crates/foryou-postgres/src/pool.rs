//! Pooled connections on a private runtime, called from blocking code. Each call borrows a
//! connection (at most `max` are open), runs its job on the pool's runtime and waits for the
//! answer on a plain channel, so a store method may be called from any thread, inside an async
//! runtime or not. A job that fails on a serialization failure or a deadlock is run again from
//! the start, a few times.

use crate::conn::Conn;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Condvar, Mutex};
use std::time::Duration;
use tokio_postgres::{Config, NoTls};

/// What a job returns: the connection back, and its result.
pub(crate) type Job<T> =
    Pin<Box<dyn Future<Output = (Conn, Result<T, tokio_postgres::Error>)> + Send>>;

/// Tries of a job that keeps meeting serialization failures.
const TRIES: u32 = 5;

pub(crate) struct Pool {
    /// Taken only by `Drop`, which shuts it down without blocking (a store may be dropped
    /// inside an async runtime).
    rt: Option<tokio::runtime::Runtime>,
    config: Config,
    idle: Mutex<Vec<Conn>>,
    /// Connections lent or idle, and the cap.
    open: Mutex<usize>,
    freed: Condvar,
    max: usize,
}

/// A failure of the pool or of the server.
#[derive(Debug)]
pub(crate) enum PoolError {
    /// The server refused or failed the statement (SQLSTATE inside).
    Db(tokio_postgres::Error),
    /// The pool itself (its runtime or its threads) failed.
    Pool(String),
}

impl std::fmt::Display for PoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PoolError::Db(e) => match e.as_db_error() {
                Some(d) => write!(f, "{} ({})", d.message(), d.code().code()),
                None => write!(f, "{e}"),
            },
            PoolError::Pool(m) => f.write_str(m),
        }
    }
}

impl Pool {
    /// A pool of at most `max` connections to `url`, each with `statement_timeout`.
    pub(crate) fn new(
        url: &str,
        max: usize,
        statement_timeout: Duration,
    ) -> Result<Pool, PoolError> {
        let mut config: Config = url
            .parse()
            .map_err(|e| PoolError::Pool(format!("not a PostgreSQL URL: {e}")))?;
        config.options(format!(
            "-c statement_timeout={} -c lock_timeout={}",
            statement_timeout.as_millis(),
            statement_timeout.as_millis()
        ));
        config.connect_timeout(Duration::from_secs(10));
        config.application_name("foryou");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("foryou-pg")
            .enable_all()
            .build()
            .map_err(|e| PoolError::Pool(format!("starting the pool's runtime: {e}")))?;
        Ok(Pool {
            rt: Some(rt),
            config,
            idle: Mutex::new(Vec::new()),
            open: Mutex::new(0),
            freed: Condvar::new(),
            max: max.max(1),
        })
    }

    /// Runs `job` on a pooled connection; serialization failures and deadlocks are retried.
    pub(crate) fn call<T, F>(&self, job: F) -> Result<T, PoolError>
    where
        T: Send + 'static,
        F: Fn(Conn) -> Job<T> + Send + Sync + 'static,
    {
        let mut tries = 0;
        loop {
            tries += 1;
            let client = self.take()?;
            let (tx, rx) = std::sync::mpsc::channel();
            let fut = job(client);
            self.handle()?.spawn(async move {
                let _ = tx.send(fut.await);
            });
            let got = rx.recv();
            let Ok((client, result)) = got else {
                self.forget();
                return Err(PoolError::Pool("a database job panicked".into()));
            };
            if result.is_ok() {
                self.give(client);
            } else {
                // It may be inside a failed transaction: closed rather than lent again.
                drop(client);
                self.forget();
            }
            match result {
                Err(e) if tries < TRIES && retryable(&e) => {
                    std::thread::sleep(Duration::from_millis(5 << tries));
                }
                // A pooled connection the server closed (a restart, a failover): the job runs
                // again on a fresh one. Its transaction, if it had begun, was rolled back.
                Err(e) if tries < TRIES && e.is_closed() => {}
                other => return other.map_err(PoolError::Db),
            }
        }
    }

    /// An idle connection, or a new one while under the cap; else waits for one.
    fn take(&self) -> Result<Conn, PoolError> {
        loop {
            if let Some(c) = self.lock_idle().pop() {
                if !c.is_closed() {
                    return Ok(c);
                }
                self.forget();
                continue;
            }
            {
                let mut open = self.open.lock().map_err(|_| poisoned())?;
                while *open >= self.max && self.lock_idle().is_empty() {
                    open = self.freed.wait(open).map_err(|_| poisoned())?;
                }
                if *open >= self.max {
                    continue;
                }
                *open += 1;
            }
            return self.connect().inspect_err(|_| self.forget());
        }
    }

    fn connect(&self) -> Result<Conn, PoolError> {
        let config = self.config.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        self.handle()?.spawn(async move {
            let made = match config.connect(NoTls).await {
                Ok((client, conn)) => {
                    tokio::spawn(async move {
                        // Ends when the client is dropped or the server goes away.
                        let _ = conn.await;
                    });
                    Ok(Conn::new(client))
                }
                Err(e) => Err(PoolError::Db(e)),
            };
            let _ = tx.send(made);
        });
        rx.recv()
            .map_err(|_| PoolError::Pool("connecting panicked".into()))?
    }

    fn handle(&self) -> Result<&tokio::runtime::Handle, PoolError> {
        self.rt
            .as_ref()
            .map(|r| r.handle())
            .ok_or_else(|| PoolError::Pool("the pool is shut down".into()))
    }

    /// Returns a connection to the pool (a closed one is forgotten).
    fn give(&self, c: Conn) {
        if c.is_closed() {
            self.forget();
        } else {
            self.lock_idle().push(c);
            // Taken so that a waiter is either waiting or has yet to look at the idle list.
            let _open = self.open.lock();
            self.freed.notify_one();
        }
    }

    fn forget(&self) {
        if let Ok(mut open) = self.open.lock() {
            *open = open.saturating_sub(1);
        }
        self.freed.notify_one();
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Conn>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.lock_idle().clear();
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

fn poisoned() -> PoolError {
    PoolError::Pool("the connection pool's lock was poisoned".into())
}

/// Serialization failures and deadlocks: the transaction may simply be run again.
fn retryable(e: &tokio_postgres::Error) -> bool {
    e.code().is_some_and(|c| {
        *c == tokio_postgres::error::SqlState::T_R_SERIALIZATION_FAILURE
            || *c == tokio_postgres::error::SqlState::T_R_DEADLOCK_DETECTED
    })
}
