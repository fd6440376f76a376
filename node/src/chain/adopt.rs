//! Adoption of a validated block: decide what it does to the best chain, commit that to the
//! store, then (only after the commit returned) update fork choice, the mempool, metrics,
//! subscribers and the network task.
//!
//! The outcome is predicted from the tree *before* the commit with the tree's own rule (more
//! cumulative work than the tip wins; on a tie the first seen stays), so the tree is changed
//! only after the store accepted the change. Should the tree's actual outcome differ, it is
//! reloaded from the store, which stays the source of truth.

use talos_chain::{Block, BlockHeader, Hash256, InsertOutcome, Reorg, Work};
use talos_storage::{ChainTip, ChainUpdate, MAX_UPDATE_BLOCKS, NewBlock, StorageError};
use tracing::{info, warn};

use crate::handle::{Hash256Hex, NodeEvent};
use crate::pipeline::{BlockSource, ChainNotice};

use super::error::ChainServiceError;
use super::lookup::StoreLookup;
use super::service::{Service, source_label};

/// Most disconnected blocks whose items go back to the mempool after a reorg (the newest
/// ones; items of deeper blocks are left to their authors to resubmit).
const MAX_RETURNED_BLOCKS: usize = 64;

/// What adopting a block did.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Adopted {
    /// Whether the best tip changed.
    pub(crate) tip_changed: bool,
}

/// What a block will do to the best chain.
#[derive(Debug)]
enum Plan {
    Side,
    Extend,
    Reorg(Reorg),
}

impl Service {
    /// Adopts a header whose parent is in the tree. `new` is the block when it is not stored
    /// yet (`None`: a stored block being attached to the tree). `source` is set for new
    /// blocks: a mined one is announced when it becomes the tip.
    pub(crate) fn adopt(
        &mut self,
        header: BlockHeader,
        work: Work,
        new: Option<Block>,
        source: Option<BlockSource>,
    ) -> Result<Adopted, ChainServiceError> {
        let id = header.id();
        let plan = self.plan(&header, id, work)?;
        let new_tip = ChainTip {
            id,
            height: header.height,
            cumulative_work: work,
        };
        let stored: Vec<NewBlock> = new
            .iter()
            .map(|block| NewBlock {
                block: block.clone(),
                cumulative_work: work,
            })
            .collect();
        match &plan {
            Plan::Side if stored.is_empty() => {}
            Plan::Side => self.commit(ChainUpdate::side_blocks(stored, self.tip))?,
            Plan::Extend => self.commit(ChainUpdate {
                store: stored,
                disconnect: Vec::new(),
                connect: vec![id],
                new_tip,
            })?,
            Plan::Reorg(reorg) => self.commit_reorg(stored, reorg, new_tip)?,
        }
        let consistent = matches!(
            (self.tree.insert(header), &plan),
            (Ok(InsertOutcome::SideBranch), Plan::Side)
                | (Ok(InsertOutcome::ExtendedBest), Plan::Extend)
                | (Ok(InsertOutcome::Reorged(_)), Plan::Reorg(_))
        );
        if !consistent {
            warn!(hash = %id, "fork choice disagreed with the committed change; reloading it");
            self.reload_tree();
        }
        if new.is_some() {
            self.emit(NodeEvent::BlockImported {
                id: Hash256Hex(id),
                height: header.height,
                source: source.as_ref().map_or("stored", source_label),
            });
        }
        if matches!(plan, Plan::Side) {
            return Ok(Adopted { tip_changed: false });
        }

        self.branch = None;
        let reorg_depth = match &plan {
            Plan::Reorg(reorg) => {
                self.update_mempool_after_reorg(reorg, id, new.as_ref());
                reorg.disconnect.len() as u64
            }
            _ => {
                match &new {
                    Some(block) => {
                        self.mempool.remove_included(block);
                    }
                    None => self.remove_included_stored(&id),
                }
                0
            }
        };
        self.set_height_gauge();
        self.set_mempool_gauges();
        if reorg_depth > 0 {
            self.metrics.reorgs.inc();
            info!(hash = %id, height = header.height, reorg_depth, "reorganised to a new tip");
        }
        self.emit(NodeEvent::NewTip {
            id: Hash256Hex(id),
            height: header.height,
            reorg_depth,
        });
        // Only blocks mined here are announced. A gossip block is forwarded by gossipsub
        // itself once validated (publishing it again is a duplicate, which gossipsub logs as
        // a warning), and a synced block came from a peer that has it: publishing synced
        // blocks would push a whole initial sync back into the gossip mesh.
        let announce = match source {
            Some(BlockSource::Mined) => new,
            _ => None,
        };
        self.notify(ChainNotice::NewTip {
            tip: self.tip,
            reorg_depth,
            announce,
        });
        self.restart_mining();
        Ok(Adopted { tip_changed: true })
    }

