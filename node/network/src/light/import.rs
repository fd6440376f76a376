//! Header batches from headers-only sync, judged by [`talos_light::plan_headers`] and committed
//! to the header store on the blocking pool, one batch at a time and in order, off the event
//! loop. Each batch's outcome goes back to the loop; headers that joined the best chain are
//! announced to subscribers (the API's server-sent events).

use std::sync::Arc;

use libp2p::PeerId;
use talos_chain::{BlockHeader, Hash256, NetworkSpec};
use talos_light::{HeaderPlan, Lighter, plan_headers};
use talos_storage::{HeaderEntry, HeaderStore, HeaderUpdate};
use tokio::sync::{broadcast, mpsc};
use tracing::{debug, warn};

use super::MAX_LIGHT_REORG;
use super::source::LightHeaders;
use super::view::unix_ms;

/// Header batches waiting to be committed.
pub const HEADER_QUEUE: usize = 64;

/// What a light client announces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LightEvent {
    /// A header joined the best chain.
    NewHeader {
        /// Its id.
        id: Hash256,
        /// Its height.
        height: u64,
    },
    /// The best tip changed.
    NewTip {
        /// The new tip.
        id: Hash256,
        /// Its height.
        height: u64,
        /// Headers disconnected (0 for an extension).
        reorg_depth: u64,
    },
}

/// What became of one batch.
#[derive(Debug)]
pub struct HeaderResult {
    /// The peer that served the headers.
    pub peer: PeerId,
    /// `Ok(reorg depth)` when they joined the best chain; `Err((code, peer_fault))` otherwise.
    pub outcome: Result<u64, (&'static str, bool)>,
}

struct Batch {
    peer: PeerId,
    headers: Vec<BlockHeader>,
}

/// The sending side of the header importer.
#[derive(Debug, Clone)]
pub struct HeaderImporter {
    batches: mpsc::Sender<Batch>,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("peer", &self.peer)
            .field("headers", &self.headers.len())
            .finish()
    }
}

impl HeaderImporter {
    /// Starts the importer over `store`; outcomes go to `results`, new headers to `events`.
    pub fn spawn(
        store: Arc<dyn HeaderStore>,
        spec: NetworkSpec,
        results: mpsc::Sender<HeaderResult>,
        events: broadcast::Sender<LightEvent>,
    ) -> Self {
        let (batches, rx) = mpsc::channel(HEADER_QUEUE);
        tokio::spawn(run(rx, store, spec, results, events));
        Self { batches }
    }

    /// Queues a batch; false when the queue is full or the importer stopped.
    pub fn submit(&self, peer: PeerId, headers: Vec<BlockHeader>) -> bool {
        self.batches.try_send(Batch { peer, headers }).is_ok()
    }
}

async fn run(
    mut batches: mpsc::Receiver<Batch>,
    store: Arc<dyn HeaderStore>,
    spec: NetworkSpec,
    results: mpsc::Sender<HeaderResult>,
    events: broadcast::Sender<LightEvent>,
) {
    while let Some(Batch { peer, headers }) = batches.recv().await {
        let (store, spec) = (store.clone(), spec.clone());
        let committed = tokio::task::spawn_blocking(move || commit(&*store, &spec, &headers)).await;
        let outcome = match committed {
            Ok(Ok(announced)) => {
                let depth = announced.reorg_depth;
                for &(id, height) in &announced.connected {
                    let _ = events.send(LightEvent::NewHeader { id, height });
                }
                if !announced.connected.is_empty() {
                    let _ = events.send(LightEvent::NewTip {
                        id: announced.tip.0,
                        height: announced.tip.1,
                        reorg_depth: depth,
                    });
                }
                Ok(depth)
            }
            Ok(Err(rejected)) => Err(rejected),
            Err(_) => Err(("import_crashed", false)),
        };
        if results.send(HeaderResult { peer, outcome }).await.is_err() {
            return;
        }
    }
}

/// The header store's update for a plan of [`talos_light::plan_headers`].
pub fn header_update(plan: &HeaderPlan) -> HeaderUpdate {
    HeaderUpdate {
        store: plan
            .store
            .iter()
            .map(|h| HeaderEntry {
                header: h.header,
                cumulative_work: h.cumulative_work,
            })
            .collect(),
        disconnect: plan.disconnect.clone(),
        connect: plan.connect.clone(),
        new_tip: talos_storage::ChainTip {
            id: plan.new_tip.id(),
            height: plan.new_tip.height(),
            cumulative_work: plan.new_tip.cumulative_work,
        },
    }
}

/// What a committed batch changed.
struct Announced {
    connected: Vec<(Hash256, u64)>,
    tip: (Hash256, u64),
    reorg_depth: u64,
}

fn commit(
    store: &dyn HeaderStore,
    spec: &NetworkSpec,
    headers: &[BlockHeader],
) -> Result<Announced, (&'static str, bool)> {
    let plan = plan_headers(
        &LightHeaders(store),
        headers,
        spec,
        unix_ms(),
        MAX_LIGHT_REORG,
        // Sync hands over a heavier chain in chunks; the first may be lighter on its own.
        Lighter::Keep,
    )
    .map_err(|e| {
        debug!(code = e.code(), error = %e, "headers not adopted");
        (e.code(), e.is_peer_fault())
    })?;
    let update = header_update(&plan);
    store.commit(update).map_err(|e| {
        warn!(error = %e, "header store commit failed");
        ("store_failed", false)
    })?;
    // The connected headers are consecutive, ending at the new tip.
    let start = (plan.new_tip.height() + 1).saturating_sub(plan.connect.len() as u64);
    Ok(Announced {
        connected: plan.connect.iter().copied().zip(start..).collect(),
        tip: (plan.new_tip.id(), plan.new_tip.height()),
        reorg_depth: plan.reorg_depth() as u64,
    })
}
