//! The state-cost figure of the light bench: the state root's share of block import.

use super::*;

// ---------------------------------------------------------------------------------------------
// Figure 3: what the state root adds to block import.

/// A full node's sled store as the chain service's lookup reads it: the best chain's item and
/// (author, nonce) indexes and the state nodes.
struct StoreLookup<'a>(&'a SledStore);

impl ItemLookup for StoreLookup<'_> {
    type Error = StorageError;

    fn contains_item(&self, id: &Hash256) -> Result<bool, StorageError> {
        Ok(self.0.item_location(id)?.is_some())
    }

    fn nonce_used(&self, author: &VerifyingKey, nonce: u64) -> Result<bool, StorageError> {
        Ok(self.0.item_by_nonce(author, nonce)?.is_some())
    }

    fn state_node(&self, hash: &Hash256) -> Result<Option<Node>, StorageError> {
        self.0.state_node(hash)
    }
}

/// A lookup's state nodes as the tree reads them (what validation hands `apply_block`).
struct LookupNodes<'a, L>(&'a L);

impl<L: ItemLookup> NodeSource for LookupNodes<'_, L> {
    type Error = L::Error;

    fn node(&self, hash: &Hash256) -> Result<Option<Node>, L::Error> {
        self.0.state_node(hash)
    }
}

/// What a block's items do to the state.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    /// 50 revocations of new capabilities, then 50 anchors of new DID documents.
    State,
    /// 100 plain anchors.
    Anchors,
}

/// The items of block number `b`: item `j` by author `j` with nonce `b`, so every
/// (author, nonce) pair and every state key is new.
fn bench_items(
    spec: &NetworkSpec,
    keys: &[SigningKey],
    b: u64,
    kind: BlockKind,
) -> Vec<SignedItem> {
    (0..ITEMS_PER_BLOCK)
        .map(|j| {
            let key = &keys[j % keys.len()];
            let tag = format!("{b}/{j}");
            let kind = match kind {
                BlockKind::State if j < ITEMS_PER_BLOCK / 2 => ItemKind::Revocation(Revocation {
                    capability_id: Hash256::sha256(format!("capability {tag}").as_bytes()),
                    reason: "light bench".into(),
                }),
                BlockKind::State => ItemKind::DidAnchor(DidAnchor {
                    did: format!("did:example:talos-light-bench-{b}-{j}"),
                    document_hash: Hash256::sha256(format!("document {tag}").as_bytes()),
                }),
                BlockKind::Anchors => ItemKind::Anchor(Anchor {
                    content_hash: Hash256::sha256(format!("content {tag}").as_bytes()),
                    label: format!("light bench {tag}"),
                }),
            };
            UnsignedItem {
                author: key.verifying_key(),
                nonce: b,
                timestamp_ms: spec.genesis_timestamp_ms + b * BLOCK_INTERVAL_MS,
                kind,
            }
            .sign(key, spec.network_id)
        })
        .collect()
}

/// A mined child of `ctx` carrying all of `items`, its state root read from `chain`.
fn mine_block<L: ItemLookup>(
    spec: &NetworkSpec,
    ctx: &ParentContext,
    items: Vec<SignedItem>,
    chain: &L,
) -> anyhow::Result<Block>
where
    L::Error: std::fmt::Debug,
{
    let count = items.len();
    let time = ctx.header.timestamp_ms + BLOCK_INTERVAL_MS;
    let template = BlockTemplate::from_items(spec, ctx, items, time, chain)
        .map_err(|e| anyhow!("state: {e:?}"))?;
    ensure!(template.items().len() == count, "the items do not fit");
    let header = mine_nonce(template.header(), MAX_NONCE_TRIES).context("mining failed")?;
    Ok(template.complete(header)?)
}

/// The chain of figure 3: a sled store and an in-memory index holding the same prefix, and
/// the measured sibling blocks on its tip.
struct StateChain {
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) store: SledStore,
    pub(crate) memory: MemoryItemIndex,
    /// The prefix's tip, parent of every measured block.
    pub(crate) tip: ParentContext,
    /// State entries the prefix set.
    pub(crate) entries: usize,
    /// State tree nodes a prefix state block stored, on average.
    pub(crate) nodes_per_block: f64,
    /// Commit time (one block per update) of a prefix state block, with its state nodes.
    pub(crate) state_commit: Duration,
    /// The same for a prefix anchor block.
    pub(crate) anchor_commit: Duration,
    pub(crate) state_blocks: Vec<Block>,
    pub(crate) anchor_blocks: Vec<Block>,
}

