//! The Talos chain service: the import pipeline, fork choice, mempool and miner of a full
//! node. No libp2p and no HTTP: it decides everything about the chain, and the network task
//! only translates between the wire and its queues.
//!
//! It runs on its own OS thread (`talos-chain`) with a single-threaded tokio runtime, so the
//! CPU-heavy work it does inline — context-free block checks with batch signature
//! verification, item signature checks, store commits with their flush — never runs on the
//! swarm's task or on the shared runtime's workers. Mining runs on the miner's own threads and
//! is polled every [`ChainServiceConfig::mining_poll`], never waited on.
//!
//! Inputs are bounded queues ([`ChainChannels`]): commands ([`COMMAND_QUEUE`]), blocks to
//! import ([`IMPORT_QUEUE`]) and gossip items ([`GOSSIP_ITEM_QUEUE`]). A full queue is
//! backpressure on the sender (`send` waits, `try_send` fails and the sender reports
//! [`ImportOutcome::Dropped`] / ignores the item); memory never grows with the input rate. The
//! loop serves, in this order of priority: shutdown, commands, the miner, imports, gossip
//! items. Outputs: replies on oneshots, [`ChainEvent`]s on a bounded broadcast, a shared
//! [`ChainIndex`] of the chain, and [`ChainNotice`]s to the network task with `try_send`
//! (never waiting on the network task, which also feeds our queues; a full notice queue drops
//! the notice). Time comes from an injected [`Clock`].
//!
//! # Import pipeline
//!
//! 1. dedup: a remembered invalid id → `Invalid`; stored → `AlreadyKnown`;
//! 2. [`talos_chain::Block::check`] (structural, proof of work, Merkle root, batch signatures);
//! 3. parent: in fork choice, or a stored side branch attached to it, or else the block waits
//!    in a bounded, expiring orphan pool (`Orphan`, and [`ChainNotice::MissingParent`] to the
//!    sender's peer); when the parent is imported its orphans are imported too;
//! 4. contextual validation with the parent's context from the [`talos_chain::HeaderTree`]
//!    and an [`talos_chain::ItemLookup`] over the chain the block extends: the store's
//!    best-chain indexes for a child of the tip; for a side-branch block, the best chain up to
//!    the fork point plus the branch's own blocks (best-chain items above the fork point do
//!    not count);
//! 5. adoption: extend, side branch or reorg committed to the store as one `ChainUpdate`, then
//!    fork choice, the index, the mempool (`remove_included` / `return_disconnected`),
//!    metrics, [`ChainEvent::NewTip`] and [`ChainNotice::NewTip`] (announcing the block
//!    whenever it became the tip), and the miner restarts on the new tip. The block is shared
//!    (`Arc`) by the store, the mempool and the announcement, never copied.
//!
//! Rejections are typed ([`Rejection`]) and counted by code; what they condemn is
//! [`talos_chain::Blame`]. A verdict on the block (its header, its ancestors, or a body its
//! header commits to) is remembered under the block id and reported
//! ([`ChainNotice::BadBlock`]). A body that does not match its header (item count, Merkle root)
//! is only the sender's fault: it is reported, never remembered, and the real body is accepted
//! later from anyone. A block whose time is ahead of our clock may be our clock's fault: it is
//! `Dropped`, not penalized and not remembered. Storage failures
//! are never a peer's fault (`Dropped`); if the store and fork choice cannot be brought back in
//! step the service stops with an error.

mod chain;
pub mod clock;
mod config;
mod error;
pub mod index;
mod lookup;
pub mod messages;
pub mod metrics;
mod mining;
mod orphans;
mod rejected;
mod service;
mod tree;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::thread::JoinHandle;

use talos_storage::Store;
use tokio::sync::{Notify, broadcast, mpsc, oneshot};

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::ChainServiceConfig;
pub use error::{ChainServiceError, Inconsistency, MineError, SubmitError};
pub use index::ChainIndex;
pub use messages::{
    BlockSource, COMMAND_QUEUE, ChainCommand, ChainEvent, ChainNotice, GOSSIP_ITEM_QUEUE,
    GossipItem, IMPORT_QUEUE, ImportOutcome, ImportRequest, ImportSource, NOTICE_QUEUE, PeerRef,
    Rejection,
};
pub use metrics::ChainMetrics;

