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

    /// The next event matching `pick`, skipping others.
    async fn event<T>(&mut self, mut pick: impl FnMut(NodeEvent) -> Option<T>) -> T {
        let wait = async {
            loop {
                let event = self.events.recv().await.expect("events open");
                if let Some(found) = pick(event) {
                    return found;
                }
            }
        };
        tokio::time::timeout(WAIT, wait)
            .await
            .expect("event in time")
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

mod import;
mod items;
mod on_demand;
mod reorg;
