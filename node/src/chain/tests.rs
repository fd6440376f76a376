//! Chain service tests over a real sled store in a temporary directory, with an easy target so
//! that every block is mined in a few hashes.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use libp2p::PeerId;
use talos_chain::item::Anchor;
use talos_chain::{
    Block, BlockTemplate, CompactTarget, Hash256, HeaderTree, ItemKind, NetworkSpec, SignedItem,
    SigningKey, UnsignedItem, mine_nonce,
};
use talos_storage::{SledStore, Store};
use tokio::sync::{Notify, broadcast, mpsc, oneshot};

use super::{ChainChannels, ChainService, ChainServiceConfig, spawn};
use crate::handle::{ChainCommand, NodeEvent, SubmitError};
use crate::metrics::NodeMetrics;
use crate::pipeline::{
    BlockSource, ChainNotice, GossipItem, ImportOutcome, ImportRequest, ItemVerdict, NOTICE_QUEUE,
};

const WAIT: Duration = Duration::from_secs(10);
const EASY: CompactTarget = CompactTarget(0x207f_ffff);

fn easy_spec() -> NetworkSpec {
    let mut spec = NetworkSpec::local();
    spec.genesis_target = EASY;
    spec.retarget.pow_limit = EASY;
    spec
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn unsigned(spec: &NetworkSpec, key: &SigningKey, nonce: u64) -> UnsignedItem {
    UnsignedItem {
        author: key.verifying_key(),
        nonce,
        timestamp_ms: spec.genesis_timestamp_ms,
        kind: ItemKind::Anchor(Anchor {
            content_hash: Hash256::sha256(&nonce.to_be_bytes()),
            label: "test".into(),
        }),
    }
}

fn item(spec: &NetworkSpec, key: &SigningKey, nonce: u64) -> SignedItem {
    unsigned(spec, key, nonce).sign(key, spec.network_id)
}

/// Signed for another network: the signature does not verify here.
fn badly_signed_item(spec: &NetworkSpec, key: &SigningKey, nonce: u64) -> SignedItem {
    unsigned(spec, key, nonce).sign(key, spec.network_id ^ 1)
}

/// Builds valid blocks the way a remote peer would: its own fork-choice tree, templates and a
/// nonce search.
struct PeerChain {
    spec: NetworkSpec,
    tree: HeaderTree,
}

impl PeerChain {
    fn new(spec: &NetworkSpec) -> Self {
        Self {
            spec: spec.clone(),
            tree: HeaderTree::new(spec),
        }
    }

    fn genesis(&self) -> Hash256 {
        self.spec.genesis_hash()
    }

    /// An unmined template on `parent` one block interval after it.
    fn template(&self, parent: Hash256, items: Vec<SignedItem>) -> BlockTemplate {
        let ctx = self
            .tree
            .parent_context(&parent, &self.spec)
            .expect("known parent");
        let time = ctx.header.timestamp_ms + self.spec.retarget.block_interval_ms;
        BlockTemplate::from_items(&self.spec, &ctx, items, time)
    }

    /// A valid block on `parent` carrying `items`, remembered as a possible parent.
    fn child(&mut self, parent: Hash256, items: Vec<SignedItem>) -> Block {
        let block = mine(self.template(parent, items));
        self.tree.insert(block.header).expect("linked header");
        block
    }
}

fn mine(template: BlockTemplate) -> Block {
    let header = mine_nonce(template.header(), 1_000_000).expect("easy target");
    template.complete(header).expect("same template")
}

/// A running service over a sled store, with its outputs.
struct Harness {
    store: Arc<dyn Store>,
    channels: ChainChannels,
    service: ChainService,
    notices: mpsc::Receiver<ChainNotice>,
    events: broadcast::Receiver<NodeEvent>,
    shutdown: Arc<Notify>,
    metrics: NodeMetrics,
}

impl Harness {
    fn start(path: &Path, config: ChainServiceConfig) -> Self {
        let store: Arc<dyn Store> =
            Arc::new(SledStore::open_for_spec(path, &config.spec).expect("open store"));
        let (events_tx, events) = broadcast::channel(256);
        let (notices_tx, notices) = mpsc::channel(NOTICE_QUEUE);
        let shutdown = Arc::new(Notify::new());
        let metrics = NodeMetrics::default();
        let (channels, service) = spawn(
            config,
            Arc::clone(&store),
            metrics.clone(),
            events_tx,
            notices_tx,
            Arc::clone(&shutdown),
        )
        .expect("spawn");
        Self {
            store,
            channels,
            service,
            notices,
            events,
            shutdown,
            metrics,
        }
    }

    async fn import(&self, block: Block, source: BlockSource) -> ImportOutcome {
        let (reply, rx) = oneshot::channel();
        self.channels
            .imports
            .send(ImportRequest {
                block,
                source,
                reply: Some(reply),
            })
            .await
            .expect("service running");
        tokio::time::timeout(WAIT, rx)
            .await
            .expect("verdict in time")
            .expect("verdict sent")
    }

    async fn command<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> ChainCommand) -> T {
        let (reply, rx) = oneshot::channel();
        self.channels
            .commands
            .send(make(reply))
            .await
            .expect("service running");
        tokio::time::timeout(WAIT, rx)
            .await
            .expect("reply in time")
            .expect("reply sent")
    }

    async fn submit(&self, item: SignedItem) -> Result<Hash256, SubmitError> {
        self.command(|reply| ChainCommand::SubmitItem { item, reply })
            .await
    }

    async fn mempool_len(&self) -> usize {
        self.command(|reply| ChainCommand::MempoolLen { reply })
            .await
    }

    async fn mempool_item(&self, id: Hash256) -> Option<SignedItem> {
        self.command(|reply| ChainCommand::MempoolItem { id, reply })
            .await
    }

    async fn gossip(&self, item: SignedItem) -> ItemVerdict {
        let (reply, rx) = oneshot::channel();
        self.channels
            .gossip_items
            .send(GossipItem {
                item,
                from: PeerId::random(),
                reply,
            })
            .await
            .expect("service running");
        tokio::time::timeout(WAIT, rx)
            .await
            .expect("verdict in time")
            .expect("verdict sent")
    }

    /// The next notice matching `pick`, skipping others.
    async fn notice<T>(&mut self, mut pick: impl FnMut(ChainNotice) -> Option<T>) -> T {
        let wait = async {
            loop {
                let notice = self.notices.recv().await.expect("notices open");
                if let Some(found) = pick(notice) {
                    return found;
                }
            }
        };
        tokio::time::timeout(WAIT, wait)
            .await
            .expect("notice in time")
    }

    /// Every notice already queued.
    fn queued_notices(&mut self) -> Vec<ChainNotice> {
        std::iter::from_fn(|| self.notices.try_recv().ok()).collect()
    }

    async fn stop(self) -> Arc<dyn Store> {
        self.shutdown.notify_waiters();
        tokio::time::timeout(WAIT, self.service.join())
            .await
            .expect("stops in time")
            .expect("clean stop");
        self.store
    }
}

