//! One item's co-engagement row: its neighbours and their weights in an open-addressing table
//! (linear probing, Fibonacci hashing of the neighbour's number).
//!
//! The learner adds to fifty rows at random for every positive, each a cache miss in a large
//! catalog. A general-purpose map hides where a key will land; this table tells
//! ([`Row::prefetch_slot`]), so the learner can ask for all fifty slots before it writes any and
//! the waits overlap. A row never removes single entries (pruning rebuilds it), so probing needs
//! no tombstones. Snapshots store a row as a map from neighbour to weight, as before.

use serde::de::{Error as _, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The key of an empty slot (no item has this number: the catalog stays below it).
pub(crate) const EMPTY: u32 = u32::MAX;
/// Slots of a row's first table.
const MIN_SLOTS: usize = 8;
/// Entries a deserialised row makes room for before it has read them.
const MAX_PREALLOC: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct Slot {
    key: u32,
    value: f32,
}

const VACANT: Slot = Slot {
    key: EMPTY,
    value: 0.0,
};

/// A map from neighbour to weight, filled at most three quarters.
#[derive(Default, Clone, Debug)]
pub(crate) struct Row {
    /// Empty, or a power of two of at least `MIN_SLOTS` slots.
    slots: Box<[Slot]>,
    len: u32,
}

impl Row {
    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }

    /// The slot where probing for `key` starts (the table is not empty).
    #[inline]
    fn home(&self, key: u32) -> usize {
        let bits = self.slots.len().trailing_zeros();
        // The top `bits` bits of the product (2^32/φ spreads consecutive numbers apart).
        (key.wrapping_mul(0x9E37_79B9) >> (32 - bits)) as usize
    }

    /// The slot that holds `key`, or the empty slot where it would go (the table is not
    /// empty). At most three quarters are full, so an empty slot ends every probe.
    #[inline]
    fn probe(&self, key: u32) -> usize {
        let mask = self.slots.len() - 1;
        let mut at = self.home(key);
        while self.slots[at].key != key && self.slots[at].key != EMPTY {
            at = (at + 1) & mask;
        }
        at
    }

    /// The weight stored for `key`.
    #[inline]
    pub(crate) fn get(&self, key: u32) -> Option<f32> {
        if self.slots.is_empty() {
            return None;
        }
        let s = self.slots[self.probe(key)];
        (s.key == key).then_some(s.value)
    }

    /// Adds `w` to `key`'s weight (a new neighbour starts at 0).
    #[inline]
    pub(crate) fn add(&mut self, key: u32, w: f32) {
        debug_assert_ne!(key, EMPTY);
        self.reserve(1);
        let at = self.probe(key);
        let s = &mut self.slots[at];
        if s.key == key {
            s.value += w;
        } else {
            *s = Slot { key, value: w };
            self.len += 1;
        }
    }

    /// Makes room for `more` new neighbours without growing again.
    pub(crate) fn reserve(&mut self, more: usize) {
        let need = self.len().saturating_add(more);
        if need.saturating_mul(4) <= self.slots.len().saturating_mul(3) {
            return;
        }
        let mut n = self.slots.len().max(MIN_SLOTS);
        while n.saturating_mul(3) < need.saturating_mul(4) {
            n = n.checked_mul(2).expect("a row's table fits in memory");
        }
        let old = std::mem::replace(&mut self.slots, vec![VACANT; n].into_boxed_slice());
        self.len = 0;
        for s in old.iter().filter(|s| s.key != EMPTY) {
            self.insert_new(s.key, s.value);
        }
    }

    /// Places a key known to be absent, with room known to be there.
    fn insert_new(&mut self, key: u32, value: f32) {
        let at = self.probe(key);
        self.slots[at] = Slot { key, value };
        self.len += 1;
    }

    /// The neighbours and their weights, in the table's order.
    pub(crate) fn iter(&self) -> RowIter<'_> {
        RowIter {
            slots: &self.slots,
            next_line: 0,
            base: 0,
            full: 0,
        }
    }

    /// Keeps the `max` heaviest neighbours, in a table of the size `max` needs (a scan reads
    /// every slot, so a pruned row should not keep the room it grew into).
    pub(crate) fn keep_strongest(&mut self, max: usize) {
        if self.len() <= max {
            return;
        }
        let mut all: Vec<Slot> = self
            .slots
            .iter()
            .copied()
            .filter(|s| s.key != EMPTY)
            .collect();
        if max > 0 {
            all.select_nth_unstable_by(max - 1, |a, b| b.value.total_cmp(&a.value));
        }
        all.truncate(max);
        self.slots = Box::default();
        self.len = 0;
        self.reserve(all.len());
        for s in all {
            self.insert_new(s.key, s.value);
        }
    }

    /// Starts loading the slot where probing for `key` starts (a hint; the row's own fields
    /// must be at hand, so this follows a prefetch of the row).
    #[inline]
    pub(crate) fn prefetch_slot(&self, key: u32) {
        if !self.slots.is_empty() {
            let at = self.home(key);
            crate::prefetch::prefetch(&self.slots[at..at + 1]);
        }
    }
}

/// Slots a scan takes at once: one cache line, whose full slots it finds without a branch each.
const LINE: usize = 8;
const _: () = assert!(MIN_SLOTS.is_multiple_of(LINE) && LINE * std::mem::size_of::<Slot>() == 64);

