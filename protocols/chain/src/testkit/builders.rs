//! Blocks and items for tests: everything valid, mined at the easiest target so that a block
//! takes a couple of hashes.

use ed25519_dalek::SigningKey;

use std::convert::Infallible;

use ed25519_dalek::VerifyingKey;

use crate::block::Block;
use crate::chain_state::apply_block;
use crate::forkchoice::HeaderTree;
use crate::hash::Hash256;
use crate::header::{BlockHeader, HEADER_VERSION};
use crate::item::{Anchor, ItemKind, SignedItem, UnsignedItem};
use crate::merkle;
use crate::miner::mine_nonce;
use crate::pow::CompactTarget;
use crate::spec::NetworkSpec;
use crate::state::{MemoryNodes, Node, NodeSource};
use crate::template::BlockTemplate;
use crate::validate::ItemLookup;
use crate::validate::ParentContext;

/// The easiest target: about one hash in two meets it.
pub const EASY: CompactTarget = CompactTarget(0x207f_ffff);

/// Most nonces tried before a test gives up on a header.
const MAX_TRIES: u64 = 10_000_000;

/// The `local` spec with the easiest genesis target and proof-of-work limit, so mining takes
/// about two hashes and the retarget stays at [`EASY`].
pub fn easy_spec() -> NetworkSpec {
    let mut spec = NetworkSpec::local();
    spec.genesis_target = EASY;
    spec.retarget.pow_limit = EASY;
    spec
}

/// A deterministic signing key.
pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// An anchor item by `key` with `nonce`, signed for `spec`'s network.
pub fn item(spec: &NetworkSpec, key: &SigningKey, nonce: u64) -> SignedItem {
    labelled_item(spec, key, nonce, "test")
}

/// Like [`item`] with a chosen label (to vary content or size).
pub fn labelled_item(spec: &NetworkSpec, key: &SigningKey, nonce: u64, label: &str) -> SignedItem {
    UnsignedItem {
        author: key.verifying_key(),
        nonce,
        timestamp_ms: spec.genesis_timestamp_ms,
        kind: ItemKind::Anchor(Anchor {
            content_hash: Hash256::sha256(&nonce.to_be_bytes()),
            label: label.into(),
        }),
    }
    .sign(key, spec.network_id)
}

/// `n` items by one deterministic key, nonces `0..n`.
pub fn items(spec: &NetworkSpec, n: u64) -> Vec<SignedItem> {
    let author = key(1);
    (0..n).map(|nonce| item(spec, &author, nonce)).collect()
}

/// `header` with the first nonce from its own that meets its own target.
///
/// # Panics
///
/// When no nonce in [`MAX_TRIES`] does: the target is too hard for a test.
pub fn mine_header(header: &BlockHeader) -> BlockHeader {
    mine_nonce(header, MAX_TRIES)
        .unwrap_or_else(|| panic!("target too hard for a test: {}", header.target))
}

/// `block` with its header mined (after an edit, or a template's nonce 0).
pub fn mine(mut block: Block) -> Block {
    block.header = mine_header(&block.header);
    block
}

/// The correct, unmined header of a child of `ctx` carrying `items`, one block interval
/// after it. Its state root is the parent's: right for items that change no state (anchors,
/// audit events); blocks with revocations or DID anchors come from a [`ChainBuilder`], which
/// keeps the state tree.
pub fn child_header(spec: &NetworkSpec, ctx: &ParentContext, items: &[SignedItem]) -> BlockHeader {
    let ids: Vec<Hash256> = items.iter().map(SignedItem::id).collect();
    BlockHeader {
        version: HEADER_VERSION,
        network_id: spec.network_id,
        height: ctx.header.height + 1,
        prev_hash: ctx.id,
        merkle_root: merkle::root(&ids),
        state_root: ctx.header.state_root,
        item_count: u32::try_from(items.len()).unwrap_or(u32::MAX),
        timestamp_ms: ctx.header.timestamp_ms + spec.retarget.block_interval_ms,
        target: ctx.expected_target(spec),
        nonce: 0,
    }
}

/// A valid, mined child of `ctx` carrying `items`.
pub fn child(spec: &NetworkSpec, ctx: &ParentContext, items: Vec<SignedItem>) -> Block {
    mine(Block {
        header: child_header(spec, ctx, &items),
        items,
    })
}

