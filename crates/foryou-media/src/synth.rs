//! Playable clips without ffmpeg: a tiny H.264 Baseline encoder and an MP4 muxer.
//!
//! The encoder uses three macroblock kinds that need no transform: `I_PCM` (raw samples),
//! `I_16x16` DC prediction with no residual (a flat block continuing its neighbours) and
//! `P_Skip` (copy of the previous frame). A clip is a flat background, a band of colour in the
//! sound's hue, and a ball that hops across the frame; only the blocks that change are coded, so a
//! minute of video is tens of kilobytes. Every block on a border is drawn so that its bottom row
//! and right column are background, which makes the DC predictions of its neighbours exact.

pub use crate::mux::mux_mp4;
use crate::png;
use crate::scene::{rgb, Picture, Scene};

/// What to draw.
#[derive(Clone, Debug)]
pub struct ClipSpec {
    /// Length in seconds.
    pub seconds: f64,
    /// Varies colours and motion.
    pub seed: u64,
    /// Hue of the background, 0–360.
    pub hue: f64,
    /// Hue of the band (the sound's colour), 0–360.
    pub band_hue: f64,
    /// Frames per second.
    pub fps: u32,
    /// The sound whose music the clip carries (`music::samples` of this seed), if any.
    pub music: Option<u64>,
    /// Large text across the middle (a hashtag, say); it also picks how the shape moves.
    pub headline: String,
    /// Smaller text under it (the caption).
    pub caption: String,
}

impl Default for ClipSpec {
    fn default() -> Self {
        ClipSpec {
            seconds: 5.0,
            seed: 1,
            hue: 200.0,
            band_hue: 30.0,
            fps: 12,
            music: None,
            headline: String::new(),
            caption: String::new(),
        }
    }
}

/// Width and height of synthesised clips (9 × 16 macroblocks, portrait 9:16).
pub const WIDTH: usize = 144;
/// See [`WIDTH`].
pub const HEIGHT: usize = 256;
pub(crate) const MBW: usize = WIDTH / 16;
pub(crate) const MBH: usize = HEIGHT / 16;

struct BitWriter {
    out: Vec<u8>,
    cur: u8,
    n: u8,
}

impl BitWriter {
    fn new() -> Self {
        BitWriter {
            out: Vec::new(),
            cur: 0,
            n: 0,
        }
    }

    fn bit(&mut self, b: bool) {
        self.cur = (self.cur << 1) | u8::from(b);
        self.n += 1;
        if self.n == 8 {
            self.out.push(self.cur);
            self.cur = 0;
            self.n = 0;
        }
    }

    fn bits(&mut self, v: u64, n: u32) {
        for i in (0..n).rev() {
            self.bit((v >> i) & 1 == 1);
        }
    }

    fn ue(&mut self, v: u64) {
        let x = v + 1;
        let len = 64 - x.leading_zeros();
        self.bits(0, len - 1);
        self.bits(x, len);
    }

    fn se(&mut self, v: i64) {
        self.ue(if v > 0 {
            (2 * v - 1) as u64
        } else {
            (-2 * v) as u64
        });
    }

    fn align_zero(&mut self) {
        while self.n != 0 {
            self.bit(false);
        }
    }

    fn trailing(mut self) -> Vec<u8> {
        self.bit(true);
        self.align_zero();
        self.out
    }
}

/// Wraps an RBSP as a NAL unit payload (header + emulation prevention), without start code.
fn nal(ref_idc: u8, kind: u8, rbsp: &[u8]) -> Vec<u8> {
    let mut out = vec![(ref_idc << 5) | kind];
    let mut zeros = 0;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
    out
}

const LOG2_MAX_FRAME_NUM: u32 = 16;

fn sps() -> Vec<u8> {
    let mut w = BitWriter::new();
    w.bits(66, 8); // profile_idc: Baseline
    w.bits(0b1100_0000, 8); // constraint_set0 and set1
    w.bits(30, 8); // level 3.0
    w.ue(0); // seq_parameter_set_id
    w.ue(u64::from(LOG2_MAX_FRAME_NUM - 4));
    w.ue(2); // pic_order_cnt_type: output order = decoding order
    w.ue(1); // max_num_ref_frames
    w.bit(false); // gaps_in_frame_num_value_allowed_flag
    w.ue((MBW - 1) as u64);
    w.ue((MBH - 1) as u64);
    w.bit(true); // frame_mbs_only_flag
    w.bit(true); // direct_8x8_inference_flag
    w.bit(false); // frame_cropping_flag
    w.bit(false); // vui_parameters_present_flag
    nal(3, 7, &w.trailing())
}

