//! The block import pipeline: dedup, context-free checks, parent lookup (orphans), contextual
//! validation against the chain the block extends, then adoption (see `adopt.rs`).

use std::collections::VecDeque;
use std::time::Instant;

use talos_chain::{Block, BlockError, CheckedBlock, Hash256};
use tracing::{debug, info, warn};

use crate::pipeline::{BlockSource, ChainNotice, ImportOutcome};

use super::lookup::{BranchItems, BranchLookup, StoreLookup};
use super::service::{Service, now_ms, source_label};

/// Rejection codes that are not the sender's fault: the block may become valid later (a
/// clock ahead of ours), so it is neither penalized nor remembered as invalid, and the
/// outcome is [`ImportOutcome::Dropped`].
const NOT_PEER_FAULT: &[&str] = &["timestamp_too_far_in_future"];

/// Rejection code of a block whose parent was found invalid.
pub(crate) const INVALID_PARENT: &str = "invalid_parent";

impl Service {
    /// Imports one block and then every orphan waiting for it (and for those, in turn).
    pub(crate) fn import_block(&mut self, block: Block, source: BlockSource) -> ImportOutcome {
        let id = block.id();
        if let Some(code) = self.rejected.get(&id) {
            self.metrics.block_rejected(code);
            self.penalize(&source, code);
            return ImportOutcome::Invalid { code };
        }
        match self.store.contains_block(&id) {
            Ok(true) => return ImportOutcome::AlreadyKnown,
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
        if self.rejected.get(&parent).is_some() {
            // A child of an invalid block is invalid, whatever it holds.
            let code = INVALID_PARENT;
            self.metrics.block_rejected(code);
            self.rejected.insert(id, code);
            self.penalize(&source, code);
            return ImportOutcome::Invalid { code };
        }
        let checked = match block.check(&self.config.spec) {
            Ok(checked) => checked,
            Err(e) => return self.reject(id, &e, &source),
        };
        let outcome = self.import_checked(checked, source);
        if matches!(outcome, ImportOutcome::Imported { .. }) {
            self.import_orphans_of(id);
        }
        outcome
    }

    /// Imports the orphans that were waiting for `root`, breadth first.
    fn import_orphans_of(&mut self, root: Hash256) {
        let mut parents = VecDeque::from([root]);
        while let Some(parent) = parents.pop_front() {
            for orphan in self.orphans.take_children(&parent) {
                let id = orphan.block.id();
                match self.import_checked(orphan.block, orphan.source) {
                    ImportOutcome::Imported { .. } => parents.push_back(id),
                    other => debug!(hash = %id, ?other, "orphan not imported"),
                }
            }
        }
    }

    /// Steps after the context-free checks: parent, contextual validation, adoption.
    fn import_checked(&mut self, checked: CheckedBlock, source: BlockSource) -> ImportOutcome {
        let id = checked.id();
        let parent = checked.header().prev_hash;
        if !self.tree.contains(&parent) {
            match self.store.contains_block(&parent) {
                Ok(true) => {
                    if let Err(outcome) = self.attach_stored_branch(parent) {
                        return outcome;
                    }
                }
                Ok(false) => return self.keep_orphan(checked, source),
                Err(e) => {
                    warn!(hash = %id, error = %e, "store read failed, block dropped");
                    return ImportOutcome::Dropped;
                }
            }
        }
        let spec = &self.config.spec;
        let Some(ctx) = self.tree.parent_context(&parent, spec) else {
            return ImportOutcome::Dropped;
        };
        let now = now_ms();
        let on_best = parent == self.tree.best().id;
        let mut branch = None;
        let validated = if on_best {
            let lookup = StoreLookup::best(&*self.store);
            let result = checked.validate(spec, &ctx, &lookup, now);
            if let Some(e) = lookup.take_error() {
                warn!(hash = %id, error = %e, "store read failed during validation, block dropped");
                return ImportOutcome::Dropped;
            }
            result
        } else {
            let items = match self.branch.take().filter(|b| b.tip == parent) {
                Some(items) => items,
                None => match BranchItems::gather(
                    &*self.store,
                    &self.tree,
                    parent,
                    self.config.max_branch_depth,
                ) {
                    Ok(items) => items,
                    Err(e) => {
                        warn!(hash = %id, error = %e, "side branch not usable, block dropped");
                        return ImportOutcome::Dropped;
                    }
                },
            };
            let lookup = BranchLookup::new(&*self.store, &items);
            let result = checked.validate(spec, &ctx, &lookup, now);
            if let Some(e) = lookup.base.take_error() {
                warn!(hash = %id, error = %e, "store read failed during validation, block dropped");
                return ImportOutcome::Dropped;
            }
            branch = Some(items);
            result
        };
        let valid = match validated {
            Ok(valid) => valid,
            Err(e) => {
                self.branch = branch;
                return self.reject(id, &e, &source);
            }
        };
        let header = *valid.header();
        let work = valid.cumulative_work();
        let block = valid.into_block();
        let added = block.clone();
        match self.adopt(header, work, Some(block), Some(source)) {
            Ok(adopted) => {
                self.metrics.block_imported(source_label(&source));
                if !adopted.tip_changed {
                    // Still a side branch: its next block reuses the gathered items.
                    self.branch = branch.map(|mut items| {
                        items.add_block(&added);
                        items
                    });
                }
                debug!(
                    hash = %id,
                    height = header.height,
                    source = source_label(&source),
                    new_tip = adopted.tip_changed,
                    "block imported"
                );
                ImportOutcome::Imported {
                    new_tip: adopted.tip_changed,
                }
            }
            Err(e) => {
                warn!(hash = %id, error = %e, "block not stored");
                self.reload_tree();
                ImportOutcome::Dropped
            }
        }
    }

    /// Puts a block whose parent is unknown aside and asks for its ancestors.
    fn keep_orphan(&mut self, checked: CheckedBlock, source: BlockSource) -> ImportOutcome {
        let id = checked.id();
        let parent = checked.header().prev_hash;
        if !self.orphans.insert(checked, source, Instant::now()) {
            return ImportOutcome::Dropped;
        }
        debug!(hash = %id, %parent, orphans = self.orphans.len(), "orphan block kept");
        if let Some(peer) = source.peer() {
            self.notify(ChainNotice::MissingParent { peer, parent });
        }
        ImportOutcome::Orphan { parent }
    }

    /// Adds to the tree the stored blocks between the tree and `parent` (a side branch stored
    /// before a restart, or one whose tree part was pruned). `Err` carries the outcome to
    /// report for the block that needed it.
    fn attach_stored_branch(&mut self, parent: Hash256) -> Result<(), ImportOutcome> {
        let root_height = self.tree.header(&self.tree.root()).map_or(0, |h| h.height);
        let mut branch = Vec::new();
        let mut current = parent;
        while !self.tree.contains(&current) {
            if branch.len() as u64 >= self.config.max_branch_depth {
                warn!(%parent, "stored side branch too deep to attach");
                return Err(ImportOutcome::Dropped);
            }
            let entry = match self.store.header(&current) {
                Ok(Some(entry)) if entry.height() > root_height => entry,
                Ok(_) => {
                    debug!(%parent, "stored branch forks below the fork-choice root");
                    return Err(ImportOutcome::Dropped);
                }
                Err(e) => {
                    warn!(%parent, error = %e, "store read failed");
                    return Err(ImportOutcome::Dropped);
                }
            };
            current = entry.header.prev_hash;
            branch.push(entry);
        }
        for entry in branch.into_iter().rev() {
            if let Err(e) = self.adopt(entry.header, entry.cumulative_work, None, None) {
                warn!(hash = %entry.id(), error = %e, "stored block not attached");
                self.reload_tree();
                return Err(ImportOutcome::Dropped);
            }
        }
        Ok(())
    }

    /// Reports an invalid block: metrics, penalty, memory of the verdict.
    fn reject(&mut self, id: Hash256, error: &BlockError, source: &BlockSource) -> ImportOutcome {
        let code = error.code();
        self.metrics.block_rejected(code);
        if NOT_PEER_FAULT.contains(&code) {
            debug!(hash = %id, code, "block not acceptable now");
            return ImportOutcome::Dropped;
        }
        match source {
            BlockSource::Mined => warn!(hash = %id, code, error = %error, "mined block invalid"),
            _ => info!(hash = %id, code, error = %error, "invalid block"),
        }
        self.rejected.insert(id, code);
        // Blocks waiting for an invalid parent are invalid too.
        let dropped = self.orphans.take_children(&id).len();
        if dropped > 0 {
            debug!(hash = %id, dropped, "orphans of an invalid block dropped");
        }
        self.penalize(source, code);
        ImportOutcome::Invalid { code }
    }

    /// Asks the network task to penalize the peer a bad block came from.
    fn penalize(&self, source: &BlockSource, code: &'static str) {
        if let Some(peer) = source.peer() {
            self.notify(ChainNotice::BadBlock { peer, code });
        }
    }
}
