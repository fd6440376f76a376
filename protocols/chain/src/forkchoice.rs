//! Fork choice: an in-memory tree of headers and the chain with the most cumulative work.
//!
//! [`HeaderTree`] holds headers keyed by id, each with its height, parent and cumulative work
//! (genesis' work included, see [`crate::validate::genesis_work`]). The best tip is the header
//! with the most cumulative work; on a tie the tip seen first keeps its place. Headers are
//! expected to be validated before insertion (the tree checks only linkage, height and target
//! form, which it needs for its own bookkeeping).
//!
//! **Memory bound.** The tree holds at most [`ForkChoiceConfig::max_headers`] headers (about
//! 250 bytes each with map overhead: the default 262,144 is about 64 MiB). When full it moves
//! its root up the best chain to [`ForkChoiceConfig::keep_depth`] below the tip, dropping every
//! header at or below the new root's height and every branch that forked below it: a reorg
//! deeper than `keep_depth` becomes impossible (its headers are [`ForkChoiceError::Orphan`]s).
//! If side branches above the root still fill the tree, inserts fail with
//! [`ForkChoiceError::Full`] until the best chain advances. Insert only headers that passed
//! validation (proof of work at the expected target), so every held side header cost its
//! sender real work.
//!
//! Costs: insert O(1) plus O(reorg depth) when the tip moves to another branch;
//! [`HeaderTree::reorg_path`] O(depth of the two branches); [`HeaderTree::ancestor`] O(1) on
//! the best chain, O(branch length) off it.

use std::collections::{HashMap, HashSet};

use crate::hash::Hash256;
use crate::header::BlockHeader;
use crate::pow::{CompactTarget, Work};
use crate::spec::NetworkSpec;
use crate::validate::{ParentContext, genesis_work};

/// How many blocks' worth of work (at the tip's target) a side branch may trail the best tip
/// by and still be stored and relayed ([`side_branch_floor`]). Honest forks (two blocks found
/// at once, a late relay) trail by one or two.
pub const SIDE_BRANCH_MARGIN_BLOCKS: u32 = 8;

/// The least cumulative work a block off the best tip must end a chain with to be stored,
/// relayed or fetched: the tip's work minus `margin_blocks` blocks of work at the tip's target.
/// A branch below it cannot become best without first growing past that much real work, so
/// storing it only serves whoever made it, however cheaply (Bitcoin Core's anti-DoS work
/// threshold has the same role). Blocks that extend the tip are never held to it.
pub fn side_branch_floor(tip_work: Work, tip_target: CompactTarget, margin_blocks: u32) -> Work {
    let block = tip_target.to_target().map_or(Work::ZERO, |t| t.work());
    let margin = Work::from_value(
        block
            .value()
            .saturating_mul(ruint::aliases::U256::from(margin_blocks)),
    );
    tip_work.saturating_sub(margin)
}

/// Size limits of a [`HeaderTree`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForkChoiceConfig {
    /// Most headers held at once (at least 2).
    pub max_headers: usize,
    /// How many best-chain headers below the tip survive pruning: the deepest possible reorg.
    /// Capped at `max_headers / 2`, so a pruning of a tree without side branches frees at
    /// least half of it and pruning costs amortized O(log n) per insert.
    pub keep_depth: u64,
}

impl Default for ForkChoiceConfig {
    fn default() -> Self {
        Self {
            max_headers: 1 << 18,
            keep_depth: 1 << 16,
        }
    }
}

impl ForkChoiceConfig {
    /// Sets [`Self::max_headers`].
    #[must_use]
    pub fn with_max_headers(mut self, max_headers: usize) -> Self {
        self.max_headers = max_headers;
        self
    }

    /// Sets [`Self::keep_depth`].
    #[must_use]
    pub fn with_keep_depth(mut self, keep_depth: u64) -> Self {
        self.keep_depth = keep_depth;
        self
    }
}

