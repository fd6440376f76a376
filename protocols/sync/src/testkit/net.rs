//! Simulated peers and a loop that carries the machine's actions to them, on virtual time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use talos_chain::{Block, BlockHeader, ChainStatus, Hash256};

use super::chain::TestChain;
use super::local::LocalChain;
use crate::machine::{
    Action, DisconnectReason, Misbehaviour, RequestId, SyncConfig, SyncMachine, SyncStatus,
};
use crate::messages::{SyncRequest, SyncResponse};

/// How a simulated peer answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Serves its chain faithfully.
    Honest,
    /// Answers status and headers, never block ranges.
    SilentOnBlocks,
    /// Answers status only.
    Silent,
    /// Answers status, and every other request with a `busy` error.
    Busy,
    /// Answers block ranges with nothing.
    EmptyBlocks,
    /// Answers block ranges with the blocks one height further on.
    ShiftedBlocks,
    /// Answers block ranges with the right headers over junk bodies (one extra signed item:
    /// a body its header does not commit to).
    MutatedBodies,
    /// Answers header ranges with a gap (headers that do not link).
    GappedHeaders,
    /// Answers block ranges with headers.
    WrongKind,
    /// Answers header ranges with nothing.
    EmptyHeaders,
    /// Sends at most 25 headers and 5 blocks per answer (a responder capping its answers).
    Capped,
}

/// A simulated peer.
#[derive(Clone, Debug)]
pub struct SimPeer {
    /// The chain it serves.
    pub chain: TestChain,
    /// How it answers.
    pub behaviour: Behaviour,
    /// Advertised instead of the chain's real status.
    pub status: Option<ChainStatus>,
    /// Blocks served by range instead of the chain's (a peer on another fork).
    pub range_source: Option<TestChain>,
}

impl SimPeer {
    /// A peer serving `chain` faithfully.
    pub fn honest(chain: TestChain) -> Self {
        Self::with(chain, Behaviour::Honest)
    }

    /// A peer serving `chain` the way `behaviour` says.
    pub fn with(chain: TestChain, behaviour: Behaviour) -> Self {
        Self {
            chain,
            behaviour,
            status: None,
            range_source: None,
        }
    }

    fn status(&self) -> ChainStatus {
        self.status.unwrap_or_else(|| self.chain.status())
    }

    /// The answer to `request`, or `None` for silence.
    fn answer(&self, request: &SyncRequest) -> Option<SyncResponse> {
        match (self.behaviour, request) {
            (Behaviour::Silent | Behaviour::Busy, SyncRequest::Status(_))
            | (Behaviour::Honest, _) => {}
            (Behaviour::Silent, _) => return None,
            (Behaviour::Busy, _) => return Some(crate::server::busy()),
            _ => {}
        }
        Some(match request {
            SyncRequest::Status(_) => SyncResponse::Status(self.status()),
            SyncRequest::HeadersByRange {
                start_height,
                count,
            } => {
                let mut headers: Vec<_> = range(&self.chain, *start_height, *count)
                    .into_iter()
                    .map(|b| b.header)
                    .collect();
                match self.behaviour {
                    Behaviour::GappedHeaders if headers.len() > 2 => {
                        headers.remove(1);
                    }
                    Behaviour::EmptyHeaders => headers.clear(),
                    Behaviour::Capped => headers.truncate(25),
                    _ => {}
                }
                SyncResponse::Headers(headers)
            }
            SyncRequest::BlocksByRange {
                start_height,
                count,
            } => {
                let source = self.range_source.as_ref().unwrap_or(&self.chain);
                match self.behaviour {
                    Behaviour::SilentOnBlocks => return None,
                    Behaviour::EmptyBlocks => SyncResponse::Blocks(Vec::new()),
                    Behaviour::ShiftedBlocks => {
                        SyncResponse::Blocks(range(source, start_height + 1, *count))
                    }
                    Behaviour::WrongKind => SyncResponse::Headers(
                        range(source, *start_height, *count)
                            .into_iter()
                            .map(|b| b.header)
                            .collect(),
                    ),
                    Behaviour::Capped => {
                        SyncResponse::Blocks(range(source, *start_height, (*count).min(5)))
                    }
                    Behaviour::MutatedBodies => SyncResponse::Blocks(
                        range(source, *start_height, *count)
                            .into_iter()
                            .map(|block| mutated(&self.chain, block))
                            .collect(),
                    ),
                    _ => SyncResponse::Blocks(range(source, *start_height, *count)),
                }
            }
            SyncRequest::BlocksByHash(ids) => SyncResponse::Blocks(
                ids.iter()
                    .filter_map(|id| self.chain.get(id).cloned())
                    .collect(),
            ),
            SyncRequest::Proof(_) => SyncResponse::Proof(None),
            SyncRequest::StateProof { block, key } => SyncResponse::StateProof(
                crate::server::ServeChain::state_proof(&self.chain, block, key)
                    .ok()
                    .flatten()
                    .map(Box::new),
            ),
        })
    }
}

