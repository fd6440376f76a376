//! An in-memory node store.

use std::collections::HashMap;
use std::convert::Infallible;

use crate::hash::Hash256;

use super::node::Node;
use super::source::NodeSource;
use super::update::StateDelta;

/// In-memory node store (tests, light tools), keyed by node hash.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryNodes {
    nodes: HashMap<Hash256, Node>,
}

impl MemoryNodes {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `node`, returning its hash.
    pub fn insert(&mut self, node: Node) -> Hash256 {
        let hash = node.hash();
        self.nodes.insert(hash, node);
        hash
    }

    /// Stores every node of `delta`. Nodes already held are kept: old roots stay readable.
    pub fn extend(&mut self, delta: &StateDelta) {
        self.nodes.reserve(delta.nodes.len());
        for node in &delta.nodes {
            self.insert(*node);
        }
    }

    /// Number of nodes held.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no node is held.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

impl NodeSource for MemoryNodes {
    type Error = Infallible;

    fn node(&self, hash: &Hash256) -> Result<Option<Node>, Infallible> {
        Ok(self.nodes.get(hash).copied())
    }
}