/// Why a header was not inserted, or a query names an unknown header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForkChoiceError {
    /// The parent is not in the tree (never seen, or pruned below the root).
    #[error("parent {parent} of the header is unknown")]
    Orphan {
        /// The missing parent.
        parent: Hash256,
    },
    /// The header is already in the tree.
    #[error("header {id} is already known")]
    AlreadyKnown {
        /// Its id.
        id: Hash256,
    },
    /// The height is not the parent's plus one.
    #[error("header height {found}, expected {expected}")]
    HeightMismatch {
        /// Parent height + 1.
        expected: u64,
        /// The header's height.
        found: u64,
    },
    /// The header's target is not a valid compact target, so its work is unknown.
    #[error("header target {target} is invalid")]
    InvalidTarget {
        /// The target.
        target: CompactTarget,
    },
    /// A queried header is not in the tree.
    #[error("header {id} is unknown")]
    Unknown {
        /// The id asked about.
        id: Hash256,
    },
    /// The tree is full of headers above its root; see the module notes.
    #[error("header tree is full ({max} headers)")]
    Full {
        /// The configured limit.
        max: usize,
    },
}

impl ForkChoiceError {
    /// Stable snake_case code (metrics label).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Orphan { .. } => "orphan",
            Self::AlreadyKnown { .. } => "already_known",
            Self::HeightMismatch { .. } => "height_mismatch",
            Self::InvalidTarget { .. } => "invalid_target",
            Self::Unknown { .. } => "unknown_header",
            Self::Full { .. } => "header_tree_full",
        }
    }
}

/// The tip of a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tip {
    /// Its id.
    pub id: Hash256,
    /// Its height.
    pub height: u64,
    /// Cumulative work of the chain ending there, genesis included.
    pub cumulative_work: Work,
}

/// How to move from one tip to another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reorg {
    /// The last block both chains share.
    pub common_ancestor: Hash256,
    /// Blocks to undo, the old tip first.
    pub disconnect: Vec<Hash256>,
    /// Blocks to apply, the oldest first (the new tip last).
    pub connect: Vec<Hash256>,
}

/// What inserting a header did to the best chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InsertOutcome {
    /// The header extends the best chain and is the new tip.
    ExtendedBest,
    /// The header made another branch the best chain; the caller applies the reorg.
    Reorged(Reorg),
    /// Stored on a branch with no more work than the best chain; the tip is unchanged.
    SideBranch,
}

#[derive(Clone, Debug)]
struct Node {
    header: BlockHeader,
    cumulative_work: Work,
}

/// Headers keyed by id, rooted at genesis (or a checkpoint), with the most-work tip.
#[derive(Clone, Debug)]
pub struct HeaderTree {
    nodes: HashMap<Hash256, Node>,
    root: Hash256,
    root_height: u64,
    /// The timestamp of the root's parent (`None` for genesis).
    root_parent_timestamp: Option<u64>,
    best: Hash256,
    /// `best_chain[i]` is the best chain's block at height `root_height + i`.
    best_chain: Vec<Hash256>,
    config: ForkChoiceConfig,
}

impl HeaderTree {
    /// A tree holding only the spec's genesis, with the default limits.
    pub fn new(spec: &NetworkSpec) -> Self {
        Self::with_config(spec, ForkChoiceConfig::default())
    }

    /// A tree holding only the spec's genesis.
    pub fn with_config(spec: &NetworkSpec, config: ForkChoiceConfig) -> Self {
        Self::from_checkpoint(spec.genesis().header, genesis_work(spec), None, config)
    }

    /// A tree rooted at a trusted checkpoint (e.g. a stored header deep in the best chain):
    /// its header, the chain's cumulative work up to it, and its parent's timestamp (`None`
    /// only for genesis), so the first children get the right retarget.
    pub fn from_checkpoint(
        root: BlockHeader,
        cumulative_work: Work,
        root_parent_timestamp: Option<u64>,
        config: ForkChoiceConfig,
    ) -> Self {
        let id = root.id();
        let max_headers = config.max_headers.max(2);
        let half = u64::try_from(max_headers / 2).unwrap_or(u64::MAX);
        let config = ForkChoiceConfig {
            max_headers,
            keep_depth: config.keep_depth.clamp(1, half),
        };
        let mut nodes = HashMap::new();
        nodes.insert(
            id,
            Node {
                header: root,
                cumulative_work,
            },
        );
        Self {
            nodes,
            root: id,
            root_height: root.height,
            root_parent_timestamp,
            best: id,
            best_chain: vec![id],
            config,
        }
    }

