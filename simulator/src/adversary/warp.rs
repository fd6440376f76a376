//! A time-warp miner: a branch whose timestamps alternate far ahead of and behind their
//! parents', the game that, under the old median-time-past rule, drove a branch's target to
//! the pow limit for a fraction of the work.
//!
//! The branch starts on genesis and moves onto each newest block the miner hears of
//! ([`WarpBranch::rebase`]), so honest nodes know its parent and judge it instead of holding
//! it as an orphan. Every block carries the target the retarget expects and a real proof of
//! work, so only the timestamp rule can refuse the backward ones (and the work floor the
//! forward ones that fall behind).

use talos_chain::header::HEADER_VERSION;
use talos_chain::{Block, BlockHeader, Hash256, NetworkSpec, ParentContext, merkle, mine_nonce};

/// Nonces tried per block before the tick is skipped.
const MINE_TRIES: u64 = 4_096;

/// Builds the branch one block at a time.
#[derive(Debug)]
pub struct WarpBranch {
    spec: NetworkSpec,
    tip: ParentContext,
    made: u64,
}

impl WarpBranch {
    /// A branch on `spec`'s genesis.
    pub fn new(spec: &NetworkSpec) -> Self {
        Self {
            spec: spec.clone(),
            tip: ParentContext::for_genesis(spec),
            made: 0,
        }
    }

    /// Builds on `parent` from now on (a fresh block heard of; the context needs only its
    /// header and its parent's timestamp to give the expected target).
    pub fn rebase(&mut self, parent: ParentContext) {
        self.tip = parent;
        self.made = 0;
    }

    /// The next block: odd ones a full clamp window after their parent (the retarget eases as
    /// much as it can), even ones that window minus one interval *before* it (time runs
    /// backward, so the next solve time is long again). `None` when no nonce met the target.
    pub fn next_block(&mut self) -> Option<Block> {
        let retarget = &self.spec.retarget;
        let window = retarget
            .block_interval_ms
            .saturating_mul(retarget.max_interval_factor.max(1));
        let parent_time = self.tip.header.timestamp_ms;
        let timestamp_ms = if self.made.is_multiple_of(2) {
            parent_time.saturating_add(window)
        } else {
            parent_time.saturating_sub(window.saturating_sub(retarget.block_interval_ms))
        };
        let header = BlockHeader {
            version: HEADER_VERSION,
            network_id: self.spec.network_id,
            height: self.tip.header.height + 1,
            prev_hash: self.tip.id,
            merkle_root: merkle::root::<Hash256>(&[]),
            state_root: self.tip.header.state_root,
            item_count: 0,
            timestamp_ms,
            target: self.tip.expected_target(&self.spec),
            nonce: self.made,
        };
        let header = mine_nonce(&header, MINE_TRIES)?;
        self.tip = self.tip.child_of_header(&header);
        self.made += 1;
        Some(Block {
            header,
            items: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use talos_chain::check_header_context;
    use talos_chain::testkit::easy_spec;

    use super::*;

    #[test]
    fn forward_blocks_pass_the_context_rules_and_backward_ones_do_not() {
        let spec = easy_spec();
        let mut branch = WarpBranch::new(&spec);
        let mut parent = ParentContext::for_genesis(&spec);
        let now = spec.genesis_timestamp_ms + 86_400_000;
        let first = branch.next_block().expect("easy target");
        assert!(check_header_context(&first.header, &spec, &parent, now).is_ok());
        parent = parent.child_of_header(&first.header);
        let second = branch.next_block().expect("easy target");
        assert!(second.header.timestamp_ms < first.header.timestamp_ms);
        let err = check_header_context(&second.header, &spec, &parent, now).unwrap_err();
        assert_eq!(err.code(), "timestamp_not_after_parent");
    }
}