fn config() -> ChainServiceConfig {
    ChainServiceConfig::new(easy_spec())
}

#[tokio::test]
async fn mining_extends_the_chain_into_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::start(dir.path(), config().with_mine(true).with_miner_threads(1));
    let pending = item(&easy_spec(), &key(1), 0);
    let pending_id = h.submit(pending.clone()).await.expect("admitted");
    let mut heights = Vec::new();
    while heights.len() < 3 {
        let (height, announced) = h
            .notice(|n| match n {
                ChainNotice::NewTip { tip, announce, .. } => Some((tip.height, announce)),
                _ => None,
            })
            .await;
        let block = announced.expect("a mined tip is announced");
        assert_eq!(block.header.height, height);
        heights.push(height);
    }
    assert_eq!(heights, vec![1, 2, 3], "each mined block extends the last");
    let tip = h.store.tip().unwrap();
    assert!(tip.height >= 3);
    for height in 1..=3 {
        let block = h.store.best_block_at(height).unwrap().expect("stored");
        let parent = h.store.best_id_at(height - 1).unwrap().unwrap();
        assert_eq!(block.header.prev_hash, parent);
    }
    let (_, location) = h
        .store
        .item(&pending_id)
        .unwrap()
        .expect("the pending item was mined");
    assert!(location.height >= 1);
    assert_eq!(h.mempool_len().await, 0);
    assert!(h.metrics.height.get() >= 3);
    h.stop().await;
}

