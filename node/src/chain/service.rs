//! The chain service's state and its event loop.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use talos_chain::{Hash256, HeaderTree, Mempool};
use talos_storage::{ChainTip, Store};
use tokio::sync::{Notify, broadcast, mpsc, oneshot};
use tokio::time::MissedTickBehavior;
use tracing::{debug, error, warn};

use crate::handle::{ChainCommand, MineError, NodeEvent};
use crate::metrics::NodeMetrics;
use crate::pipeline::{BlockSource, ChainNotice, GossipItem, ImportRequest};

use super::config::ChainServiceConfig;
use super::error::ChainServiceError;
use super::lookup::BranchItems;
use super::mining::MiningState;
use super::orphans::OrphanPool;
use super::rejected::RejectedBlocks;
use super::tree::load_tree;

/// How many invalid block ids are remembered.
const REJECTED_MEMORY: usize = 4_096;

/// The receiving ends of the service's queues.
pub(crate) struct Inbox {
    pub(crate) commands: mpsc::Receiver<ChainCommand>,
    pub(crate) imports: mpsc::Receiver<ImportRequest>,
    pub(crate) gossip_items: mpsc::Receiver<GossipItem>,
}

/// Everything the chain service owns. Lives on the service thread only.
pub(crate) struct Service {
    pub(crate) config: ChainServiceConfig,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) metrics: NodeMetrics,
    pub(crate) events: broadcast::Sender<NodeEvent>,
    pub(crate) notices: mpsc::Sender<ChainNotice>,
    /// Fork choice over the recent best chain and the side branches seen since start.
    pub(crate) tree: HeaderTree,
    /// The store's tip (kept in step with every commit).
    pub(crate) tip: ChainTip,
    pub(crate) mempool: Mempool,
    pub(crate) orphans: OrphanPool,
    pub(crate) rejected: RejectedBlocks,
    /// Items of the side branch the last side block extended (reused by its next child).
    pub(crate) branch: Option<BranchItems>,
    pub(crate) mining: Option<MiningState>,
    /// Callers of [`crate::NodeHandle::mine_block`] waiting for the next mined block.
    pub(crate) mine_requests: Vec<oneshot::Sender<Result<Hash256, MineError>>>,
    /// The mempool gained items since the mining template was built.
    pub(crate) mempool_changed: bool,
    /// A failure the service cannot continue after (the store and fork choice could not be
    /// brought back in step).
    pub(crate) fatal: Option<ChainServiceError>,
}

impl Service {
    /// Loads the tip and fork choice from the store.
    pub(crate) fn open(
        config: ChainServiceConfig,
        store: Arc<dyn Store>,
        metrics: NodeMetrics,
        events: broadcast::Sender<NodeEvent>,
        notices: mpsc::Sender<ChainNotice>,
    ) -> Result<Self, ChainServiceError> {
        let tree = load_tree(&*store, &config)?;
        let tip = store.tip()?;
        let mempool = Mempool::new(config.spec.limits);
        let orphans = OrphanPool::new(
            config.max_orphans,
            config.max_orphan_bytes,
            config.orphan_ttl,
        );
        let service = Self {
            config,
            store,
            metrics,
            events,
            notices,
            tree,
            tip,
            mempool,
            orphans,
            rejected: RejectedBlocks::new(REJECTED_MEMORY),
            branch: None,
            mining: None,
            mine_requests: Vec::new(),
            mempool_changed: false,
            fatal: None,
        };
        service.set_height_gauge();
        service.set_mempool_gauges();
        Ok(service)
    }

