//! [`ChainState`]: the best chain as the service holds it — the store (the source of truth),
//! fork choice over its recent part and the side branches seen since start, the tip, the
//! [`ChainIndex`] readers share, and the items of the side branch last extended.
//!
//! Adoption decides what a validated block does to the best chain *before* anything changes,
//! with fork choice's own rule (more cumulative work than the tip wins; on a tie the first seen
//! stays), commits that change to the store as one update, and only then updates the tree and
//! the index. Should the tree's actual outcome differ from the prediction, the tree is reloaded
//! from the store.

use std::sync::Arc;

use talos_chain::chain_state::BlockState;
use talos_chain::{
    Block, BlockHeader, CheckedBlock, Hash256, HeaderTree, InsertOutcome, Reorg, ValidBlock,
    ValidateError, Work, side_branch_floor,
};
use talos_storage::{
    ChainTip, ChainUpdate, HeaderEntry, MAX_UPDATE_BLOCKS, NewBlock, StorageError, Store,
};
use tracing::warn;

/// How often (in best-chain heights) stale side blocks are pruned.
const PRUNE_INTERVAL: u64 = 64;

use crate::config::ChainServiceConfig;
use crate::error::{ChainServiceError, Inconsistency};
use crate::index::ChainIndex;
use crate::lookup::{BranchError, BranchItems, BranchLookup, StoreLookup};
use crate::tree::load_tree;

/// What a block did to the best chain.
#[derive(Debug)]
pub(crate) enum Adoption {
    /// Stored on a side branch; the tip is unchanged.
    Side,
    /// Extended the best chain.
    Extended,
    /// Made another branch the best chain.
    Reorged(Reorg),
}

impl Adoption {
    /// Whether the best tip moved.
    pub(crate) fn tip_changed(&self) -> bool {
        !matches!(self, Self::Side)
    }

    /// Blocks disconnected from the best chain.
    pub(crate) fn depth(&self) -> u64 {
        match self {
            Self::Reorged(reorg) => reorg.disconnect.len() as u64,
            Self::Side | Self::Extended => 0,
        }
    }
}

/// The result of [`ChainState::adopt`].
#[derive(Debug)]
pub(crate) struct Adopted {
    /// What happened.
    pub(crate) adoption: Adoption,
    /// Fork choice disagreed with the prediction and was reloaded from the store.
    pub(crate) reloaded: bool,
}

/// Why a checked block could not be validated against its parent.
#[derive(Debug)]
pub(crate) enum Unvalidated {
    /// It breaks a contextual rule.
    Invalid(talos_chain::BlockError),
    /// No verdict: the parent has no context in the tree, the side branch could not be read,
    /// or a store read failed.
    Unjudged(UnjudgedReason),
}

/// Why no verdict was reached.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UnjudgedReason {
    /// The parent is not in the tree.
    #[error("the parent has no context in fork choice")]
    NoContext,
    /// The side branch it extends could not be gathered.
    #[error("side branch: {0}")]
    Branch(#[from] BranchError),
    /// A store read failed during validation.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// A node of the parent's state tree is not stored.
    #[error("state node {0} is not stored")]
    MissingState(Hash256),
}

/// The best chain: store, fork choice, tip and index (see the [module documentation](self)).
pub(crate) struct ChainState {
    config: ChainServiceConfig,
    store: Arc<dyn Store>,
    tree: HeaderTree,
    tip: ChainTip,
    index: ChainIndex,
    /// Items of the side branch the last side block extended (reused by its next child).
    branch: Option<BranchItems>,
    /// Items of the branch the block being adopted extends (set by `validate`).
    validated_branch: Option<BranchItems>,
    /// The state the block validated last leaves (its id, its state), stored with it.
    validated_state: Option<(Hash256, BlockState)>,
}

impl ChainState {
    /// Loads the tip, fork choice and the index from the store.
    pub(crate) fn open(
        config: &ChainServiceConfig,
        store: Arc<dyn Store>,
    ) -> Result<Self, ChainServiceError> {
        let tree = load_tree(&*store, config)?;
        let tip = store.tip()?;
        let index = ChainIndex::load(
            &*store,
            config.spec.network_id,
            config.fork_choice.keep_depth,
        )?
        .with_clock(Arc::clone(&config.clock));
        Ok(Self {
            config: config.clone(),
            store,
            tree,
            tip,
            index,
            branch: None,
            validated_branch: None,
            validated_state: None,
        })
    }

    /// The store.
    pub(crate) fn store(&self) -> &dyn Store {
        &*self.store
    }

    /// Fork choice.
    pub(crate) fn tree(&self) -> &HeaderTree {
        &self.tree
    }

    /// The best tip, as committed.
    pub(crate) fn tip(&self) -> ChainTip {
        self.tip
    }

    /// The shared index.
    pub(crate) fn index(&self) -> &ChainIndex {
        &self.index
    }

    /// Records a block found already stored (the index then knows it too).
    pub(crate) fn note_stored(&self, id: Hash256, height: u64) {
        self.index.add_side(id, height);
    }

