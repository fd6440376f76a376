//! The chain service's loop and the components it drives: the best chain
//! ([`crate::chain::ChainState`]), the mempool, the orphan pool, the memory of rejected
//! blocks, the mining driver ([`crate::mining::Mining`]) and the outputs. The submodules hold
//! the service's decisions: importing blocks, reacting to a new best chain, judging items and
//! mining.

mod adopted;
mod import;
mod items;
mod mined;
mod outputs;

use std::sync::Arc;
use std::time::Duration;

use talos_chain::Mempool;
use talos_storage::Store;
use tokio::sync::{Notify, broadcast, mpsc};
use tokio::time::MissedTickBehavior;
use tracing::{debug, error};

use crate::chain::ChainState;
use crate::clock::Clock;
use crate::config::ChainServiceConfig;
use crate::error::ChainServiceError;
use crate::index::ChainIndex;
use crate::lookup::StoreLookup;
use crate::messages::{ChainCommand, ChainEvent, ChainNotice, GossipItem, ImportRequest, PeerRef};
use crate::metrics::ChainMetrics;
use crate::mining::Mining;
use crate::orphans::OrphanPool;
use crate::rejected::RejectedBlocks;

use outputs::Outputs;

/// How many invalid block ids are remembered.
const REJECTED_MEMORY: usize = 4_096;

/// The receiving ends of the service's queues.
pub(crate) struct Inbox<P> {
    pub(crate) commands: mpsc::Receiver<ChainCommand>,
    pub(crate) imports: mpsc::Receiver<ImportRequest<P>>,
    pub(crate) gossip_items: mpsc::Receiver<GossipItem<P>>,
}

/// The service: components and the settings they share. Lives on the service thread only.
pub(crate) struct Service<P> {
    config: ChainServiceConfig,
    clock: Arc<dyn Clock>,
    chain: ChainState,
    mempool: Mempool,
    orphans: OrphanPool<P>,
    rejected: RejectedBlocks,
    mining: Mining,
    out: Outputs<P>,
    /// A failure the service cannot continue after (the store and fork choice could not be
    /// brought back in step).
    fatal: Option<ChainServiceError>,
}

impl<P: PeerRef> Service<P> {
    /// Loads the chain from the store.
    pub(crate) fn open(
        config: ChainServiceConfig,
        store: Arc<dyn Store>,
        metrics: ChainMetrics,
        events: broadcast::Sender<ChainEvent>,
        notices: mpsc::Sender<ChainNotice<P>>,
    ) -> Result<Self, ChainServiceError> {
        let chain = ChainState::open(&config, store)?;
        let service = Self {
            clock: Arc::clone(&config.clock),
            mempool: Mempool::new(config.spec.limits),
            orphans: OrphanPool::new(
                config.max_orphans,
                config.max_orphan_bytes,
                config.orphan_ttl,
            ),
            rejected: RejectedBlocks::new(REJECTED_MEMORY),
            mining: Mining::new(&config),
            out: Outputs::new(metrics, events, notices),
            chain,
            config,
            fatal: None,
        };
        service.set_height_gauge();
        service.set_mempool_gauges();
        Ok(service)
    }

    /// The shared index of the chain.
    pub(crate) fn index(&self) -> ChainIndex {
        self.chain.index().clone()
    }

    /// The event loop: shutdown first, then commands, the miner, imports and gossip items.
    /// Returns when shutdown is notified, when every queue is closed, or on a fatal error.
    pub(crate) async fn run(
        mut self,
        mut inbox: Inbox<P>,
        shutdown: Arc<Notify>,
    ) -> Result<(), ChainServiceError> {
        let notified = shutdown.notified();
        tokio::pin!(notified);
        // Registered now, so a `notify_waiters` from here on is never missed.
        notified.as_mut().enable();
        let mut poll = tokio::time::interval(self.config.mining_poll.max(Duration::from_millis(1)));
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
                _ = poll.tick(), if self.mining.wanted() => self.poll_miner(),
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
                self.mining.stop();
                return Err(e);
            }
        }
        self.mining.stop();
        Ok(())
    }

    fn on_command(&mut self, command: ChainCommand) {
        match command {
            ChainCommand::SubmitItem { item, reply } => {
                let verdict = self.submit_item(*item);
                let _ = reply.send(verdict);
            }
            ChainCommand::MineBlock { reply } => {
                self.mining.request(reply);
                if !self.mining.is_running() {
                    self.restart_mining();
                }
            }
            ChainCommand::MempoolLen { reply } => {
                let _ = reply.send(self.mempool.len());
            }
            ChainCommand::MempoolItem { id, reply } => {
                let _ = reply.send(self.mempool.get(&id).cloned());
            }
        }
    }

    fn on_import(&mut self, request: ImportRequest<P>) {
        let outcome = self.import_block(request.block, request.source);
        if let Some(reply) = request.reply {
            let _ = reply.send(outcome);
        }
    }

    /// Starts mining on the best tip if it is wanted (cancelling a running job).
    fn restart_mining(&mut self) {
        self.mining.restart(
            &self.config.spec,
            self.chain.tree(),
            &self.mempool,
            self.clock.unix_ms(),
            &StoreLookup::best(self.chain.store()),
        );
    }

    /// Reloads fork choice from the store after the two fell out of step (a failed or
    /// partial commit). Failure is fatal.
    fn reload_chain(&mut self) {
        match self.chain.reload() {
            Ok(()) => {
                self.set_height_gauge();
                self.restart_mining();
            }
            Err(e) => self.fatal = Some(e),
        }
    }

    fn set_height_gauge(&self) {
        self.out
            .metrics
            .set_height(self.chain.tip().height, self.chain.index().side_count());
    }

    fn set_mempool_gauges(&self) {
        self.out
            .metrics
            .set_mempool(self.mempool.len(), self.mempool.bytes());
    }
}
