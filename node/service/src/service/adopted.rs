//! Adopting a validated block, and everything that follows once the store has it: the mempool,
//! metrics, subscribers, the network task and the miner.

use std::sync::Arc;

use talos_chain::{Block, BlockHeader, Hash256, Reorg, Work};
use tracing::{info, warn};

use super::Service;
use crate::chain::Adoption;
use crate::error::ChainServiceError;
use crate::lookup::StoreLookup;
use crate::messages::{BlockSource, ChainEvent, ChainNotice, ImportSource, PeerRef};

/// Most disconnected blocks whose items go back to the mempool after a reorg (the newest
/// ones; items of deeper blocks are left to their authors to resubmit).
const MAX_RETURNED_BLOCKS: usize = 64;

impl<P: PeerRef> Service<P> {
    /// Adopts a header whose parent is in the tree (see [`crate::chain::ChainState::adopt`])
    /// and reacts to the change. `new` is the block when it is not stored yet; `source` is
    /// set for new blocks (a mined one is announced when it becomes the tip). Returns whether
    /// the best tip changed.
    pub(super) fn adopt(
        &mut self,
        header: BlockHeader,
        work: Work,
        new: Option<&Arc<Block>>,
        source: Option<BlockSource<P>>,
    ) -> Result<bool, ChainServiceError> {
        let id = header.id();
        let adopted = self.chain.adopt(header, work, new)?;
        // Side adoptions change the side-block count, so the gauges are set every time.
        self.set_height_gauge();
        if adopted.reloaded {
            self.restart_mining();
        }
        if new.is_some() {
            self.out.emit(ChainEvent::BlockImported {
                id,
                height: header.height,
                source: source.map_or(ImportSource::Stored, |s| s.kind()),
            });
        }
        let adoption = adopted.adoption;
        if !adoption.tip_changed() {
            return Ok(false);
        }
        match &adoption {
            Adoption::Reorged(reorg) => self.update_mempool_after_reorg(reorg, id, new),
            Adoption::Extended | Adoption::Side => match new {
                Some(block) => {
                    self.mempool.remove_included(block);
                }
                None => self.remove_included_stored(&id),
            },
        }
        let reorg_depth = adoption.depth();
        self.set_mempool_gauges();
        if reorg_depth > 0 {
            self.out.metrics.reorgs.inc();
            info!(hash = %id, height = header.height, reorg_depth, "reorganised to a new tip");
        }
        self.out.emit(ChainEvent::NewTip {
            id,
            height: header.height,
            reorg_depth,
        });
        // Only blocks mined here are announced. A gossip block is forwarded by gossipsub
        // itself once validated (publishing it again is a duplicate, which gossipsub logs as
        // a warning), and a synced block came from a peer that has it: publishing synced
        // blocks would push a whole initial sync back into the gossip mesh.
        let announce = match source {
            Some(BlockSource::Mined) => new.cloned(),
            _ => None,
        };
        self.out.notify(ChainNotice::NewTip {
            tip: self.chain.tip(),
            reorg_depth,
            announce,
        });
        self.restart_mining();
        Ok(true)
    }

    /// After a reorg: drop pool items the connected blocks include, then put back the items
    /// of the disconnected blocks the new chain does not have.
    fn update_mempool_after_reorg(
        &mut self,
        reorg: &Reorg,
        new_id: Hash256,
        new: Option<&Arc<Block>>,
    ) {
        for id in &reorg.connect {
            match new.filter(|_| *id == new_id) {
                Some(block) => {
                    self.mempool.remove_included(block);
                }
                None => self.remove_included_stored(id),
            }
        }
        let store = self.chain.store();
        let mut disconnected = Vec::new();
        for id in reorg.disconnect.iter().take(MAX_RETURNED_BLOCKS) {
            match store.block(id) {
                Ok(Some(block)) => disconnected.push(block),
                Ok(None) => warn!(hash = %id, "disconnected block not stored"),
                Err(e) => warn!(hash = %id, error = %e, "disconnected block unreadable"),
            }
        }
        match self
            .mempool
            .return_disconnected(&disconnected, &StoreLookup::best(store))
        {
            Ok(returned) if !returned.readded.is_empty() => self.mining.pool_changed(),
            Ok(_) => {}
            Err(e) => warn!(error = %e, "store read failed while returning items to the mempool"),
        }
    }

    /// [`talos_chain::Mempool::remove_included`] for a stored block.
    fn remove_included_stored(&mut self, id: &Hash256) {
        match self.chain.store().block(id) {
            Ok(Some(block)) => {
                self.mempool.remove_included(&block);
            }
            Ok(None) => warn!(hash = %id, "connected block not stored"),
            Err(e) => warn!(hash = %id, error = %e, "connected block unreadable"),
        }
    }
}
