//! What a node says about its chain when peers meet.

use crate::hash::Hash256;
use crate::pow::Work;

/// A node's view of its chain: which network, which genesis, which tip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainStatus {
    /// Network id from the spec.
    pub network_id: u32,
    /// Genesis block id.
    pub genesis_hash: Hash256,
    /// Best tip id.
    pub tip_hash: Hash256,
    /// Best tip height.
    pub tip_height: u64,
    /// Cumulative work of the best chain.
    pub cumulative_work: Work,
}

impl ChainStatus {
    /// Whether a peer with this status is on the same network as `other` (same network id and
    /// genesis); peers that are not are disconnected.
    pub fn same_network(&self, other: &Self) -> bool {
        self.network_id == other.network_id && self.genesis_hash == other.genesis_hash
    }
}
