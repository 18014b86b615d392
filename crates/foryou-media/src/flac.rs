//! A FLAC encoder for mono 16-bit audio: fixed-blocksize frames, each with the fixed linear
//! predictor (order 0–4) that leaves the smallest residual, Rice-coded. FLAC plays in every
//! current browser inside MP4 (`fLaC` sample entry), and is simple enough to write without a
//! codec library. Tests decode the output with an independent decoder (claxon).

/// Samples per frame (block size code 12 in the frame header).
pub const BLOCK: usize = 4096;

/// An encoded stream: the STREAMINFO block and one byte string per frame.
#[derive(Clone, Debug)]
pub struct FlacStream {
    /// The 34-byte STREAMINFO metadata block body.
    pub streaminfo: [u8; 34],
    /// Frames of `BLOCK` samples each (the last one may be shorter).
    pub frames: Vec<Vec<u8>>,
    /// Sample rate in Hz.
    pub sample_rate: u32,
}

impl FlacStream {
    /// A complete `.flac` file (for tests and tools).
    pub fn file(&self) -> Vec<u8> {
        let mut out = b"fLaC".to_vec();
        out.extend_from_slice(&[0x80, 0, 0, 34]); // last metadata block, STREAMINFO, 34 bytes
        out.extend_from_slice(&self.streaminfo);
        for f in &self.frames {
            out.extend_from_slice(f);
        }
        out
    }
}

struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn new() -> Self {
        Bits {
            out: Vec::new(),
            acc: 0,
            n: 0,
        }
    }
    fn put(&mut self, v: u64, bits: u32) {
        debug_assert!(bits <= 32);
        self.acc = (self.acc << bits) | (v & ((1u64 << bits) - 1));
        self.n += bits;
        while self.n >= 8 {
            self.n -= 8;
            self.out.push((self.acc >> self.n) as u8);
        }
        self.acc &= (1u64 << self.n) - 1;
    }
    fn zeros(&mut self, mut count: u64) {
        while count > 0 {
            let b = count.min(32) as u32;
            self.put(0, b);
            count -= u64::from(b);
        }
    }
    fn align(&mut self) {
        if self.n > 0 {
            self.put(0, 8 - self.n);
        }
    }
}

fn crc8(data: &[u8]) -> u8 {
    let mut c = 0u8;
    for &b in data {
        c ^= b;
        for _ in 0..8 {
            c = if c & 0x80 != 0 {
                (c << 1) ^ 0x07
            } else {
                c << 1
            };
        }
    }
    c
}

fn crc16(data: &[u8]) -> u16 {
    let mut c = 0u16;
    for &b in data {
        c ^= u16::from(b) << 8;
        for _ in 0..8 {
            c = if c & 0x8000 != 0 {
                (c << 1) ^ 0x8005
            } else {
                c << 1
            };
        }
    }
    c
}

/// The frame number in FLAC's UTF-8-like coding.
fn coded_number(n: u64, out: &mut Vec<u8>) {
    if n < 0x80 {
        out.push(n as u8);
        return;
    }
    let mut bytes = 2;
    while n >= 1u64 << (5 * bytes + 1) {
        bytes += 1;
    }
    let lead = (0xFF00u16 >> bytes) as u8;
    out.push(lead | (n >> (6 * (bytes - 1))) as u8);
    for k in (0..bytes - 1).rev() {
        out.push(0x80 | ((n >> (6 * k)) & 0x3F) as u8);
    }
}

fn residual(x: &[i32], order: usize) -> Vec<i32> {
    (order..x.len())
        .map(|n| {
            let p: i64 = match order {
                0 => 0,
                1 => i64::from(x[n - 1]),
                2 => 2 * i64::from(x[n - 1]) - i64::from(x[n - 2]),
                3 => 3 * i64::from(x[n - 1]) - 3 * i64::from(x[n - 2]) + i64::from(x[n - 3]),
                _ => {
                    4 * i64::from(x[n - 1]) - 6 * i64::from(x[n - 2]) + 4 * i64::from(x[n - 3])
                        - i64::from(x[n - 4])
                }
            };
            (i64::from(x[n]) - p) as i32
        })
        .collect()
}

fn zigzag(r: i32) -> u64 {
    u64::from(((r << 1) ^ (r >> 31)) as u32)
}

/// The Rice parameter that codes `res` in the fewest bits, and that count: the optimum is
/// within one of log2 of the mean zigzagged residual, so three candidates are tried.
fn best_rice(res: &[i32]) -> (u32, u64) {
    let sum: u64 = res.iter().map(|&r| zigzag(r)).sum();
    let mean = sum / res.len().max(1) as u64;
    let guess = (64 - mean.leading_zeros()).min(14);
    (guess.saturating_sub(1)..=(guess + 1).min(14))
        .map(|p| {
            let bits: u64 = res
                .iter()
                .map(|&r| (zigzag(r) >> p) + 1 + u64::from(p))
                .sum();
            (p, bits)
        })
        .min_by_key(|&(_, b)| b)
        .expect("fifteen parameters")
}

