//! Short synthesised music for demo sounds: a loop of one bar whose tempo, key, scale, timbre,
//! melody and bass line all follow from a seed, so each sound has a recognisable piece of its
//! own. The loop is a whole number of FLAC frames long, so a clip repeats its encoded frames
//! rather than encoding the same music again.

use crate::flac::{self, FlacStream, BLOCK};

/// The sample rate of synthesised music.
pub const RATE: u32 = 16_000;

/// What a seed chose, for captions and tests.
#[derive(Clone, Debug, PartialEq)]
pub struct Tune {
    /// Beats per minute.
    pub bpm: f64,
    /// MIDI note of the key's root.
    pub root: u8,
    /// Minor (else major) pentatonic.
    pub minor: bool,
    /// FLAC frames in one loop.
    pub frames: usize,
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // SplitMix64.
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn hz(midi: f64) -> f64 {
    440.0 * 2f64.powf((midi - 69.0) / 12.0)
}

/// The tune a seed chooses.
pub fn tune(seed: u64) -> Tune {
    let mut r = Rng(seed ^ 0x005E_ED0F_504D);
    // 6–12 frames of 4,096 samples at 16 kHz: loops of 1.5–3.1 s, four beats each.
    let frames = 6 + r.below(7) as usize;
    let seconds = (frames * BLOCK) as f64 / f64::from(RATE);
    Tune {
        bpm: 4.0 * 60.0 / seconds,
        root: 52 + r.below(12) as u8,
        minor: r.below(2) == 1,
        frames,
    }
}

/// One loop of the seed's music, as 16-bit samples at [`RATE`].
pub fn samples(seed: u64) -> Vec<i16> {
    let t = tune(seed);
    let mut r = Rng(seed.rotate_left(21) ^ 0xA11CE);
    let scale: [i32; 5] = if t.minor {
        [0, 3, 5, 7, 10]
    } else {
        [0, 2, 4, 7, 9]
    };
    // Timbre: the weights of the first four partials and how fast a note fades.
    let timbres: [[f64; 4]; 4] = [
        [1.0, 0.0, 0.0, 0.0],
        [1.0, 0.0, 0.33, 0.0],
        [1.0, 0.5, 0.33, 0.25],
        [1.0, 0.2, 0.1, 0.4],
    ];
    let partials = timbres[r.below(4) as usize];
    let fade = 3.0 + r.below(8) as f64;
    let len = t.frames * BLOCK;
    let step = len / 8;
    let mut out = vec![0f64; len];
    let add_note = |out: &mut [f64], start: usize, dur: usize, midi: f64, amp: f64| {
        let f = hz(midi);
        let dt = 1.0 / f64::from(RATE);
        // Each partial is a rotating phasor and the fade a running product: no sin or exp per
        // sample (thousands of sounds are made for the demo).
        let mut osc: Vec<(f64, f64, f64, f64, f64)> = partials
            .iter()
            .enumerate()
            .filter(|(h, w)| **w > 0.0 && f * (*h + 1) as f64 * 2.0 < f64::from(RATE))
            .map(|(h, w)| {
                let step = std::f64::consts::TAU * f * (h + 1) as f64 * dt;
                (*w, 0.0, 1.0, step.sin(), step.cos())
            })
            .collect();
        let decay = (-fade * dt).exp();
        let mut env_fade = 1.0;
        for k in 0..dur.min(len - start) {
            // A short attack and an exponential fade, so notes do not click.
            let env = (k as f64 * dt * 200.0).min(1.0) * env_fade;
            env_fade *= decay;
            let mut v = 0.0;
            for (w, sn, cs, ss, cc) in osc.iter_mut() {
                v += *w * *sn;
                let (s2, c2) = (*sn * *cc + *cs * *ss, *cs * *cc - *sn * *ss);
                *sn = s2;
                *cs = c2;
            }
            out[start + k] += amp * env * v;
        }
    };
    // Melody: eighth notes on the scale, some rests, an octave above the root.
    for s in 0..8 {
        if r.below(5) == 0 {
            continue;
        }
        let degree = r.below(7) as usize;
        let midi = f64::from(t.root) + 12.0 * (degree / 5) as f64 + f64::from(scale[degree % 5]);
        add_note(&mut out, s * step, step, midi + 12.0, 0.22);
    }
    // Bass: root and fifth on the beats.
    for s in (0..8).step_by(2) {
        let midi = f64::from(t.root) - 12.0 + if s % 8 == 4 { 7.0 } else { 0.0 };
        add_note(&mut out, s * step, 2 * step, midi, 0.3);
    }
    // A soft kick on each beat: a falling sine.
    for s in (0..8).step_by(2) {
        for k in 0..(RATE as usize / 8).min(len - s * step) {
            let time = k as f64 / f64::from(RATE);
            let f = 50.0 + 90.0 * (-30.0 * time).exp();
            out[s * step + k] +=
                0.35 * (-25.0 * time).exp() * (std::f64::consts::TAU * f * time).sin();
        }
    }
    let peak = out.iter().fold(1e-9f64, |m, v| m.max(v.abs()));
    out.iter()
        .map(|v| (v / peak * 0.6 * 32767.0).round() as i16)
        .collect()
}

/// One loop of the seed's music, FLAC-encoded (a whole number of frames).
pub fn encoded_loop(seed: u64) -> FlacStream {
    flac::encode(&samples(seed), RATE).expect("16 kHz is a FLAC rate")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_make_different_music_and_each_loop_fills_whole_frames() {
        let a = samples(1);
        let b = samples(2);
        assert_ne!(a, b);
        assert_eq!(a.len() % BLOCK, 0);
        assert_eq!(samples(1), a, "a seed always makes the same music");
        let tunes: Vec<Tune> = (0..20).map(tune).collect();
        assert!(tunes.iter().any(|t| t.minor) && tunes.iter().any(|t| !t.minor));
        assert!(
            tunes.iter().all(|t| (75.0..160.0).contains(&t.bpm)),
            "{tunes:?}"
        );
        // It is not silence, and it is not clipped.
        let peak = a.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        assert!((15_000..=20_000).contains(&peak), "{peak}");
        // FLAC keeps it small: well under the raw 2 bytes per sample.
        let enc = encoded_loop(1);
        let bytes: usize = enc.frames.iter().map(Vec::len).sum();
        assert!(bytes < a.len(), "{bytes} bytes for {} samples", a.len());
    }
}