#[tokio::test]
async fn a_valid_peer_block_imports_and_is_not_announced_again() {
    let dir = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let mut h = Harness::start(dir.path(), config());
    let mut peer = PeerChain::new(&spec);
    let it = item(&spec, &key(2), 7);
    let block = peer.child(peer.genesis(), vec![it.clone()]);
    let from = PeerId::random();

    assert_eq!(
        h.import(block.clone(), BlockSource::Gossip(from)).await,
        ImportOutcome::Imported { new_tip: true }
    );
    let (tip, depth, announce) = h
        .notice(|n| match n {
            ChainNotice::NewTip {
                tip,
                reorg_depth,
                announce,
            } => Some((tip, reorg_depth, announce)),
            _ => None,
        })
        .await;
    assert_eq!((tip.id, tip.height, depth), (block.id(), 1, 0));
    // gossipsub forwards a validated gossip block itself; republishing would be a duplicate.
    assert_eq!(announce, None);
    match h.events.recv().await.unwrap() {
        NodeEvent::NewTip {
            id,
            height,
            reorg_depth,
        } => {
            assert_eq!((id.0, height, reorg_depth), (block.id(), 1, 0));
        }
        other => panic!("unexpected event {other:?}"),
    }
    assert_eq!(h.store.tip().unwrap().id, block.id());
    assert!(h.store.item(&it.id()).unwrap().is_some());
    assert_eq!(
        h.import(block, BlockSource::Sync(from)).await,
        ImportOutcome::AlreadyKnown
    );
    assert_eq!(h.metrics.height.get(), 1);
    h.stop().await;
}

#[tokio::test]
async fn invalid_blocks_are_rejected_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let mut h = Harness::start(dir.path(), config());
    let mut peer = PeerChain::new(&spec);
    let from = PeerId::random();

    // A Merkle root that does not match the items.
    let template = peer.template(peer.genesis(), vec![item(&spec, &key(3), 0)]);
    let mut header = *template.header();
    header.merkle_root = Hash256::sha256(b"not the root");
    let header = mine_nonce(&header, 1_000_000).unwrap();
    let bad_root = Block {
        header,
        items: template.items().to_vec(),
    };
    assert_eq!(
        h.import(bad_root.clone(), BlockSource::Gossip(from)).await,
        ImportOutcome::Invalid {
            code: "merkle_root_mismatch"
        }
    );
    let (peer_id, code) = h
        .notice(|n| match n {
            ChainNotice::BadBlock { peer, code } => Some((peer, code)),
            _ => None,
        })
        .await;
    assert_eq!((peer_id, code), (from, "merkle_root_mismatch"));
    // Sent again: refused from memory, reported again.
    assert_eq!(
        h.import(bad_root.clone(), BlockSource::Sync(from)).await,
        ImportOutcome::Invalid {
            code: "merkle_root_mismatch"
        }
    );

    // A child of an invalid block is invalid whatever it holds.
    peer.tree.insert(bad_root.header).unwrap();
    let child = peer.child(bad_root.id(), Vec::new());
    assert_eq!(
        h.import(child, BlockSource::Gossip(from)).await,
        ImportOutcome::Invalid {
            code: "invalid_parent"
        }
    );

    // An item signature that does not verify.
    let bad_sig = mine(peer.template(peer.genesis(), vec![badly_signed_item(&spec, &key(3), 1)]));
    assert_eq!(
        h.import(bad_sig, BlockSource::Gossip(from)).await,
        ImportOutcome::Invalid {
            code: "bad_signature"
        }
    );

    // Too far in the future: maybe our clock; dropped without blame.
    let ctx = peer.tree.parent_context(&peer.genesis(), &spec).unwrap();
    let future = super::service::now_ms() + spec.max_future_drift_ms + 60_000;
    let ahead = mine(BlockTemplate::from_items(&spec, &ctx, Vec::new(), future));
    assert_eq!(
        h.import(ahead, BlockSource::Gossip(from)).await,
        ImportOutcome::Dropped
    );

    let notices = h.queued_notices();
    let blamed: Vec<&str> = notices
        .iter()
        .filter_map(|n| match n {
            ChainNotice::BadBlock { code, .. } => Some(*code),
            _ => None,
        })
        .collect();
    assert_eq!(
        blamed,
        vec!["merkle_root_mismatch", "invalid_parent", "bad_signature"]
    );
    assert!(
        !notices
            .iter()
            .any(|n| matches!(n, ChainNotice::NewTip { .. }))
    );
    assert_eq!(h.store.tip().unwrap().height, 0);
    let rejected = h
        .metrics
        .blocks_rejected
        .get_or_create(&crate::metrics::CodeLabel {
            code: "merkle_root_mismatch".into(),
        })
        .get();
    assert_eq!(rejected, 2);
    h.stop().await;
}