/// The full slots of `line`, one bit each.
#[inline]
fn occupied(line: &[Slot]) -> u8 {
    line.iter()
        .enumerate()
        .fold(0u8, |m, (i, s)| m | (u8::from(s.key != EMPTY) << i))
}

/// The entries of a row (see [`Row::iter`]). A table's slots are a whole number of lines.
pub(crate) struct RowIter<'a> {
    slots: &'a [Slot],
    next_line: usize,
    base: usize,
    full: u8,
}

impl Iterator for RowIter<'_> {
    type Item = (u32, f32);

    #[inline]
    fn next(&mut self) -> Option<(u32, f32)> {
        while self.full == 0 {
            let line = self.slots.get(self.next_line..self.next_line + LINE)?;
            self.full = occupied(line);
            self.base = self.next_line;
            self.next_line += LINE;
        }
        let i = self.full.trailing_zeros() as usize;
        self.full &= self.full - 1;
        let s = self.slots[self.base + i];
        Some((s.key, s.value))
    }
}

impl Serialize for Row {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            m.serialize_entry(&k, &v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Row {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RowVisitor;
        impl<'de> Visitor<'de> for RowVisitor {
            type Value = Row;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map from neighbour to co-engagement weight")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Row, A::Error> {
                let mut row = Row::default();
                // The stated length is only a hint: room is made for what has actually arrived.
                row.reserve(map.size_hint().unwrap_or(0).min(MAX_PREALLOC));
                while let Some((k, v)) = map.next_entry::<u32, f32>()? {
                    if k == EMPTY {
                        return Err(A::Error::custom("a neighbour numbered u32::MAX"));
                    }
                    row.add(k, v);
                }
                Ok(row)
            }
        }
        d.deserialize_map(RowVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// Against a map: any sequence of adds, lookups and prunes gives the same contents.
        #[test]
        fn row_matches_a_map(ops in proptest::collection::vec((0u32..3, 0u32..300, 0.0f32..4.0), 0..800)) {
            let mut row = Row::default();
            let mut oracle: BTreeMap<u32, f32> = BTreeMap::new();
            for (op, key, w) in ops {
                match op {
                    0 | 1 => {
                        // Keys spread over the whole range too (big item numbers).
                        let key = if op == 0 { key } else { key.wrapping_mul(14_316_557) % (EMPTY - 1) };
                        row.add(key, w);
                        *oracle.entry(key).or_default() += w;
                    }
                    _ => {
                        let max = (key % 40) as usize;
                        row.keep_strongest(max);
                        if oracle.len() > max {
                            let mut all: Vec<(u32, f32)> = oracle.iter().map(|(k, v)| (*k, *v)).collect();
                            all.sort_by(|a, b| b.1.total_cmp(&a.1));
                            // Ties at the cut may go either way: compare the kept weights.
                            let kept: Vec<f32> = {
                                let mut v: Vec<f32> = row.iter().map(|x| x.1).collect();
                                v.sort_by(|a, b| b.total_cmp(a));
                                v
                            };
                            let want: Vec<f32> = all[..max].iter().map(|x| x.1).collect();
                            prop_assert_eq!(kept, want);
                            for (k, v) in row.iter() {
                                prop_assert_eq!(oracle.get(&k), Some(&v));
                            }
                            oracle = row.iter().collect();
                        }
                    }
                }
                prop_assert_eq!(row.len(), oracle.len());
                prop_assert!(row.slots.is_empty() || row.len() * 4 <= row.slots.len() * 3);
            }
            for (k, v) in &oracle {
                prop_assert_eq!(row.get(*k), Some(*v));
            }
            prop_assert_eq!(row.get(301), None);
            let listed: BTreeMap<u32, f32> = row.iter().collect();
            prop_assert_eq!(listed, oracle);
        }
    }

    #[test]
    fn a_snapshot_keeps_the_row_and_refuses_the_empty_key() {
        let mut row = Row::default();
        for k in [3u32, 70_000, 9, 1 << 30] {
            row.add(k, k as f32 * 0.5);
        }
        let bytes = bincode::serialize(&row).unwrap();
        // The wire format is a map's, as the rows were before this table.
        let as_map: std::collections::HashMap<u32, f32> = bincode::deserialize(&bytes).unwrap();
        assert_eq!(as_map.len(), 4);
        let back: Row = bincode::deserialize(&bytes).unwrap();
        let mut a: Vec<_> = row.iter().collect();
        let mut b: Vec<_> = back.iter().collect();
        a.sort_by_key(|x| x.0);
        b.sort_by_key(|x| x.0);
        assert_eq!(a, b);
        let bad: std::collections::HashMap<u32, f32> = [(EMPTY, 1.0)].into_iter().collect();
        let bytes = bincode::serialize(&bad).unwrap();
        assert!(bincode::deserialize::<Row>(&bytes).is_err());
        // A length far beyond the bytes that follow is refused without reserving for it.
        let mut lying = bincode::serialize(&(u64::MAX)).unwrap();
        lying.extend_from_slice(&[0; 8]);
        assert!(bincode::deserialize::<Row>(&lying).is_err());
    }
}
