//! [`ChainView`]: what the machine reads from the local chain.

use talos_chain::{ChainStatus, Hash256};

/// Read access to the local chain, implemented by the node over an in-memory index of its
/// chain (and by tests over an in-memory chain). Calls must be cheap and must not block: the
/// machine makes a few per event, on the task that drives the network.
pub trait ChainView {
    /// The local best tip as a status (network id, genesis, tip id, height, cumulative work).
    fn tip(&self) -> ChainStatus;
    /// Whether the block with this id, at this height, is stored on any chain. The height is
    /// the one the block's header names (every caller has the header or its child's).
    fn has_block(&self, id: &Hash256, height: u64) -> bool;
}

impl<T: ChainView + ?Sized> ChainView for &T {
    fn tip(&self) -> ChainStatus {
        (**self).tip()
    }

    fn has_block(&self, id: &Hash256, height: u64) -> bool {
        (**self).has_block(id, height)
    }
}