#[tokio::test]
async fn an_orphan_waits_for_its_parent() {
    let dir = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let mut h = Harness::start(dir.path(), config());
    let mut peer = PeerChain::new(&spec);
    let b1 = peer.child(peer.genesis(), vec![item(&spec, &key(4), 0)]);
    let b2 = peer.child(b1.id(), vec![item(&spec, &key(4), 1)]);
    let b3 = peer.child(b2.id(), Vec::new());
    let from = PeerId::random();

    assert_eq!(
        h.import(b3.clone(), BlockSource::Gossip(from)).await,
        ImportOutcome::Orphan { parent: b2.id() }
    );
    assert_eq!(
        h.import(b2.clone(), BlockSource::Gossip(from)).await,
        ImportOutcome::Orphan { parent: b1.id() }
    );
    let asked: Vec<(PeerId, Hash256)> = h
        .queued_notices()
        .into_iter()
        .filter_map(|n| match n {
            ChainNotice::MissingParent { peer, parent } => Some((peer, parent)),
            _ => None,
        })
        .collect();
    assert_eq!(asked, vec![(from, b2.id()), (from, b1.id())]);
    assert_eq!(
        h.import(b3.clone(), BlockSource::Gossip(from)).await,
        ImportOutcome::AlreadyKnown,
        "an orphan sent twice is kept once"
    );

    assert_eq!(
        h.import(b1.clone(), BlockSource::Sync(from)).await,
        ImportOutcome::Imported { new_tip: true }
    );
    let tips: Vec<u64> = h
        .queued_notices()
        .into_iter()
        .filter_map(|n| match n {
            ChainNotice::NewTip { tip, .. } => Some(tip.height),
            _ => None,
        })
        .collect();
    assert_eq!(tips, vec![1, 2, 3], "the orphans followed their parent");
    assert_eq!(h.store.tip().unwrap().id, b3.id());
    h.stop().await;
}