fn frame(samples: &[i32], number: u64, rate_code: u8) -> Vec<u8> {
    let full = samples.len() == BLOCK;
    let mut head = vec![0xFF, 0xF8];
    let size_code: u8 = if full { 0b1100 } else { 0b0111 };
    head.push((size_code << 4) | rate_code);
    head.push(0b0000_1000); // mono, 16 bits per sample
    coded_number(number, &mut head);
    if !full {
        head.extend_from_slice(&((samples.len() - 1) as u16).to_be_bytes());
    }
    head.push(crc8(&head));
    // The fixed order with the fewest bits (orders need more samples than they skip).
    let (order, res, p) = (0..=4usize.min(samples.len().saturating_sub(1)))
        .map(|o| {
            let r = residual(samples, o);
            let (p, bits) = best_rice(&r);
            (o, r, p, bits + 16 * o as u64)
        })
        .min_by_key(|t| t.3)
        .map(|(o, r, p, _)| (o, r, p))
        .expect("order 0 always fits");
    let mut b = Bits::new();
    b.out = head;
    b.put(0, 1);
    b.put(0b001000 | order as u64, 6);
    b.put(0, 1);
    for &w in &samples[..order] {
        b.put(u64::from(w as i16 as u16), 16);
    }
    b.put(0, 2); // Rice, 4-bit parameters
    b.put(0, 4); // one partition
    b.put(u64::from(p), 4);
    for &r in &res {
        let u = zigzag(r);
        b.zeros(u >> p);
        b.put(1, 1);
        if p > 0 {
            b.put(u & ((1 << p) - 1), p);
        }
    }
    b.align();
    let crc = crc16(&b.out);
    b.out.extend_from_slice(&crc.to_be_bytes());
    b.out
}

/// The frame header's code for a sample rate FLAC names directly, if any.
fn rate_code(rate: u32) -> Option<u8> {
    Some(match rate {
        8_000 => 0b0100,
        16_000 => 0b0101,
        22_050 => 0b0110,
        24_000 => 0b0111,
        32_000 => 0b1000,
        44_100 => 0b1001,
        48_000 => 0b1010,
        _ => return None,
    })
}

/// Encodes mono 16-bit `samples` at `sample_rate` (8, 16, 22.05, 24, 32, 44.1 or 48 kHz).
pub fn encode(samples: &[i16], sample_rate: u32) -> Option<FlacStream> {
    let code = rate_code(sample_rate)?;
    let x: Vec<i32> = samples.iter().map(|&s| i32::from(s)).collect();
    let frames: Vec<Vec<u8>> = x
        .chunks(BLOCK)
        .enumerate()
        .map(|(n, block)| frame(block, n as u64, code))
        .collect();
    let mut si = Bits::new();
    si.put(BLOCK as u64, 16);
    si.put(BLOCK as u64, 16);
    let min_frame = frames.iter().map(Vec::len).min().unwrap_or(0) as u64;
    let max_frame = frames.iter().map(Vec::len).max().unwrap_or(0) as u64;
    si.put(min_frame, 24);
    si.put(max_frame, 24);
    si.put(u64::from(sample_rate), 20);
    si.put(0, 3); // one channel
    si.put(15, 5); // 16 bits per sample
    si.put(samples.len() as u64 >> 32, 4);
    si.put(samples.len() as u64 & 0xFFFF_FFFF, 32);
    si.out.extend_from_slice(&[0; 16]); // MD5 not computed
    let streaminfo: [u8; 34] = si.out.try_into().ok()?;
    Some(FlacStream {
        streaminfo,
        frames,
        sample_rate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(file: &[u8]) -> (u32, Vec<i16>) {
        let mut r = claxon::FlacReader::new(std::io::Cursor::new(file)).expect("a FLAC stream");
        let rate = r.streaminfo().sample_rate;
        let s: Vec<i16> = r.samples().map(|s| s.expect("a sample") as i16).collect();
        (rate, s)
    }

    #[test]
    fn an_independent_decoder_reads_back_every_sample() {
        // A chord, a sweep, silence, full-scale noise and a short last frame.
        let mut x: Vec<i16> = (0..10_000)
            .map(|n| {
                let t = n as f64 / 16_000.0;
                (8000.0 * (2.0 * std::f64::consts::PI * 220.0 * t).sin()
                    + 4000.0 * (2.0 * std::f64::consts::PI * 330.0 * t * (1.0 + t)).sin())
                    as i16
            })
            .collect();
        x.extend(std::iter::repeat_n(0, 3000));
        let mut seed = 7u32;
        x.extend((0..5000).map(|_| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 16) as i16
        }));
        x.extend([i16::MIN, i16::MAX, i16::MIN, i16::MAX, 0]);
        let s = encode(&x, 16_000).expect("a supported rate");
        let (rate, back) = decode(&s.file());
        assert_eq!(rate, 16_000);
        assert_eq!(back, x);
        // The tone compresses; noise does not grow much past its raw size.
        assert!(s.frames[0].len() < BLOCK * 2 / 2, "{}", s.frames[0].len());
    }

    #[test]
    fn frame_numbers_past_one_byte_are_coded() {
        let mut out = Vec::new();
        coded_number(0x7F, &mut out);
        assert_eq!(out, [0x7F]);
        out.clear();
        coded_number(0x80, &mut out);
        assert_eq!(out, [0xC2, 0x80]);
        out.clear();
        coded_number(0x800, &mut out);
        assert_eq!(out, [0xE0, 0xA0, 0x80]);
        let x: Vec<i16> = (0..BLOCK * 130).map(|n| ((n % 200) as i16) * 50).collect();
        let s = encode(&x, 8_000).expect("a supported rate");
        assert_eq!(decode(&s.file()).1, x);
    }

    #[test]
    fn unsupported_rates_are_refused() {
        assert!(encode(&[0; 10], 11_025).is_none());
    }
}