    /// Number of headers held.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Always false: the root is always held.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The root (genesis, or the oldest header kept after pruning).
    pub fn root(&self) -> Hash256 {
        self.root
    }

    /// The most-work tip.
    pub fn best(&self) -> Tip {
        self.tip(&self.best).unwrap_or(Tip {
            id: self.best,
            height: self.root_height,
            cumulative_work: Work::ZERO,
        })
    }

    /// Id, height and cumulative work of a held header.
    pub fn tip(&self, id: &Hash256) -> Option<Tip> {
        self.nodes.get(id).map(|n| Tip {
            id: *id,
            height: n.header.height,
            cumulative_work: n.cumulative_work,
        })
    }

    /// Whether the header is held.
    pub fn contains(&self, id: &Hash256) -> bool {
        self.nodes.contains_key(id)
    }

    /// A held header.
    pub fn header(&self, id: &Hash256) -> Option<&BlockHeader> {
        self.nodes.get(id).map(|n| &n.header)
    }

    /// Whether the header is on the best chain.
    pub fn is_on_best_chain(&self, id: &Hash256) -> bool {
        self.nodes
            .get(id)
            .is_some_and(|n| self.best_at(n.header.height) == Some(*id))
    }

    /// The best chain's block at `height`, if held.
    pub fn best_at(&self, height: u64) -> Option<Hash256> {
        let offset = usize::try_from(height.checked_sub(self.root_height)?).ok()?;
        self.best_chain.get(offset).copied()
    }

    /// Inserts a header whose parent is held.
    pub fn insert(&mut self, header: BlockHeader) -> Result<InsertOutcome, ForkChoiceError> {
        let id = header.id();
        if self.nodes.contains_key(&id) {
            return Err(ForkChoiceError::AlreadyKnown { id });
        }
        if self.nodes.len() >= self.config.max_headers {
            self.prune();
            if self.nodes.len() >= self.config.max_headers {
                return Err(ForkChoiceError::Full {
                    max: self.config.max_headers,
                });
            }
        }
        let parent = self
            .nodes
            .get(&header.prev_hash)
            .ok_or(ForkChoiceError::Orphan {
                parent: header.prev_hash,
            })?;
        let expected = parent.header.height.saturating_add(1);
        if header.height != expected {
            return Err(ForkChoiceError::HeightMismatch {
                expected,
                found: header.height,
            });
        }
        let target = header
            .target
            .to_target()
            .map_err(|_| ForkChoiceError::InvalidTarget {
                target: header.target,
            })?;
        let cumulative_work = parent.cumulative_work.saturating_add(target.work());
        self.nodes.insert(
            id,
            Node {
                header,
                cumulative_work,
            },
        );
        if cumulative_work <= self.best().cumulative_work {
            return Ok(InsertOutcome::SideBranch);
        }
        if header.prev_hash == self.best {
            self.best = id;
            self.best_chain.push(id);
            return Ok(InsertOutcome::ExtendedBest);
        }
        let reorg = self.reorg_path(&self.best, &id)?;
        let keep = self.offset_of(&reorg.common_ancestor).saturating_add(1);
        self.best_chain.truncate(keep);
        self.best_chain.extend_from_slice(&reorg.connect);
        self.best = id;
        Ok(InsertOutcome::Reorged(reorg))
    }

    /// Offset of a held header's height in `best_chain`.
    fn offset_of(&self, id: &Hash256) -> usize {
        self.nodes
            .get(id)
            .and_then(|n| usize::try_from(n.header.height.saturating_sub(self.root_height)).ok())
            .unwrap_or(0)
    }

