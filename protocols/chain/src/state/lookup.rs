//! Reading the tree: a key's value and its proof, from one walk down the key's path.

use crate::hash::Hash256;

use super::node::{EMPTY_ROOT, Node, bit, shares_prefix};
use super::proof::{MAX_PROOF_DEPTH, StateProof, Terminal};
use super::source::{NodeSource, SmtError, load};

/// The value under `key` in the tree with `root`.
pub fn get<S: NodeSource>(
    source: &S,
    root: Hash256,
    key: &Hash256,
) -> Result<Option<Hash256>, SmtError<S::Error>> {
    Ok(match walk(source, root, key, |_| ())? {
        Terminal::Leaf { key: found, value } if found == *key => Some(value),
        Terminal::Leaf { .. } | Terminal::Empty => None,
    })
}

/// A membership or non-membership proof for `key` in the tree with `root`.
pub fn prove<S: NodeSource>(
    source: &S,
    root: Hash256,
    key: &Hash256,
) -> Result<StateProof, SmtError<S::Error>> {
    let mut siblings = Vec::new();
    let terminal = walk(source, root, key, |sibling| siblings.push(sibling))?;
    Ok(StateProof { siblings, terminal })
}

/// Follows `key`'s path from `root`, handing each sibling to `on_sibling` from the top down,
/// to the empty subtree or the leaf where it ends.
fn walk<S: NodeSource>(
    source: &S,
    root: Hash256,
    key: &Hash256,
    mut on_sibling: impl FnMut(Hash256),
) -> Result<Terminal, SmtError<S::Error>> {
    let mut hash = root;
    let mut depth = 0;
    loop {
        if hash == EMPTY_ROOT {
            return Ok(Terminal::Empty);
        }
        match load(source, &hash)? {
            Node::Leaf { key: found, value } => {
                if !shares_prefix(&found, key, depth) {
                    return Err(SmtError::Corrupt(hash));
                }
                return Ok(Terminal::Leaf { key: found, value });
            }
            Node::Internal { left, right } => {
                if depth >= MAX_PROOF_DEPTH {
                    return Err(SmtError::Corrupt(hash));
                }
                let (next, sibling) = if bit(key, depth) {
                    (right, left)
                } else {
                    (left, right)
                };
                on_sibling(sibling);
                hash = next;
                depth += 1;
            }
        }
    }
}
