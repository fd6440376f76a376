//! Block validation as typestate: [`Block`](crate::Block) → [`CheckedBlock`] →
//! [`ValidBlock`], plus the single-item admission check [`validate_item`].
//!
//! [`Block::check`](crate::Block::check) runs the context-free layers, cheapest first, so an
//! invalid block costs as little as possible:
//!
//! 1. **structural** (header) — comparisons only: version, network, height, item count against
//!    the limit, target form and range;
//! 2. **cryptographic** — one hash for the block id and proof of work; the body's commitment
//!    (item count, Merkle root); then, for a body the header commits to, sizes, duplicate ids
//!    and batch signature verification.
//!
//! [`CheckedBlock::validate`] then runs the layers that need the parent ([`ParentContext`])
//! and the chain ([`ItemLookup`]):
//!
//! 3. **consensus** — parent link, height, retarget, a time after the parent's and within the
//!    future drift ([`check_header_context`], also run by header-first sync);
//! 4. **semantic** — no replayed item id or (author, nonce).
//!
//! Every rejection is a typed [`BlockError`] with a stable [`BlockError::code`] and a
//! [`Blame`]: whether it condemns the block id, only the body it came with, or nothing for good.

mod admission;
mod checked;
mod context;
mod contextual;
mod cryptographic;
mod error;
pub(crate) mod lookup;
mod structural;
mod valid;

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;

pub use admission::validate_item;
pub use checked::{CheckedBlock, PrecheckedBlock};
pub use context::{ParentContext, genesis_work};
pub use contextual::check_header_context;
pub use error::{Blame, BlockError, ErrorLayer, ItemError, ValidateError};
pub use lookup::{ItemLookup, MemoryItemIndex};
pub use valid::ValidBlock;
