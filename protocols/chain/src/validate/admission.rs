//! Admission check for a single item (mempool, API), before it is in any block.

use crate::item::SignedItem;
use crate::spec::NetworkSpec;

use super::error::ItemError;

/// Checks one item on its own: size first, then a small-order author key, then ZIP 215
/// signature verification on `spec`'s network. Replays (item id or nonce already in the
/// chain) are the caller's to check against its chain and pool.
pub fn validate_item(item: &SignedItem, spec: &NetworkSpec) -> Result<(), ItemError> {
    let size = item.encoded_len();
    let max = spec.limits.max_item_bytes;
    if size > max {
        return Err(ItemError::TooLarge { size, max });
    }
    if item.author().is_weak() {
        return Err(ItemError::WeakAuthorKey);
    }
    item.verify(spec.network_id)
        .map_err(|_| ItemError::BadSignature)
}
