//! The chain service: the import pipeline, fork choice, mempool and miner.
//!
//! It decides everything about the chain; the network task only translates between the wire
//! and these queues. It runs on its own OS thread (`talos-chain`) with a single-threaded tokio
//! runtime, so the CPU-heavy work it does inline — context-free block checks with batch
//! signature verification, item signature checks, sled commits with their flush — never runs
//! on the swarm's task or on the shared runtime's workers. Mining runs on the miner's own
//! threads and is polled every [`ChainServiceConfig::mining_poll`], never waited on.
//!
//! Inputs are bounded queues ([`ChainChannels`]): commands ([`COMMAND_CAPACITY`]), blocks
//! to import ([`IMPORT_QUEUE`]) and gossip items ([`GOSSIP_ITEM_QUEUE`]). A full queue is
//! backpressure on the sender (`send` waits, `try_send` fails and the sender reports
//! [`crate::pipeline::ImportOutcome::Dropped`] / ignores the item); memory never grows with the
//! input rate. The loop serves, in this order of priority: shutdown, commands, the miner,
//! imports, gossip items. Outputs: replies on oneshots, [`NodeEvent`]s on the broadcast, and
//! [`ChainNotice`]s to the network task with `try_send` (never waiting on the network task,
//! which also feeds our queues; a full notice queue drops the notice).
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
//!    fork choice, mempool (`remove_included` / `return_disconnected`), metrics,
//!    [`NodeEvent::NewTip`] and [`ChainNotice::NewTip`] (announcing the block whenever it
//!    became the tip), and the miner restarts on the new tip.
//!
//! Rejections are counted by code. A peer is reported ([`ChainNotice::BadBlock`]) for every
//! invalid block except `timestamp_too_far_in_future`, which may be our clock's fault: that
//! block is `Dropped`, not penalized and not remembered. Storage failures are never a peer's
//! fault (`Dropped`); if the store and fork choice cannot be brought back in step the service
//! stops with an error.

mod adopt;
mod config;
mod error;
mod import;
mod items;
mod lookup;
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

use crate::handle::{COMMAND_CAPACITY, ChainCommand, NodeEvent};
use crate::metrics::NodeMetrics;
use crate::pipeline::{ChainNotice, GossipItem, IMPORT_QUEUE, ImportRequest};

pub use config::ChainServiceConfig;
pub use error::ChainServiceError;

use service::{Inbox, Service};

/// Capacity of the gossip item queue.
pub const GOSSIP_ITEM_QUEUE: usize = 1024;

/// The senders into the chain service. Cloning is cheap; the service stops when shutdown is
/// notified or when every clone of every sender is dropped.
#[derive(Clone, Debug)]
pub struct ChainChannels {
    /// Local commands (submit item, mempool queries).
    pub commands: mpsc::Sender<ChainCommand>,
    /// Blocks to import.
    pub imports: mpsc::Sender<ImportRequest>,
    /// Gossip items to judge.
    pub gossip_items: mpsc::Sender<GossipItem>,
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

/// Starts the chain service on its own thread.
///
/// Reads the tip and the recent best chain from `store` before returning (so start-up errors
/// are reported here); call it before the swarm starts feeding the queues. `shutdown` stops
/// the service when notified (`notify_waiters` or `notify_one`).
pub fn spawn(
    config: ChainServiceConfig,
    store: Arc<dyn Store>,
    metrics: NodeMetrics,
    events: broadcast::Sender<NodeEvent>,
    notices: mpsc::Sender<ChainNotice>,
    shutdown: Arc<Notify>,
) -> Result<(ChainChannels, ChainService), ChainServiceError> {
    let service = Service::open(config, store, metrics, events, notices)?;
    let (commands_tx, commands) = mpsc::channel(COMMAND_CAPACITY);
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
    let channels = ChainChannels {
        commands: commands_tx,
        imports: imports_tx,
        gossip_items: items_tx,
    };
    Ok((
        channels,
        ChainService {
            thread: Some(thread),
            done,
        },
    ))
}