fn pps() -> Vec<u8> {
    let mut w = BitWriter::new();
    w.ue(0); // pic_parameter_set_id
    w.ue(0); // seq_parameter_set_id
    w.bit(false); // entropy_coding_mode_flag: CAVLC
    w.bit(false); // bottom_field_pic_order_in_frame_present_flag
    w.ue(0); // num_slice_groups_minus1
    w.ue(0); // num_ref_idx_l0_default_active_minus1
    w.ue(0); // num_ref_idx_l1_default_active_minus1
    w.bit(false); // weighted_pred_flag
    w.bits(0, 2); // weighted_bipred_idc
    w.se(0); // pic_init_qp_minus26
    w.se(0); // pic_init_qs_minus26
    w.se(0); // chroma_qp_index_offset
    w.bit(true); // deblocking_filter_control_present_flag
    w.bit(false); // constrained_intra_pred_flag
    w.bit(false); // redundant_pic_cnt_present_flag
    nal(3, 8, &w.trailing())
}

#[derive(Clone, Copy, PartialEq)]
enum Mb {
    Pcm,
    FlatDc,
    Skip,
}

/// Encodes one frame. `kinds` says how each macroblock is coded; PCM blocks take their samples from `pic`.
fn frame(pic: &Picture, kinds: &[Mb], frame_num: u64) -> Vec<u8> {
    let idr = frame_num == 0;
    let mut w = BitWriter::new();
    w.ue(0); // first_mb_in_slice
    w.ue(if idr { 7 } else { 5 }); // slice_type: I or P, all slices of the picture alike
    w.ue(0); // pic_parameter_set_id
    w.bits(frame_num, LOG2_MAX_FRAME_NUM);
    if idr {
        w.ue(0); // idr_pic_id
    } else {
        w.bit(false); // num_ref_idx_active_override_flag
        w.bit(false); // ref_pic_list_modification_flag_l0
    }
    if idr {
        w.bit(false); // no_output_of_prior_pics_flag
        w.bit(false); // long_term_reference_flag
    } else {
        w.bit(false); // adaptive_ref_pic_marking_mode_flag
    }
    w.se(0); // slice_qp_delta
    w.ue(1); // disable_deblocking_filter_idc: off, so raw samples stay exact
    let coeffs = |i: usize| if kinds[i] == Mb::Pcm { 16 } else { 0 };
    let mut skip_run = 0u64;
    for (i, &kind) in kinds.iter().enumerate() {
        if !idr {
            if kind == Mb::Skip {
                skip_run += 1;
                continue;
            }
            w.ue(skip_run);
            skip_run = 0;
        }
        let intra_offset = if idr { 0 } else { 5 };
        match kind {
            Mb::Skip => {}
            Mb::Pcm => {
                w.ue(intra_offset + 25);
                w.align_zero();
                let (mx, my) = (i % MBW, i / MBW);
                for y in 0..16 {
                    for x in 0..16 {
                        w.bits(u64::from(pic.y[(my * 16 + y) * WIDTH + mx * 16 + x]), 8);
                    }
                }
                for plane in [&pic.cb, &pic.cr] {
                    for y in 0..8 {
                        for x in 0..8 {
                            w.bits(u64::from(plane[(my * 8 + y) * (WIDTH / 2) + mx * 8 + x]), 8);
                        }
                    }
                }
            }
            Mb::FlatDc => {
                w.ue(intra_offset + 3); // I_16x16, DC prediction, no coded coefficients
                w.ue(0); // intra_chroma_pred_mode: DC
                w.se(0); // mb_qp_delta
                let (mx, my) = (i % MBW, i / MBW);
                let left = (mx > 0).then(|| coeffs(i - 1));
                let top = (my > 0).then(|| coeffs(i - MBW));
                let nc = match (left, top) {
                    (Some(a), Some(b)) => (a + b + 1) >> 1,
                    (Some(a), None) | (None, Some(a)) => a,
                    (None, None) => 0,
                };
                // coeff_token for TotalCoeff = 0 in the table that nC selects.
                match nc {
                    0..=1 => w.bits(0b1, 1),
                    2..=3 => w.bits(0b11, 2),
                    4..=7 => w.bits(0b1111, 4),
                    _ => w.bits(0b000011, 6),
                }
            }
        }
    }
    if skip_run > 0 {
        w.ue(skip_run);
    }
    nal(3, if idr { 5 } else { 1 }, &w.trailing())
}

