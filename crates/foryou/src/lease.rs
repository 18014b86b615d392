//! One node serves a region at a time. With its records on PostgreSQL, a node takes the region's
//! lease (`foryou_postgres::Lease`, a row in the region's database) before it opens the region,
//! and renews it while it runs; a second node started meanwhile stands by until the lease is free
//! or runs out (its holder stopped, or died), then takes the region over from the servers. A node
//! that cannot renew in time stops at once, so two nodes never serve one region.

use crate::backends::Configured;
use anyhow::{bail, Result};
use foryou_postgres::{Holder, Lease};
use foryou_types::Region;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The leases this node holds, renewed by a thread of their own until released.
pub struct Held {
    leases: Vec<(String, Arc<Lease>)>,
    stop: Arc<AtomicBool>,
}

/// This node's name in the leases: host, process and a random part.
fn node_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into());
    let host: String = host
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(40)
        .collect();
    format!(
        "{host}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// How a node takes its leases.
pub struct Taking<'a> {
    /// Wait for a held lease (a server), or fail at once (an operator's command).
    pub wait: bool,
    /// Where this node takes requests (`http://host:port`), recorded with each lease it holds;
    /// empty when it does not say.
    pub address: &'a str,
    /// Told who holds a region's lease while this node waits for it.
    pub standing_by: &'a dyn Fn(&Region, &Holder),
}

impl Taking<'_> {
    /// An operator's command: no waiting, no address.
    pub fn at_once() -> Taking<'static> {
        Taking {
            wait: false,
            address: "",
            standing_by: &|_, _| {},
        }
    }
}

/// Takes the lease of every region whose records are on PostgreSQL, as `how` says.
pub fn take(chosen: &Configured, how: &Taking) -> Result<Held> {
    let (owner, wait) = (node_name(), how.wait);
    let mut leases = Vec::new();
    for (region, lease) in chosen.leases(&owner)? {
        let lease = lease.with_address(how.address);
        loop {
            match lease.try_acquire() {
                Ok(Ok(())) => break,
                Ok(Err(h)) if wait => {
                    (how.standing_by)(&region, &h);
                    tracing::info!(
                        region = %region, holder = %h.owner, expires_in_ms = h.expires_in_ms,
                        "standing by: another node serves this region"
                    );
                    let ms = (h.expires_in_ms.max(0) as u64).clamp(100, lease.ttl().as_millis() as u64 / 3);
                    std::thread::sleep(Duration::from_millis(ms));
                }
                Ok(Err(h)) => bail!(
                    "region {region} is served by node {} (its lease runs out in {} ms unless renewed): stop it first",
                    h.owner,
                    h.expires_in_ms
                ),
                Err(e) if wait => {
                    tracing::warn!(region = %region, error = %e, "the region's database did not answer; trying again");
                    std::thread::sleep(lease.ttl() / 3);
                }
                Err(e) => bail!("taking the lease of region {region}: {e}"),
            }
        }
        tracing::info!(region = %region, node = %owner, "serving this region (lease taken)");
        leases.push((region.to_string(), Arc::new(lease)));
    }
    let stop = Arc::new(AtomicBool::new(false));
    if !leases.is_empty() {
        let (renewing, stopping) = (leases.clone(), Arc::clone(&stop));
        std::thread::spawn(move || renew(renewing, stopping));
    }
    Ok(Held { leases, stop })
}

/// Renews every lease a third of its time; a lease not renewed for two thirds of its time ends
/// the process before another node may take it.
fn renew(leases: Vec<(String, Arc<Lease>)>, stop: Arc<AtomicBool>) {
    let mut renewed: Vec<Instant> = vec![Instant::now(); leases.len()];
    while !stop.load(Ordering::SeqCst) {
        let step = leases
            .iter()
            .map(|(_, l)| l.ttl())
            .min()
            .unwrap_or_default()
            / 3;
        std::thread::sleep(step);
        if stop.load(Ordering::SeqCst) {
            return;
        }
        for (i, (region, lease)) in leases.iter().enumerate() {
            match lease.renew() {
                Ok(true) => renewed[i] = Instant::now(),
                Ok(false) => {
                    tracing::error!(region = %region, "lost the region's lease: stopping so two nodes never serve it");
                    std::process::exit(75);
                }
                Err(e) => tracing::warn!(region = %region, error = %e, "lease not renewed"),
            }
            if renewed[i].elapsed() > lease.ttl() * 2 / 3 {
                tracing::error!(region = %region, "could not renew the region's lease in time: stopping so two nodes never serve it");
                std::process::exit(75);
            }
        }
    }
}

impl Held {
    /// Gives every lease up (a graceful stop), so a standing-by node takes over at once.
    pub fn release(self) {
        self.stop.store(true, Ordering::SeqCst);
        for (region, lease) in &self.leases {
            if let Err(e) = lease.release() {
                tracing::warn!(region = %region, error = %e, "lease not released; it runs out by itself");
            }
        }
    }
}
