//! RFC 6962 / RFC 9162 Merkle tree hashing and proofs. The hashes and the proof arithmetic are
//! `tlog_tiles` (a port of Go's `sumdb/tlog`); this file adds the root of a list of leaves
//! (iterative, for auditors who recompute a whole tree) and proof checks that refuse every
//! malformed input with an error rather than a panic.

pub use tlog_tiles::{node_hash, record_hash as leaf_hash, Hash, HashReader, EMPTY_HASH};

/// A proof that does not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofError {
    /// The sizes or index make no proof possible (e.g. an index outside the tree, an old size
    /// larger than the new one, a consistency proof from the empty tree).
    #[error("no such proof: {0}")]
    Impossible(&'static str),
    /// A hash is not 32 bytes.
    #[error("a hash is not 32 bytes")]
    BadHash,
    /// The proof does not lead to the claimed root.
    #[error("the proof does not verify")]
    Mismatch,
}

/// A hash from bytes, refusing any other length than 32.
pub fn hash_from(bytes: &[u8]) -> Result<Hash, ProofError> {
    <[u8; 32]>::try_from(bytes)
        .map(Hash)
        .map_err(|_| ProofError::BadHash)
}

/// The root of the tree whose leaves hash to `leaves` (the empty tree's root for none). Works
/// bottom-up with a stack of perfect subtrees: no recursion, `O(log n)` extra memory.
pub fn root(leaves: &[Hash]) -> Hash {
    let mut stack = RootBuilder::default();
    for h in leaves {
        stack.push(*h);
    }
    stack.root()
}

/// Builds a root leaf by leaf: the right edge of perfect subtrees, largest first.
#[derive(Clone, Debug, Default)]
pub struct RootBuilder {
    /// (height, hash) of perfect subtrees, left to right, strictly decreasing heights.
    edge: Vec<(u32, Hash)>,
    size: u64,
}

impl RootBuilder {
    /// Adds the next leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut node = (0u32, leaf);
        while let Some(&(height, left)) = self.edge.last() {
            if height != node.0 {
                break;
            }
            self.edge.pop();
            node = (height + 1, node_hash(left, node.1));
        }
        self.edge.push(node);
        self.size += 1;
    }

    /// Leaves pushed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root of the leaves pushed so far.
    pub fn root(&self) -> Hash {
        let mut it = self.edge.iter().rev();
        let Some(&(_, mut h)) = it.next() else {
            return EMPTY_HASH;
        };
        for &(_, left) in it {
            h = node_hash(left, h);
        }
        h
    }
}

/// Checks that `proof` shows the leaf hash `leaf` at `index` in the tree of `size` with `root`.
pub fn verify_inclusion(
    proof: &[Hash],
    size: u64,
    root: Hash,
    index: u64,
    leaf: Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::Impossible("the index is outside the tree"));
    }
    if proof.len() > 64 {
        return Err(ProofError::Mismatch);
    }
    tlog_tiles::check_record(&proof.to_vec(), size, root, index, leaf)
        .map_err(|_| ProofError::Mismatch)
}

/// Checks that `proof` shows the tree of `old_size` with `old_root` is a prefix of the tree of
/// `new_size` with `new_root` (RFC 9162 §2.1.4). Equal sizes need an empty proof and equal roots;
/// a proof from the empty tree proves nothing and is refused.
pub fn verify_consistency(
    proof: &[Hash],
    old_size: u64,
    old_root: Hash,
    new_size: u64,
    new_root: Hash,
) -> Result<(), ProofError> {
    if old_size == 0 {
        return Err(ProofError::Impossible(
            "a proof from the empty tree proves nothing",
        ));
    }
    if old_size > new_size {
        return Err(ProofError::Impossible(
            "the old tree is larger than the new one",
        ));
    }
    if old_size == new_size {
        return if proof.is_empty() && old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::Mismatch)
        };
    }
    if proof.is_empty() || proof.len() > 64 {
        return Err(ProofError::Mismatch);
    }
    tlog_tiles::check_tree(&proof.to_vec(), new_size, new_root, old_size, old_root)
        .map_err(|_| ProofError::Mismatch)
}

/// An inclusion proof for `index` in the tree of `size`, from the stored hashes `r` holds.
pub fn prove_inclusion<R: HashReader>(
    r: &R,
    size: u64,
    index: u64,
) -> Result<Vec<Hash>, ProofError> {
    if index >= size {
        return Err(ProofError::Impossible("the index is outside the tree"));
    }
    tlog_tiles::prove_record(size, index, r).map_err(|_| ProofError::Mismatch)
}

/// A consistency proof from the tree of `old_size` to the tree of `new_size`.
pub fn prove_consistency<R: HashReader>(
    r: &R,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, ProofError> {
    if old_size == 0 || old_size > new_size {
        return Err(ProofError::Impossible("sizes out of order"));
    }
    if old_size == new_size {
        return Ok(Vec::new());
    }
    tlog_tiles::prove_tree(new_size, old_size, r).map_err(|_| ProofError::Mismatch)
}
