//! What a synthesised clip shows: a background, a band in the sound's colour, a headline and a
//! caption in an 8×8 bitmap font, and a ball whose motion the headline picks. The encoder in
//! `synth.rs` codes the pictures drawn here.

use crate::synth::{ClipSpec, HEIGHT, MBH, MBW, WIDTH};

/// A YCbCr 4:2:0 picture.
#[derive(Clone)]
pub(crate) struct Picture {
    pub(crate) y: Vec<u8>,
    pub(crate) cb: Vec<u8>,
    pub(crate) cr: Vec<u8>,
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

pub(crate) fn rgb([y, cb, cr]: [u8; 3]) -> [u8; 3] {
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

pub(crate) struct Scene {
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
    pub(crate) fn new(spec: &ClipSpec) -> Scene {
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
    pub(crate) fn textured(&self) -> Vec<bool> {
        let mut t = vec![false; MBW * MBH];
        for &(x, y) in &self.text {
            t[(y / 16) * MBW + x / 16] = true;
        }
        t
    }

    /// The ball's macroblock at step `i`. With text on the picture the ball keeps to the
    /// four macroblock rows under it, so text blocks are coded once.
    pub(crate) fn ball_at(&self, i: u64, seed: u64) -> (usize, usize) {
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
    pub(crate) fn draw(&self, ball: (usize, usize)) -> Picture {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::poster_png;

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
}
