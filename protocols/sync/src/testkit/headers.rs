//! An in-memory header store: a light client's local chain, the [`ChainView`] of a machine run
//! in headers-only mode.

use std::collections::HashMap;

use talos_chain::header::HEADER_VERSION;
use talos_chain::testkit::easy_spec;
use talos_chain::{
    BlockHeader, ChainStatus, Hash256, NetworkSpec, ParentContext, Work, check_header_context,
};

use super::chain::TestChain;
use crate::machine::ChainView;

/// A header tree with a best chain by cumulative work; no bodies.
#[derive(Clone, Debug)]
pub struct HeaderChain {
    /// The network (the easy-target spec, as [`TestChain`]'s).
    pub spec: NetworkSpec,
    /// Every stored header with the context its children are checked against.
    headers: HashMap<Hash256, ParentContext>,
    /// Best chain ids by height.
    best: Vec<Hash256>,
    /// The clock headers are checked with; by default later than any header here.
    pub now_ms: u64,
}

impl Default for HeaderChain {
    fn default() -> Self {
        Self::new()
    }
}

impl HeaderChain {
    /// Genesis only.
    pub fn new() -> Self {
        let spec = easy_spec();
        let ctx = ParentContext::for_genesis(&spec);
        let id = ctx.id;
        Self {
            spec,
            headers: HashMap::from([(id, ctx)]),
            best: vec![id],
            now_ms: u64::MAX / 2,
        }
    }

    /// The headers of `chain`'s best chain.
    pub fn of_best_chain(chain: &TestChain) -> Self {
        let mut headers = Self::new();
        for height in 1..=chain.height() {
            if let Some(block) = chain.block_at(height) {
                // The chain's own blocks are valid.
                let _ = headers.import_header(block.header);
            }
        }
        headers
    }

    /// Best tip height.
    pub fn height(&self) -> u64 {
        self.best.len() as u64 - 1
    }

    /// Best tip id.
    pub fn tip_id(&self) -> Hash256 {
        self.best.last().copied().unwrap_or_default()
    }

    /// The id of the best chain's header at `height`.
    pub fn id_at(&self, height: u64) -> Option<Hash256> {
        self.best.get(usize::try_from(height).ok()?).copied()
    }

    /// Whether the header `id` is stored (any branch).
    pub fn contains(&self, id: &Hash256) -> bool {
        self.headers.contains_key(id)
    }

    /// Checks `header` as a light client's store does (version, network, its own work, then
    /// the chain rules against its parent) and stores it; moves the best chain when it has more
    /// work. Returns the rule's code on rejection.
    pub fn import_header(&mut self, header: BlockHeader) -> Result<(), &'static str> {
        let id = header.id();
        if self.headers.contains_key(&id) {
            return Ok(());
        }
        let parent = self
            .headers
            .get(&header.prev_hash)
            .ok_or("unknown_parent")?;
        if header.version != HEADER_VERSION {
            return Err("unsupported_version");
        }
        if header.network_id != self.spec.network_id {
            return Err("wrong_network");
        }
        if !header.meets_own_target() {
            return Err("insufficient_work");
        }
        check_header_context(&header, &self.spec, parent, self.now_ms).map_err(|e| e.code())?;
        let ctx = parent.child_of_header(&header);
        let heavier = ctx.cumulative_work > self.tip_work();
        self.headers.insert(id, ctx);
        if heavier {
            self.best = self.chain_to(id);
        }
        Ok(())
    }

    /// Ids from genesis to `id`.
    fn chain_to(&self, id: Hash256) -> Vec<Hash256> {
        let mut chain = Vec::new();
        let mut cursor = id;
        while let Some(ctx) = self.headers.get(&cursor) {
            chain.push(cursor);
            if ctx.header.height == 0 {
                break;
            }
            cursor = ctx.header.prev_hash;
        }
        chain.reverse();
        chain
    }

    fn tip_work(&self) -> Work {
        self.headers
            .get(&self.tip_id())
            .map_or(Work::ZERO, |ctx| ctx.cumulative_work)
    }

    /// The best tip as a status.
    pub fn status(&self) -> ChainStatus {
        ChainStatus {
            network_id: self.spec.network_id,
            genesis_hash: self.best.first().copied().unwrap_or_default(),
            tip_hash: self.tip_id(),
            tip_height: self.height(),
            cumulative_work: self.tip_work(),
        }
    }
}

impl ChainView for HeaderChain {
    fn tip(&self) -> ChainStatus {
        self.status()
    }

    fn has_block(&self, id: &Hash256, height: u64) -> bool {
        self.headers
            .get(id)
            .is_some_and(|ctx| ctx.header.height == height)
    }

    fn context(&self, id: &Hash256, height: u64) -> Option<ParentContext> {
        self.headers
            .get(id)
            .filter(|ctx| ctx.header.height == height)
            .cloned()
    }

    fn spec(&self) -> &NetworkSpec {
        &self.spec
    }

    fn now_ms(&self) -> u64 {
        self.now_ms
    }
}
