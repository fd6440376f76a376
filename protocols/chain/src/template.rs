//! Block templates: a block assembled on a parent, ready for the miner.
//!
//! The header is filled exactly as contextual validation
//! ([`crate::validate::CheckedBlock::validate`]) expects: height and `prev_hash` from the
//! parent, the target from [`ParentContext::expected_target`] (the retarget
//! [`crate::pow::next_target`] of the parent's), a time after the parent's, the item
//! count and Merkle root of the selected items, and nonce 0.

use std::collections::HashSet;

use crate::block::Block;
use crate::hash::Hash256;
use crate::header::{BlockHeader, HEADER_BYTES, HEADER_VERSION};
use crate::item::SignedItem;
use crate::mempool::Mempool;
use crate::spec::NetworkSpec;
use crate::state::SmtError;
use crate::validate::{ItemLookup, ParentContext, lookup::LookupNodes};

/// A mined header that does not belong to the template it is completed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The header differs from the template's in more than the nonce.
    #[error("header differs from the template in more than its nonce")]
    HeaderMismatch,
}

/// A block assembled on a parent with nonce 0; mine its [`BlockTemplate::header`] and finish
/// it with [`BlockTemplate::complete`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockTemplate {
    block: Block,
}

impl BlockTemplate {
    /// A template on `parent` carrying the mempool's oldest items that fit the block limits
    /// (FIFO, see [`Mempool::select`]). `now_ms` is the local clock (ms since the Unix epoch);
    /// `chain` is the chain `parent` ends, whose state nodes give the new state root (only
    /// read when an item changes the state). Fails only when the chain cannot be read.
    pub fn from_mempool<L: ItemLookup + ?Sized>(
        spec: &NetworkSpec,
        parent: &ParentContext,
        mempool: &Mempool,
        now_ms: u64,
        chain: &L,
    ) -> Result<Self, SmtError<L::Error>> {
        let (max_bytes, max_count) = item_budget(spec);
        Self::with_state(
            spec,
            parent,
            mempool.select(max_bytes, max_count),
            now_ms,
            chain,
        )
    }

    /// A template on `parent` carrying `items` in the given order, leaving out those that would
    /// break the block's byte or count limit or that repeat an earlier item's id or
    /// (author, nonce). Items are not verified here: pass items that passed
    /// [`crate::validate::validate_item`] and are not in the chain. `chain` as for
    /// [`BlockTemplate::from_mempool`] (`&()` for a chain without state, e.g. on genesis).
    pub fn from_items<L: ItemLookup + ?Sized>(
        spec: &NetworkSpec,
        parent: &ParentContext,
        items: impl IntoIterator<Item = SignedItem>,
        now_ms: u64,
        chain: &L,
    ) -> Result<Self, SmtError<L::Error>> {
        let (max_bytes, max_count) = item_budget(spec);
        let mut room = max_bytes;
        let mut ids = HashSet::new();
        let mut nonces = HashSet::new();
        let mut chosen = Vec::new();
        for item in items {
            if chosen.len() >= max_count {
                break;
            }
            let size = item.encoded_len();
            if size > room
                || ids.contains(&item.id())
                || nonces.contains(&(item.author().to_bytes(), item.nonce()))
            {
                continue;
            }
            room -= size;
            ids.insert(item.id());
            nonces.insert((item.author().to_bytes(), item.nonce()));
            chosen.push(item);
        }
        Self::with_state(spec, parent, chosen, now_ms, chain)
    }

    /// A template on `parent` without items (its state root is the parent's).
    pub fn empty(spec: &NetworkSpec, parent: &ParentContext, now_ms: u64) -> Self {
        Self::build(spec, parent, Vec::new(), now_ms, parent.header.state_root)
    }

    /// Applies `items` to the state `parent` left: the template's state root.
    fn with_state<L: ItemLookup + ?Sized>(
        spec: &NetworkSpec,
        parent: &ParentContext,
        items: Vec<SignedItem>,
        now_ms: u64,
        chain: &L,
    ) -> Result<Self, SmtError<L::Error>> {
        let state = crate::chain_state::apply_block(
            &LookupNodes(chain),
            parent.header.state_root,
            parent.header.height.saturating_add(1),
            &items,
        )?;
        Ok(Self::build(spec, parent, items, now_ms, state.root))
    }

    /// Fills the header for `items`, which already fit the limits.
    fn build(
        spec: &NetworkSpec,
        parent: &ParentContext,
        items: Vec<SignedItem>,
        now_ms: u64,
        state_root: Hash256,
    ) -> Self {
        let height = parent.header.height.saturating_add(1);
        let timestamp_ms = now_ms.max(parent.earliest_child_time());
        let mut block = Block {
            header: BlockHeader {
                version: HEADER_VERSION,
                network_id: spec.network_id,
                height,
                prev_hash: parent.id,
                merkle_root: Hash256::ZERO,
                state_root,
                item_count: u32::try_from(items.len()).unwrap_or(u32::MAX),
                timestamp_ms,
                target: parent.expected_target(spec),
                nonce: 0,
            },
            items,
        };
        block.header.merkle_root = block.compute_merkle_root();
        Self { block }
    }

    /// The header to mine (nonce 0).
    pub fn header(&self) -> &BlockHeader {
        &self.block.header
    }

    /// The items, in block order.
    pub fn items(&self) -> &[SignedItem] {
        &self.block.items
    }

    /// The unmined block (nonce 0).
    pub fn block(&self) -> &Block {
        &self.block
    }

    /// The block with a mined `header`, which must equal the template's except for the nonce.
    pub fn complete(self, header: BlockHeader) -> Result<Block, TemplateError> {
        if (BlockHeader { nonce: 0, ..header }) != self.block.header {
            return Err(TemplateError::HeaderMismatch);
        }
        Ok(Block {
            header,
            items: self.block.items,
        })
    }