/// The item sets of figure 3, signed on every core: the prefix (state and anchor blocks
/// alternating, [`STATE_PREFIX_BLOCKS`] of each), then the measured state blocks, then the
/// measured anchor blocks.
type ItemSets = (
    Vec<(BlockKind, Vec<SignedItem>)>,
    Vec<Vec<SignedItem>>,
    Vec<Vec<SignedItem>>,
);

fn sign_state_sets(spec: &NetworkSpec) -> anyhow::Result<ItemSets> {
    let keys = chain_gen::authors();
    let prefix = 2 * STATE_PREFIX_BLOCKS;
    let total = prefix + 2 * MEASURED_BLOCKS;
    let kind_of = |b: u64| match b {
        b if b <= prefix && b % 2 == 1 => BlockKind::State,
        b if b <= prefix => BlockKind::Anchors,
        b if b <= prefix + MEASURED_BLOCKS => BlockKind::State,
        _ => BlockKind::Anchors,
    };
    let mut signed = chain_gen::par_map(total, |b| {
        (kind_of(b), bench_items(spec, &keys, b, kind_of(b)))
    });
    ensure!(signed.len() as u64 == total, "a signing thread failed");
    let anchors = signed.split_off((prefix + MEASURED_BLOCKS) as usize);
    let state = signed.split_off(prefix as usize);
    let items =
        |sets: Vec<(BlockKind, Vec<SignedItem>)>| sets.into_iter().map(|(_, i)| i).collect();
    Ok((signed, items(state), items(anchors)))
}

fn build_state_chain(spec: &NetworkSpec) -> anyhow::Result<StateChain> {
    let (prefix, state, anchors) = sign_state_sets(spec)?;
    let dir = tempfile::tempdir()?;
    let store = SledStore::open(
        dir.path().join("chain"),
        &spec.genesis(),
        SledConfig::for_spec(spec),
    )?;
    let mut memory = MemoryItemIndex::new();
    let mut tip = ParentContext::for_genesis(spec);
    let (mut entries, mut nodes) = (0, 0);
    let (mut state_commit, mut anchor_commit) = (Duration::ZERO, Duration::ZERO);
    for (kind, items) in prefix {
        let block = mine_block(spec, &tip, items, &StoreLookup(&store))?;
        let now = block.header.timestamp_ms;
        let valid = block
            .check(spec)?
            .validate(spec, &tip, &StoreLookup(&store), now)
            .map_err(|e| anyhow!("prefix block invalid: {e}"))?;
        let next = tip.child_context(&valid);
        let (cumulative_work, state) = (valid.cumulative_work(), valid.state().clone());
        let block = Arc::new(valid.into_block());
        memory.add_block(&block);
        entries += state.records.len();
        nodes += state.nodes.len();
        let update = chain_extension(vec![NewBlock {
            block,
            cumulative_work,
            state_nodes: state.nodes,
            state_records: state.records,
        }])?;
        let t = Instant::now();
        store.commit(update)?;
        match kind {
            BlockKind::State => state_commit += t.elapsed(),
            BlockKind::Anchors => anchor_commit += t.elapsed(),
        }
        tip = next;
    }
    ensure!(
        memory.state_root() == tip.header.state_root,
        "state roots differ"
    );
    let mine_all = |sets: Vec<Vec<SignedItem>>| -> anyhow::Result<Vec<Block>> {
        sets.into_iter()
            .map(|items| mine_block(spec, &tip, items, &StoreLookup(&store)))
            .collect()
    };
    let (state_blocks, anchor_blocks) = (mine_all(state)?, mine_all(anchors)?);
    let per_block = u32::try_from(STATE_PREFIX_BLOCKS).unwrap_or(u32::MAX);
    Ok(StateChain {
        _dir: dir,
        store,
        memory,
        tip,
        entries,
        nodes_per_block: nodes as f64 / STATE_PREFIX_BLOCKS as f64,
        state_commit: state_commit / per_block,
        anchor_commit: anchor_commit / per_block,
        state_blocks,
        anchor_blocks,
    })
}

/// A node source that counts its reads.
struct Counting<S> {
    pub(crate) inner: S,
    pub(crate) reads: std::cell::Cell<u64>,
}

impl<S: NodeSource> NodeSource for Counting<S> {
    type Error = S::Error;

