//! [`ParentContext`]: what contextual validation needs to know about a block's parent.

use crate::hash::Hash256;
use crate::header::BlockHeader;
use crate::pow::{self, CompactTarget, Work};
use crate::spec::NetworkSpec;

use super::valid::ValidBlock;

/// The parent a block is validated against, built by the caller (from storage, or from
/// [`crate::forkchoice::HeaderTree::parent_context`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParentContext {
    /// The parent's id.
    pub id: Hash256,
    /// The parent's header.
    pub header: BlockHeader,
    /// Cumulative work of the chain ending at the parent, genesis included
    /// (see [`genesis_work`]).
    pub cumulative_work: Work,
    /// Timestamps of the parent and its ancestors, newest (the parent) first, at most
    /// `spec.median_time_span` of them (extra entries are ignored). The median time past is
    /// taken over these.
    pub timestamps: Vec<u64>,
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

/// Median of `timestamps` (the upper median for an even count); 0 for an empty slice.
///
/// With the parent and its ancestors as input this is the median time past: a block's time
/// must be strictly greater.
pub fn median_time_past(timestamps: &[u64]) -> u64 {
    if timestamps.is_empty() {
        return 0;
    }
    let mut sorted = timestamps.to_vec();
    let mid = sorted.len() / 2;
    let (_, median, _) = sorted.select_nth_unstable(mid);
    *median
}

impl ParentContext {
    /// The context of a block built directly on genesis.
    pub fn for_genesis(spec: &NetworkSpec) -> Self {
        let genesis = spec.genesis();
        Self {
            id: genesis.id(),
            header: genesis.header,
            cumulative_work: genesis_work(spec),
            timestamps: vec![genesis.header.timestamp_ms],
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

    /// The median time past over at most `spec.median_time_span` timestamps: a child's time
    /// must be strictly greater.
    pub fn median_time_past(&self, spec: &NetworkSpec) -> u64 {
        let span = self.timestamps.len().min(spec.median_time_span);
        median_time_past(self.timestamps.get(..span).unwrap_or_default())
    }

    /// The context for a child of `block`, which was validated against `self`.
    pub fn child_context(&self, block: &ValidBlock, spec: &NetworkSpec) -> ParentContext {
        let header = block.block().header;
        let mut timestamps = Vec::with_capacity(spec.median_time_span.max(1));
        timestamps.push(header.timestamp_ms);
        let keep = spec.median_time_span.saturating_sub(1);
        timestamps.extend(self.timestamps.iter().take(keep));
        ParentContext {
            id: block.id(),
            header,
            cumulative_work: block.cumulative_work(),
            timestamps,
            grandparent_timestamp: Some(self.header.timestamp_ms),
        }
    }
}
