//! Layers 3 and 4, run by [`CheckedBlock::validate`]: consensus (agreement with the parent)
//! and semantic (agreement with the chain's history and its state root).

use std::collections::HashSet;

use crate::chain_state::BlockState;
use crate::chain_state::apply_block;
use crate::header::BlockHeader;
use crate::spec::NetworkSpec;
use crate::state::SmtError;

use super::checked::CheckedBlock;
use super::context::ParentContext;
use super::error::{BlockError, ValidateError};
use super::lookup::{ItemLookup, LookupNodes};
use super::valid::ValidBlock;

impl CheckedBlock {
    /// Validates the block against its parent and the chain it extends.
    ///
    /// Consensus: [`check_header_context`] (parent link, height, retarget, a time after the
    /// parent's and within the drift of `now_ms`). Semantic: no (author, nonce) twice in the
    /// block, no item or (author, nonce) already in `chain`, then the header's `state_root` is
    /// the parent's state with the block's revocations and DID anchors applied
    /// ([`crate::chain_state`]). A failed `chain` lookup ends the validation with
    /// [`ValidateError::Lookup`], a state node the chain lacks with
    /// [`ValidateError::MissingState`]: no verdict on the block.
    pub fn validate<L: ItemLookup + ?Sized>(
        self,
        spec: &NetworkSpec,
        ctx: &ParentContext,
        chain: &L,
        now_ms: u64,
    ) -> Result<ValidBlock, ValidateError<L::Error>> {
        check_consensus(&self, spec, ctx, now_ms)?;
        check_semantic(&self, chain)?;
        let state = check_state(&self, ctx, chain)?;
        let cumulative_work = ctx.cumulative_work.saturating_add(self.work);
        Ok(ValidBlock {
            checked: self,
            cumulative_work,
            state,
        })
    }
}

fn check_consensus(
    block: &CheckedBlock,
    spec: &NetworkSpec,
    ctx: &ParentContext,
    now_ms: u64,
) -> Result<(), BlockError> {
    check_header_context(block.header(), spec, ctx, now_ms)
}

/// The consensus rules a header must meet against its parent, cheapest first; no body, no
/// storage. Used by block validation and by header-first sync, so a header counts only once
/// these hold:
///
/// 1. `prev_hash` is the parent's id and the height is the parent's plus one;
/// 2. the target is the retarget of the parent's ([`ParentContext::expected_target`]), which
///    also keeps it within the network's pow limit;
/// 3. the time is strictly after the parent's ([`BlockError::TimestampNotAfterParent`]) and at
///    most `spec.max_future_drift_ms` ahead of `now_ms`, the validator's clock (milliseconds
///    since the Unix epoch).
///
/// Why rule 3 closes the time warp: solve times along any chain are then positive and sum to
/// the last block's time minus the fork point's, so a branch can claim at most
/// `max_future_drift_ms` more time than really passed. The retarget's per-block factor is
/// concave in the solve time, so for a given total time no spacing of timestamps eases the
/// target more than even spacing: timestamp games buy nothing beyond the drift.
pub fn check_header_context(
    header: &BlockHeader,
    spec: &NetworkSpec,
    ctx: &ParentContext,
    now_ms: u64,
) -> Result<(), BlockError> {
    if header.prev_hash != ctx.id {
        return Err(BlockError::PrevHashMismatch {
            expected: ctx.id,
            found: header.prev_hash,
        });
    }
    let expected_height = ctx.header.height.saturating_add(1);
    if header.height != expected_height {
        return Err(BlockError::WrongHeight {
            expected: expected_height,
            found: header.height,
        });
    }
    let expected_target = ctx.expected_target(spec);
    if header.target != expected_target {
        return Err(BlockError::WrongTarget {
            expected: expected_target,
            found: header.target,
        });
    }
    let parent_ms = ctx.header.timestamp_ms;
    if header.timestamp_ms <= parent_ms {
        return Err(BlockError::TimestampNotAfterParent {
            timestamp_ms: header.timestamp_ms,
            parent_ms,
        });
    }
    let max_ms = now_ms.saturating_add(spec.max_future_drift_ms);
    if header.timestamp_ms > max_ms {
        return Err(BlockError::TimestampTooFarInFuture {
            timestamp_ms: header.timestamp_ms,
            max_ms,
        });
    }
    Ok(())
}

/// In-block duplicates first (no lookups), then the chain, whose lookups may touch storage.
fn check_semantic<L: ItemLookup + ?Sized>(
    block: &CheckedBlock,
    chain: &L,
) -> Result<(), ValidateError<L::Error>> {
    let items = &block.block().items;
    let mut nonces = HashSet::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        if !nonces.insert((item.author().as_bytes(), item.nonce())) {
            return Err(BlockError::DuplicateNonce {
                index,
                nonce: item.nonce(),
            }
            .into());
        }
    }
    for (index, (item, id)) in items.iter().zip(block.item_ids()).enumerate() {
        if chain.contains_item(id).map_err(ValidateError::Lookup)? {
            return Err(BlockError::ItemAlreadyInChain { index, id: *id }.into());
        }
        if chain
            .nonce_used(item.author(), item.nonce())
            .map_err(ValidateError::Lookup)?
        {
            return Err(BlockError::NonceAlreadyUsed {
                index,
                nonce: item.nonce(),
            }
            .into());
        }
    }
    Ok(())
}

/// The state root the header must carry: the parent's state with the block applied. Runs last:
/// it is the only check that may read the state tree, and blocks without revocations or DID
/// anchors skip it for free.
fn check_state<L: ItemLookup + ?Sized>(
    block: &CheckedBlock,
    ctx: &ParentContext,
    chain: &L,
) -> Result<BlockState, ValidateError<L::Error>> {
    let header = block.header();
    let delta = apply_block(
        &LookupNodes(chain),
        ctx.header.state_root,
        header.height,
        &block.block().items,
    )
    .map_err(|e| match e {
        SmtError::Source(e) => ValidateError::Lookup(e),
        SmtError::MissingNode(hash) | SmtError::Corrupt(hash) => ValidateError::MissingState(hash),
    })?;
    if delta.root != header.state_root {
        return Err(BlockError::StateRootMismatch {
            header: header.state_root,
            computed: delta.root,
        }
        .into());
    }
    Ok(delta)
}
