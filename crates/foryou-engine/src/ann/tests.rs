//! The graph against brute force, and the build's invariants.

use super::*;

/// A graph over `data`, each vector's id its place in it.
fn built_over(dim: usize, data: &[Vec<f32>]) -> Hnsw {
    let items = data.iter().cloned().enumerate().map(|(i, v)| (i as u32, v));
    Hnsw::build(dim, HnswConfig::default(), items)
}

#[test]
fn hnsw_finds_what_brute_force_finds() {
    let dim = 16;
    let data = synthetic_vectors(3000, dim, 30, 1);
    // Held-out queries from the same distribution (the same seed draws the same clusters).
    let items = || data.iter().cloned().enumerate().map(|(i, v)| (i as u32, v));
    let exact = BruteForce::new(dim, items());
    let hnsw = Hnsw::build(dim, HnswConfig::default(), items());
    let queries: Vec<Vec<f32>> = synthetic_vectors(3050, dim, 30, 1).split_off(3000);
    let r = recall_at(&hnsw, &exact, &queries, 100);
    assert!(r >= 0.95, "recall@100 {r}");
    // An indexed vector is its own nearest neighbour.
    assert_eq!(hnsw.search(&data[17], 1)[0].0, 17);
    assert_eq!(exact.search(&data[17], 1)[0].0, 17);
}

#[test]
fn a_parallel_build_is_the_serial_build_and_keeps_recall() {
    let dim = 16;
    // Past the serial start, so several batches are placed in parallel.
    let data = synthetic_vectors(9000, dim, 40, 3);
    let items = || data.iter().cloned().enumerate().map(|(i, v)| (i as u32, v));
    let one = Hnsw::build_with_threads(dim, HnswConfig::default(), items(), 1);
    let four = Hnsw::build_with_threads(dim, HnswConfig::default(), items(), 4);
    assert_eq!(one.layer0, four.layer0, "thread count changed the graph");
    assert_eq!(one.upper, four.upper);
    let exact = BruteForce::new(dim, items());
    let queries: Vec<Vec<f32>> = synthetic_vectors(9100, dim, 40, 3).split_off(9000);
    let r = recall_at(&four, &exact, &queries, 100);
    assert!(r >= 0.95, "recall@100 {r}");
}

#[test]
fn placing_a_batch_by_region_gives_each_node_the_links_it_gets_alone() {
    let dim = 16;
    let data = synthetic_vectors(6000, dim, 30, 8);
    let mut h = built_over(dim, &data[..5000]);
    let nodes: Vec<u32> = data[5000..]
        .iter()
        .enumerate()
        .map(|(i, v)| h.push_node(5000 + i as u32, v))
        .collect();
    let alone: Vec<Vec<Vec<u32>>> = nodes.iter().map(|&n| h.place(n).links).collect();
    for threads in [1, 3] {
        let batch = h.place_parallel(&nodes, threads);
        let got: Vec<u32> = batch.iter().map(|p| p.node).collect();
        assert_eq!(got, nodes, "placements come back in the nodes' order");
        let links: Vec<Vec<Vec<u32>>> = batch.into_iter().map(|p| p.links).collect();
        assert_eq!(links, alone);
    }
}

#[test]
fn inserts_after_a_build_are_found() {
    let dim = 16;
    let data = synthetic_vectors(4000, dim, 20, 5);
    let mut h = built_over(dim, &data[..3000]);
    for (i, v) in data.iter().enumerate().skip(3000) {
        h.insert(i as u32, v);
    }
    assert_eq!(h.len(), 4000);
    let exact = BruteForce::new(
        dim,
        data.iter().cloned().enumerate().map(|(i, v)| (i as u32, v)),
    );
    let queries: Vec<Vec<f32>> = data[3000..3100].to_vec();
    assert!(recall_at(&h, &exact, &queries, 50) >= 0.95);
    assert_eq!(h.search(&data[3999], 1)[0].0, 3999);
}

#[test]
fn empty_and_tiny_indexes_answer() {
    let h = Hnsw::new(4, HnswConfig::default());
    assert!(h.search(&[1.0, 0.0, 0.0, 0.0], 5).is_empty());
    let b = BruteForce::new(4, vec![(9, vec![1.0, 0.0, 0.0, 0.0])]);
    assert_eq!(b.search(&[1.0, 0.0, 0.0, 0.0], 5), vec![(9, 1.0)]);
}
