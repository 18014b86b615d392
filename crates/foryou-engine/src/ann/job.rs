//! The ANN index's build as a job: taken from the engine under its lock (`Engine::index_job`),
//! built anywhere (another thread, every core), and installed (`Engine::install_index`).

use super::{Hnsw, HnswConfig, VectorIndex};

/// The input of an ANN index build, taken from the engine so the build can run off its lock.
pub struct IndexJob {
    pub(crate) dim: usize,
    pub(crate) items: Vec<(u32, Vec<f32>)>,
    pub(crate) seed: u64,
    pub(crate) learned_at: u64,
}

impl IndexJob {
    /// The `(slot, unit vector)` pairs the index will hold.
    pub fn vectors(&self) -> &[(u32, Vec<f32>)] {
        &self.items
    }

    /// Their dimensions.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Builds the HNSW graph on every core (seconds for a large catalog: run it where it
    /// blocks nobody).
    pub fn build(self) -> BuiltIndex {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.build_on(threads)
    }

    /// Builds the HNSW graph on `threads` threads (the graph is the same for any number).
    pub fn build_on(self, threads: usize) -> BuiltIndex {
        let cfg = HnswConfig {
            seed: self.seed,
            ..HnswConfig::default()
        };
        BuiltIndex {
            index: Box::new(Hnsw::build_with_threads(self.dim, cfg, self.items, threads)),
            learned_at: self.learned_at,
        }
    }
}

/// A built index, ready for `Engine::install_index`.
pub struct BuiltIndex {
    pub(crate) index: Box<dyn VectorIndex>,
    pub(crate) learned_at: u64,
}

impl BuiltIndex {
    /// The index itself (e.g. to measure its recall before installing it).
    pub fn index(&self) -> &dyn VectorIndex {
        self.index.as_ref()
    }
}
