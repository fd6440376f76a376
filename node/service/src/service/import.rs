//! The block import pipeline, cheapest check first: dedup, the cheap context-free checks
//! (header, proof of work, body commitment, sizes), parent lookup (orphans wait here, checked
//! no further), the side-branch work floor, the header against its parent (retarget, times),
//! only then the item signatures, then the chain's history, then adoption (see `adopted.rs`).

use std::collections::VecDeque;
use std::sync::Arc;

use talos_chain::{Blame, Block, BlockError, Hash256, PrecheckedBlock};
use tracing::{debug, info, warn};

use super::Service;
use crate::chain::Unvalidated;
use crate::messages::{BlockSource, ChainNotice, ImportOutcome, ImportSource, PeerRef, Rejection};

/// What preparing a block's parent found.
enum Parent {
    /// In fork choice: the block can be validated.
    Ready,
    /// Not stored: the block waits in the orphan pool.
    Missing,
    /// Stored but not usable now (too deep a branch, below the tree's root, a failed read).
    Unusable,
}

impl<P: PeerRef> Service<P> {
    /// Imports one block and then every orphan waiting for it (and for those, in turn).
    pub(super) fn import_block(&mut self, block: Block, source: BlockSource<P>) -> ImportOutcome {
        let id = block.id();
        if let Some(rejection) = self.rejected.get(&id).cloned() {
            return self.refuse(&source, rejection);
        }
        match self.chain.store().contains_block(&id) {
            Ok(true) => {
                self.chain.note_stored(id, block.header.height);
                return ImportOutcome::AlreadyKnown;
            }
            Ok(false) => {}
            Err(e) => {
                warn!(hash = %id, error = %e, "store read failed, block dropped");
                return ImportOutcome::Dropped;
            }
        }
        let parent = block.header.prev_hash;
        if self.orphans.contains(&id, &parent) {
            return ImportOutcome::AlreadyKnown;
        }
        if self.rejected.contains(&parent) {
            // A child of an invalid block is invalid, whatever it holds.
            self.rejected.insert(id, Rejection::InvalidAncestor);
            return self.refuse(&source, Rejection::InvalidAncestor);
        }
        let prechecked = match block.precheck(&self.config.spec) {
            Ok(prechecked) => prechecked,
            Err(e) => return self.reject(id, e, &source),
        };
        let outcome = self.import_prechecked(prechecked, source);
        if matches!(outcome, ImportOutcome::Imported { .. }) {
            self.import_orphans_of(id);
        }
        outcome
    }

    /// Counts and reports a rejection already decided (no new memory entry).
    fn refuse(&self, source: &BlockSource<P>, rejection: Rejection) -> ImportOutcome {
        self.out.metrics.block_rejected(&rejection);
        self.out.penalize(source, &rejection);
        ImportOutcome::Invalid(rejection)
    }

    /// Imports the orphans that were waiting for `root`, breadth first.
    fn import_orphans_of(&mut self, root: Hash256) {
        let mut parents = VecDeque::from([root]);
        while let Some(parent) = parents.pop_front() {
            for orphan in self.orphans.take_children(&parent) {
                let id = orphan.block.id();
                match self.import_prechecked(orphan.block, orphan.source) {
                    ImportOutcome::Imported { .. } => parents.push_back(id),
                    other => debug!(hash = %id, ?other, "orphan not imported"),
                }
            }
        }
    }

    /// Makes sure `parent` is in fork choice, attaching a stored side branch if needed.
    fn prepare_parent(&mut self, parent: Hash256) -> Parent {
        if self.chain.tree().contains(&parent) {
            return Parent::Ready;
        }
        match self.chain.store().contains_block(&parent) {
            Ok(true) => self.attach_stored_branch(parent),
            Ok(false) => Parent::Missing,
            Err(e) => {
                warn!(%parent, error = %e, "store read failed");
                Parent::Unusable
            }
        }
    }

    /// Adds to the tree the stored blocks between the tree and `parent` (a side branch stored
    /// before a restart, or one whose tree part was pruned).
    fn attach_stored_branch(&mut self, parent: Hash256) -> Parent {
        let branch = match self.chain.stored_branch_to(parent) {
            Ok(Some(branch)) => branch,
            Ok(None) => return Parent::Unusable,
            Err(e) => {
                warn!(%parent, error = %e, "store read failed");
                return Parent::Unusable;
            }
        };
        for entry in branch {
            if let Err(e) = self.adopt(entry.header, entry.cumulative_work, None, None) {
                warn!(hash = %entry.id(), error = %e, "stored block not attached");
                self.reload_chain();
                return Parent::Unusable;
            }
        }
        Parent::Ready
    }

