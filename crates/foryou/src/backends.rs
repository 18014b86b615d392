//! The backends this binary runs on: per region, one redb file for the event log, one for the
//! records, and a local directory for media. Another deployment chooses others here.

use foryou_media::{LocalObjectStore, ObjectStore};
use foryou_server::{Backends, Config, PlatformError};
use foryou_store::{EmbeddedKeys, EmbeddedLog, EmbeddedStore, EventLog, KeyStore, RegionStore};
use foryou_types::Region;
use std::path::Path;

/// Embedded storage: no server to install.
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
