//! Block builders shared by the storage tests, the crash test and the import bench.
//!
//! Blocks here carry no proof of work and are not validated: storage does neither. Each block
//! links to its parent, has the next height, and commits to its items with the right Merkle
//! root and count.
#![allow(dead_code, unreachable_pub)]

use talos_chain::item::{Anchor, ItemKind};
use talos_chain::spec::Limits;
use talos_chain::{
    Block, BlockHeader, Hash256, NetworkSpec, Signature, SignedItem, SigningKey, UnsignedItem, Work,
};
use talos_storage::{ChainStore, ChainUpdate, HeaderEntry, NewBlock};

/// The network the tests use.
pub fn spec() -> NetworkSpec {
    NetworkSpec::local()
}

/// Its genesis block.
pub fn genesis() -> Block {
    spec().genesis()
}

/// Its limits.
pub fn limits() -> Limits {
    spec().limits
}

/// Makes signed items for one author.
pub struct Maker {
    key: SigningKey,
    network_id: u32,
    /// When set, every item carries this signature instead of a real one (storage never
    /// verifies signatures; this keeps benches about storage, not Ed25519).
    fixed_signature: Option<Signature>,
}

impl Maker {
    /// An author with really signed items.
    pub fn new(seed: u8) -> Self {
        Self {
            key: SigningKey::from_bytes(&[seed; 32]),
            network_id: spec().network_id,
            fixed_signature: None,
        }
    }

    /// An author whose items all reuse one signature (ids still differ).
    pub fn fast(seed: u8) -> Self {
        let mut maker = Self::new(seed);
        let sample = maker.unsigned(0).sign(&maker.key, maker.network_id);
        maker.fixed_signature = Some(*sample.signature());
        maker
    }

    /// The author's key.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    fn unsigned(&self, nonce: u64) -> UnsignedItem {
        UnsignedItem {
            author: self.key.verifying_key(),
            nonce,
            timestamp_ms: 1_700_000_000_000 + nonce,
            kind: ItemKind::Anchor(Anchor {
                content_hash: Hash256::sha256_parts(&[b"content", &nonce.to_be_bytes()]),
                label: format!("item {nonce}"),
            }),
        }
    }

    /// The item with `nonce`.
    pub fn item(&self, nonce: u64) -> SignedItem {
        let unsigned = self.unsigned(nonce);
        match self.fixed_signature {
            Some(sig) => SignedItem::new(unsigned, sig),
            None => unsigned.sign(&self.key, self.network_id),
        }
    }

    /// Items for each nonce.
    pub fn items(&self, nonces: impl IntoIterator<Item = u64>) -> Vec<SignedItem> {
        nonces.into_iter().map(|n| self.item(n)).collect()
    }
}

/// Work of one block with `header`'s target.
pub fn block_work(header: &BlockHeader) -> Work {
    header
        .target
        .to_target()
        .map(|t| t.work())
        .unwrap_or(Work::ZERO)
}

/// A child of `parent` holding `items`; `salt` distinguishes siblings.
pub fn child(parent: &HeaderEntry, items: Vec<SignedItem>, salt: u64) -> NewBlock {
    let mut block = Block {
        header: BlockHeader {
            version: parent.header.version,
            network_id: parent.header.network_id,
            height: parent.height() + 1,
            prev_hash: parent.id(),
            merkle_root: Hash256::ZERO,
            state_root: Hash256::ZERO,
            item_count: items.len() as u32,
            timestamp_ms: parent.header.timestamp_ms + 1_000 + salt,
            target: parent.header.target,
            nonce: salt,
        },
        items,
    };
    block.header.merkle_root = block.compute_merkle_root();
    let cumulative_work = parent
        .cumulative_work
        .saturating_add(block_work(&block.header));
    NewBlock::new(block, cumulative_work)
}

/// The header entry a [`NewBlock`] gets in the store.
pub fn entry(nb: &NewBlock) -> HeaderEntry {
    HeaderEntry {
        header: nb.block.header,
        cumulative_work: nb.cumulative_work,
    }
}

/// `count` children in a row starting from `parent`, each holding the items `items(i)` gives
/// for its index.
pub fn chain(
    parent: &HeaderEntry,
    count: usize,
    salt: u64,
    mut items: impl FnMut(usize) -> Vec<SignedItem>,
) -> Vec<NewBlock> {
    let mut out: Vec<NewBlock> = Vec::with_capacity(count);
    for i in 0..count {
        let p = out.last().map(entry).unwrap_or(*parent);
        out.push(child(&p, items(i), salt));
    }
    out
}

/// The tip's header entry.
pub fn tip_entry(store: &(impl ChainStore + ?Sized)) -> HeaderEntry {
    let tip = store.tip().expect("tip");
    store.header(&tip.id).expect("read").expect("tip header")
}

/// Builds a block on the tip with `items`, commits it, returns it.
pub fn extend(store: &(impl ChainStore + ?Sized), items: Vec<SignedItem>, salt: u64) -> NewBlock {
    let nb = child(&tip_entry(store), items, salt);
    store
        .commit(ChainUpdate::extend(nb.block.clone(), nb.cumulative_work))
        .expect("commit");
    nb
}