#[tokio::test]
async fn a_heavier_side_branch_reorganises_store_and_mempool() {
    let dir = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let mut h = Harness::start(dir.path(), config());
    let mut peer = PeerChain::new(&spec);
    let from = PeerId::random();
    let g = peer.genesis();
    let x = item(&spec, &key(5), 0);
    let y = item(&spec, &key(6), 0);
    let z = item(&spec, &key(5), 1);

    let a1 = peer.child(g, vec![x.clone()]);
    let a2 = peer.child(a1.id(), vec![z.clone()]);
    let b1 = peer.child(g, vec![y.clone()]);
    // X is in the best chain, but above the fork point: valid on this branch.
    let b2 = peer.child(b1.id(), vec![x.clone()]);
    // Y is already on this branch (in b1): invalid here although the best chain lacks it.
    let b2_replay = mine(peer.template(b1.id(), vec![y.clone()]));
    let b3 = peer.child(b2.id(), Vec::new());

    for block in [&a1, &a2] {
        assert_eq!(
            h.import(block.clone(), BlockSource::Gossip(from)).await,
            ImportOutcome::Imported { new_tip: true }
        );
    }
    assert_eq!(
        h.import(b1.clone(), BlockSource::Gossip(from)).await,
        ImportOutcome::Imported { new_tip: false }
    );
    assert_eq!(
        h.import(b2.clone(), BlockSource::Gossip(from)).await,
        ImportOutcome::Imported { new_tip: false },
        "equal work: the first tip seen stays"
    );
    assert_eq!(
        h.import(b2_replay, BlockSource::Gossip(from)).await,
        ImportOutcome::Invalid {
            code: "item_already_in_chain"
        }
    );
    assert_eq!(h.store.tip().unwrap().id, a2.id());
    h.queued_notices();

    assert_eq!(
        h.import(b3.clone(), BlockSource::Sync(from)).await,
        ImportOutcome::Imported { new_tip: true }
    );
    let (tip, depth) = h
        .notice(|n| match n {
            ChainNotice::NewTip {
                tip, reorg_depth, ..
            } => Some((tip, reorg_depth)),
            _ => None,
        })
        .await;
    assert_eq!((tip.id, tip.height, depth), (b3.id(), 3, 2));

    let store = &h.store;
    assert_eq!(store.tip().unwrap().id, b3.id());
    for (height, block) in [(1, &b1), (2, &b2), (3, &b3)] {
        assert_eq!(store.best_id_at(height).unwrap(), Some(block.id()));
    }
    assert_eq!(store.item(&x.id()).unwrap().unwrap().1.block, b2.id());
    assert_eq!(store.item(&y.id()).unwrap().unwrap().1.block, b1.id());
    assert!(
        store.item(&z.id()).unwrap().is_none(),
        "Z left the best chain"
    );
    assert_eq!(
        store.item_by_nonce(z.author(), z.nonce()).unwrap(),
        None,
        "Z's nonce is free again"
    );
    // Z went back to the mempool; X is in the new chain and did not.
    assert_eq!(h.mempool_len().await, 1);
    assert_eq!(h.mempool_item(z.id()).await, Some(z.clone()));
    assert_eq!(h.mempool_item(x.id()).await, None);
    assert_eq!(h.metrics.reorgs.get(), 1);
    assert_eq!(h.metrics.height.get(), 3);
    h.stop().await;
}

#[tokio::test]
async fn a_stored_side_branch_is_followed_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let spec = easy_spec();
    let mut peer = PeerChain::new(&spec);
    let from = PeerId::random();
    let g = peer.genesis();
    let a1 = peer.child(g, Vec::new());
    let a2 = peer.child(a1.id(), Vec::new());
    let s1 = peer.child(g, vec![item(&spec, &key(7), 0)]);

    let h = Harness::start(&path, config());
    for block in [&a1, &a2, &s1] {
        assert!(matches!(
            h.import(block.clone(), BlockSource::Sync(from)).await,
            ImportOutcome::Imported { .. }
        ));
    }
    let store = h.stop().await;
    drop(store);

    // The restarted service loads the best chain only; s1 is found in the store when a
    // child needs it.
    let h = Harness::start(&path, config());
    assert_eq!(h.store.tip().unwrap().id, a2.id());
    let s2 = peer.child(s1.id(), vec![item(&spec, &key(7), 1)]);
    let s3 = peer.child(s2.id(), Vec::new());
    assert_eq!(
        h.import(s2, BlockSource::Sync(from)).await,
        ImportOutcome::Imported { new_tip: false }
    );
    assert_eq!(
        h.import(s3.clone(), BlockSource::Sync(from)).await,
        ImportOutcome::Imported { new_tip: true }
    );
    assert_eq!(h.store.tip().unwrap().id, s3.id());
    assert_eq!(h.store.best_id_at(1).unwrap(), Some(s1.id()));
    h.stop().await;
}