/// `block` with one more signed item than its header commits to.
fn mutated(chain: &TestChain, mut block: Block) -> Block {
    let junk = talos_chain::testkit::item(&chain.spec, &talos_chain::testkit::key(99), 0);
    block.items.push(junk);
    block
}

/// The best chain's blocks `start..start + count` (those that exist).
fn range(chain: &TestChain, start: u64, count: u32) -> Vec<Block> {
    (start..start + u64::from(count))
        .map_while(|h| chain.block_at(h).cloned())
        .collect()
}

/// The machine, the local chain, the peers and a record of what happened. The local chain is a
/// [`TestChain`] by default, a [`super::HeaderChain`] for a machine in headers-only mode.
pub struct Net<L = TestChain> {
    /// The machine under test (peers are small integers).
    pub m: SyncMachine<u8>,
    /// The local chain imports go to.
    pub local: L,
    /// The connected simulated peers.
    pub peers: BTreeMap<u8, SimPeer>,
    /// Virtual time.
    pub now: Instant,
    /// Every request sent, in order.
    pub sent: Vec<(u8, SyncRequest)>,
    /// Every penalty.
    pub penalties: Vec<(u8, Misbehaviour)>,
    /// Every disconnect.
    pub disconnects: Vec<(u8, DisconnectReason)>,
    /// Every import: who served it and the block heights.
    pub imports: Vec<(u8, Vec<u64>)>,
    /// Every header import (headers-only mode): who served it and the header heights.
    pub header_imports: Vec<(u8, Vec<u64>)>,
    /// Import rejections reported to the machine.
    pub import_failures: Vec<(u8, &'static str)>,
    /// Most distinct peers with block-range requests in flight at once.
    pub max_parallel_peers: usize,
    /// Requests a peer never answered.
    pub unanswered: HashMap<RequestId, (u8, SyncRequest)>,
    /// When set, block imports are held here instead of applied.
    pub hold_imports: bool,
    /// Block imports held back while `hold_imports` is set.
    pub held: Vec<(u8, Vec<Block>)>,
    /// Most actions queued in the machine seen at once.
    pub max_queued: usize,
}

impl<L: LocalChain> Net<L> {
    /// A machine over `local` with `config`, no peers yet.
    pub fn new(local: L, config: SyncConfig) -> Self {
        let m = SyncMachine::new(config, local.tip());
        Self {
            m,
            local,
            peers: BTreeMap::new(),
            now: Instant::now(),
            sent: Vec::new(),
            penalties: Vec::new(),
            disconnects: Vec::new(),
            imports: Vec::new(),
            header_imports: Vec::new(),
            import_failures: Vec::new(),
            max_parallel_peers: 0,
            unanswered: HashMap::new(),
            hold_imports: false,
            held: Vec::new(),
            max_queued: 0,
        }
    }

    /// Connects a simulated peer.
    pub fn connect(&mut self, id: u8, peer: SimPeer) {
        self.peers.insert(id, peer);
        self.m.on_peer_connected(id, self.now);
    }

    /// Disconnects a peer.
    pub fn disconnect(&mut self, id: u8) {
        self.peers.remove(&id);
        self.unanswered.retain(|_, (p, _)| *p != id);
        self.m.on_peer_disconnected(id);
    }