    fn plan(
        &self,
        header: &BlockHeader,
        id: Hash256,
        work: Work,
    ) -> Result<Plan, ChainServiceError> {
        let best = self.tree.best();
        if work <= best.cumulative_work {
            return Ok(Plan::Side);
        }
        if header.prev_hash == best.id {
            return Ok(Plan::Extend);
        }
        let mut reorg = self
            .tree
            .reorg_path(&best.id, &header.prev_hash)
            .map_err(|e| ChainServiceError::Inconsistent(e.to_string()))?;
        reorg.connect.push(id);
        Ok(Plan::Reorg(reorg))
    }

    fn commit(&mut self, update: ChainUpdate) -> Result<(), StorageError> {
        let summary = self.store.commit(update)?;
        self.tip = summary.tip;
        Ok(())
    }

    /// Commits a reorg: one atomic update when it fits [`MAX_UPDATE_BLOCKS`], otherwise the
    /// new blocks as side blocks, then the disconnects and connects in chunks (each chunk is
    /// atomic and leaves a consistent chain; a crash in between leaves the store on a chain
    /// with less work, which the next block on the heavier branch switches back from).
    fn commit_reorg(
        &mut self,
        stored: Vec<NewBlock>,
        reorg: &Reorg,
        new_tip: ChainTip,
    ) -> Result<(), ChainServiceError> {
        let total = stored.len() + reorg.disconnect.len() + reorg.connect.len();
        if total <= MAX_UPDATE_BLOCKS {
            self.commit(ChainUpdate {
                store: stored,
                disconnect: reorg.disconnect.clone(),
                connect: reorg.connect.clone(),
                new_tip,
            })?;
            return Ok(());
        }
        if !stored.is_empty() {
            self.commit(ChainUpdate::side_blocks(stored, self.tip))?;
        }
        for chunk in reorg.disconnect.chunks(MAX_UPDATE_BLOCKS) {
            let last = chunk.last().copied().unwrap_or(self.tip.id);
            let below = self
                .tree
                .header(&last)
                .map(|h| h.prev_hash)
                .and_then(|parent| self.tree.tip(&parent))
                .ok_or_else(|| ChainServiceError::Inconsistent(format!("no parent of {last}")))?;
            self.commit(ChainUpdate {
                store: Vec::new(),
                disconnect: chunk.to_vec(),
                connect: Vec::new(),
                new_tip: as_chain_tip(below),
            })?;
        }
        for chunk in reorg.connect.chunks(MAX_UPDATE_BLOCKS) {
            let last = chunk.last().copied().unwrap_or(new_tip.id);
            let tip = if last == new_tip.id {
                new_tip
            } else {
                self.tree
                    .tip(&last)
                    .map(as_chain_tip)
                    .ok_or_else(|| ChainServiceError::Inconsistent(format!("unknown {last}")))?
            };
            self.commit(ChainUpdate {
                store: Vec::new(),
                disconnect: Vec::new(),
                connect: chunk.to_vec(),
                new_tip: tip,
            })?;
        }
        Ok(())
    }

    /// After a reorg: drop pool items the connected blocks include, then put back the items
    /// of the disconnected blocks the new chain does not have.
    fn update_mempool_after_reorg(&mut self, reorg: &Reorg, new_id: Hash256, new: Option<&Block>) {
        for id in &reorg.connect {
            match new.filter(|_| *id == new_id) {
                Some(block) => {
                    self.mempool.remove_included(block);
                }
                None => self.remove_included_stored(id),
            }
        }
        let mut disconnected = Vec::new();
        for id in reorg.disconnect.iter().take(MAX_RETURNED_BLOCKS) {
            match self.store.block(id) {
                Ok(Some(block)) => disconnected.push(block),
                Ok(None) => warn!(hash = %id, "disconnected block not stored"),
                Err(e) => warn!(hash = %id, error = %e, "disconnected block unreadable"),
            }
        }
        let lookup = StoreLookup::best(&*self.store);
        let returned = self.mempool.return_disconnected(&disconnected, &lookup);
        if let Some(e) = lookup.take_error() {
            warn!(error = %e, "store read failed while returning items to the mempool");
        }
        if !returned.readded.is_empty() {
            self.mempool_changed = true;
        }
    }

    /// [`talos_chain::Mempool::remove_included`] for a stored block.
    fn remove_included_stored(&mut self, id: &Hash256) {
        match self.store.block(id) {
            Ok(Some(block)) => {
                self.mempool.remove_included(&block);
            }
            Ok(None) => warn!(hash = %id, "connected block not stored"),
            Err(e) => warn!(hash = %id, error = %e, "connected block unreadable"),
        }
    }
}

fn as_chain_tip(tip: talos_chain::Tip) -> ChainTip {
    ChainTip {
        id: tip.id,
        height: tip.height,
        cumulative_work: tip.cumulative_work,
    }
}
