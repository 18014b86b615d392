//! The `k` best of a scored list, best first: what every exact search and model answer ends with.

/// The `k` highest-scored `(id, score)` pairs, best first, ties broken by the smaller id; a
/// partial selection, so linear in the list rather than a full sort.
pub fn best_k(mut all: Vec<(u32, f32)>, k: usize) -> Vec<(u32, f32)> {
    let k = k.min(all.len());
    if k == 0 {
        return Vec::new();
    }
    all.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1));
    all.truncate(k);
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    all
}