    /// One round: drain the actions, apply imports, deliver answers. Returns whether any
    /// action came out.
    pub fn step(&mut self) -> bool {
        self.max_queued = self.max_queued.max(self.m.queued_actions());
        let mut answers = Vec::new();
        let mut any = false;
        let mut imported = false;
        while let Some(action) = self.m.poll_action() {
            any = true;
            match action {
                Action::Send { peer, id, request } => {
                    self.sent.push((peer, request.clone()));
                    match self.peers.get(&peer).and_then(|p| p.answer(&request)) {
                        Some(response) => answers.push((peer, id, response)),
                        None => {
                            self.unanswered.insert(id, (peer, request));
                        }
                    }
                }
                Action::Import { peer, blocks } => {
                    self.imports
                        .push((peer, blocks.iter().map(|b| b.header.height).collect()));
                    if self.hold_imports {
                        self.held.push((peer, blocks));
                    } else {
                        imported |= self.apply_import(peer, blocks);
                    }
                }
                Action::ImportHeaders { peer, headers } => {
                    self.header_imports
                        .push((peer, headers.iter().map(|h| h.height).collect()));
                    imported |= self.apply_header_import(peer, headers);
                }
                Action::Penalize { peer, misbehaviour } => {
                    self.penalties.push((peer, misbehaviour));
                }
                Action::Disconnect { peer, reason } => {
                    self.disconnects.push((peer, reason));
                    self.disconnect(peer);
                }
            }
        }
        let in_flight: HashSet<u8> = answers
            .iter()
            .filter(|(_, _, r)| matches!(r, SyncResponse::Blocks(_)))
            .map(|(p, _, _)| *p)
            .chain(
                self.unanswered
                    .values()
                    .filter(|(_, r)| matches!(r, SyncRequest::BlocksByRange { .. }))
                    .map(|(p, _)| *p),
            )
            .collect();
        self.max_parallel_peers = self.max_parallel_peers.max(in_flight.len());
        if imported {
            self.m.on_blocks_imported(&self.local, self.now);
        }
        for (peer, id, response) in answers {
            self.m
                .on_response(peer, id, response, &self.local, self.now);
        }
        any
    }

    /// Imports blocks in order; reports the first rejection.
    fn apply_import(&mut self, peer: u8, blocks: Vec<Block>) -> bool {
        let mut any = false;
        for block in blocks {
            match self.local.import_block(block) {
                Ok(()) => any = true,
                Err(code) => {
                    self.import_failures.push((peer, code));
                    self.m.on_import_failed(peer, code);
                    break;
                }
            }
        }
        any
    }

    /// Stores headers in order; reports the first rejection.
    fn apply_header_import(&mut self, peer: u8, headers: Vec<BlockHeader>) -> bool {
        let mut any = false;
        for header in headers {
            match self.local.import_header(header) {
                Ok(()) => any = true,
                Err(code) => {
                    self.import_failures.push((peer, code));
                    self.m.on_import_failed(peer, code);
                    break;
                }
            }
        }
        any
    }

    /// Applies the held imports.
    pub fn release_held(&mut self) {
        for (peer, blocks) in std::mem::take(&mut self.held) {
            self.apply_import(peer, blocks);
        }
        self.m.on_blocks_imported(&self.local, self.now);
    }

    /// Lets `dt` pass and ticks.
    pub fn advance(&mut self, dt: Duration) {
        self.now += dt;
        self.m.tick(self.now, &self.local);
    }

    /// Runs rounds until nothing happens and the machine is idle with nothing in flight that
    /// a peer will answer (at most `max_rounds`; time moves 500 ms per quiet round). Returns
    /// whether it settled.
    pub fn run(&mut self, max_rounds: usize) -> bool {
        for _ in 0..max_rounds {
            if self.step() {
                continue;
            }
            let settled = self.m.state() == SyncStatus::Idle
                && self.m.requests_in_flight() == 0
                && self.m.queued_actions() == 0;
            if settled {
                return true;
            }
            self.advance(Duration::from_millis(500));
        }
        false
    }

    /// Requests of one kind sent to `peer`.
    pub fn sent_to(&self, peer: u8, kind: &str) -> Vec<SyncRequest> {
        self.sent
            .iter()
            .filter(|(p, r)| *p == peer && r.kind_name() == kind)
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// Distinct peers sent requests of one kind.
    pub fn peers_sent(&self, kind: &str) -> HashSet<u8> {
        self.sent
            .iter()
            .filter(|(_, r)| r.kind_name() == kind)
            .map(|(p, _)| *p)
            .collect()
    }

    /// Penalties of `peer`.
    pub fn penalties_of(&self, peer: u8) -> Vec<Misbehaviour> {
        self.penalties
            .iter()
            .filter(|(p, _)| *p == peer)
            .map(|(_, m)| *m)
            .collect()
    }

    /// Asserts every import (blocks or headers) handed over contiguous heights, parent first.
    pub fn assert_imports_in_order(&self) {
        for (_, heights) in self.imports.iter().chain(&self.header_imports) {
            for pair in heights.windows(2) {
                assert_eq!(pair[1], pair[0] + 1, "import not contiguous: {heights:?}");
            }
        }
    }

    /// The id of the local best block (or header) at `height`.
    pub fn local_id_at(&self, height: u64) -> Option<Hash256> {
        self.local.best_id_at(height)
    }
}
