//! A pooled connection that prepares each statement once: `query`, `query_one`, `query_opt`
//! and `execute` take SQL text like the client's own, and reuse the statement prepared for that
//! text on this connection (one round trip per call instead of two). The texts are the store's
//! own constants, so the cache stays small.

use std::collections::HashMap;
use std::sync::Mutex;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Error, Row, Statement};

/// A connection and its prepared statements.
pub struct Conn {
    client: Client,
    prepared: Mutex<HashMap<String, Statement>>,
}

impl std::ops::Deref for Conn {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Conn {
    pub(crate) fn new(client: Client) -> Conn {
        Conn {
            client,
            prepared: Mutex::new(HashMap::new()),
        }
    }

    /// The statement for `sql`, prepared on first use.
    pub async fn statement(&self, sql: &str) -> Result<Statement, Error> {
        if let Some(s) = self.lock().get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).await?;
        self.lock().insert(sql.to_string(), s.clone());
        Ok(s)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Statement>> {
        self.prepared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Rows of `sql`.
    pub async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        let s = self.statement(sql).await?;
        self.client.query(&s, params).await
    }

    /// The one row of `sql`.
    pub async fn query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row, Error> {
        let s = self.statement(sql).await?;
        self.client.query_one(&s, params).await
    }

    /// The row of `sql`, if any.
    pub async fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, Error> {
        let s = self.statement(sql).await?;
        self.client.query_opt(&s, params).await
    }

    /// Rows `sql` touched.
    pub async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, Error> {
        let s = self.statement(sql).await?;
        self.client.execute(&s, params).await
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}
