//! Collects every node's block imports and reorgs as they happen, timestamped on the
//! simulation's clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use talos_chain::Hash256;
use talos_chain_service::{ChainEvent, ImportSource};
use talos_node::handle::NodeHandle;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

use crate::record::ReorgRecord;

/// What was seen of one block.
#[derive(Clone, Debug, Default)]
pub(crate) struct BlockSeen {
    /// Height.
    pub(crate) height: u64,
    /// The node that mined it, and when (ms since start).
    pub(crate) mined: Option<(usize, f64)>,
    /// First import per node (ms since start).
    pub(crate) imports: HashMap<usize, f64>,
}

/// Everything observed so far.
#[derive(Debug, Default)]
pub(crate) struct Observations {
    /// Blocks by id.
    pub(crate) blocks: HashMap<Hash256, BlockSeen>,
    /// Reorgs in the order seen.
    pub(crate) reorgs: Vec<ReorgRecord>,
    /// Events a subscriber missed because it lagged (should stay 0).
    pub(crate) lagged: u64,
}

/// The shared observation log and the clock it uses.
#[derive(Clone, Debug)]
pub(crate) struct Observer {
    start: Instant,
    log: Arc<Mutex<Observations>>,
}

impl Observer {
    /// A log whose times are milliseconds since `start`.
    pub(crate) fn new(start: Instant) -> Self {
        Self {
            start,
            log: Arc::default(),
        }
    }

    /// Milliseconds since the start.
    pub(crate) fn now_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }

    /// Runs `f` on the log.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Observations) -> T) -> T {
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut log)
    }

    /// Follows `node`'s events until it stops. Subscribe before the node can import anything.
    pub(crate) fn follow(&self, node: usize, handle: &NodeHandle) -> JoinHandle<()> {
        let mut events = handle.subscribe();
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(event) => this.record(node, event),
                    Err(RecvError::Lagged(missed)) => this.with(|log| log.lagged += missed),
                    Err(RecvError::Closed) => break,
                }
            }
        })
    }

    fn record(&self, node: usize, event: ChainEvent) {
        let t = self.now_ms();
        match event {
            ChainEvent::BlockImported { id, height, source } => self.with(|log| {
                let seen = log.blocks.entry(id).or_default();
                seen.height = height;
                seen.imports.entry(node).or_insert(t);
                if source == ImportSource::Mined {
                    seen.mined = Some((node, t));
                }
            }),
            ChainEvent::NewTip { reorg_depth, .. } if reorg_depth > 0 => self.with(|log| {
                log.reorgs.push(ReorgRecord {
                    node,
                    t_ms: t,
                    depth: reorg_depth,
                });
            }),
            _ => {}
        }
    }
}