/// The first frame of a clip as a PNG, scaled up twice, for the poster.
pub fn poster_png(spec: &ClipSpec) -> Vec<u8> {
    let scene = Scene::new(spec);
    let pic = scene.draw(scene.ball_at(0, spec.seed));
    let (w, h) = (WIDTH * 2, HEIGHT * 2);
    let mut rgb_data = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let (sx, sy) = (x / 2, y / 2);
            let c = [
                pic.y[sy * WIDTH + sx],
                pic.cb[(sy / 2) * (WIDTH / 2) + sx / 2],
                pic.cr[(sy / 2) * (WIDTH / 2) + sx / 2],
            ];
            rgb_data.extend_from_slice(&rgb(c));
        }
    }
    png::encode(w as u32, h as u32, &rgb_data)
}

/// The H.264 access units of a clip (length-prefixed NAL units) and its SPS and PPS.
pub struct Elementary {
    /// Sequence parameter set.
    pub sps: Vec<u8>,
    /// Picture parameter set.
    pub pps: Vec<u8>,
    /// One sample per frame: 4-byte big-endian length, then the NAL unit.
    pub samples: Vec<Vec<u8>>,
}

/// Encodes the clip's frames.
pub fn encode(spec: &ClipSpec) -> Elementary {
    let scene = Scene::new(spec);
    let fps = spec.fps.max(1);
    let n = ((spec.seconds * f64::from(fps)).round() as u64).max(1);
    let hop_every = u64::from(fps / 2).max(1);
    let mut samples = Vec::with_capacity(n as usize);
    let textured = scene.textured();
    let mut prev_ball = scene.ball_at(0, spec.seed);
    for f in 0..n {
        let ball = scene.ball_at(f / hop_every, spec.seed);
        let pic = scene.draw(ball);
        let mut kinds = vec![Mb::Skip; MBW * MBH];
        let at = |(x, y): (usize, usize)| y * MBW + x;
        if f == 0 {
            for (i, k) in kinds.iter_mut().enumerate() {
                let row = i / MBW;
                *k = if i == 0 || row == 2 || textured[i] {
                    Mb::Pcm
                } else {
                    Mb::FlatDc
                };
            }
            kinds[at(ball)] = Mb::Pcm;
        } else if ball != prev_ball {
            kinds[at(prev_ball)] = if textured[at(prev_ball)] {
                Mb::Pcm
            } else {
                Mb::FlatDc
            };
            kinds[at(ball)] = Mb::Pcm;
        }
        let nal = frame(&pic, &kinds, f);
        let mut s = (nal.len() as u32).to_be_bytes().to_vec();
        s.extend_from_slice(&nal);
        samples.push(s);
        prev_ball = ball;
    }
    Elementary {
        sps: sps(),
        pps: pps(),
        samples,
    }
}

/// A complete MP4 file (`ftyp`, `moov` before `mdat`, so playback can start at once).
pub fn clip_mp4(spec: &ClipSpec) -> Vec<u8> {
    let es = encode(spec);
    let Some(seed) = spec.music else {
        return mux_mp4(&es, spec.fps.max(1), WIDTH as u16, HEIGHT as u16);
    };
    clip_mp4_with_music(spec, &es, &crate::music::encoded_loop(seed))
}

/// A clip whose audio track repeats an encoded music loop (`music::encoded_loop`, made once
/// per sound when many clips share it) for the clip's length.
pub fn clip_mp4_with_music(
    spec: &ClipSpec,
    es: &Elementary,
    stream: &crate::flac::FlacStream,
) -> Vec<u8> {
    let fps = spec.fps.max(1);
    let samples = (spec.seconds.max(0.0) * f64::from(crate::music::RATE)).ceil() as usize;
    let audio = crate::mux::LoopedAudio {
        stream,
        frames: samples.div_ceil(crate::flac::BLOCK).max(1),
    };
    crate::mux::mux_mp4_with_audio(es, fps, WIDTH as u16, HEIGHT as u16, Some(&audio))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_of_video_stays_small() {
        let mp4 = clip_mp4(&ClipSpec {
            seconds: 60.0,
            ..ClipSpec::default()
        });
        assert!(mp4.len() < 200_000, "{} bytes", mp4.len());
    }

    #[test]
    fn nal_units_never_contain_start_codes() {
        let es = encode(&ClipSpec {
            seconds: 2.0,
            ..ClipSpec::default()
        });
        for s in es.samples.iter().chain([&es.sps, &es.pps]) {
            let body = if s.len() > 4 && s[..2] == [0, 0] {
                &s[4..]
            } else {
                &s[..]
            };
            assert!(!body.windows(3).any(|w| w[0] == 0 && w[1] == 0 && w[2] <= 2));
        }
    }

    #[test]
    fn exp_golomb_codes() {
        let mut w = BitWriter::new();
        for v in [0, 1, 2, 3, 7] {
            w.ue(v);
        }
        // 1 010 011 00100 0001000 + stop bit
        assert_eq!(w.trailing(), vec![0b1010_0110, 0b0100_0001, 0b0001_0000]);
    }
}
