use super::*;

/// EASE the dense way, as the paper writes it: `B = −P / diag(P)`, zero diagonal.
fn dense_ease(rows: &[Vec<(u32, f32)>], n: usize, lambda: f64) -> Vec<f64> {
    let mut g = vec![0.0f64; n * n];
    for row in rows {
        for &(i, wi) in row {
            for &(j, wj) in row {
                g[i as usize * n + j as usize] += f64::from(wi) * f64::from(wj);
            }
        }
    }
    // P = G⁻¹ (with λ on the diagonal) through the eigenpairs of a symmetric matrix.
    for i in 0..n {
        g[i * n + i] += lambda;
    }
    let (vals, w) = linalg::symmetric_eigen(g, n);
    let mut p = vec![0.0f64; n * n];
    for i in 0..n {
        for j in 0..n {
            p[i * n + j] = (0..n).map(|k| w[i * n + k] * w[j * n + k] / vals[k]).sum();
        }
    }
    let mut b = vec![0.0f64; n * n];
    for i in 0..n {
        for j in 0..n {
            if i != j {
                b[i * n + j] = -p[i * n + j] / p[j * n + j];
            }
        }
    }
    b
}

fn world(n: usize, people: usize, seed: u64) -> Vec<Vec<(u32, f32)>> {
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    (0..people)
        .map(|_| {
            // Two taste groups, so the data has structure.
            let half = rng.gen_range(0..2u32);
            let mut row: Vec<(u32, f32)> = Vec::new();
            for _ in 0..rng.gen_range(2..9) {
                let i = if rng.gen_bool(0.8) {
                    half * (n as u32 / 2) + rng.gen_range(0..n as u32 / 2)
                } else {
                    rng.gen_range(0..n as u32)
                };
                if !row.iter().any(|r| r.0 == i) {
                    row.push((i, rng.gen_range(1..4) as f32));
                }
            }
            row
        })
        .collect()
}

fn job(rows: Vec<Vec<(u32, f32)>>, n: usize, rank: usize) -> BatchJob {
    BatchJob {
        items: (0..n as u32).map(|i| i + 1000).collect(),
        rows,
        lambda: 20.0,
        rank,
        seed: 5,
        learned_at: 0,
    }
}

#[test]
fn with_a_full_rank_it_is_ease_exactly() {
    let n = 60;
    let rows = world(n, 400, 1);
    let b = dense_ease(&rows, n, 20.0);
    for threads in [1, 2] {
        let model = job(rows.clone(), n, 64).fit(threads);
        let history = [(1003u32, 1.0f32), (1010, 0.5), (1041, 2.0)];
        let taste = model.taste(&history).expect("modelled history");
        for j in 0..n {
            let item = 1000 + j as u32;
            let want: f64 = if history.iter().any(|h| h.0 == item) {
                0.0
            } else {
                history
                    .iter()
                    .map(|&(h, w)| f64::from(w) * b[(h - 1000) as usize * n + j])
                    .sum()
            };
            let got = model.score(&taste, item);
            assert!(
                (f64::from(got) - want).abs() < 1e-4,
                "item {j}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn a_low_rank_model_keeps_the_taste_groups_apart() {
    let n = 400;
    let rows = world(n, 3000, 2);
    let model = job(rows, n, 8).fit(2);
    assert_eq!(model.len(), n);
    // Someone who engaged only with the first half is shown the first half.
    let history: Vec<(u32, f32)> = (0..10).map(|i| (1000 + i * 7, 1.0)).collect();
    let top = model.top(&model.taste(&history).expect("modelled"), 20);
    assert_eq!(top.len(), 20);
    let first_half = top.iter().filter(|(i, _)| *i < 1000 + n as u32 / 2).count();
    assert!(
        first_half >= 18,
        "{first_half} of 20 from the person's half"
    );
    assert!(top.iter().all(|(i, _)| !history.iter().any(|h| h.0 == *i)));
    // Scores agree with the ranking, and an unmodelled history has no taste.
    let taste = model.taste(&history).expect("modelled");
    assert!((model.score(&taste, top[0].0) - top[0].1).abs() < 1e-6);
    assert!(model.taste(&[(5, 1.0)]).is_none());
}

/// A model of `n` random columns at `rank`, its leading directions the strongest (as a fit's
/// eigenbasis is).
fn random_model(n: usize, rank: usize, seed: u64) -> ItemModel {
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let v = (0..n * rank)
        .map(|k| rng.gen_range(-1.0f32..1.0) / (1.0 + (k % rank) as f32 * 0.05))
        .collect();
    let c = (0..rank).map(|k| 1.0 / (1.0 + k as f32)).collect();
    let inv_diag = (0..n).map(|_| rng.gen_range(0.5f32..2.0)).collect();
    ItemModel::new((0..n as u32).collect(), rank, v, c, inv_diag, 0)
}

#[test]
fn the_first_pass_is_within_half_a_step_per_entry() {
    let model = random_model(3000, 2 * SCAN_DIMS, 3);
    let taste = model
        .taste(&[(1, 1.0), (20, 0.5), (300, 2.0)])
        .expect("modelled");
    let y = &taste.y[..SCAN_DIMS];
    let q = quantise_query(y);
    // One step of `q` in units of `y`.
    let top = y.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    let y_step = top / 16_383.0;
    let r = model.rank;
    for j in (0..3000).step_by(97) {
        let exact: f32 = model.v[j * r..j * r + SCAN_DIMS]
            .iter()
            .zip(y)
            .map(|(a, b)| a * model.inv_diag[j] * b)
            .sum();
        let rough = model.head_step[j]
            * dot_i8(&model.head[j * SCAN_DIMS..][..SCAN_DIMS], &q) as f32
            * y_step;
        // Each product is off by at most half a step of either side times the other's size.
        let a_max = 127.0 * model.head_step[j];
        let bound =
            SCAN_DIMS as f32 * (0.5 * model.head_step[j] * top + 0.5 * y_step * a_max) * 1.01;
        assert!(
            (exact - rough).abs() <= bound,
            "item {j}: {exact} against {rough} (bound {bound})"
        );
    }
}

#[test]
fn the_two_pass_scan_finds_the_exact_best_and_scores_them_exactly() {
    let model = random_model(6000, 2 * SCAN_DIMS, 4);
    let history: Vec<(u32, f32)> = (0..30).map(|i| (i * 173 % 6000, 1.0)).collect();
    let taste = model.taste(&history).expect("modelled");
    let fast = model.top(&taste, 50);
    let exact = model.top_exact(&taste, 50);
    assert_eq!(fast.len(), 50);
    for (item, s) in &fast {
        assert_eq!(*s, model.score(&taste, *item), "scores are exact");
        assert!(!history.iter().any(|h| h.0 == *item), "none of their own");
    }
    let kept = exact
        .iter()
        .filter(|e| fast.iter().any(|f| f.0 == e.0))
        .count();
    assert!(kept >= 45, "{kept} of the exact 50");
}

#[test]
fn a_zero_query_quantises_to_zero() {
    assert_eq!(quantise_query(&[0.0; 4]), vec![0; 4]);
    assert_eq!(quantise_query(&[0.5, -1.0]), vec![8192, -16_383]);
    let mut out = Vec::new();
    assert_eq!(quantise(&[0.0; 3], 2.0, &mut out), 0.0);
    assert_eq!(out, vec![0; 3]);
    assert_eq!(dot_i8(&[127, -127, 3], &[16_383, 16_383, -2]), -6);
}
