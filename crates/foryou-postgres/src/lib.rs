//! A region's record store on PostgreSQL: [`PgStore`] implements foryou-store's
//! [`RegionStore`] (accounts, sessions, settings, family links, videos, sounds, reports, staff
//! access decisions, and the tables derived from the region's event log), so the platform runs
//! on it with nothing changed in handlers or the engine. One database per region (the region is
//! recorded in it on first open and checked after); migrations run on open; connections are
//! pooled, every statement has a timeout, multi-statement changes are serializable transactions
//! retried on serialization failures. Records are the same JSON as the embedded store's.

mod apply;
mod conn;
mod erase;
mod keys;
mod lease;
mod pool;
mod schema;
mod store;
#[cfg(feature = "test-server")]
pub mod test_server;

use conn::Conn;
use foryou_store::StoreError;
use foryou_types::Region;
pub use keys::PgKeys;
pub use lease::{Holder, Lease};
use pool::{Job, Pool, PoolError};
use std::sync::Arc;
use std::time::Duration;

/// How a [`PgStore`] connects.
#[derive(Clone, Debug)]
pub struct PgOptions {
    /// Most connections open at once.
    pub max_connections: usize,
    /// Longest a statement may run before the server cancels it.
    pub statement_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            max_connections: 8,
            statement_timeout: Duration::from_secs(10),
        }
    }
}

/// A region's store in a PostgreSQL database.
pub struct PgStore {
    region: Region,
    pool: Arc<Pool>,
}

/// Runs a job on the pool: `job!(self, [captured, ...], |c| async-body)` where the body uses the
/// connection `c` and returns `Result<Result<T, StoreError>, tokio_postgres::Error>`. Captured
/// values are cloned for each try.
macro_rules! job {
    ($store:expr, [$($v:ident),*], |$c:ident| $body:expr) => {{
        $store.run(move |$c: $crate::conn::Conn| -> $crate::pool::Job<_> {
            $(let $v = $v.clone();)*
            Box::pin(async move {
                let r = async { $body }.await;
                ($c, r)
            })
        })
    }};
}
pub(crate) use job;

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`) for `region`, creates or migrates the
    /// schema, and checks that the database is this region's.
    pub fn open(region: Region, url: &str, options: &PgOptions) -> Result<PgStore, StoreError> {
        let backend = |m: String| StoreError::Backend {
            region: region.clone(),
            message: m,
        };
        let pool = Pool::new(url, options.max_connections, options.statement_timeout)
            .map_err(|e| backend(e.to_string()))?;
        let store = PgStore {
            region: region.clone(),
            pool: Arc::new(pool),
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let name = self.region.to_string();
        let owner: Option<String> = job!(self, [name], |c| {
            c.batch_execute(schema::sql_for_meta()).await?;
            tx(&c, async {
                let row = c
                    .query_opt("SELECT value FROM meta WHERE key = 'region'", &[])
                    .await?;
                let owner: Option<String> = row.map(|r| r.get(0));
                if owner.is_none() {
                    c.execute("INSERT INTO meta VALUES ('region', $1)", &[&name])
                        .await?;
                }
                Ok(Ok(owner))
            })
            .await
        })?;
        if let Some(o) = owner.filter(|o| *o != self.region.to_string()) {
            return Err(StoreError::Backend {
                region: self.region.clone(),
                message: format!(
                    "this database holds region '{o}', not '{}'; give each region its own database",
                    self.region
                ),
            });
        }
        for (n, sql) in schema::MIGRATIONS.iter().enumerate() {
            let version = (n + 1) as i64;
            let sql = sql.to_string();
            job!(self, [sql], |c| {
                tx(&c, async {
                    let done: Option<String> = c
                        .query_opt("SELECT value FROM meta WHERE key = 'schema'", &[])
                        .await?
                        .map(|r| r.get(0));
                    let at: i64 = done.and_then(|d| d.parse().ok()).unwrap_or(0);
                    if at < version {
                        c.batch_execute(&sql).await?;
                        c.execute(
                            "INSERT INTO meta VALUES ('schema', $1) ON CONFLICT (key) DO UPDATE SET value = $1",
                            &[&version.to_string()],
                        )
                        .await?;
                    }
                    Ok(Ok(()))
                })
                .await
            })?;
        }
        Ok(())
    }

    /// Runs a job, turning pool and server failures into [`StoreError::Backend`].
    pub(crate) fn run<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(Conn) -> Job<Result<T, StoreError>> + Send + Sync + 'static,
    {
        match self.pool.call(job) {
            Ok(inner) => inner,
            Err(e) => Err(self.err(e)),
        }
    }

    pub(crate) fn err(&self, e: PoolError) -> StoreError {
        StoreError::Backend {
            region: self.region.clone(),
            message: format!("postgres: {e}"),
        }
    }

    pub(crate) fn check_region(&self, r: &Region) -> Result<(), StoreError> {
        if *r == self.region {
            Ok(())
        } else {
            Err(StoreError::WrongRegion {
                store: self.region.clone(),
                got: r.clone(),
            })
        }
    }
}

/// Runs `body` in a serializable transaction: committed when it returns `Ok(Ok(_))`, rolled
/// back otherwise.
pub(crate) async fn tx<T>(
    c: &Conn,
    body: impl std::future::Future<Output = Result<Result<T, StoreError>, tokio_postgres::Error>>,
) -> Result<Result<T, StoreError>, tokio_postgres::Error> {
    tx_as(c, "BEGIN ISOLATION LEVEL SERIALIZABLE", body).await
}

/// Runs `body` in a transaction opened by `begin`: committed when it returns `Ok(Ok(_))`,
/// rolled back otherwise.
pub(crate) async fn tx_as<T>(
    c: &Conn,
    begin: &str,
    body: impl std::future::Future<Output = Result<Result<T, StoreError>, tokio_postgres::Error>>,
) -> Result<Result<T, StoreError>, tokio_postgres::Error> {
    c.batch_execute(begin).await?;
    match body.await {
        Ok(Ok(v)) => {
            c.batch_execute("COMMIT").await?;
            Ok(Ok(v))
        }
        other => {
            let _ = c.batch_execute("ROLLBACK").await;
            other
        }
    }
}

/// A u64 id as the `bigint` it is stored as (the same bits).
pub(crate) fn k(v: u64) -> i64 {
    v as i64
}

/// A stored `bigint` back to the u64 it holds.
pub(crate) fn u(v: i64) -> u64 {
    v as u64
}

pub(crate) fn enc<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

pub(crate) fn dec<T: serde::de::DeserializeOwned>(
    table: &'static str,
    b: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(b).map_err(|e| StoreError::Corrupt {
        table,
        message: e.to_string(),
    })
}
