//! Feeding blocks downloaded by sync to the chain service, in order, off the event loop.
//!
//! One feeder task takes batches from a bounded queue and sends their blocks to the import
//! queue one by one (waiting for room, with a timeout), so blocks of consecutive batches reach
//! the chain service in the order sync produced them. A batch's verdicts are awaited by a
//! separate small task and reported back to the event loop.

use std::time::Duration;

use libp2p::PeerId;
use talos_chain::{Block, Hash256};
use tokio::sync::{mpsc, oneshot};

use talos_chain_service::{BlockSource, ImportOutcome, ImportRequest};

/// Batches waiting for the feeder.
pub const BATCH_QUEUE: usize = 64;

/// Capacity of the channel of batch results back to the loop.
pub const RESULT_QUEUE: usize = 64;

/// How long the feeder waits for room in the import queue for one block.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a batch's verdicts are awaited, all together.
pub const VERDICT_TIMEOUT: Duration = Duration::from_secs(120);

/// What became of one batch.
#[derive(Debug)]
pub struct BatchResult {
    /// The peer that served the blocks.
    pub peer: PeerId,
    /// Each block's id and outcome, in order; `None` when it could not be handed over or no
    /// verdict came in time.
    pub outcomes: Vec<(Hash256, Option<ImportOutcome>)>,
}

struct Batch {
    peer: PeerId,
    blocks: Vec<Block>,
}

/// The sending side of the feeder.
#[derive(Debug, Clone)]
pub struct ImportFeeder {
    batches: mpsc::Sender<Batch>,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("peer", &self.peer)
            .field("blocks", &self.blocks.len())
            .finish()
    }
}

impl ImportFeeder {
    /// Starts the feeder task sending to `imports`; results go to `results`.
    pub fn spawn(
        imports: mpsc::Sender<ImportRequest<PeerId>>,
        results: mpsc::Sender<BatchResult>,
    ) -> Self {
        let (batches, rx) = mpsc::channel(BATCH_QUEUE);
        tokio::spawn(feed(rx, imports, results));
        Self { batches }
    }

    /// Queues a batch; gives the blocks back when the queue is full or the feeder stopped.
    pub fn submit(&self, peer: PeerId, blocks: Vec<Block>) -> Result<(), Vec<Block>> {
        self.batches
            .try_send(Batch { peer, blocks })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(b) | mpsc::error::TrySendError::Closed(b) => {
                    b.blocks
                }
            })
    }
}

async fn feed(
    mut batches: mpsc::Receiver<Batch>,
    imports: mpsc::Sender<ImportRequest<PeerId>>,
    results: mpsc::Sender<BatchResult>,
) {
    while let Some(Batch { peer, blocks }) = batches.recv().await {
        let mut pending: Vec<(Hash256, Option<oneshot::Receiver<ImportOutcome>>)> =
            Vec::with_capacity(blocks.len());
        for block in blocks {
            let id = block.id();
            let (reply, rx) = oneshot::channel();
            let request = ImportRequest {
                block,
                source: BlockSource::Sync(peer),
                reply: Some(reply),
            };
            let sent = matches!(
                tokio::time::timeout(SEND_TIMEOUT, imports.send(request)).await,
                Ok(Ok(()))
            );
            pending.push((id, sent.then_some(rx)));
        }
        let results = results.clone();
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + VERDICT_TIMEOUT;
            let mut outcomes = Vec::with_capacity(pending.len());
            for (id, rx) in pending {
                let outcome = match rx {
                    Some(rx) => tokio::time::timeout_at(deadline, rx)
                        .await
                        .ok()
                        .and_then(Result::ok),
                    None => None,
                };
                outcomes.push((id, outcome));
            }
            let _ = results.send(BatchResult { peer, outcomes }).await;
        });
    }
}
