//! Who serves a region now: a lease row in the region's database, held by one node at a time
//! and renewed while it lives. Time is the database's own (`now()`), so nodes' clocks need not
//! agree. A node that cannot renew must stop serving before the lease runs out; another node
//! then takes it.

use crate::{job, PgOptions, PgStore};
use foryou_store::StoreError;
use foryou_types::Region;
use std::time::Duration;

/// A region's serving lease, as one node sees it.
pub struct Lease {
    db: PgStore,
    owner: String,
    /// Where this node takes requests (`http://host:port`), recorded with the lease; empty
    /// when it does not say.
    address: String,
    ttl: Duration,
}

/// Who holds a lease, when another node does.
#[derive(Clone, Debug, PartialEq)]
pub struct Holder {
    /// The holder's name.
    pub owner: String,
    /// Milliseconds until it runs out unless renewed.
    pub expires_in_ms: i64,
    /// Where the holder takes requests (`http://host:port`); empty when it did not say.
    pub address: String,
}

impl Lease {
    /// The lease of `region` in its database at `url`, for the node named `owner`.
    pub fn new(
        region: Region,
        url: &str,
        owner: &str,
        ttl: Duration,
        options: &PgOptions,
    ) -> Result<Lease, StoreError> {
        Ok(Lease {
            db: PgStore::open(region, url, options)?,
            owner: owner.to_string(),
            address: String::new(),
            ttl,
        })
    }

    /// Records `address` (`http://host:port`) as where this node takes requests while it holds
    /// the lease.
    pub fn with_address(mut self, address: &str) -> Lease {
        self.address = address.to_string();
        self
    }

    /// Takes the lease when it is free, run out, or already this node's; otherwise says who
    /// holds it.
    pub fn try_acquire(&self) -> Result<Result<(), Holder>, StoreError> {
        let (owner, ttl) = (self.owner.clone(), self.ttl.as_millis() as i64);
        let address = self.address.clone();
        job!(self.db, [owner, address], |c| {
            let took = c
                .query_opt(
                    "INSERT INTO leases (name, owner, expires_at, address) \
                     VALUES ('serving', $1, now() + $2::bigint * interval '1 millisecond', $3) \
                     ON CONFLICT (name) DO UPDATE SET owner = $1, expires_at = EXCLUDED.expires_at, address = $3 \
                     WHERE leases.expires_at < now() OR leases.owner = $1 RETURNING owner",
                    &[&owner, &ttl, &address],
                )
                .await?;
            if took.is_some() {
                return Ok(Ok(Ok(())));
            }
            let row = c
                .query_one(
                    "SELECT owner, (extract(epoch FROM expires_at - now()) * 1000)::bigint, address \
                     FROM leases WHERE name = 'serving'",
                    &[],
                )
                .await?;
            Ok(Ok(Err(Holder {
                owner: row.get(0),
                expires_in_ms: row.get(1),
                address: row.get(2),
            })))
        })
    }

    /// Extends the lease; false when this node no longer holds it.
    pub fn renew(&self) -> Result<bool, StoreError> {
        let (owner, ttl) = (self.owner.clone(), self.ttl.as_millis() as i64);
        job!(self.db, [owner], |c| {
            let n = c
                .execute(
                    "UPDATE leases SET expires_at = now() + $2::bigint * interval '1 millisecond' \
                     WHERE name = 'serving' AND owner = $1 AND expires_at >= now()",
                    &[&owner, &ttl],
                )
                .await?;
            Ok(Ok(n == 1))
        })
    }

    /// Gives the lease up (a graceful stop), so another node may take it at once.
    pub fn release(&self) -> Result<(), StoreError> {
        let owner = self.owner.clone();
        job!(self.db, [owner], |c| {
            c.execute(
                "DELETE FROM leases WHERE name = 'serving' AND owner = $1",
                &[&owner],
            )
            .await?;
            Ok(Ok(()))
        })
    }

    /// How long the lease lasts unless renewed.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}
