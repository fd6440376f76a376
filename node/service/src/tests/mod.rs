//! Chain service tests over a real sled store in a temporary directory, with an easy target so
//! that every block is mined in a few hashes, and a manual clock where time matters.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use talos_chain::testkit::{ChainBuilder, easy_spec, item, key, mine};
use talos_chain::{Block, BlockTemplate, Hash256, NetworkSpec, SignedItem, SigningKey};
use talos_storage::{SledStore, Store};
use tokio::sync::{Notify, broadcast, mpsc, oneshot};

use crate::{
    BlockSource, ChainChannels, ChainCommand, ChainEvent, ChainMetrics, ChainNotice, ChainOutputs,
    ChainService, ChainServiceConfig, GossipItem, ImportOutcome, ImportRequest, ImportSource,
    NOTICE_QUEUE, SubmitError, spawn,
};

const WAIT: Duration = Duration::from_secs(10);

/// Peers are small numbers here; the node uses libp2p's PeerId.
type Peer = u32;

/// Signed for another network: the signature does not verify here.
fn badly_signed_item(spec: &NetworkSpec, key: &SigningKey, nonce: u64) -> SignedItem {
    let good = item(spec, key, nonce);
    good.item().clone().sign(key, spec.network_id ^ 1)
}

/// Whether `outcome` is an invalid block with this rule code.
fn invalid(outcome: &ImportOutcome, code: &str) -> bool {
    matches!(outcome, ImportOutcome::Invalid(r) if r.code() == code)
}

/// A running service over a sled store, with its outputs.
struct Harness {
    store: Arc<dyn Store>,
    channels: ChainChannels<Peer>,
    index: crate::ChainIndex,
    service: ChainService,
    notices: mpsc::Receiver<ChainNotice<Peer>>,
    events: broadcast::Receiver<ChainEvent>,
    shutdown: Arc<Notify>,
    metrics: ChainMetrics,
}

impl Harness {
    fn start(path: &Path, config: ChainServiceConfig) -> Self {
        let store: Arc<dyn Store> =
            Arc::new(SledStore::open_for_spec(path, &config.spec).expect("open store"));
        Self::start_on(store, config)
    }

    fn start_on(store: Arc<dyn Store>, config: ChainServiceConfig) -> Self {
        let (events_tx, events) = broadcast::channel(256);
        let (notices_tx, notices) = mpsc::channel(NOTICE_QUEUE);
        let shutdown = Arc::new(Notify::new());
        let metrics = ChainMetrics::default();
        let started = spawn(
            config,
            Arc::clone(&store),
            ChainOutputs {
                metrics: metrics.clone(),
                events: events_tx,
                notices: notices_tx,
            },
            Arc::clone(&shutdown),
        )
        .expect("spawn");
        Self {
            store,
            channels: started.channels,
            index: started.index,
            service: started.service,
            notices,
            events,
            shutdown,
            metrics,
        }
    }

    async fn import(&self, block: Block, source: BlockSource<Peer>) -> ImportOutcome {
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
        self.command(|reply| ChainCommand::SubmitItem {
            item: Box::new(item),
            reply,
        })
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

    async fn gossip(&self, item: SignedItem) -> Result<Hash256, SubmitError> {
        let (reply, rx) = oneshot::channel();
        self.channels
            .gossip_items
            .send(GossipItem {
                item,
                from: 99,
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
    async fn notice<T>(&mut self, mut pick: impl FnMut(ChainNotice<Peer>) -> Option<T>) -> T {
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
    async fn event<T>(&mut self, mut pick: impl FnMut(ChainEvent) -> Option<T>) -> T {
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

    /// Every notice already queued (see [`blame`] for the bad-block ones).
    fn queued_notices(&mut self) -> Vec<ChainNotice<Peer>> {
        std::iter::from_fn(|| self.notices.try_recv().ok()).collect()
    }

    /// The (peer, rejection code) of every bad-block notice already queued.
    fn queued_blame(&mut self) -> Vec<(Peer, &'static str)> {
        self.queued_notices().iter().filter_map(blame).collect()
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

mod clock;
mod import;
mod items;
mod on_demand;
mod reorg;

/// The sender and rejection code of a bad-block notice.
fn blame(notice: &ChainNotice<Peer>) -> Option<(Peer, &'static str)> {
    match notice {
        ChainNotice::BadBlock { peer, rejection } => Some((*peer, rejection.code())),
        _ => None,
    }
}
