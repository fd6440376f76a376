//! Glue between `talos-sync`'s sans-IO [`SyncMachine`] and the swarm: the chain service's
//! in-memory [`ChainIndex`] as the machine's [`ChainView`] (no store read on the swarm's task),
//! and the mapping between libp2p's outbound request ids and the machine's.

use std::collections::HashMap;
use std::time::Instant;

use libp2p::PeerId;
use libp2p::request_response::OutboundRequestId;
use talos_chain::{ChainStatus, Hash256, NetworkSpec, ParentContext};
use talos_chain_service::ChainIndex;

use crate::light::LightView;
use talos_sync::{Action, ChainView, RequestId, SyncConfig, SyncMachine, SyncResponse, SyncStatus};

/// The chain service's index (and the network's rules) as the sync machine's view of the
/// local chain.
#[derive(Clone, Debug)]
pub struct IndexView {
    index: ChainIndex,
    spec: NetworkSpec,
}

impl IndexView {
    /// A view of `index` on `spec`.
    pub fn new(index: ChainIndex, spec: NetworkSpec) -> Self {
        Self { index, spec }
    }
}

impl ChainView for IndexView {
    fn tip(&self) -> ChainStatus {
        self.index.status()
    }

    fn has_block(&self, id: &Hash256, height: u64) -> bool {
        self.index.has_block(id, height)
    }

    fn context(&self, id: &Hash256, height: u64) -> Option<ParentContext> {
        self.index
            .context(id)
            .filter(|ctx| ctx.header.height == height)
    }

    fn spec(&self) -> &NetworkSpec {
        &self.spec
    }

    fn now_ms(&self) -> u64 {
        self.index.unix_ms()
    }
}

/// The local chain as the machine sees it: a full node's chain index, or a light client's
/// header store.
#[derive(Clone, Debug)]
pub enum View {
    /// A full node.
    Index(IndexView),
    /// A light client.
    Light(LightView),
}

impl View {
    fn inner(&self) -> &dyn ChainView {
        match self {
            Self::Index(v) => v,
            Self::Light(v) => v,
        }
    }
}

impl ChainView for View {
    fn tip(&self) -> ChainStatus {
        self.inner().tip()
    }

    fn has_block(&self, id: &Hash256, height: u64) -> bool {
        self.inner().has_block(id, height)
    }

    fn context(&self, id: &Hash256, height: u64) -> Option<ParentContext> {
        self.inner().context(id, height)
    }

    fn spec(&self) -> &NetworkSpec {
        self.inner().spec()
    }

    fn now_ms(&self) -> u64 {
        self.inner().now_ms()
    }
}

/// The sync machine with its view and the request-id mapping.
#[derive(Debug)]
pub struct SyncDriver {
    machine: SyncMachine<PeerId>,
    view: View,
    outbound: HashMap<OutboundRequestId, (PeerId, RequestId)>,
}

impl SyncDriver {
    /// A driver over `index` on `spec`, with the machine configured by `config`.
    pub fn new(index: ChainIndex, spec: NetworkSpec, config: SyncConfig) -> Self {
        Self::with_view(View::Index(IndexView::new(index, spec)), config)
    }

    /// A light client's driver over its header store (`config` should be headers-only).
    pub fn light(view: LightView, config: SyncConfig) -> Self {
        Self::with_view(View::Light(view), config)
    }

    fn with_view(view: View, config: SyncConfig) -> Self {
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

    /// Our status (what peers are told).
    pub fn local_status(&self) -> ChainStatus {
        self.view.tip()
    }

    /// Requests in flight.
    pub fn in_flight(&self) -> usize {
        self.outbound.len()
    }

    /// A peer that may speak the sync protocol connected.
    pub fn peer_connected(&mut self, peer: PeerId, now: Instant) {
        self.machine.on_peer_connected(peer, now);
    }

    /// A peer sent its status in a request: the answer to send back.
    pub fn status_request(
        &mut self,
        peer: PeerId,
        status: ChainStatus,
        now: Instant,
    ) -> SyncResponse {
        self.machine
            .on_status_request(peer, status, &self.view, now)
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

    /// A block served by `peer` was invalid (`code`: the rejection's code).
    pub fn import_failed(&mut self, peer: PeerId, code: &str) {
        self.machine.on_import_failed(peer, code);
    }

    /// Blocks handed to import were judged: the window may move on.
    pub fn blocks_imported(&mut self, now: Instant) {
        self.machine.on_blocks_imported(&self.view, now);
    }

    /// The local best tip moved (`reorged`: to another branch).
    pub fn local_tip_changed(&mut self, now: Instant, reorged: bool) {
        self.machine.on_local_tip_changed(&self.view, now, reorged);
    }

    /// A block from `peer` is an orphan: fetch its ancestors.
    pub fn missing_parent(
        &mut self,
        peer: PeerId,
        parent: Hash256,
        parent_height: u64,
        now: Instant,
    ) {
        self.machine
            .on_missing_parent(peer, parent, parent_height, &self.view, now);
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
