//! Layers 3 and 4, run by [`CheckedBlock::validate`]: consensus (agreement with the parent)
//! and semantic (agreement with the chain's history).

use std::collections::HashSet;

use crate::spec::NetworkSpec;

use super::checked::CheckedBlock;
use super::context::ParentContext;
use super::error::{BlockError, ValidateError};
use super::lookup::ItemLookup;
use super::valid::ValidBlock;

impl CheckedBlock {
    /// Validates the block against its parent and the chain it extends.
    ///
    /// Consensus: `prev_hash` is the parent id, height is the parent's plus one, the target is
    /// the retarget of the parent's ([`crate::pow::next_target`]), the time is after the median
    /// time past and at most `spec.max_future_drift_ms` ahead of `now_ms` (the validator's
    /// clock, milliseconds since the Unix epoch). Semantic: no (author, nonce) twice in the
    /// block, no item or (author, nonce) already in `chain`. A failed `chain` lookup ends the
    /// validation with [`ValidateError::Lookup`]: no verdict on the block.
    pub fn validate<L: ItemLookup + ?Sized>(
        self,
        spec: &NetworkSpec,
        ctx: &ParentContext,
        chain: &L,
        now_ms: u64,
    ) -> Result<ValidBlock, ValidateError<L::Error>> {
        check_consensus(&self, spec, ctx, now_ms)?;
        check_semantic(&self, chain)?;
        let cumulative_work = ctx.cumulative_work.saturating_add(self.work);
        Ok(ValidBlock {
            checked: self,
            cumulative_work,
        })
    }
}

fn check_consensus(
    block: &CheckedBlock,
    spec: &NetworkSpec,
    ctx: &ParentContext,
    now_ms: u64,
) -> Result<(), BlockError> {
    let header = block.header();
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
    let median_ms = ctx.median_time_past(spec);
    if header.timestamp_ms <= median_ms {
        return Err(BlockError::TimestampTooOld {
            timestamp_ms: header.timestamp_ms,
            median_ms,
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
