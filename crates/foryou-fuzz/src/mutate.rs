//! Byte mutations that find parser bugs: bit flips, interesting integers written over size
//! fields, insertions, deletions, duplicated runs (deep nesting), splices and truncations.

/// A seeded mutator (xorshift64*): the same seed gives the same inputs.
pub struct Mutator {
    state: u64,
}

const INTERESTING_8: [u8; 8] = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x10, 0x40, 0x20];
const INTERESTING_32: [u32; 6] = [0, 1, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x0001_0000];
const INTERESTING_64: [u64; 4] = [0, 1, u64::MAX, 1 << 63];

/// Inputs never grow past this, so one run's memory stays small.
pub const MAX_LEN: usize = 256 * 1024;

impl Mutator {
    /// A mutator seeded with `seed`.
    pub fn new(seed: u64) -> Mutator {
        Mutator { state: seed.max(1) }
    }

    /// The next random number.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// Applies one to four mutations to `data`; `other` is a second input to splice from.
    pub fn mutate(&mut self, data: &mut Vec<u8>, other: &[u8]) {
        for _ in 0..1 + self.below(4) {
            self.one(data, other);
        }
        data.truncate(MAX_LEN);
    }

    fn one(&mut self, d: &mut Vec<u8>, other: &[u8]) {
        let len = d.len();
        match self.below(10) {
            0 if len > 0 => {
                let i = self.below(len);
                d[i] ^= 1 << self.below(8);
            }
            1 if len > 0 => {
                let i = self.below(len);
                d[i] = INTERESTING_8[self.below(INTERESTING_8.len())];
            }
            2 if len >= 4 => {
                let i = self.below(len - 3);
                let v = INTERESTING_32[self.below(INTERESTING_32.len())];
                d[i..i + 4].copy_from_slice(&v.to_be_bytes());
            }
            3 if len >= 8 => {
                let i = self.below(len - 7);
                let v = INTERESTING_64[self.below(INTERESTING_64.len())];
                d[i..i + 8].copy_from_slice(&v.to_be_bytes());
            }
            4 => {
                let i = self.below(len + 1);
                let n = 1 + self.below(16);
                for k in 0..n {
                    d.insert(i + k, self.next_u64() as u8);
                }
            }
            5 if len > 0 => {
                let i = self.below(len);
                let n = 1 + self.below((len - i).min(64));
                d.drain(i..i + n);
            }
            6 if len > 0 => {
                // Repeat a run many times: nested containers, long lists.
                let i = self.below(len);
                let n = 1 + self.below((len - i).min(16));
                let run: Vec<u8> = d[i..i + n].to_vec();
                let most = if self.below(8) == 0 { 4000 } else { 8 };
                let times = 1 + self.below(most);
                let tail = d.split_off(i);
                for _ in 0..times {
                    if d.len() + run.len() > MAX_LEN {
                        break;
                    }
                    d.extend_from_slice(&run);
                }
                d.extend_from_slice(&tail);
            }
            7 if !other.is_empty() => {
                let i = self.below(len + 1);
                let j = self.below(other.len());
                let n = 1 + self.below((other.len() - j).min(256));
                let tail = d.split_off(i);
                d.extend_from_slice(&other[j..j + n]);
                d.extend_from_slice(&tail);
            }
            8 if len > 0 => {
                let n = self.below(len);
                d.truncate(n);
            }
            _ if len > 1 => {
                // An ASCII digit run: numbers in text formats.
                let i = self.below(len);
                let n = 1 + self.below(24);
                for k in 0..n.min(len - i) {
                    d[i + k] = b'0' + (self.next_u64() % 10) as u8;
                }
            }
            _ => d.push(self.next_u64() as u8),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_inputs() {
        let run = |seed| {
            let mut m = Mutator::new(seed);
            let mut d = b"hello world".to_vec();
            for _ in 0..200 {
                m.mutate(&mut d, b"other input");
            }
            d
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }
}
