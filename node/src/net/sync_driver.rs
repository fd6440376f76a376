//! Glue between `talos-sync`'s sans-IO [`SyncMachine`] and the swarm: the store as the
//! machine's [`ChainView`], and the mapping between libp2p's outbound request ids and the
//! machine's.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use libp2p::PeerId;
use libp2p::request_response::OutboundRequestId;
use talos_chain::{ChainStatus, Hash256};
use talos_storage::Store;
use talos_sync::{Action, ChainView, RequestId, SyncConfig, SyncMachine, SyncResponse, SyncStatus};

/// The store as the sync machine's view of the local chain. Store failures read as "not
/// stored" (and are logged): the machine then simply asks again later.
pub struct StoreView {
    store: Arc<dyn Store>,
    network_id: u32,
}

impl StoreView {
    /// A view of `store` on network `network_id`.
    pub fn new(store: Arc<dyn Store>, network_id: u32) -> Self {
        Self { store, network_id }
    }
}

impl ChainView for StoreView {
    fn tip(&self) -> ChainStatus {
        match self.store.chain_status(self.network_id) {
            Ok(status) => status,
            Err(e) => {
                tracing::warn!(error = %e, "store tip read failed");
                let genesis = self.store.genesis_id();
                ChainStatus {
                    network_id: self.network_id,
                    genesis_hash: genesis,
                    tip_hash: genesis,
                    tip_height: 0,
                    cumulative_work: talos_chain::Work::default(),
                }
            }
        }
    }

    fn contains_block(&self, id: &Hash256) -> bool {
        self.store.contains_block(id).unwrap_or_else(|e| {
            tracing::warn!(error = %e, hash = %id, "store read failed");
            false
        })
    }

    fn best_id_at(&self, height: u64) -> Option<Hash256> {
        self.store.best_id_at(height).unwrap_or_else(|e| {
            tracing::warn!(error = %e, height, "store read failed");
            None
        })
    }
}

/// The sync machine with its view and the request-id mapping.
pub struct SyncDriver {
    machine: SyncMachine<PeerId>,
    view: StoreView,
    outbound: HashMap<OutboundRequestId, (PeerId, RequestId)>,
}

impl SyncDriver {
    /// A driver over `store` with the machine configured by `config`.
    pub fn new(store: Arc<dyn Store>, network_id: u32, config: SyncConfig) -> Self {
        let view = StoreView::new(store, network_id);
        Self {
            machine: SyncMachine::new(config, view.tip()),
            view,
            outbound: HashMap::new(),
        }
    }

    /// What the machine is doing.
    pub fn status(&self) -> SyncStatus {
        self.machine.state()
    }

    /// Requests in flight.
    pub fn in_flight(&self) -> usize {
        self.outbound.len()
    }

    /// A peer that may speak the sync protocol connected.
    pub fn peer_connected(&mut self, peer: PeerId, now: Instant) {
        self.machine.on_peer_connected(peer, now);
    }

    /// A peer's status arrived (in its status request to us).
    pub fn status_received(&mut self, peer: PeerId, status: ChainStatus, now: Instant) {
        self.machine.on_status(peer, status, &self.view, now);
    }

    /// The last connection to a peer closed.
    pub fn peer_disconnected(&mut self, peer: &PeerId) {
        self.outbound.retain(|_, (p, _)| p != peer);
        self.machine.on_peer_disconnected(*peer);
    }

    /// Remembers that the machine's request `id` to `peer` went out as `outbound`.
    pub fn sent(&mut self, outbound: OutboundRequestId, peer: PeerId, id: RequestId) {
        self.outbound.insert(outbound, (peer, id));
    }

    /// A response to `outbound` arrived. Returns false when it answers no request of ours.
    pub fn response(
        &mut self,
        outbound: OutboundRequestId,
        response: SyncResponse,
        now: Instant,
    ) -> bool {
        let Some((peer, id)) = self.outbound.remove(&outbound) else {
            return false;
        };
        self.machine
            .on_response(peer, id, response, &self.view, now);
        true
    }

    /// `outbound` failed (timeout, closed stream, undecodable answer).
    pub fn request_failed(&mut self, outbound: OutboundRequestId, now: Instant) {
        if let Some((peer, id)) = self.outbound.remove(&outbound) {
            self.machine.on_request_failed(peer, id, now);
        }
    }

    /// A block served by `peer` was invalid (`code`: the chain's error code).
    pub fn import_failed(&mut self, peer: PeerId, code: &str) {
        self.machine.on_import_failed(peer, code);
    }

    /// Blocks handed to import were judged: the window may move on.
    pub fn blocks_imported(&mut self, now: Instant) {
        self.machine.on_blocks_imported(&self.view, now);
    }

    /// The local best tip moved.
    pub fn local_tip_changed(&mut self, now: Instant) {
        self.machine.on_local_tip_changed(&self.view, now);
    }

    /// A block from `peer` is an orphan: fetch its ancestors.
    pub fn missing_parent(&mut self, peer: PeerId, parent: Hash256, now: Instant) {
        self.machine
            .on_missing_parent(peer, parent, &self.view, now);
    }

    /// Timers (request and import timeouts, periodic status).
    pub fn tick(&mut self, now: Instant) {
        self.machine.tick(now, &self.view);
    }

    /// The next action.
    pub fn poll_action(&mut self) -> Option<Action<PeerId>> {
        self.machine.poll_action()
    }
}
