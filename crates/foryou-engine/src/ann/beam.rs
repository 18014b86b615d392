//! A search's beam: the best nodes found so far, best first, and which of them the search has
//! expanded. One sorted buffer does the work of the two heaps of the textbook search (a
//! frontier of candidates and a worst-first heap of results): a new node goes in by binary
//! search and a short move, the next node to expand is the first unexpanded one, and a node
//! pushed out of the beam is never expanded, as the heaps' stopping rule had it.

use super::Near;

pub(super) struct Beam {
    /// At most `cap` nodes as their [`key`]s, best first (the lowest bit: expanded).
    items: Vec<u64>,
    cap: usize,
    /// No unexpanded node stands before this place.
    next: usize,
}

impl Beam {
    pub(super) fn new(cap: usize) -> Self {
        let cap = cap.max(1);
        Beam {
            items: Vec::with_capacity(cap + 1),
            cap,
            next: 0,
        }
    }

    /// Whether a node at similarity `s` would enter the beam.
    #[inline]
    pub(super) fn admits(&self, s: f32) -> bool {
        self.items.len() < self.cap || self.items.last().is_some_and(|&w| s > near(w).0)
    }

    /// Puts `n` in its place (the worst node leaves a full beam); a node no better than a full
    /// beam's worst is not taken.
    pub(super) fn insert(&mut self, n: Near) {
        let k = key(n);
        let at = self.items.partition_point(|&x| x > k);
        if at >= self.cap {
            return;
        }
        if self.items.len() == self.cap {
            self.items.pop();
        }
        self.items.insert(at, k);
        self.next = self.next.min(at);
    }

    /// The best node not yet expanded, now marked expanded.
    pub(super) fn expand_next(&mut self) -> Option<Near> {
        while self.next < self.items.len() && self.items[self.next] & EXPANDED != 0 {
            self.next += 1;
        }
        let slot = self.items.get_mut(self.next)?;
        *slot |= EXPANDED;
        self.next += 1;
        Some(near(*slot))
    }

    /// The node [`Beam::expand_next`] would give now, left unexpanded.
    pub(super) fn peek_next(&self) -> Option<Near> {
        self.items[self.next.min(self.items.len())..]
            .iter()
            .find(|&&x| x & EXPANDED == 0)
            .map(|&x| near(x))
    }

    /// The beam's nodes, best first.
    pub(super) fn into_sorted(self) -> Vec<Near> {
        self.items.into_iter().map(near).collect()
    }
}

/// The lowest bit of a key: the node was expanded. Below every bit that tells two nodes apart,
/// so setting it moves no node.
const EXPANDED: u64 = 1;

/// The most nodes a graph holds: a key has 31 bits for a node.
pub(super) const MAX_NODES: usize = 1 << 31;

/// A node (below [`MAX_NODES`]) as one number that orders as [`Near`] does (similarity, then the
/// smaller node first), so the beam's binary search compares integers, without branches; the
/// lowest bit is left for [`EXPANDED`], so a beam's entry is eight bytes.
fn key(n: Near) -> u64 {
    // `f32::total_cmp`'s order as an unsigned integer's.
    let b = n.0.to_bits();
    let b = if b >> 31 == 1 { !b } else { b | 1 << 31 };
    debug_assert!((n.1 as usize) < MAX_NODES);
    (u64::from(b) << 32) | (u64::from(0x7FFF_FFFF - (n.1 & 0x7FFF_FFFF)) << 1)
}

/// The node a [`key`] stands for.
fn near(k: u64) -> Near {
    let b = (k >> 32) as u32;
    let b = if b >> 31 == 1 { b & !(1 << 31) } else { !b };
    Near(f32::from_bits(b), 0x7FFF_FFFF - ((k as u32) >> 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    /// The textbook search's two heaps, run on the same nodes: the oracle.
    struct Heaps {
        frontier: BinaryHeap<Near>,
        found: BinaryHeap<Reverse<Near>>,
        ef: usize,
    }

    impl Heaps {
        fn admits(&self, s: f32) -> bool {
            self.found.len() < self.ef || self.found.peek().is_some_and(|w| s > w.0 .0)
        }
        fn insert(&mut self, n: Near) {
            self.frontier.push(n);
            self.found.push(Reverse(n));
            if self.found.len() > self.ef {
                self.found.pop();
            }
        }
        /// The heaps' stopping rule, under the nodes' total order (similarity, then the
        /// smaller id): the best candidate left is worse than the worst result.
        fn expand_next(&mut self) -> Option<Near> {
            let c = self.frontier.pop()?;
            let worst = self.found.peek().map(|w| w.0);
            if self.found.len() >= self.ef && worst.is_some_and(|w| c < w) {
                return None;
            }
            Some(c)
        }
    }

    proptest! {
        /// Keys order as the nodes do, and give the node back.
        #[test]
        fn keys_order_as_nodes_do(a in any::<f32>(), b in any::<f32>(), i in 0..MAX_NODES as u32, j in 0..MAX_NODES as u32) {
            let (x, y) = (Near(a, i), Near(b, j));
            prop_assert_eq!(key(x).cmp(&key(y)), x.cmp(&y));
            if x.cmp(&y) != std::cmp::Ordering::Equal {
                prop_assert_eq!((key(x) | EXPANDED).cmp(&key(y)), x.cmp(&y));
            }
            prop_assert_eq!(near(key(x)).0.to_bits(), a.to_bits());
            prop_assert_eq!(near(key(x)).1, i);
        }

        /// Any run of searches — nodes offered in any order, expansions between them — expands
        /// the same nodes in the same order as the two heaps, and ends with the same result.
        #[test]
        fn the_beam_searches_as_the_two_heaps_do(
            ef in 1usize..12,
            steps in proptest::collection::vec((0u8..8, 0u32..40, 0u16..6), 1..200),
        ) {
            let mut beam = Beam::new(ef);
            let mut heaps = Heaps { frontier: BinaryHeap::new(), found: BinaryHeap::new(), ef };
            let mut offered = std::collections::HashSet::new();
            for (what, id, sim) in steps {
                // Few distinct similarities, so ties are common (ties go to the smaller id).
                let n = Near(f32::from(sim) / 4.0, id);
                if what < 6 {
                    if !offered.insert(id) {
                        continue;
                    }
                    prop_assert_eq!(beam.admits(n.0), heaps.admits(n.0));
                    if heaps.admits(n.0) {
                        beam.insert(n);
                        heaps.insert(n);
                    }
                } else {
                    let want = heaps.expand_next();
                    prop_assert_eq!(beam.peek_next().map(|x| x.1), want.map(|x| x.1));
                    prop_assert_eq!(beam.expand_next().map(|x| x.1), want.map(|x| x.1));
                    if want.is_none() {
                        break;
                    }
                }
            }
            let mut rest: Vec<Near> = heaps.found.into_iter().map(|r| r.0).collect();
            rest.sort_by(|a, b| b.cmp(a));
            let ids = |v: Vec<Near>| v.into_iter().map(|x| x.1).collect::<Vec<_>>();
            prop_assert_eq!(ids(beam.into_sorted()), ids(rest));
        }
    }
}