    /// The event loop: shutdown first, then commands, the miner, imports and gossip items.
    /// Returns when shutdown is notified, when every queue is closed, or on a fatal error.
    pub(crate) async fn run(
        mut self,
        mut inbox: Inbox,
        shutdown: Arc<Notify>,
    ) -> Result<(), ChainServiceError> {
        let notified = shutdown.notified();
        tokio::pin!(notified);
        // Registered now, so a `notify_waiters` from here on is never missed.
        notified.as_mut().enable();
        let mut poll = tokio::time::interval(self.config.mining_poll);
        poll.set_missed_tick_behavior(MissedTickBehavior::Skip);
        self.restart_mining();
        let (mut commands_open, mut imports_open, mut items_open) = (true, true, true);
        while commands_open || imports_open || items_open {
            tokio::select! {
                biased;
                () = &mut notified => {
                    debug!("chain service: shutdown requested");
                    break;
                }
                command = inbox.commands.recv(), if commands_open => match command {
                    Some(command) => self.on_command(command),
                    None => commands_open = false,
                },
                _ = poll.tick(), if self.mining_wanted() => self.poll_miner(),
                request = inbox.imports.recv(), if imports_open => match request {
                    Some(request) => self.on_import(request),
                    None => imports_open = false,
                },
                item = inbox.gossip_items.recv(), if items_open => match item {
                    Some(item) => self.on_gossip_item(item),
                    None => items_open = false,
                },
            }
            if let Some(e) = self.fatal.take() {
                error!(error = %e, "chain service stopping on a fatal error");
                self.stop_mining();
                return Err(e);
            }
        }
        self.stop_mining();
        Ok(())
    }

    fn on_command(&mut self, command: ChainCommand) {
        match command {
            ChainCommand::SubmitItem { item, reply } => {
                let verdict = self.submit_item(item);
                let _ = reply.send(verdict);
            }
            ChainCommand::MineBlock { reply } => self.request_block(reply),
            ChainCommand::MempoolLen { reply } => {
                let _ = reply.send(self.mempool.len());
            }
            ChainCommand::MempoolItem { id, reply } => {
                let _ = reply.send(self.mempool.get(&id).cloned());
            }
        }
    }

    fn on_import(&mut self, request: ImportRequest) {
        let outcome = self.import_block(request.block, request.source);
        if let Some(reply) = request.reply {
            let _ = reply.send(outcome);
        }
    }

    /// Sends a notice to the network task without waiting: the network task also feeds our
    /// queues, so waiting on it could deadlock. A full queue drops the notice (the next tip
    /// notice supersedes a lost one; a lost penalty or parent request costs little).
    pub(crate) fn notify(&self, notice: ChainNotice) {
        match self.notices.try_send(notice) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(notice)) => {
                warn!(?notice, "chain notice queue full, notice dropped");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                debug!("chain notice receiver gone");
            }
        }
    }

    /// Sends a node event (no subscriber is fine).
    pub(crate) fn emit(&self, event: NodeEvent) {
        let _ = self.events.send(event);
    }

    /// Reloads fork choice from the store after the two fell out of step (a failed or
    /// partial commit). Failure is fatal.
    pub(crate) fn reload_tree(&mut self) {
        self.branch = None;
        match load_tree(&*self.store, &self.config).and_then(|tree| {
            let tip = self.store.tip()?;
            Ok((tree, tip))
        }) {
            Ok((tree, tip)) => {
                self.tree = tree;
                self.tip = tip;
                self.set_height_gauge();
                self.restart_mining();
            }
            Err(e) => self.fatal = Some(e),
        }
    }

    pub(crate) fn set_height_gauge(&self) {
        self.metrics
            .height
            .set(i64::try_from(self.tip.height).unwrap_or(i64::MAX));
    }

    pub(crate) fn set_mempool_gauges(&self) {
        self.metrics
            .mempool_items
            .set(i64::try_from(self.mempool.len()).unwrap_or(i64::MAX));
        self.metrics
            .mempool_bytes
            .set(i64::try_from(self.mempool.bytes()).unwrap_or(i64::MAX));
    }
}

/// The local clock in milliseconds since the Unix epoch (0 if the clock is before 1970).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Metrics label of a block source.
pub(crate) fn source_label(source: &BlockSource) -> &'static str {
    match source {
        BlockSource::Gossip(_) => "gossip",
        BlockSource::Sync(_) => "sync",
        BlockSource::Mined => "mined",
    }
}