    /// The blocks to disconnect and connect to move from tip `from` to tip `to`.
    pub fn reorg_path(&self, from: &Hash256, to: &Hash256) -> Result<Reorg, ForkChoiceError> {
        let mut a = *from;
        let mut b = *to;
        let mut ha = self.height_of(&a)?;
        let mut hb = self.height_of(&b)?;
        let mut disconnect = Vec::new();
        let mut connect = Vec::new();
        while ha > hb {
            disconnect.push(a);
            a = self.parent_of(&a)?;
            ha -= 1;
        }
        while hb > ha {
            connect.push(b);
            b = self.parent_of(&b)?;
            hb -= 1;
        }
        while a != b {
            disconnect.push(a);
            connect.push(b);
            a = self.parent_of(&a)?;
            b = self.parent_of(&b)?;
        }
        connect.reverse();
        Ok(Reorg {
            common_ancestor: a,
            disconnect,
            connect,
        })
    }

    fn height_of(&self, id: &Hash256) -> Result<u64, ForkChoiceError> {
        self.nodes
            .get(id)
            .map(|n| n.header.height)
            .ok_or(ForkChoiceError::Unknown { id: *id })
    }

    /// The held parent of a held header (the root has none held).
    fn parent_of(&self, id: &Hash256) -> Result<Hash256, ForkChoiceError> {
        let node = self
            .nodes
            .get(id)
            .ok_or(ForkChoiceError::Unknown { id: *id })?;
        let parent = node.header.prev_hash;
        if self.nodes.contains_key(&parent) {
            Ok(parent)
        } else {
            Err(ForkChoiceError::Unknown { id: parent })
        }
    }

    /// The ancestor of `id` (or `id` itself) at `height`, if held.
    pub fn ancestor(&self, id: &Hash256, height: u64) -> Option<Hash256> {
        let mut current = *id;
        let mut h = self.nodes.get(&current)?.header.height;
        if height > h {
            return None;
        }
        loop {
            if h == height {
                return Some(current);
            }
            if self.best_at(h) == Some(current) {
                return self.best_at(height);
            }
            current = self.nodes.get(&current)?.header.prev_hash;
            h = h.checked_sub(1)?;
            if !self.nodes.contains_key(&current) {
                return None;
            }
        }
    }

    /// Timestamps of `id` and its ancestors, newest first, through the root and beyond it.
    /// The timestamp of the parent of `id`'s block (held, or the root's recorded parent).
    fn parent_timestamp(&self, id: &Hash256) -> Option<u64> {
        if *id == self.root {
            return self.root_parent_timestamp;
        }
        let parent = self.nodes.get(id)?.header.prev_hash;
        self.nodes.get(&parent).map(|n| n.header.timestamp_ms)
    }

    /// What contextual validation needs to validate a child of `id`; `None` if `id` is not
    /// held.
    pub fn parent_context(&self, id: &Hash256) -> Option<ParentContext> {
        let node = self.nodes.get(id)?;
        Some(ParentContext {
            id: *id,
            header: node.header,
            cumulative_work: node.cumulative_work,
            grandparent_timestamp: self.parent_timestamp(id),
        })
    }

    /// Moves the root up the best chain to `keep_depth` below the tip, dropping everything
    /// that does not descend from the new root. O(n log n), run only when the tree is full
    /// and the best chain has advanced past the current window.
    fn prune(&mut self) {
        let best_height = self.best().height;
        let new_root_height = best_height.saturating_sub(self.config.keep_depth);
        if new_root_height <= self.root_height {
            return;
        }
        let Some(new_root) = self.best_at(new_root_height) else {
            return;
        };
        let root_parent_timestamp = self.parent_timestamp(&new_root);
        let mut above: Vec<(u64, Hash256, Hash256)> = self
            .nodes
            .iter()
            .filter(|(_, n)| n.header.height > new_root_height)
            .map(|(id, n)| (n.header.height, *id, n.header.prev_hash))
            .collect();
        above.sort_unstable_by_key(|(h, _, _)| *h);
        let mut keep = HashSet::with_capacity(above.len() + 1);
        keep.insert(new_root);
        for (_, id, parent) in above {
            if keep.contains(&parent) {
                keep.insert(id);
            }
        }
        self.nodes.retain(|id, _| keep.contains(id));
        let drop = usize::try_from(new_root_height - self.root_height).unwrap_or(usize::MAX);
        self.best_chain.drain(..drop.min(self.best_chain.len()));
        self.root = new_root;
        self.root_height = new_root_height;
        self.root_parent_timestamp = root_parent_timestamp;
    }
}

#[cfg(test)]
mod tests;
