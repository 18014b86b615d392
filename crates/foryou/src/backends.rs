//! The backends this binary runs on: one redb file per region for records and the event log,
//! and a local directory per region for media. Another deployment chooses others here.

use foryou_media::{LocalObjectStore, ObjectStore};
use foryou_server::{Backends, Config, PlatformError};
use foryou_store::{EmbeddedStore, RegionStore};
use foryou_types::Region;
use std::path::Path;

/// Embedded storage: no server to install.
pub struct Embedded;

impl Backends for Embedded {
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