    /// The unmined block (nonce 0).
    pub fn into_block(self) -> Block {
        self.block
    }
}

/// Canonical item bytes and item count a block of `spec` may carry.
fn item_budget(spec: &NetworkSpec) -> (usize, usize) {
    let limits = &spec.limits;
    let max_bytes = limits.max_block_bytes.saturating_sub(HEADER_BYTES);
    let max_count = usize::try_from(limits.max_items_per_block).unwrap_or(usize::MAX);
    (max_bytes, max_count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::miner::mine_nonce;
    use crate::pow::CompactTarget;
    use crate::validate::ValidateError;
    use crate::validate::testutil::{easy_spec, item, key, labelled_item};
    use crate::validate::{MemoryItemIndex, ValidBlock};

    fn mine(template: BlockTemplate) -> Block {
        let header = mine_nonce(template.header(), 1_000_000).expect("easy target");
        template.complete(header).expect("same template")
    }

    fn validate(
        spec: &NetworkSpec,
        block: Block,
        parent: &ParentContext,
        chain: &MemoryItemIndex,
        now_ms: u64,
    ) -> ValidBlock {
        block
            .check(spec)
            .and_then(|c| {
                c.validate(spec, parent, chain, now_ms)
                    .map_err(ValidateError::into_invalid)
            })
            .expect("a mined template is valid")
    }

    #[test]
    fn mined_templates_pass_validation_and_chain_up() {
        let spec = easy_spec();
        let mut chain = MemoryItemIndex::new();
        let mut pool = Mempool::new(spec.limits);
        let keys = [key(1), key(2)];
        for n in 0..6 {
            let it = item(&spec, &keys[(n % 2) as usize], n);
            pool.insert(it, &chain, &spec).unwrap();
        }
        let mut parent = ParentContext::for_genesis(&spec);
        let mut now = spec.genesis_timestamp_ms + 1_000;
        for height in 1..=4u64 {
            let template = BlockTemplate::from_mempool(&spec, &parent, &pool, now, &chain).unwrap();
            let header = *template.header();
            assert_eq!(header.height, height);
            assert_eq!(header.prev_hash, parent.id);
            assert_eq!(header.target, parent.expected_target(&spec));
            assert_eq!(header.nonce, 0);
            assert_eq!(header.item_count as usize, template.items().len());
            let valid = validate(&spec, mine(template), &parent, &chain, now);
            chain.add_block(valid.block());
            let removed = pool.remove_included(valid.block());
            assert_eq!(removed.len(), valid.block().items.len());
            parent = parent.child_context(&valid);
            now += 700;
        }
        assert!(pool.is_empty(), "the first block took every item");
        assert_eq!(chain.len(), 6);
    }

    #[test]
    fn timestamp_is_after_the_parents() {
        let spec = easy_spec();
        let parent = ParentContext::for_genesis(&spec);
        let behind = spec.genesis_timestamp_ms - 5_000;
        let template = BlockTemplate::empty(&spec, &parent, behind);
        assert_eq!(
            template.header().timestamp_ms,
            spec.genesis_timestamp_ms + 1
        );
        // The validator's clock is as far behind as ours; the time is still within the drift.
        validate(
            &spec,
            mine(template),
            &parent,
            &MemoryItemIndex::new(),
            behind,
        );
        let ahead = spec.genesis_timestamp_ms + 60_000;
        let template = BlockTemplate::empty(&spec, &parent, ahead);
        assert_eq!(template.header().timestamp_ms, ahead);
    }

    #[test]
    fn items_respect_block_limits_and_are_unique() {
        let mut spec = easy_spec();
        let item_bytes = 149 + 851; // 1,000 bytes each
        spec.limits.max_block_bytes = HEADER_BYTES + 3 * item_bytes + 999;
        let k = key(3);
        let items: Vec<_> = (0..6)
            .map(|n| labelled_item(&spec, &k, n, &"x".repeat(851)))
            .collect();
        let parent = ParentContext::for_genesis(&spec);
        let now = spec.genesis_timestamp_ms + 1_000;

        let with_dups = [items[0].clone(), items[0].clone()]
            .into_iter()
            .chain([labelled_item(&spec, &k, 0, "other")])
            .chain(items[1..].iter().cloned());
        let template = BlockTemplate::from_items(&spec, &parent, with_dups, now, &()).unwrap();
        assert_eq!(template.items(), &items[..3], "byte limit, no repeats");
        assert!(template.block().encoded_len() <= spec.limits.max_block_bytes);
        validate(&spec, mine(template), &parent, &MemoryItemIndex::new(), now);

        spec.limits.max_items_per_block = 2;
        let template = BlockTemplate::from_items(&spec, &parent, items.clone(), now, &()).unwrap();
        assert_eq!(template.items(), &items[..2], "count limit");
        validate(&spec, mine(template), &parent, &MemoryItemIndex::new(), now);
    }

    #[test]
    fn complete_rejects_a_foreign_header() {
        let spec = easy_spec();
        let parent = ParentContext::for_genesis(&spec);
        let template = BlockTemplate::empty(&spec, &parent, 0);
        let other = BlockHeader {
            target: CompactTarget(0x1f00_ffff),
            ..*template.header()
        };
        assert_eq!(
            template.clone().complete(other),
            Err(TemplateError::HeaderMismatch)
        );
        let mined = BlockHeader {
            nonce: 7,
            ..*template.header()
        };
        assert_eq!(template.complete(mined).map(|b| b.header.nonce), Ok(7));
    }
}