#[tokio::test]
async fn submitted_items_are_published_once() {
    let dir = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let mut h = Harness::start(dir.path(), config());
    let it = item(&spec, &key(8), 0);

    assert_eq!(h.submit(it.clone()).await, Ok(it.id()));
    let published = h
        .notice(|n| match n {
            ChainNotice::PublishItem(item) => Some(item),
            _ => None,
        })
        .await;
    assert_eq!(published, it);
    match h.events.recv().await.unwrap() {
        NodeEvent::NewItem { id } => assert_eq!(id.0, it.id()),
        other => panic!("unexpected event {other:?}"),
    }
    let duplicate = h.submit(it.clone()).await.unwrap_err();
    assert_eq!(duplicate.code, "duplicate");
    let bad = h
        .submit(badly_signed_item(&spec, &key(8), 1))
        .await
        .unwrap_err();
    assert_eq!(bad.code, "bad_signature");
    assert!(
        h.queued_notices().is_empty(),
        "refused items are not published"
    );
    assert_eq!(h.mempool_len().await, 1);
    assert_eq!(h.mempool_item(it.id()).await, Some(it));
    assert_eq!(h.metrics.mempool_items.get(), 1);
    h.stop().await;
}

#[tokio::test]
async fn gossip_items_get_a_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let mut h = Harness::start(dir.path(), config());
    let good = item(&spec, &key(9), 0);

    assert_eq!(
        h.gossip(badly_signed_item(&spec, &key(9), 1)).await,
        ItemVerdict::Rejected {
            code: "bad_signature"
        }
    );
    assert_eq!(h.gossip(good.clone()).await, ItemVerdict::Accepted);
    assert_eq!(h.gossip(good.clone()).await, ItemVerdict::Ignored);
    // Gossip items are forwarded by gossipsub itself, never republished.
    assert!(h.queued_notices().is_empty());
    assert_eq!(h.mempool_len().await, 1);

    // Once in the chain, the item is ignored.
    let mut peer = PeerChain::new(&spec);
    let block = peer.child(peer.genesis(), vec![good.clone()]);
    assert_eq!(
        h.import(block, BlockSource::Gossip(PeerId::random())).await,
        ImportOutcome::Imported { new_tip: true }
    );
    assert_eq!(
        h.mempool_len().await,
        0,
        "the block took it out of the pool"
    );
    assert_eq!(h.gossip(good).await, ItemVerdict::Ignored);
    h.stop().await;
}

#[tokio::test]
async fn the_service_stops_when_its_queues_close() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::start(dir.path(), config().with_mine(true));
    let Harness {
        channels, service, ..
    } = h;
    drop(channels);
    tokio::time::timeout(WAIT, service.join())
        .await
        .expect("stops in time")
        .expect("clean stop");
}

#[tokio::test]
async fn a_reorg_deeper_than_one_update_is_committed_in_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let h = Harness::start(dir.path(), config());
    let mut peer = PeerChain::new(&spec);
    let from = PeerId::random();
    let depth = talos_storage::MAX_UPDATE_BLOCKS / 2 + 8;
    let mut build = |first: SignedItem, len: usize| {
        let mut parent = peer.genesis();
        let mut blocks = Vec::with_capacity(len);
        for n in 0..len {
            let items = if n == 0 {
                vec![first.clone()]
            } else {
                Vec::new()
            };
            let block = peer.child(parent, items);
            parent = block.id();
            blocks.push(block);
        }
        blocks
    };
    let lost = item(&spec, &key(10), 0);
    let a = build(lost.clone(), depth);
    let b = build(item(&spec, &key(11), 0), depth + 1);
    for block in &a {
        assert_eq!(
            h.import(block.clone(), BlockSource::Sync(from)).await,
            ImportOutcome::Imported { new_tip: true }
        );
    }
    for block in &b[..depth] {
        assert_eq!(
            h.import(block.clone(), BlockSource::Sync(from)).await,
            ImportOutcome::Imported { new_tip: false }
        );
    }
    let last = b[depth].clone();
    assert_eq!(
        h.import(last.clone(), BlockSource::Sync(from)).await,
        ImportOutcome::Imported { new_tip: true }
    );
    let tip = h.store.tip().unwrap();
    assert_eq!((tip.id, tip.height), (last.id(), depth as u64 + 1));
    assert_eq!(h.store.best_id_at(1).unwrap(), Some(b[0].id()));
    assert!(h.store.item(&lost.id()).unwrap().is_none());
    assert_eq!(
        h.mempool_item(lost.id()).await,
        None,
        "only the newest blocks' items return"
    );
    h.stop().await;
}

