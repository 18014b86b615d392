//! Exact dense indices for ids: every id gets its own slot, so learned state never mixes two
//! videos or two users the way a hashed feature table would.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::hash::Hash;

/// Maps ids to dense `u32` slots in arrival order, and back.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound(
    serialize = "K: Serialize",
    deserialize = "K: Deserialize<'de> + Eq + Hash + Clone"
))]
pub struct Interner<K> {
    keys: Vec<K>,
    #[serde(skip)]
    index: FxHashMap<K, u32>,
}

impl<K: Eq + Hash + Clone> Default for Interner<K> {
    fn default() -> Self {
        Interner {
            keys: Vec::new(),
            index: FxHashMap::default(),
        }
    }
}

impl<K: Eq + Hash + Clone> Interner<K> {
    /// The slot of `key`, creating it when new.
    pub fn intern(&mut self, key: &K) -> u32 {
        if let Some(&i) = self.index.get(key) {
            return i;
        }
        let i = self.keys.len() as u32;
        self.keys.push(key.clone());
        self.index.insert(key.clone(), i);
        i
    }

    /// The slot of `key`, if it has one.
    pub fn get(&self, key: &K) -> Option<u32> {
        self.index.get(key).copied()
    }

    /// The key in slot `i`.
    pub fn key(&self, i: u32) -> &K {
        &self.keys[i as usize]
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no id was interned.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Forgets `key`: its slot stays (learned state is indexed by slot) but holds `placeholder`
    /// and no lookup finds it. Returns the slot it had.
    pub fn forget(&mut self, key: &K, placeholder: K) -> Option<u32> {
        let i = self.index.remove(key)?;
        self.keys[i as usize] = placeholder.clone();
        // Placeholders are never looked up.
        self.index.remove(&placeholder);
        Some(i)
    }

    /// Rebuilds the lookup table after deserialising.
    pub fn reindex(&mut self) {
        self.index = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i as u32))
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_get_distinct_stable_slots() {
        let mut i = Interner::default();
        let a = i.intern(&10u64);
        let b = i.intern(&u64::MAX);
        assert_ne!(a, b);
        assert_eq!(i.intern(&10), a);
        assert_eq!(*i.key(b), u64::MAX);
        let mut j: Interner<u64> = bincode::deserialize(&bincode::serialize(&i).unwrap()).unwrap();
        j.reindex();
        assert_eq!(j.get(&u64::MAX), Some(b));
    }
}
