//! [`ChainView`]: what the machine reads from the local chain.

use talos_chain::{ChainStatus, Hash256};

/// Read access to the local chain, implemented by the node over its store (and by tests over
/// an in-memory chain). Calls must be cheap: the machine makes a few per event.
pub trait ChainView {
    /// The local best tip as a status (network id, genesis, tip id, height, cumulative work).
    fn tip(&self) -> ChainStatus;
    /// Whether a block with this id is stored, on any chain.
    fn contains_block(&self, id: &Hash256) -> bool;
    /// The id of the best chain's block at `height`, if the best chain is that long.
    fn best_id_at(&self, height: u64) -> Option<Hash256>;
}

impl<T: ChainView + ?Sized> ChainView for &T {
    fn tip(&self) -> ChainStatus {
        (**self).tip()
    }

    fn contains_block(&self, id: &Hash256) -> bool {
        (**self).contains_block(id)
    }

    fn best_id_at(&self, height: u64) -> Option<Hash256> {
        (**self).best_id_at(height)
    }
}
