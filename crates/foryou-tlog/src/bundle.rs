//! Entry bundles: the entries of one level-0 tile, each as a big-endian uint16 length followed
//! by that many bytes (C2SP tlog-tiles).

/// A bundle that does not parse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BundleError {
    /// An entry is longer than 65,535 bytes.
    #[error("entry of {0} bytes; entries are at most 65535 bytes")]
    TooLong(usize),
    /// The bytes end inside a length or an entry.
    #[error("the bundle is cut off inside entry {0}")]
    Truncated(usize),
    /// More than 256 entries.
    #[error("more than 256 entries in one bundle")]
    TooMany,
}

/// Encodes entries as a bundle.
pub fn encode<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, BundleError> {
    let mut out = Vec::new();
    for e in entries {
        let e = e.as_ref();
        let n = u16::try_from(e.len()).map_err(|_| BundleError::TooLong(e.len()))?;
        out.extend_from_slice(&n.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Splits a bundle into its entries; every byte must belong to an entry.
pub fn parse(bytes: &[u8]) -> Result<Vec<&[u8]>, BundleError> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if out.len() == 256 {
            return Err(BundleError::TooMany);
        }
        let [a, b, tail @ ..] = rest else {
            return Err(BundleError::Truncated(out.len()));
        };
        let n = usize::from(u16::from_be_bytes([*a, *b]));
        if tail.len() < n {
            return Err(BundleError::Truncated(out.len()));
        }
        out.push(&tail[..n]);
        rest = &tail[n..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles_round_trip_and_refuse_cut_bytes() {
        let entries: Vec<Vec<u8>> = vec![b"".to_vec(), b"a".to_vec(), vec![7; 300]];
        let b = encode(&entries).expect("encode");
        assert_eq!(&b[..3], &[0, 0, 0]);
        let back = parse(&b).expect("parse");
        assert_eq!(
            back,
            entries.iter().map(|e| e.as_slice()).collect::<Vec<_>>()
        );
        assert_eq!(parse(&b[..b.len() - 1]), Err(BundleError::Truncated(2)));
        assert_eq!(parse(&[0]), Err(BundleError::Truncated(0)));
        assert!(encode(&[vec![0u8; 70_000]]).is_err());
        let many = encode(&vec![b"x".to_vec(); 257]).expect("encode");
        assert_eq!(parse(&many), Err(BundleError::TooMany));
    }
}
