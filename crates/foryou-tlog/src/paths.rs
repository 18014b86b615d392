//! Tile paths as C2SP tlog-tiles names them: `tile/<L>/<N>[.p/<W>]` for hash tiles and
//! `tile/entries/<N>[.p/<W>]` for entry bundles. `<N>` is written in zero-padded groups of three
//! digits, all but the last prefixed with `x` (1234067 is `x001/x234/067`); `.p/<W>` marks a
//! partial tile of width 1 to 255. Parsing accepts only the canonical spelling.

/// What a tile holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TileKind {
    /// Hashes at tree level `8 × level`.
    Hashes {
        /// The tile level, 0 to 63.
        level: u8,
    },
    /// Entries (level 0 only).
    Entries,
}

/// One tile's coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TilePath {
    /// Hashes or entries.
    pub kind: TileKind,
    /// The tile's index within its level.
    pub index: u64,
    /// How many hashes or entries it holds, 1 to 256 (256 is a full tile).
    pub width: u16,
}

/// A path that is not a canonical tile path.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("'{0}' is not a tile path (tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>])")]
pub struct BadPath(pub String);

impl TilePath {
    /// The path, e.g. `tile/0/x001/x234/067.p/5`.
    pub fn to_path(&self) -> String {
        let mut groups = Vec::new();
        let mut n = self.index;
        loop {
            groups.push(n % 1000);
            n /= 1000;
            if n == 0 {
                break;
            }
        }
        let mut out = String::from("tile/");
        match self.kind {
            TileKind::Hashes { level } => out.push_str(&level.to_string()),
            TileKind::Entries => out.push_str("entries"),
        }
        for (i, g) in groups.iter().rev().enumerate() {
            out.push('/');
            if i + 1 < groups.len() {
                out.push('x');
            }
            out.push_str(&format!("{g:03}"));
        }
        if self.width < 256 {
            out.push_str(&format!(".p/{}", self.width));
        }
        out
    }

    /// Parses a canonical tile path (with or without a leading `/`).
    pub fn parse(path: &str) -> Result<TilePath, BadPath> {
        let bad = || BadPath(path.chars().take(80).collect());
        let p = path.strip_prefix('/').unwrap_or(path);
        if p.len() > 80 {
            return Err(bad());
        }
        let rest = p.strip_prefix("tile/").ok_or_else(bad)?;
        let (kind, rest) = rest.split_once('/').ok_or_else(bad)?;
        let kind = if kind == "entries" {
            TileKind::Entries
        } else {
            if kind.is_empty()
                || kind.len() > 2
                || !kind.bytes().all(|b| b.is_ascii_digit())
                || (kind.len() > 1 && kind.starts_with('0'))
            {
                return Err(bad());
            }
            let level: u8 = kind.parse().map_err(|_| bad())?;
            if level > 63 {
                return Err(bad());
            }
            TileKind::Hashes { level }
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((i, w)) => {
                if w.is_empty()
                    || w.len() > 3
                    || !w.bytes().all(|b| b.is_ascii_digit())
                    || w.starts_with('0')
                {
                    return Err(bad());
                }
                let w: u16 = w.parse().map_err(|_| bad())?;
                if !(1..=255).contains(&w) {
                    return Err(bad());
                }
                (i, w)
            }
            None => (rest, 256),
        };
        let parts: Vec<&str> = index_part.split('/').collect();
        if parts.is_empty() || parts.len() > 7 {
            return Err(bad());
        }
        let mut index: u64 = 0;
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let digits = if last {
                *part
            } else {
                part.strip_prefix('x').ok_or_else(bad)?
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let g: u64 = digits.parse().map_err(|_| bad())?;
            if i == 0 && !last && g == 0 {
                // `x000/...` spells a number that has a shorter canonical path.
                return Err(bad());
            }
            index = index
                .checked_mul(1000)
                .and_then(|v| v.checked_add(g))
                .ok_or_else(bad)?;
        }
        Ok(TilePath { kind, index, width })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(kind: TileKind, index: u64, width: u16) -> TilePath {
        TilePath { kind, index, width }
    }

    #[test]
    fn paths_are_spelled_as_the_spec_shows() {
        let h0 = TileKind::Hashes { level: 0 };
        assert_eq!(p(h0, 1_234_067, 256).to_path(), "tile/0/x001/x234/067");
        assert_eq!(p(h0, 0, 256).to_path(), "tile/0/000");
        assert_eq!(p(h0, 5, 42).to_path(), "tile/0/005.p/42");
        assert_eq!(
            p(TileKind::Entries, 1000, 1).to_path(),
            "tile/entries/x001/000.p/1"
        );
        assert_eq!(
            p(TileKind::Hashes { level: 2 }, 7, 256).to_path(),
            "tile/2/007"
        );
    }

    #[test]
    fn parsing_accepts_only_canonical_paths() {
        for (s, want) in [
            (
                "tile/0/x001/x234/067",
                p(TileKind::Hashes { level: 0 }, 1_234_067, 256),
            ),
            ("/tile/entries/005.p/255", p(TileKind::Entries, 5, 255)),
            ("tile/63/999", p(TileKind::Hashes { level: 63 }, 999, 256)),
        ] {
            assert_eq!(TilePath::parse(s), Ok(want), "{s}");
            assert_eq!(want.to_path(), s.trim_start_matches('/'));
        }
        for s in [
            "tile/0/5",
            "tile/0/0005",
            "tile/0/x000/005",
            "tile/00/005",
            "tile/64/005",
            "tile/0/005.p/0",
            "tile/0/005.p/256",
            "tile/0/005.p/042",
            "tile/0/001/002",
            "tile/entries/x1/000",
            "tile/0/x999/x999/x999/x999/x999/x999/999",
            "tile/data/000",
            "checkpoint",
            "tile/0/",
        ] {
            assert!(TilePath::parse(s).is_err(), "{s}");
        }
    }

    proptest::proptest! {
        #[test]
        fn every_path_round_trips(index in 0u64..u64::MAX, width in 1u16..=256, level in 0u8..64, entries: bool) {
            let kind = if entries { TileKind::Entries } else { TileKind::Hashes { level } };
            let t = p(kind, index, width);
            proptest::prop_assert_eq!(TilePath::parse(&t.to_path()), Ok(t));
        }
    }
}