    /// Steps after the cheap checks: parent, work floor, header against the parent,
    /// signatures, the chain's history, adoption.
    fn import_prechecked(
        &mut self,
        prechecked: PrecheckedBlock,
        source: BlockSource<P>,
    ) -> ImportOutcome {
        let id = prechecked.id();
        match self.prepare_parent(prechecked.header().prev_hash) {
            Parent::Ready => {}
            Parent::Missing => return self.keep_orphan(prechecked, source),
            Parent::Unusable => return ImportOutcome::Dropped,
        }
        // Unrequested side blocks must come close to the tip's work before anything costly
        // (branch reads, signatures of its items against the branch) is spent on them. Sync
        // only hands over blocks of a checked header chain heavier than ours, or of an orphan
        // chain it checked against the same floor.
        if matches!(source, BlockSource::Gossip(_))
            && self
                .chain
                .below_side_floor(&prechecked.header().prev_hash, prechecked.work())
        {
            debug!(hash = %id, "side block too far below the tip's work; not stored");
            self.out.metrics.block_stale();
            return ImportOutcome::Stale;
        }
        let now_ms = self.clock.unix_ms();
        match self.chain.check_header(prechecked.header(), now_ms) {
            Ok(()) => {}
            Err(Unvalidated::Invalid(e)) => return self.reject(id, e, &source),
            Err(Unvalidated::Unjudged(reason)) => {
                warn!(hash = %id, %reason, "block not judged, dropped");
                return ImportOutcome::Dropped;
            }
        }
        let checked = match prechecked.check_signatures(&self.config.spec) {
            Ok(checked) => checked,
            Err(e) => return self.reject(id, e, &source),
        };
        let valid = match self.chain.validate(checked, now_ms) {
            Ok(valid) => valid,
            Err(Unvalidated::Invalid(e)) => return self.reject(id, e, &source),
            Err(Unvalidated::Unjudged(reason)) => {
                warn!(hash = %id, %reason, "block not judged, dropped");
                return ImportOutcome::Dropped;
            }
        };
        let header = *valid.header();
        let work = valid.cumulative_work();
        let block = Arc::new(valid.into_block());
        match self.adopt(header, work, Some(&block), Some(source)) {
            Ok(new_tip) => {
                self.out.metrics.block_imported(source.kind());
                debug!(
                    hash = %id,
                    height = header.height,
                    source = %source.kind(),
                    new_tip,
                    "block imported"
                );
                ImportOutcome::Imported { new_tip }
            }
            Err(e) => {
                warn!(hash = %id, error = %e, "block not stored");
                self.reload_chain();
                ImportOutcome::Dropped
            }
        }
    }

    /// Puts a block whose parent is unknown aside and asks for its ancestors.
    fn keep_orphan(&mut self, block: PrecheckedBlock, source: BlockSource<P>) -> ImportOutcome {
        let id = block.id();
        let parent = block.header().prev_hash;
        let parent_height = block.header().height.saturating_sub(1);
        if !self.orphans.insert(block, source, self.clock.now()) {
            return ImportOutcome::Dropped;
        }
        debug!(hash = %id, %parent, orphans = self.orphans.len(), "orphan block kept");
        if let Some(peer) = source.peer() {
            self.out.notify(ChainNotice::MissingParent {
                peer,
                parent,
                parent_height,
            });
        }
        ImportOutcome::Orphan { parent }
    }

    /// Reports an invalid block. What is remembered follows [`Blame`]: a verdict on the block
    /// is kept under its id (and its waiting orphans go with it); a body that does not match
    /// its header costs only the sender, so the real body is still accepted later from anyone;
    /// a verdict that hangs on our clock is `Dropped`, neither penalized nor remembered.
    fn reject(&mut self, id: Hash256, error: BlockError, source: &BlockSource<P>) -> ImportOutcome {
        let (blame, code) = (error.blame(), error.code());
        let rejection = Rejection::Rule(error);
        self.out.metrics.block_rejected(&rejection);
        match blame {
            Blame::Clock => {
                debug!(hash = %id, code, "block not acceptable now");
                return ImportOutcome::Dropped;
            }
            Blame::Body => {
                info!(hash = %id, code, "block body does not match its header, dropped");
            }
            Blame::Block => {
                match source.kind() {
                    ImportSource::Mined => {
                        warn!(hash = %id, code, error = %rejection, "mined block invalid")
                    }
                    _ => info!(hash = %id, code, error = %rejection, "invalid block"),
                }
                self.rejected.insert(id, rejection.clone());
                // Blocks waiting for an invalid parent are invalid too.
                let dropped = self.orphans.take_children(&id).len();
                if dropped > 0 {
                    debug!(hash = %id, dropped, "orphans of an invalid block dropped");
                }
            }
        }
        self.out.penalize(source, &rejection);
        ImportOutcome::Invalid(rejection)
    }
}
