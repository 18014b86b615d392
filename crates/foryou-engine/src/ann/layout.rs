//! Work split over threads, and the order vectors are stored in.

use crate::embed::dot;

/// `f` over `items` on up to `threads` threads, the results in the items' order.
pub(super) fn on_threads<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    if threads <= 1 || items.len() < 2 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("an index build worker panicked"))
            .collect()
    })
}

/// Items per cell of the storage order: a few pages of vectors.
const CELL: usize = 256;

/// The order in which to store `items` so that vectors near each other lie near each other in
/// memory (a build's or a search's reads then fall on fewer pages and cache sets): two rounds of
/// splitting by the nearest of evenly spread pivots, each cell of the first split again into
/// cells of about `CELL` items. Small inputs keep their order. Depends on the items only.
pub(super) fn locality_order(items: &[(u32, Vec<f32>)], threads: usize) -> Vec<u32> {
    let n = items.len();
    if n < 4 * CELL {
        return (0..n as u32).collect();
    }
    let nearest = |v: &[f32], pivots: &[u32]| -> u32 {
        let mut best = (f32::MIN, 0u32);
        for (p, &i) in pivots.iter().enumerate() {
            let s = dot(v, &items[i as usize].1);
            if s > best.0 {
                best = (s, p as u32);
            }
        }
        best.1
    };
    let spread = |members: &[u32], k: usize| -> Vec<u32> {
        (0..k).map(|j| members[j * members.len() / k]).collect()
    };
    let all: Vec<u32> = (0..n as u32).collect();
    let first = spread(&all, (n / CELL).isqrt().clamp(1, 256));
    let outer = on_threads(&all, threads, |&i| nearest(&items[i as usize].1, &first));
    let mut groups: Vec<Vec<u32>> = vec![Vec::new(); first.len()];
    for (i, &g) in outer.iter().enumerate() {
        groups[g as usize].push(i as u32);
    }
    let mut order = Vec::with_capacity(n);
    for members in groups {
        // A pivot's cell is empty where another pivot holds the same vector.
        if members.is_empty() {
            continue;
        }
        let pivots = spread(&members, (members.len() / CELL).max(1));
        let inner = on_threads(&members, threads, |&i| {
            nearest(&items[i as usize].1, &pivots)
        });
        let mut keyed: Vec<(u32, u32)> = inner.into_iter().zip(members).collect();
        keyed.sort_unstable();
        order.extend(keyed.into_iter().map(|(_, i)| i));
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ann::synthetic_vectors;

    #[test]
    fn the_storage_order_is_a_permutation_that_keeps_near_vectors_together() {
        let dim = 16;
        let data = synthetic_vectors(20_000, dim, 50, 9);
        let items: Vec<(u32, Vec<f32>)> = data
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, v)| (i as u32, v))
            .collect();
        let order = locality_order(&items, 2);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..20_000).collect::<Vec<u32>>());
        assert_eq!(
            order,
            locality_order(&items, 1),
            "threads changed the order"
        );
        // Neighbours in memory are far more alike than neighbours in the input.
        let mean = |ix: &[u32]| {
            ix.windows(2)
                .map(|w| dot(&data[w[0] as usize], &data[w[1] as usize]))
                .sum::<f32>()
                / (ix.len() - 1) as f32
        };
        let given: Vec<u32> = (0..20_000).collect();
        let (stored, input) = (mean(&order), mean(&given));
        assert!(stored > input + 0.3, "stored {stored} vs input {input}");
        // Identical vectors (every pivot alike, all but one cell empty) are still all placed.
        let same: Vec<(u32, Vec<f32>)> = (0..3000).map(|i| (i, data[0].clone())).collect();
        let mut placed = locality_order(&same, 2);
        placed.sort_unstable();
        assert_eq!(placed, (0..3000).collect::<Vec<u32>>());
        // Small inputs keep their order.
        assert_eq!(
            locality_order(&items[..100], 2),
            (0..100).collect::<Vec<u32>>()
        );
    }
}
