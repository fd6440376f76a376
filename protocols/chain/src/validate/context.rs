//! [`ParentContext`]: what contextual validation needs to know about a block's parent.

use crate::hash::Hash256;
use crate::header::BlockHeader;
use crate::pow::{self, CompactTarget, Work};
use crate::spec::NetworkSpec;

use super::valid::ValidBlock;

/// The parent a block is validated against, built by the caller (from storage, or from
/// [`crate::forkchoice::HeaderTree::parent_context`]).
///
/// A child needs only its parent's header and the grandparent's time: timestamps strictly
/// increase along every chain, so the parent's time bounds the child's from below, and the
/// retarget reads only the parent's solve time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParentContext {
    /// The parent's id.
    pub id: Hash256,
    /// The parent's header.
    pub header: BlockHeader,
    /// Cumulative work of the chain ending at the parent, genesis included
    /// (see [`genesis_work`]).
    pub cumulative_work: Work,
    /// The grandparent's timestamp; `None` when the parent is genesis.
    pub grandparent_timestamp: Option<u64>,
}

/// The work genesis contributes to every chain: the work of the genesis target (zero if the
/// spec's target is unusable). Every cumulative work in Talos counts genesis.
pub fn genesis_work(spec: &NetworkSpec) -> Work {
    spec.genesis_target
        .to_target()
        .map_or(Work::ZERO, |t| t.work())
}

impl ParentContext {
    /// The context of a block built directly on genesis.
    pub fn for_genesis(spec: &NetworkSpec) -> Self {
        let genesis = spec.genesis();
        Self {
            id: genesis.id(),
            header: genesis.header,
            cumulative_work: genesis_work(spec),
            grandparent_timestamp: None,
        }
    }

    /// The target a child of this parent must carry.
    pub fn expected_target(&self, spec: &NetworkSpec) -> CompactTarget {
        let solve_time = self
            .grandparent_timestamp
            .map(|g| self.header.timestamp_ms.saturating_sub(g));
        pow::next_target(&spec.retarget, self.header.target, solve_time)
    }

    /// The earliest time a child may carry: one millisecond after the parent's.
    pub fn earliest_child_time(&self) -> u64 {
        self.header.timestamp_ms.saturating_add(1)
    }

    /// The context for a child of `block`, which was validated against `self`.
    pub fn child_context(&self, block: &ValidBlock) -> ParentContext {
        ParentContext {
            id: block.id(),
            header: block.block().header,
            cumulative_work: block.cumulative_work(),
            grandparent_timestamp: Some(self.header.timestamp_ms),
        }
    }

    /// The context for a child of `header`, a child of `self` whose header passed
    /// [`crate::check_header_context`] against `self` (a downloader walking a header chain).
    /// The work added is the header target's (none for a target that does not decode).
    pub fn child_of_header(&self, header: &BlockHeader) -> ParentContext {
        let work = header.target.to_target().map_or(Work::ZERO, |t| t.work());
        ParentContext {
            id: header.id(),
            header: *header,
            cumulative_work: self.cumulative_work.saturating_add(work),
            grandparent_timestamp: Some(self.header.timestamp_ms),
        }
    }
}
