//! The conformance suite every [`ObjectStore`] backend passes (feature `suite`): objects put,
//! sized, read by range (past the end included), replaced, moved in from files (one larger
//! than 16 MiB, which remote stores send in parts), listed, deleted; bad keys refused.

use crate::{ObjectStore, StoreError};
use std::path::Path;

/// Runs the suite on an empty store; `scratch` is a directory for the files it moves in.
pub fn run(s: &dyn ObjectStore, scratch: &Path) {
    std::fs::create_dir_all(scratch).expect("scratch dir");
    assert!(
        s.keys().expect("keys").is_empty(),
        "the suite needs an empty store"
    );
    s.put("videos/1.mp4", b"hello world").expect("put");
    assert_eq!(s.size("videos/1.mp4").expect("size"), Some(11));
    assert_eq!(
        s.read_range("videos/1.mp4", 6, 100).expect("read"),
        b"world"
    );
    assert_eq!(s.read_range("videos/1.mp4", 0, 5).expect("read"), b"hello");
    assert_eq!(s.read_range("videos/1.mp4", 3, 1).expect("read"), b"l");
    assert!(s
        .read_range("videos/1.mp4", 11, 10)
        .expect("read at the end")
        .is_empty());
    assert!(s
        .read_range("videos/1.mp4", 50, 10)
        .expect("read past the end")
        .is_empty());
    assert!(s
        .read_range("videos/1.mp4", 2, 0)
        .expect("read nothing")
        .is_empty());
    // Replaced whole.
    s.put("videos/1.mp4", b"bye").expect("put again");
    assert_eq!(s.size("videos/1.mp4").expect("size"), Some(3));
    assert_eq!(s.read_range("videos/1.mp4", 0, 100).expect("read"), b"bye");
    // Absent objects.
    assert_eq!(s.size("videos/none.mp4").expect("size"), None);
    assert!(s.read_range("videos/none.mp4", 0, 1).is_err());
    s.delete("videos/none.mp4")
        .expect("deleting an absent object is fine");
    // Files moved in: a small one and one large enough to go in parts.
    let small = scratch.join("small.bin");
    std::fs::write(&small, b"a small file").expect("write");
    s.put_file("posters/2.png", &small).expect("put file");
    assert!(!small.exists(), "the file was moved in");
    assert_eq!(s.read_range("posters/2.png", 2, 5).expect("read"), b"small");
    let big = scratch.join("big.bin");
    let pattern: Vec<u8> = (0..(20u32 << 20)).map(|i| (i % 251) as u8).collect();
    std::fs::write(&big, &pattern).expect("write");
    s.put_file("videos/big.mp4", &big).expect("put big file");
    assert_eq!(s.size("videos/big.mp4").expect("size"), Some(20 << 20));
    let at = (9 << 20) - 3;
    assert_eq!(
        s.read_range("videos/big.mp4", at, 4096)
            .expect("read across a part boundary"),
        pattern[at as usize..at as usize + 4096]
    );
    let tail = s
        .read_range("videos/big.mp4", (20 << 20) - 10, 100)
        .expect("read the tail");
    assert_eq!(tail, pattern[(20 << 20) - 10..]);
    // Listed in order, nested keys included.
    assert_eq!(
        s.keys().expect("keys"),
        ["posters/2.png", "videos/1.mp4", "videos/big.mp4"]
    );
    // Bad keys never reach the backend.
    for bad in ["../x", "A.mp4", "videos/../x", "a//b", "x.tmp", ""] {
        assert!(
            matches!(s.put(bad, b"x"), Err(StoreError::BadKey { .. })),
            "{bad:?} was accepted"
        );
    }
    for k in ["videos/1.mp4", "posters/2.png", "videos/big.mp4"] {
        s.delete(k).expect("delete");
        assert_eq!(s.size(k).expect("size"), None);
    }
    assert!(s.keys().expect("keys").is_empty());
}
