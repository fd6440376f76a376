//! An in-memory chain of real mined blocks, used both as the local chain (a [`ChainView`]) and
//! as what a simulated peer serves.

use std::collections::HashMap;

use talos_chain::testkit::{easy_spec, mine};
use talos_chain::validate::ParentContext;
use talos_chain::{Block, BlockTemplate, ChainStatus, Hash256, NetworkSpec, Work};

use std::convert::Infallible;

use talos_chain::chain_state::StateAnswer;
use talos_chain::state::MemoryNodes;
use talos_chain::{BlockHeader, ItemProof};

use crate::machine::ChainView;
use crate::server::{ServeChain, StateServeError, prove_state};

/// A block tree with a best chain by cumulative work.
#[derive(Clone, Debug)]
pub struct TestChain {
    /// The network (the easy-target spec).
    pub spec: NetworkSpec,
    /// Every stored block with the context its children are validated against.
    blocks: HashMap<Hash256, (Block, ParentContext)>,
    /// Best chain ids by height.
    best: Vec<Hash256>,
    /// The clock the machine reads ([`ChainView::now_ms`]); by default later than any block
    /// here, so the future-drift rule only bites where a test sets it.
    pub now_ms: u64,
}

impl Default for TestChain {
    fn default() -> Self {
        Self::new()
    }
}

impl TestChain {
    /// Genesis only.
    pub fn new() -> Self {
        let spec = easy_spec();
        let genesis = spec.genesis();
        let ctx = ParentContext::for_genesis(&spec);
        let id = genesis.id();
        Self {
            spec,
            blocks: HashMap::from([(id, (genesis, ctx))]),
            best: vec![id],
            now_ms: u64::MAX / 2,
        }
    }

    /// Best tip height.
    pub fn height(&self) -> u64 {
        self.best.len() as u64 - 1
    }

    /// Best tip id.
    pub fn tip_id(&self) -> Hash256 {
        *self.best.last().expect("genesis")
    }

    /// The best chain's block at `height`.
    pub fn block_at(&self, height: u64) -> Option<&Block> {
        let id = self.best.get(usize::try_from(height).ok()?)?;
        self.blocks.get(id).map(|(b, _)| b)
    }

    /// A stored block.
    pub fn get(&self, id: &Hash256) -> Option<&Block> {
        self.blocks.get(id).map(|(b, _)| b)
    }

    /// An unmined child of `parent` (nonce 0), `salt` ms later than usual so forks differ.
    pub fn template_on(&self, parent: &Hash256, salt: u64) -> Block {
        let (_, ctx) = &self.blocks[parent];
        let now = ctx.header.timestamp_ms + self.spec.retarget.block_interval_ms + salt;
        BlockTemplate::empty(&self.spec, ctx, now).into_block()
    }

    /// Mines `n` blocks on `parent` and stores them; returns them oldest first.
    pub fn mine_on(&mut self, parent: Hash256, n: usize, salt: u64) -> Vec<Block> {
        let mut parent = parent;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let block = mine(self.template_on(&parent, salt));
            parent = block.id();
            self.import(block.clone()).expect("own block is valid");
            out.push(block);
        }
        out
    }

    /// Mines `n` blocks on the best tip.
    pub fn extend(&mut self, n: usize, salt: u64) -> Vec<Block> {
        self.mine_on(self.tip_id(), n, salt)
    }

    /// Validates (structure, signatures, context) and stores `block`; moves the best chain
    /// when it has more work. Returns the rule's code on rejection.
    pub fn import(&mut self, block: Block) -> Result<(), &'static str> {
        let id = block.id();
        if self.blocks.contains_key(&id) {
            return Ok(());
        }
        let (_, ctx) = self
            .blocks
            .get(&block.header.prev_hash)
            .ok_or("unknown_parent")?;
        let now = block.header.timestamp_ms;
        let valid = block
            .clone()
            .check(&self.spec)
            .and_then(|c| {
                c.validate(&self.spec, ctx, &(), now)
                    .map_err(talos_chain::ValidateError::into_invalid)
            })
            .map_err(|e| e.code())?;
        let child = ctx.child_context(&valid);
        self.store(block, child);
        Ok(())
    }

    /// Stores `block` without validating it (a peer serving an invalid chain).
    pub fn insert_unchecked(&mut self, block: Block) {
        let (_, ctx) = &self.blocks[&block.header.prev_hash];
        let child = ctx.child_of_header(&block.header);
        self.store(block, child);
    }

    fn store(&mut self, block: Block, ctx: ParentContext) {
        let id = block.id();
        let heavier = ctx.cumulative_work > self.tip_work();
        self.blocks.insert(id, (block, ctx));
        if heavier {
            let mut chain = Vec::new();
            let mut cursor = id;
            while let Some((b, _)) = self.blocks.get(&cursor) {
                chain.push(cursor);
                if b.header.height == 0 {
                    break;
                }
                cursor = b.header.prev_hash;
            }
            chain.reverse();
            self.best = chain;
        }
    }

    fn tip_work(&self) -> Work {
        self.blocks[&self.tip_id()].1.cumulative_work
    }

    /// The best tip as a status.
    pub fn status(&self) -> ChainStatus {
        ChainStatus {
            network_id: self.spec.network_id,
            genesis_hash: self.best[0],
            tip_hash: self.tip_id(),
            tip_height: self.height(),
            cumulative_work: self.tip_work(),
        }
    }
}

impl ChainView for TestChain {
    fn tip(&self) -> ChainStatus {
        self.status()
    }

    fn has_block(&self, id: &Hash256, height: u64) -> bool {
        self.blocks
            .get(id)
            .is_some_and(|(b, _)| b.header.height == height)
    }

    fn context(&self, id: &Hash256, height: u64) -> Option<ParentContext> {
        self.blocks
            .get(id)
            .filter(|(b, _)| b.header.height == height)
            .map(|(_, ctx)| ctx.clone())
    }

    fn spec(&self) -> &NetworkSpec {
        &self.spec
    }

    fn now_ms(&self) -> u64 {
        self.now_ms
    }
}

/// Why a [`TestChain`] could not answer: only a state proof under a root whose nodes it does
/// not hold (it keeps no state tree; its mined blocks change no state).
pub type TestChainError = StateServeError<Infallible>;

/// Serves its best chain (blocks by hash from any branch; it keeps no items, so no item
/// proofs; state proofs of the empty state its blocks carry).
impl ServeChain for TestChain {
    type Error = TestChainError;

    fn status(&self) -> Result<ChainStatus, TestChainError> {
        Ok(TestChain::status(self))
    }

    fn best_headers(&self, start: u64, max: usize) -> Result<Vec<BlockHeader>, TestChainError> {
        Ok((start..)
            .take(max)
            .map_while(|h| self.block_at(h).map(|b| b.header))
            .collect())
    }

    fn best_block_at(&self, height: u64) -> Result<Option<Block>, TestChainError> {
        Ok(self.block_at(height).cloned())
    }

    fn block(&self, id: &Hash256) -> Result<Option<Block>, TestChainError> {
        Ok(self.get(id).cloned())
    }

    fn item_proof(&self, _id: &Hash256) -> Result<Option<ItemProof>, TestChainError> {
        Ok(None)
    }

    fn state_proof(
        &self,
        block: &Hash256,
        key: &Hash256,
    ) -> Result<Option<StateAnswer>, TestChainError> {
        let Some(block) = self.get(block) else {
            return Ok(None);
        };
        prove_state(&MemoryNodes::new(), block.header.state_root, key, |_| {
            Ok(None)
        })
        .map(Some)
    }
}