/// Grows chains and forks the way a remote miner would: its own fork-choice tree, templates
/// one block interval after the parent, and a nonce search. Every block it returns is valid
/// on the chain it names as parent.
#[derive(Debug)]
pub struct ChainBuilder {
    spec: NetworkSpec,
    tree: HeaderTree,
    tip: Hash256,
    /// State nodes of every block made or adopted (all branches: nodes are addressed by hash).
    state: StateNodes,
}

/// A [`MemoryNodes`] as the chain lookup templates read state from (no items: the builder's
/// callers choose items that are not in the chain).
#[derive(Debug, Default)]
struct StateNodes(MemoryNodes);

impl ItemLookup for StateNodes {
    type Error = Infallible;

    fn contains_item(&self, _id: &Hash256) -> Result<bool, Infallible> {
        Ok(false)
    }

    fn nonce_used(&self, _author: &VerifyingKey, _nonce: u64) -> Result<bool, Infallible> {
        Ok(false)
    }

    fn state_node(&self, hash: &Hash256) -> Result<Option<Node>, Infallible> {
        self.0.node(hash)
    }
}

impl ChainBuilder {
    /// A builder at `spec`'s genesis.
    pub fn new(spec: &NetworkSpec) -> Self {
        Self {
            spec: spec.clone(),
            tree: HeaderTree::new(spec),
            tip: spec.genesis_hash(),
            state: StateNodes::default(),
        }
    }

    /// The spec it builds for.
    pub fn spec(&self) -> &NetworkSpec {
        &self.spec
    }

    /// The genesis id.
    pub fn genesis(&self) -> Hash256 {
        self.spec.genesis_hash()
    }

    /// The block the builder's next [`ChainBuilder::next_block`] builds on.
    pub fn tip(&self) -> Hash256 {
        self.tip
    }

    /// An unmined template on `parent` carrying `items`, one block interval after it.
    ///
    /// # Panics
    ///
    /// When `parent` is not a block this builder made (or genesis).
    pub fn template(&self, parent: Hash256, items: Vec<SignedItem>) -> BlockTemplate {
        let ctx = self
            .tree
            .parent_context(&parent)
            .unwrap_or_else(|| panic!("{parent} is not a block of this builder"));
        let time = ctx.header.timestamp_ms + self.spec.retarget.block_interval_ms;
        match BlockTemplate::from_items(&self.spec, &ctx, items, time, &self.state) {
            Ok(template) => template,
            Err(e) => panic!("the builder keeps every state node: {e:?}"),
        }
    }

    /// A valid block on `parent` carrying `items`; it becomes the builder's tip.
    pub fn child(&mut self, parent: Hash256, items: Vec<SignedItem>) -> Block {
        let template = self.template(parent, items);
        let header = mine_header(template.header());
        let block = template
            .complete(header)
            .unwrap_or_else(|e| panic!("a mined template completes: {e}"));
        self.adopt(&block);
        block
    }

    /// An empty block on the builder's tip.
    pub fn next_block(&mut self) -> Block {
        self.child(self.tip, Vec::new())
    }

    /// `n` empty blocks on `parent`, oldest first.
    pub fn extend(&mut self, parent: Hash256, n: usize) -> Vec<Block> {
        let mut parent = parent;
        (0..n)
            .map(|_| {
                let block = self.child(parent, Vec::new());
                parent = block.id();
                block
            })
            .collect()
    }

    /// Remembers a block made elsewhere (a valid child of one of ours) as a possible parent,
    /// and makes it the tip.
    ///
    /// # Panics
    ///
    /// When its parent is unknown to the builder.
    pub fn adopt(&mut self, block: &Block) {
        if let Some(ctx) = self.tree.parent_context(&block.header.prev_hash)
            && let Ok(delta) = apply_block(
                &self.state.0,
                ctx.header.state_root,
                block.header.height,
                &block.items,
            )
        {
            for node in delta.nodes {
                self.state.0.insert(node);
            }
        }
        self.tree
            .insert(block.header)
            .unwrap_or_else(|e| panic!("block {} does not link: {e}", block.id()));
        self.tip = block.id();
    }
}
