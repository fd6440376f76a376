//! The verdict on an SPV proof that an item is in the best chain.
//!
//! Cheapest first: the proof is about the item asked for; the proof itself (tree size against
//! the header's item count, the Merkle path to the header's root, the item's signature on the
//! header's network); then where its header sits in the local header chain, and how deep.

use talos_chain::spv::SpvError;
use talos_chain::{Hash256, ItemProof};

use crate::headers::HeaderSource;

/// What an inclusion proof shows, judged against the local best chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InclusionVerdict {
    /// In the best chain, at least as deep as asked.
    Verified {
        /// The block holding the item.
        block: Hash256,
        /// Its height.
        height: u64,
        /// Blocks from it to the tip, itself included.
        confirmations: u64,
    },
    /// In the best chain, but not yet as deep as asked.
    Pending {
        /// The block holding the item.
        block: Hash256,
        /// Its height.
        height: u64,
        /// Blocks from it to the tip, itself included.
        confirmations: u64,
        /// The depth asked for.
        needed: u64,
    },
    /// A valid proof for a block that is not (or no longer) in the best chain: re-request.
    OffBestChain {
        /// The block the proof names.
        block: Hash256,
        /// Its height.
        height: u64,
    },
    /// A valid proof for a block above our tip (we are behind): sync, then re-check.
    AheadOfTip {
        /// The block the proof names.
        block: Hash256,
        /// Its height.
        height: u64,
    },
    /// The proof does not hold.
    Invalid(InvalidProof),
}

impl InclusionVerdict {
    /// Stable snake_case name of the verdict.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Verified { .. } => "verified",
            Self::Pending { .. } => "pending",
            Self::OffBestChain { .. } => "off_best_chain",
            Self::AheadOfTip { .. } => "ahead_of_tip",
            Self::Invalid(_) => "invalid",
        }
    }

    /// Whether the proof itself is valid and its block is in the best chain.
    pub fn is_in_best_chain(&self) -> bool {
        matches!(self, Self::Verified { .. } | Self::Pending { .. })
    }
}

/// Why an inclusion proof is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidProof {
    /// The proof is about another item than the one asked for.
    #[error("the proof is for item {found}, not the one asked")]
    WrongItem {
        /// The item the proof carries.
        found: Hash256,
    },
    /// The header is of another network.
    #[error("the proof's header is of network {found:#x}")]
    WrongNetwork {
        /// Its network id.
        found: u32,
    },
    /// The SPV proof does not check (tree size, path, signature).
    #[error(transparent)]
    Spv(#[from] SpvError),
}

impl InvalidProof {
    /// Stable snake_case reason code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongItem { .. } => "wrong_item",
            Self::WrongNetwork { .. } => "wrong_network",
            Self::Spv(e) => e.code(),
        }
    }
}

/// Judges `proof` of `item_id` against the local chain in `source` on network `network_id`,
/// asking for at least `min_confirmations` (0 and 1 both mean "in the best chain").
pub fn judge_inclusion<S: HeaderSource>(
    source: &S,
    network_id: u32,
    item_id: &Hash256,
    proof: &ItemProof,
    min_confirmations: u64,
) -> Result<InclusionVerdict, S::Error> {
    if proof.item.id() != *item_id {
        return Ok(InclusionVerdict::Invalid(InvalidProof::WrongItem {
            found: proof.item.id(),
        }));
    }
    if proof.header.network_id != network_id {
        return Ok(InclusionVerdict::Invalid(InvalidProof::WrongNetwork {
            found: proof.header.network_id,
        }));
    }
    if let Err(e) = proof.verify() {
        return Ok(InclusionVerdict::Invalid(e.into()));
    }
    let (block, height) = (proof.header.id(), proof.header.height);
    let tip = source.tip()?;
    if height > tip.height() {
        return Ok(InclusionVerdict::AheadOfTip { block, height });
    }
    if source.best_id_at(height)? != Some(block) {
        return Ok(InclusionVerdict::OffBestChain { block, height });
    }
    let confirmations = tip.height() - height + 1;
    let needed = min_confirmations.max(1);
    Ok(if confirmations >= needed {
        InclusionVerdict::Verified {
            block,
            height,
            confirmations,
        }
    } else {
        InclusionVerdict::Pending {
            block,
            height,
            confirmations,
            needed,
        }
    })
}