    /// The stored blocks between the tree and `parent`, oldest first, when `parent` is a
    /// stored block whose branch is not in the tree (stored before a restart, or pruned from
    /// the tree). `None` when the branch is too deep or forks below the tree's root.
    pub(crate) fn stored_branch_to(
        &self,
        parent: Hash256,
    ) -> Result<Option<Vec<HeaderEntry>>, StorageError> {
        let root_height = self.tree.header(&self.tree.root()).map_or(0, |h| h.height);
        let mut branch = Vec::new();
        let mut current = parent;
        while !self.tree.contains(&current) {
            if branch.len() as u64 >= self.config.max_branch_depth {
                warn!(%parent, "stored side branch too deep to attach");
                return Ok(None);
            }
            match self.store.header(&current)? {
                Some(entry) if entry.height() > root_height => {
                    current = entry.header.prev_hash;
                    branch.push(entry);
                }
                _ => {
                    tracing::debug!(%parent, "stored branch forks below the fork-choice root");
                    return Ok(None);
                }
            }
        }
        branch.reverse();
        Ok(Some(branch))
    }

    /// Whether a block on `parent` (in the tree) adding `work` would end a chain too light to
    /// store or relay: it does not extend the tip, and its chain's work is below the
    /// side-branch floor. Cheap: two tree lookups, no store read.
    pub(crate) fn below_side_floor(&self, parent: &Hash256, work: Work) -> bool {
        let best = self.tree.best();
        if *parent == best.id {
            return false;
        }
        let (Some(parent), Some(tip)) = (self.tree.tip(parent), self.tree.header(&best.id)) else {
            return false;
        };
        let floor = side_branch_floor(
            best.cumulative_work,
            tip.target,
            self.config.side_branch_margin,
        );
        parent.cumulative_work.saturating_add(work) < floor
    }

    /// The consensus rules of `header` against its parent in the tree (link, height,
    /// retarget, times): cheap, and run before any signature of the block is checked.
    pub(crate) fn check_header(
        &self,
        header: &BlockHeader,
        now_ms: u64,
    ) -> Result<(), Unvalidated> {
        let ctx = self
            .tree
            .parent_context(&header.prev_hash)
            .ok_or(Unvalidated::Unjudged(UnjudgedReason::NoContext))?;
        talos_chain::check_header_context(header, &self.config.spec, &ctx, now_ms)
            .map_err(Unvalidated::Invalid)
    }

    /// Contextual validation of `checked` (whose parent is in the tree) against the chain it
    /// extends: the store's best-chain indexes for a child of the tip; for a side-branch block,
    /// the best chain up to the fork point plus the branch's own blocks.
    pub(crate) fn validate(
        &mut self,
        checked: CheckedBlock,
        now_ms: u64,
    ) -> Result<ValidBlock, Unvalidated> {
        let parent = checked.header().prev_hash;
        let spec = &self.config.spec;
        let ctx = self
            .tree
            .parent_context(&parent)
            .ok_or(Unvalidated::Unjudged(UnjudgedReason::NoContext))?;
        if parent == self.tree.best().id {
            let lookup = StoreLookup::best(&*self.store);
            let result = checked
                .validate(spec, &ctx, &lookup, now_ms)
                .map_err(unvalidated);
            self.keep_state(&result);
            return result;
        }
        let items = match self.branch.take().filter(|b| b.tip == parent) {
            Some(items) => items,
            None => BranchItems::gather(
                &*self.store,
                &self.tree,
                parent,
                self.config.max_branch_depth,
            )
            .map_err(|e| Unvalidated::Unjudged(e.into()))?,
        };
        let result = checked
            .validate(spec, &ctx, &BranchLookup::new(&*self.store, &items), now_ms)
            .map_err(unvalidated);
        match &result {
            Ok(_) => self.validated_branch = Some(items),
            // The branch is still good for the next block on it.
            Err(_) => self.branch = Some(items),
        }
        self.keep_state(&result);
        result
    }

    /// Keeps a validated block's state nodes for its adoption.
    fn keep_state(&mut self, result: &Result<ValidBlock, Unvalidated>) {
        self.validated_state = result
            .as_ref()
            .ok()
            .map(|valid| (valid.id(), valid.state().clone()));
    }