#[tokio::test]
async fn a_restart_loads_fork_choice_from_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let spec = easy_spec();
    let shallow = || {
        config().with_fork_choice(
            talos_chain::ForkChoiceConfig::default()
                .with_max_headers(64)
                .with_keep_depth(4),
        )
    };
    let mut peer = PeerChain::new(&spec);
    let from = PeerId::random();
    let mut a = vec![spec.genesis()];
    for n in 0..10u64 {
        let parent = a[a.len() - 1].id();
        a.push(peer.child(parent, vec![item(&spec, &key(12), n)]));
    }
    let h = Harness::start(&path, shallow());
    for block in &a[1..] {
        assert_eq!(
            h.import(block.clone(), BlockSource::Sync(from)).await,
            ImportOutcome::Imported { new_tip: true }
        );
    }
    drop(h.stop().await);

    // Restarted with a tree rooted at height 10 - 4 = 6: a fork above the root is followed
    // (median time past and retarget come from the checkpoint's ancestors), one below it is
    // too deep.
    let mut h = Harness::start(&path, shallow());
    let mut side = vec![a[7].clone()];
    for _ in 0..4 {
        let parent = side[side.len() - 1].id();
        side.push(peer.child(parent, Vec::new()));
    }
    for block in &side[1..4] {
        assert_eq!(
            h.import(block.clone(), BlockSource::Sync(from)).await,
            ImportOutcome::Imported { new_tip: false }
        );
    }
    assert_eq!(
        h.import(side[4].clone(), BlockSource::Sync(from)).await,
        ImportOutcome::Imported { new_tip: true }
    );
    let depth = h
        .notice(|n| match n {
            ChainNotice::NewTip { reorg_depth, .. } => Some(reorg_depth),
            _ => None,
        })
        .await;
    assert_eq!(depth, 3);
    assert_eq!(h.store.tip().unwrap().height, 11);
    // Items of a8..a10 went back to the pool.
    assert_eq!(h.mempool_len().await, 3);

    let deep = peer.child(a[2].id(), Vec::new());
    assert_eq!(
        h.import(deep, BlockSource::Sync(from)).await,
        ImportOutcome::Dropped
    );
    h.stop().await;
}

#[test]
fn the_orphan_pool_is_bounded_and_expires() {
    use std::time::Instant;

    use super::orphans::OrphanPool;

    let spec = easy_spec();
    let mut peer = PeerChain::new(&spec);
    let g = peer.genesis();
    let blocks: Vec<Block> = (0..3u64)
        .map(|n| peer.child(g, vec![item(&spec, &key(13), n)]))
        .collect();
    let children: Vec<_> = blocks
        .iter()
        .map(|b| peer.child(b.id(), Vec::new()).check(&spec).unwrap())
        .collect();
    let ttl = Duration::from_secs(60);
    let mut pool = OrphanPool::new(2, 1 << 20, ttl);
    let start = Instant::now();
    for child in children {
        assert!(pool.insert(child, BlockSource::Mined, start));
    }
    assert_eq!(pool.len(), 2, "the oldest was evicted");
    assert!(pool.take_children(&blocks[0].id()).is_empty());
    assert_eq!(pool.take_children(&blocks[1].id()).len(), 1);
    assert_eq!(pool.len(), 1);
    pool.expire(start + ttl);
    assert_eq!(pool.len(), 0, "expired");

    let mut tiny = OrphanPool::new(8, 10, ttl);
    let big = peer.child(g, Vec::new()).check(&spec).unwrap();
    assert!(
        !tiny.insert(big, BlockSource::Mined, start),
        "larger than the byte cap"
    );
}
