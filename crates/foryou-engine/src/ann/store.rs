//! The graph's vectors, each starting on a cache line.
//!
//! A search waits for memory once per vector it weighs. A 32-dimensional vector is 128 bytes:
//! two cache lines where it starts on a line, three where it does not, and an ordinary array
//! of floats (a large allocation starts 16 bytes past a page) puts nearly every vector across
//! three. Here each vector starts on a 64-byte line, padded with zeros to whole lines.

/// One cache line of floats.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([f32; FLOATS_PER_LINE]);

const FLOATS_PER_LINE: usize = 16;

/// Vectors of `dim` floats, the `n`th at line `n · per`.
pub(super) struct Vectors {
    lines: Vec<Line>,
    dim: usize,
    /// Lines per vector.
    per: usize,
}

impl Vectors {
    pub(super) fn new(dim: usize) -> Self {
        Vectors {
            lines: Vec::new(),
            dim,
            per: dim.div_ceil(FLOATS_PER_LINE),
        }
    }

    /// Adds a vector: its first `dim` floats, zeros where it is shorter.
    pub(super) fn push(&mut self, v: &[f32]) {
        let start = self.lines.len();
        self.lines
            .resize(start + self.per, Line([0.0; FLOATS_PER_LINE]));
        let n = v.len().min(self.dim);
        self.floats_mut(start)[..n].copy_from_slice(&v[..n]);
    }

    /// The `n`th vector.
    #[inline]
    pub(super) fn get(&self, n: u32) -> &[f32] {
        let start = n as usize * self.per;
        let lines = &self.lines[start..start + self.per];
        // SAFETY: `Line` is `repr(C)` around `[f32; 16]`, 64 bytes with no padding, so `per`
        // contiguous lines are `16 · per` contiguous, initialised floats, borrowed from `self`.
        let floats = unsafe {
            std::slice::from_raw_parts(lines.as_ptr().cast::<f32>(), lines.len() * FLOATS_PER_LINE)
        };
        &floats[..self.dim]
    }

    fn floats_mut(&mut self, start: usize) -> &mut [f32] {
        let lines = &mut self.lines[start..start + self.per];
        // SAFETY: as in `get`, for a unique borrow.
        unsafe {
            std::slice::from_raw_parts_mut(
                lines.as_mut_ptr().cast::<f32>(),
                lines.len() * FLOATS_PER_LINE,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_come_back_as_stored_each_on_a_line_of_its_own() {
        for dim in [1, 15, 16, 17, 32, 33, 64] {
            let mut s = Vectors::new(dim);
            let all: Vec<Vec<f32>> = (0..50)
                .map(|n| (0..dim).map(|k| (n * 100 + k) as f32).collect())
                .collect();
            for v in &all {
                s.push(v);
            }
            // A short vector is padded with zeros; a long one cut.
            s.push(&[7.0]);
            s.push(&vec![1.0; dim + 5]);
            for (n, v) in all.iter().enumerate() {
                let got = s.get(n as u32);
                assert_eq!(got, &v[..], "dim {dim}, vector {n}");
                assert_eq!(got.as_ptr() as usize % 64, 0, "dim {dim}, vector {n}");
            }
            let mut short = vec![0.0; dim];
            short[0] = 7.0;
            assert_eq!(s.get(50), &short[..]);
            assert_eq!(s.get(51), &vec![1.0; dim][..]);
        }
    }
}
