//! Bounds-checked big-endian readers shared by the container parsers.

pub(crate) fn be(data: &[u8], at: usize, n: usize) -> Option<u64> {
    let s = data.get(at..at.checked_add(n)?)?;
    Some(s.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}
