//! [`ChainView`]: what the machine reads from the local chain.

use talos_chain::{ChainStatus, Hash256, NetworkSpec, ParentContext};

/// Read access to the local chain, implemented by the node over an in-memory index of its
/// chain (and by tests over an in-memory chain). Calls must be cheap and must not block: the
/// machine makes a few per event, on the task that drives the network.
pub trait ChainView {
    /// The local best tip as a status (network id, genesis, tip id, height, cumulative work).
    fn tip(&self) -> ChainStatus;
    /// Whether the block with this id, at this height, is stored on any chain. The height is
    /// the one the block's header names (every caller has the header or its child's).
    fn has_block(&self, id: &Hash256, height: u64) -> bool;
    /// What a header building on the stored block `id` of height `height` is checked against
    /// (its header, cumulative work and its parent's time). `None` when the block is unknown
    /// (or not of that height), or too deep below the tip for the chain to follow a fork from
    /// it. The height is known to every caller, and lets a light client's store, which keeps
    /// headers by height, answer without an index by id.
    fn context(&self, id: &Hash256, height: u64) -> Option<ParentContext>;
    /// The network's rules (retarget, future drift).
    fn spec(&self) -> &NetworkSpec;
    /// The validator's clock in milliseconds since the Unix epoch: the one block validation
    /// uses for the future-drift rule.
    fn now_ms(&self) -> u64;
}

impl<T: ChainView + ?Sized> ChainView for &T {
    fn tip(&self) -> ChainStatus {
        (**self).tip()
    }

    fn has_block(&self, id: &Hash256, height: u64) -> bool {
        (**self).has_block(id, height)
    }

    fn context(&self, id: &Hash256, height: u64) -> Option<ParentContext> {
        (**self).context(id, height)
    }

    fn spec(&self) -> &NetworkSpec {
        (**self).spec()
    }

    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }
}
