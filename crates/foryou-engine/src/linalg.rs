//! The dense linear algebra the batch model needs, on plain slices: a transpose, Gram-Schmidt
//! orthonormalisation, `AᵀB`, and the eigenpairs of a small symmetric matrix (cyclic Jacobi).
//! Matrices are `Vec<f64>`; "column-major `n × m`" means column `c` is `a[c·n..(c+1)·n]`.

use rand::Rng;

/// The transpose of a row-major `rows × cols` matrix (equally: column-major to row-major).
pub fn transpose(a: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut t = vec![0.0; rows * cols];
    const B: usize = 32;
    for r0 in (0..rows).step_by(B) {
        for c0 in (0..cols).step_by(B) {
            for r in r0..(r0 + B).min(rows) {
                for c in c0..(c0 + B).min(cols) {
                    t[c * rows + r] = a[r * cols + c];
                }
            }
        }
    }
    t
}

/// `a · b`, on four lanes.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc[0] + acc[1] + acc[2] + acc[3] + tail
}

/// Makes the `m` columns of a column-major `n × m` matrix orthonormal (classical Gram-Schmidt,
/// twice, which is as accurate as modified Gram-Schmidt and reads each column in one pass). A
/// column that depends on the ones before is replaced by a random one, so the result always
/// has `m` orthonormal columns (`m ≤ n`).
pub fn orthonormalise(a: &mut [f64], n: usize, m: usize, rng: &mut impl Rng) {
    debug_assert!(m <= n && a.len() == n * m);
    let mut coef = vec![0.0f64; m];
    for j in 0..m {
        let (done, rest) = a.split_at_mut(j * n);
        let col = &mut rest[..n];
        let mut tries = 0;
        loop {
            let before = dot(col, col).sqrt();
            for _ in 0..2 {
                for (i, c) in coef.iter_mut().enumerate().take(j) {
                    *c = dot(&done[i * n..(i + 1) * n], col);
                }
                for (i, c) in coef.iter().enumerate().take(j) {
                    let q = &done[i * n..(i + 1) * n];
                    col.iter_mut().zip(q).for_each(|(x, y)| *x -= c * y);
                }
            }
            let after = dot(col, col).sqrt();
            if after > 1e-10 * before.max(1e-300) && after > 1e-300 {
                col.iter_mut().for_each(|x| *x /= after);
                break;
            }
            tries += 1;
            if tries > 8 {
                // Numerically impossible for m ≤ n; keep the column zero rather than loop.
                col.iter_mut().for_each(|x| *x = 0.0);
                break;
            }
            col.iter_mut().for_each(|x| *x = rng.gen::<f64>() - 0.5);
        }
    }
}

/// `AᵀB` (row-major `m × m`) for column-major `n × m` matrices `A` and `B`.
pub fn cross(a: &[f64], b: &[f64], n: usize, m: usize) -> Vec<f64> {
    let mut t = vec![0.0f64; m * m];
    for i in 0..m {
        for j in 0..m {
            t[i * m + j] = dot(&a[i * n..(i + 1) * n], &b[j * n..(j + 1) * n]);
        }
    }
    t
}

/// The eigenvalues and eigenvectors of a symmetric `m × m` matrix (row-major, symmetrised
/// first), by cyclic Jacobi rotations until the off-diagonal part is negligible (at most 50
/// sweeps). Returns the eigenvalues and `W` row-major with eigenvector `k` in column `k`.
pub fn symmetric_eigen(mut a: Vec<f64>, m: usize) -> (Vec<f64>, Vec<f64>) {
    for i in 0..m {
        for j in 0..i {
            let s = 0.5 * (a[i * m + j] + a[j * m + i]);
            a[i * m + j] = s;
            a[j * m + i] = s;
        }
    }
    let mut w = vec![0.0f64; m * m];
    for i in 0..m {
        w[i * m + i] = 1.0;
    }
    let scale: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-300);
    for _sweep in 0..50 {
        let off: f64 = (0..m)
            .flat_map(|i| (0..m).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * m + j] * a[i * m + j])
            .sum::<f64>()
            .sqrt();
        if off <= 1e-13 * scale {
            break;
        }
        for p in 0..m {
            for q in p + 1..m {
                let apq = a[p * m + q];
                if apq.abs() <= 1e-300 {
                    continue;
                }
                let (app, aqq) = (a[p * m + p], a[q * m + q]);
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                // A ← JᵀAJ on rows and columns p and q.
                for k in 0..m {
                    let (akp, akq) = (a[k * m + p], a[k * m + q]);
                    a[k * m + p] = c * akp - s * akq;
                    a[k * m + q] = s * akp + c * akq;
                }
                for k in 0..m {
                    let (apk, aqk) = (a[p * m + k], a[q * m + k]);
                    a[p * m + k] = c * apk - s * aqk;
                    a[q * m + k] = s * apk + c * aqk;
                }
                for k in 0..m {
                    let (wkp, wkq) = (w[k * m + p], w[k * m + q]);
                    w[k * m + p] = c * wkp - s * wkq;
                    w[k * m + q] = s * wkp + c * wkq;
                }
            }
        }
    }
    ((0..m).map(|i| a[i * m + i]).collect(), w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn random(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
        (0..n).map(|_| rng.gen::<f64>() - 0.5).collect()
    }

    #[test]
    fn orthonormal_columns_even_from_dependent_ones() {
        let (n, m) = (50, 12);
        let mut a = random(n * m, 3);
        // Column 5 repeats column 2, column 7 is zero: both must still come out orthonormal.
        let c2: Vec<f64> = a[2 * n..3 * n].to_vec();
        a[5 * n..6 * n].copy_from_slice(&c2);
        a[7 * n..8 * n].iter_mut().for_each(|x| *x = 0.0);
        let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
        orthonormalise(&mut a, n, m, &mut rng);
        let g = cross(&a, &a, n, m);
        for i in 0..m {
            for j in 0..m {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!(
                    (g[i * m + j] - want).abs() < 1e-10,
                    "({i},{j}) {}",
                    g[i * m + j]
                );
            }
        }
    }

    #[test]
    fn jacobi_finds_the_eigenpairs() {
        let m = 40;
        let r = random(m * m, 9);
        let mut a = vec![0.0; m * m];
        for i in 0..m {
            for j in 0..m {
                a[i * m + j] = r[i * m + j] + r[j * m + i];
            }
        }
        let (vals, w) = symmetric_eigen(a.clone(), m);
        for k in 0..m {
            // A·w_k = λ_k·w_k, and ‖w_k‖ = 1.
            let mut norm = 0.0;
            for i in 0..m {
                let av: f64 = (0..m).map(|j| a[i * m + j] * w[j * m + k]).sum();
                assert!((av - vals[k] * w[i * m + k]).abs() < 1e-9, "pair {k}");
                norm += w[i * m + k] * w[i * m + k];
            }
            assert!((norm - 1.0).abs() < 1e-9);
        }
    }

    #[test]
    fn transpose_round_trips() {
        let a = random(37 * 70, 4);
        let t = transpose(&a, 37, 70);
        assert_eq!(t[5 * 37 + 3], a[3 * 70 + 5]);
        assert_eq!(transpose(&t, 70, 37), a);
    }
}
