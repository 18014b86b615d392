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
const MBW: usize = WIDTH / 16;
const MBH: usize = HEIGHT / 16;

/// A YCbCr 4:2:0 picture.
#[derive(Clone)]
struct Picture {
    y: Vec<u8>,
    cb: Vec<u8>,
    cr: Vec<u8>,
}

fn hsv(h: f64, s: f64, v: f64) -> [u8; 3] {
    let c = v * s;
    let hp = (h.rem_euclid(360.0)) / 60.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    [
        ((r + m) * 255.0) as u8,
        ((g + m) * 255.0) as u8,
        ((b + m) * 255.0) as u8,
    ]
}

/// BT.601 limited range, clamped to 1..=254 so that raw samples never form start codes.
fn ycbcr([r, g, b]: [u8; 3]) -> [u8; 3] {
    let (r, g, b) = (f64::from(r), f64::from(g), f64::from(b));
    let y = 16.0 + 0.257 * r + 0.504 * g + 0.098 * b;
    let cb = 128.0 - 0.148 * r - 0.291 * g + 0.439 * b;
    let cr = 128.0 + 0.439 * r - 0.368 * g - 0.071 * b;
    let c = |v: f64| v.round().clamp(1.0, 254.0) as u8;
    [c(y), c(cb), c(cr)]
}

fn rgb([y, cb, cr]: [u8; 3]) -> [u8; 3] {
    let (y, cb, cr) = (
        f64::from(y) - 16.0,
        f64::from(cb) - 128.0,
        f64::from(cr) - 128.0,
    );
    let c = |v: f64| v.round().clamp(0.0, 255.0) as u8;
    [
        c(1.164 * y + 1.596 * cr),
        c(1.164 * y - 0.392 * cb - 0.813 * cr),
        c(1.164 * y + 2.017 * cb),
    ]
}

struct Scene {
    bg: [u8; 3],
    band: Vec<[u8; 3]>,
    ball: [u8; 3],
    /// Text pixels, drawn over the background and under the ball.
    text: Vec<(usize, usize)>,
    motion: Motion,
}

/// How the shape moves: one of five patterns, chosen by the headline (so every clip of a topic
/// moves alike), or the diagonal bounce for clips without one.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Motion {
    Bounce,
    Sweep,
    Drop,
    Orbit,
    Scatter,
}

/// An 8×8 glyph (ASCII; anything else is drawn as `?`), rows top first, bit 0 leftmost.
fn glyph(c: char) -> [u8; 8] {
    let i = if c.is_ascii() && !c.is_ascii_control() {
        c as usize
    } else {
        b'?' as usize
    };
    font8x8::legacy::BASIC_LEGACY[i]
}