    fn node(&self, hash: &Hash256) -> Result<Option<Node>, S::Error> {
        self.reads.set(self.reads.get() + 1);
        self.inner.node(hash)
    }
}

/// State nodes `apply_block` reads per block of `blocks`, on average (untimed).
fn reads_per_block<L: ItemLookup>(tip: &ParentContext, chain: &L, blocks: &[Block]) -> f64
where
    L::Error: std::fmt::Debug,
{
    let source = Counting {
        inner: LookupNodes(chain),
        reads: std::cell::Cell::new(0),
    };
    for block in blocks {
        let _ = apply_block(
            &source,
            tip.header.state_root,
            block.header.height,
            &block.items,
        );
    }
    source.reads.get() as f64 / blocks.len().max(1) as f64
}

/// Per-block medians of one kind of block against one lookup.
#[derive(Clone, Copy)]
pub(crate) struct Timing {
    /// `check` + `validate`.
    pub(crate) import: Duration,
    /// `apply_block` alone.
    pub(crate) state: Duration,
}

impl Timing {
    pub(crate) fn fraction(&self) -> f64 {
        self.state.as_secs_f64() / self.import.as_secs_f64()
    }
}

/// Times `check` + `validate` of every block (each a child of `tip`), then `apply_block` of the
/// same blocks, `rounds` times; returns the per-block medians.
fn time_blocks<L: ItemLookup>(
    spec: &NetworkSpec,
    tip: &ParentContext,
    chain: &L,
    blocks: &[Block],
    rounds: usize,
) -> anyhow::Result<Timing>
where
    L::Error: Display + std::fmt::Debug,
{
    let (mut import, mut state) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let copies = blocks.to_vec();
        let mut valid = Vec::with_capacity(copies.len());
        let t = Instant::now();
        for block in copies {
            let now = block.header.timestamp_ms;
            let checked = block.check(spec)?;
            let block = checked
                .validate(spec, tip, chain, now)
                .map_err(|e| anyhow!("measured block invalid: {e}"))?;
            valid.push(black_box(block));
        }
        import.push(t.elapsed());
        drop(valid);
        let mut states = Vec::with_capacity(blocks.len());
        let t = Instant::now();
        for block in blocks {
            let applied = apply_block(
                &LookupNodes(chain),
                tip.header.state_root,
                block.header.height,
                &block.items,
            )
            .map_err(|e| anyhow!("apply_block: {e:?}"))?;
            ensure!(
                applied.root == block.header.state_root,
                "state root differs"
            );
            states.push(black_box(applied));
        }
        state.push(t.elapsed());
    }
    let per_block = |mut times: Vec<Duration>| {
        times.sort();
        times[times.len() / 2] / u32::try_from(blocks.len()).unwrap_or(u32::MAX)
    };
    Ok(Timing {
        import: per_block(import),
        state: per_block(state),
    })
}

/// Figure 3's timings: state-setting and anchor blocks, against sled and in memory.
pub(crate) struct StateFigure {
    pub(crate) entries: usize,
    pub(crate) nodes_per_block: f64,
    pub(crate) reads_per_block: f64,
    pub(crate) state_commit: Duration,
    pub(crate) anchor_commit: Duration,
    pub(crate) sled_state: Timing,
    pub(crate) sled_anchors: Timing,
    pub(crate) memory_state: Timing,
    pub(crate) memory_anchors: Timing,
}

pub(crate) fn state_figure(spec: &NetworkSpec, rounds: usize) -> anyhow::Result<StateFigure> {
    let chain = build_state_chain(spec)?;
    let sled = StoreLookup(&chain.store);
    let (tip, state, anchors) = (&chain.tip, &chain.state_blocks, &chain.anchor_blocks);
    // One untimed pass warms the caches.
    time_blocks(spec, tip, &sled, state, 1)?;
    Ok(StateFigure {
        entries: chain.entries,
        nodes_per_block: chain.nodes_per_block,
        reads_per_block: reads_per_block(tip, &sled, state),
        state_commit: chain.state_commit,
        anchor_commit: chain.anchor_commit,
        sled_state: time_blocks(spec, tip, &sled, state, rounds)?,
        sled_anchors: time_blocks(spec, tip, &sled, anchors, rounds)?,
        memory_state: time_blocks(spec, tip, &chain.memory, state, rounds)?,
        memory_anchors: time_blocks(spec, tip, &chain.memory, anchors, rounds)?,
    })
}