use service::{Inbox, Service};

/// The senders into the chain service. Cloning is cheap; the service stops when shutdown is
/// notified or when every clone of every sender is dropped.
#[derive(Debug)]
pub struct ChainChannels<P> {
    /// Local commands (submit item, mempool queries, mine a block).
    pub commands: mpsc::Sender<ChainCommand>,
    /// Blocks to import.
    pub imports: mpsc::Sender<ImportRequest<P>>,
    /// Gossip items to judge.
    pub gossip_items: mpsc::Sender<GossipItem<P>>,
}

impl<P> Clone for ChainChannels<P> {
    fn clone(&self) -> Self {
        Self {
            commands: self.commands.clone(),
            imports: self.imports.clone(),
            gossip_items: self.gossip_items.clone(),
        }
    }
}

/// What the chain service emits, created by the caller so it can subscribe before the service
/// runs.
#[derive(Debug)]
pub struct ChainOutputs<P> {
    /// Metrics to update.
    pub metrics: ChainMetrics,
    /// Events for subscribers.
    pub events: broadcast::Sender<ChainEvent>,
    /// Notices for the network task.
    pub notices: mpsc::Sender<ChainNotice<P>>,
}

/// The running chain service; [`ChainService::join`] waits for it to end.
#[derive(Debug)]
pub struct ChainService {
    thread: Option<JoinHandle<Result<(), ChainServiceError>>>,
    done: oneshot::Receiver<()>,
}

impl ChainService {
    /// Waits until the service has stopped (after shutdown was notified or its queues
    /// closed) and returns how it ended. The miner is stopped before it returns; storage is
    /// durable after every commit, so nothing is left to flush.
    pub async fn join(mut self) -> Result<(), ChainServiceError> {
        // The sender is dropped when the thread ends, normally or by a panic.
        let _ = (&mut self.done).await;
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || thread.join())
            .await
            .map_err(|_| ChainServiceError::Crashed)?
            .map_err(|_| ChainServiceError::Crashed)?
    }

    /// Whether the service has stopped.
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

/// A started chain service: its senders, the shared index, and the service to join.
#[derive(Debug)]
pub struct Started<P> {
    /// Senders into the service.
    pub channels: ChainChannels<P>,
    /// The chain as the service keeps it in memory (for readers that must not touch the store).
    pub index: ChainIndex,
    /// The service.
    pub service: ChainService,
}

/// Starts the chain service on its own thread.
///
/// Reads the tip, the recent best chain and the index from `store` before returning (so
/// start-up errors are reported here); call it before the network starts feeding the queues.
/// `shutdown` stops the service when notified (`notify_waiters` or `notify_one`).
pub fn spawn<P: PeerRef>(
    config: ChainServiceConfig,
    store: Arc<dyn Store>,
    outputs: ChainOutputs<P>,
    shutdown: Arc<Notify>,
) -> Result<Started<P>, ChainServiceError> {
    let ChainOutputs {
        metrics,
        events,
        notices,
    } = outputs;
    let service = Service::open(config, store, metrics, events, notices)?;
    let index = service.index();
    let (commands_tx, commands) = mpsc::channel(COMMAND_QUEUE);
    let (imports_tx, imports) = mpsc::channel(IMPORT_QUEUE);
    let (items_tx, gossip_items) = mpsc::channel(GOSSIP_ITEM_QUEUE);
    let inbox = Inbox {
        commands,
        imports,
        gossip_items,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .thread_name("talos-chain")
        .build()
        .map_err(ChainServiceError::Spawn)?;
    let (done_tx, done) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("talos-chain".into())
        .spawn(move || {
            let _done = done_tx;
            runtime.block_on(service.run(inbox, shutdown))
        })
        .map_err(ChainServiceError::Spawn)?;
    Ok(Started {
        channels: ChainChannels {
            commands: commands_tx,
            imports: imports_tx,
            gossip_items: items_tx,
        },
        index,
        service: ChainService {
            thread: Some(thread),
            done,
        },
    })
}