/// `text` in lines of at most `width` characters, broken between words where it can be.
fn wrap(text: &str, width: usize) -> Vec<Vec<char>> {
    let mut lines: Vec<Vec<char>> = Vec::new();
    let mut line: Vec<char> = Vec::new();
    for word in text.split_whitespace() {
        let w: Vec<char> = word.chars().collect();
        if !line.is_empty() && line.len() + 1 + w.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        for c in w {
            if line.len() == width {
                lines.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Pixels of `text` laid out from macroblock row `mb_row`: `scale` 2 puts one character in
/// each macroblock (nine to a line), 1 puts two characters and two lines in each (eighteen to a
/// line). Glyphs show their first seven rows and columns, so the last two pixel rows and
/// columns of every macroblock stay background (the flat blocks around predict from them).
fn layout(text: &str, mb_row: usize, lines: usize, scale: usize) -> Vec<(usize, usize)> {
    let per_line = if scale == 2 { MBW } else { 2 * MBW };
    let pitch = if scale == 2 { 16 } else { 7 };
    let line_pitch = if scale == 2 { 16 } else { 7 };
    let mut out = Vec::new();
    for (n, line) in wrap(text, per_line).iter().take(lines).enumerate() {
        // In small text, two lines share a macroblock row.
        let top = mb_row * 16
            + if scale == 2 {
                n * line_pitch
            } else {
                (n / 2) * 16 + (n % 2) * line_pitch
            };
        for (k, &c) in line.iter().enumerate() {
            let left = if scale == 2 {
                k * pitch
            } else {
                (k / 2) * 16 + (k % 2) * pitch
            };
            let g = glyph(c);
            for (gy, row) in g.iter().enumerate().take(7) {
                for gx in 0..7 {
                    if row & (1 << gx) != 0 {
                        for sy in 0..scale {
                            for sx in 0..scale {
                                out.push((left + gx * scale + sx, top + gy * scale + sy));
                            }
                        }
                    }
                }
            }
        }
    }
    out.retain(|&(x, y)| x < WIDTH && y < HEIGHT && x % 16 < 14 && y % 16 < 14);
    out
}

impl Scene {
    fn new(spec: &ClipSpec) -> Scene {
        let bg = ycbcr(hsv(spec.hue, 0.55, 0.55));
        let band = (0..WIDTH)
            .map(|x| ycbcr(hsv(spec.band_hue + x as f64 * 0.6, 0.8, 0.95)))
            .collect();
        let ball = ycbcr(hsv(spec.hue + 180.0, 0.3, 1.0));
        // The headline on macroblock rows 5–6, the caption on rows 8–11.
        let mut text = layout(&spec.headline, 5, 2, 2);
        text.extend(layout(&spec.caption, 8, 8, 1));
        let motion = if spec.headline.is_empty() {
            Motion::Bounce
        } else {
            let h = spec
                .headline
                .bytes()
                .fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(b)));
            [
                Motion::Bounce,
                Motion::Sweep,
                Motion::Drop,
                Motion::Orbit,
                Motion::Scatter,
            ][(h % 5) as usize]
        };
        Scene {
            bg,
            band,
            ball,
            text,
            motion,
        }
    }

    /// Whether a macroblock holds anything but background when the ball is elsewhere.
    fn textured(&self) -> Vec<bool> {
        let mut t = vec![false; MBW * MBH];
        for &(x, y) in &self.text {
            t[(y / 16) * MBW + x / 16] = true;
        }
        t
    }

    /// The ball's macroblock at step `i`. With text on the picture the ball keeps to the
    /// four macroblock rows under it, so text blocks are coded once.
    fn ball_at(&self, i: u64, seed: u64) -> (usize, usize) {
        if self.text.is_empty() {
            return ball_at(i, seed);
        }
        const TOP: usize = MBH - 4;
        let (w, rows) = ((MBW - 1) as u64, 3u64);
        match self.motion {
            Motion::Bounce => (
                bounce(i + seed % 7, w) as usize,
                TOP + bounce(i + seed % 5, rows) as usize,
            ),
            Motion::Sweep => (bounce(i, w) as usize, TOP + 2),
            Motion::Drop => (2 + (seed % 5) as usize, TOP + bounce(i, rows) as usize),
            Motion::Orbit => {
                const RING: [(usize, usize); 8] = [
                    (4, 0),
                    (6, 1),
                    (7, 2),
                    (6, 3),
                    (4, 3),
                    (2, 3),
                    (1, 2),
                    (2, 1),
                ];
                let (x, y) = RING[((i + seed) % 8) as usize];
                (x, TOP + y)
            }
            Motion::Scatter => {
                let h = (i ^ seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
                ((h % MBW as u64) as usize, TOP + ((h / 16) % 4) as usize)
            }
        }
    }

    /// The picture with the ball in macroblock `ball`.
    fn draw(&self, ball: (usize, usize)) -> Picture {
        let mut p = Picture {
            y: vec![self.bg[0]; WIDTH * HEIGHT],
            cb: vec![self.bg[1]; WIDTH * HEIGHT / 4],
            cr: vec![self.bg[2]; WIDTH * HEIGHT / 4],
        };
        let mut put = |x: usize, y: usize, c: [u8; 3]| {
            p.y[y * WIDTH + x] = c[0];
            p.cb[(y / 2) * (WIDTH / 2) + x / 2] = c[1];
            p.cr[(y / 2) * (WIDTH / 2) + x / 2] = c[2];
        };
        // The band: macroblock row 2, pixel rows 32..46, background on its last two rows.
        for y in 32..46 {
            for (x, &c) in self.band.iter().enumerate() {
                put(x, y, c);
            }
        }
        let white = ycbcr([255, 255, 255]);
        for &(x, y) in &self.text {
            put(x, y, white);
        }
        // The ball: a disc inside one macroblock, its last two rows and columns background.
        let (bx, by) = (ball.0 * 16, ball.1 * 16);
        for dy in 0..14 {
            for dx in 0..14 {
                let (fx, fy) = (dx as f64 - 6.5, dy as f64 - 6.5);
                if fx * fx + fy * fy <= 42.0 {
                    put(bx + dx, by + dy, self.ball);
                }
            }
        }
        p
    }
}

/// `t` bouncing between 0 and `span`.
fn bounce(t: u64, span: u64) -> u64 {
    let p = t % (2 * span.max(1));
    if p <= span {
        p
    } else {
        2 * span - p
    }
}

/// The ball's macroblock at step `i`: it bounces inside rows 4.. of the frame.
fn ball_at(i: u64, seed: u64) -> (usize, usize) {
    let span_x = (MBW - 1) as u64;
    let span_y = (MBH - 5) as u64;
    let t_x = i + seed % 7;
    let t_y = i + seed % 11;
    (
        bounce(t_x, span_x) as usize,
        4 + bounce(t_y, span_y) as usize,
    )
}

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
    fn headlines_are_drawn_clear_of_block_edges_and_pick_the_motion() {
        let scene = |headline: &str| {
            Scene::new(&ClipSpec {
                headline: headline.into(),
                caption: "a caption long enough to wrap onto a second line".into(),
                ..ClipSpec::default()
            })
        };
        let pets = scene("#pets");
        assert!(pets.text.len() > 200, "{} text pixels", pets.text.len());
        // Flat blocks predict from their neighbours' last rows and columns: text never there.
        assert!(pets.text.iter().all(|&(x, y)| x % 16 < 14 && y % 16 < 14));
        let textured = pets.textured();
        let motions: std::collections::HashSet<String> =
            ["#pets", "#food", "#dance", "#cars", "#art", "#news"]
                .iter()
                .map(|h| format!("{:?}", scene(h).motion))
                .collect();
        assert!(motions.len() >= 3, "{motions:?}");
        for h in ["#pets", "#food", "#dance", "#cars", "#art"] {
            let s = scene(h);
            for i in 0..100 {
                let (x, y) = s.ball_at(i, 3);
                assert!(x < MBW && (MBH - 4..MBH).contains(&y), "{h}: ({x}, {y})");
                assert!(!textured[y * MBW + x], "{h}: the ball covers text");
            }
        }
        // The poster shows the text: it differs from the same clip without it.
        let with = poster_png(&ClipSpec {
            headline: "#pets".into(),
            ..ClipSpec::default()
        });
        assert_ne!(with, poster_png(&ClipSpec::default()));
        assert_eq!(
            wrap("one two three", 7),
            vec![
                "one two".chars().collect::<Vec<_>>(),
                "three".chars().collect()
            ]
        );
        assert_eq!(wrap("abcdefghij", 4).len(), 3);
    }

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