    /// Adopts a header whose parent is in the tree: commits the change it makes to the best
    /// chain, then updates the tree and the index. `new` is the block when it is not stored yet
    /// (`None`: a stored block being attached to the tree).
    pub(crate) fn adopt(
        &mut self,
        header: BlockHeader,
        work: Work,
        new: Option<&Arc<Block>>,
    ) -> Result<Adopted, ChainServiceError> {
        let id = header.id();
        let validated_branch = self.validated_branch.take();
        let state = self
            .validated_state
            .take()
            .filter(|(validated, _)| *validated == id)
            .map(|(_, state)| state)
            .unwrap_or_default();
        let adoption = self.plan(&header, id, work)?;
        let new_tip = ChainTip {
            id,
            height: header.height,
            cumulative_work: work,
        };
        let stored: Vec<NewBlock> = new
            .map(|block| NewBlock {
                block: Arc::clone(block),
                cumulative_work: work,
                state_nodes: state.nodes.clone(),
                state_records: state.records.clone(),
            })
            .into_iter()
            .collect();
        match &adoption {
            Adoption::Side if stored.is_empty() => {}
            Adoption::Side => self.commit(ChainUpdate::side_blocks(stored, self.tip))?,
            Adoption::Extended => self.commit(ChainUpdate {
                store: stored,
                disconnect: Vec::new(),
                connect: vec![id],
                new_tip,
            })?,
            Adoption::Reorged(reorg) => self.commit_reorg(stored, reorg, new_tip)?,
        }
        let consistent = matches!(
            (self.tree.insert(header), &adoption),
            (Ok(InsertOutcome::SideBranch), Adoption::Side)
                | (Ok(InsertOutcome::ExtendedBest), Adoption::Extended)
                | (Ok(InsertOutcome::Reorged(_)), Adoption::Reorged(_))
        );
        if !consistent {
            warn!(hash = %id, "fork choice disagreed with the committed change; reloading it");
            self.reload()?;
            return Ok(Adopted {
                adoption,
                reloaded: true,
            });
        }
        self.update_index(&adoption, id, header.height);
        self.index.add_header(header, work);
        if !matches!(adoption, Adoption::Side) && header.height.is_multiple_of(PRUNE_INTERVAL) {
            self.prune_stale_side_blocks();
        }
        self.branch = match (&adoption, validated_branch, new) {
            // Still a side branch: its next block reuses the gathered items.
            (Adoption::Side, Some(mut items), Some(block)) => {
                items.add_block(block);
                Some(items)
            }
            (Adoption::Side, _, _) => self.branch.take(),
            _ => None,
        };
        Ok(Adopted {
            adoption,
            reloaded: false,
        })
    }

    fn update_index(&self, adoption: &Adoption, id: Hash256, height: u64) {
        match adoption {
            Adoption::Side => self.index.add_side(id, height),
            Adoption::Extended => self.index.reorganise(&[], &[(id, height)], self.tip),
            Adoption::Reorged(reorg) => {
                let connect: Vec<(Hash256, u64)> = reorg
                    .connect
                    .iter()
                    .filter_map(|c| self.tree.header(c).map(|h| (*c, h.height)))
                    .collect();
                self.index.reorganise(&reorg.disconnect, &connect, self.tip);
            }
        }
    }

    /// Deletes from the store the side-branch blocks more than `side_prune_depth` below the
    /// tip that fork choice no longer holds (at most one store update's worth per call). A
    /// failure is logged and left for the next call: pruning is housekeeping.
    fn prune_stale_side_blocks(&mut self) {
        let floor = self.tip.height.saturating_sub(self.config.side_prune_depth);
        if floor == 0 {
            return;
        }
        let stale: Vec<Hash256> = self
            .index
            .side_at_or_below(floor, MAX_UPDATE_BLOCKS)
            .into_iter()
            .filter(|id| !self.tree.contains(id))
            .collect();
        if stale.is_empty() {
            return;
        }
        match self.store.prune_side_blocks(&stale) {
            Ok(pruned) => {
                tracing::debug!(pruned, floor, "stale side-branch blocks pruned");
                self.index.forget_side(&stale);
            }
            Err(e) => warn!(error = %e, "pruning stale side blocks failed"),
        }
    }

    /// Reloads fork choice and the index from the store after the two fell out of step (a
    /// failed or partial commit).
    pub(crate) fn reload(&mut self) -> Result<(), ChainServiceError> {
        self.branch = None;
        self.validated_branch = None;
        let tree = load_tree(&*self.store, &self.config)?;
        let tip = self.store.tip()?;
        self.index.reload(&*self.store)?;
        self.tree = tree;
        self.tip = tip;
        Ok(())
    }

    fn plan(
        &self,
        header: &BlockHeader,
        id: Hash256,
        work: Work,
    ) -> Result<Adoption, ChainServiceError> {
        let best = self.tree.best();
        if work <= best.cumulative_work {
            return Ok(Adoption::Side);
        }
        if header.prev_hash == best.id {
            return Ok(Adoption::Extended);
        }
        let mut reorg = self
            .tree
            .reorg_path(&best.id, &header.prev_hash)
            .map_err(Inconsistency::ReorgPath)?;
        reorg.connect.push(id);
        Ok(Adoption::Reorged(reorg))
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
                .ok_or(Inconsistency::NotInTree(last))?;
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
                    .ok_or(Inconsistency::NotInTree(last))?
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
}

fn unvalidated(e: ValidateError<StorageError>) -> Unvalidated {
    match e {
        ValidateError::Invalid(e) => Unvalidated::Invalid(e),
        ValidateError::Lookup(e) => Unvalidated::Unjudged(e.into()),
        ValidateError::MissingState(node) => {
            Unvalidated::Unjudged(UnjudgedReason::MissingState(node))
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
