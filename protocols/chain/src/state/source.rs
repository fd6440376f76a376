//! Where the tree reads its nodes from, and the errors of tree operations.

use crate::hash::Hash256;

use super::node::Node;

/// Where nodes are read from (sled in the node, memory in tests), by hash.
pub trait NodeSource {
    /// Why a read failed.
    type Error;

    /// The node with `hash`, `None` when the source does not hold it.
    fn node(&self, hash: &Hash256) -> Result<Option<Node>, Self::Error>;
}

impl<T: NodeSource + ?Sized> NodeSource for &T {
    type Error = T::Error;

    fn node(&self, hash: &Hash256) -> Result<Option<Node>, Self::Error> {
        (**self).node(hash)
    }
}

/// Errors of tree operations ([`get`](super::get), [`prove`](super::prove),
/// [`apply_updates`](super::apply_updates)).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SmtError<E> {
    /// The source failed.
    #[error("node source failed: {0}")]
    Source(E),
    /// A node the root reaches is not in the source.
    #[error("state node {0} is missing from the node source")]
    MissingNode(Hash256),
    /// A node that cannot be where the path put it: a leaf whose key is not under the path
    /// leading to it, or an internal node below the last key bit.
    #[error("state node {0} is corrupt or misplaced")]
    Corrupt(Hash256),
}

/// Reads the node with `hash`, a missing one being an error.
pub(super) fn load<S: NodeSource>(source: &S, hash: &Hash256) -> Result<Node, SmtError<S::Error>> {
    source
        .node(hash)
        .map_err(SmtError::Source)?
        .ok_or(SmtError::MissingNode(*hash))
}
