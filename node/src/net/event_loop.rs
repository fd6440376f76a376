//! The network task: one loop owning the swarm, fed by chain notices, node commands, gossip
//! verdicts, served sync answers, sync import results and timers.
//!
//! Nothing here blocks: store reads for peers run on the blocking pool
//! ([`super::sync_server`]), gossip verdicts and sync imports are awaited by small tasks
//! ([`super::gossip`], [`super::imports`]) that report back over bounded channels.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId, StreamProtocol, Swarm};
use talos_chain::{ChainStatus, NetworkSpec};
use talos_gossip::Topics;
use talos_storage::Store;
use tokio::sync::{Notify, mpsc};
use tokio::time::MissedTickBehavior;
use tracing::{debug, info, warn};

use super::behaviour::{self, NodeBehaviour};
use super::config::{NetConfig, Role};
use super::error::NetError;
use super::gossip::{GossipValidator, GossipVerdict, VERDICT_QUEUE};
use super::imports::{BatchResult, ImportFeeder, RESULT_QUEUE};
use super::peers::{Offence, PeerBook};
use super::swarm::build_swarm;
use super::sync_driver::SyncDriver;
use super::sync_server::{SERVED_QUEUE, Served, SyncServer};
use crate::chain::ChainChannels;
use crate::handle::NetCommand;
use crate::metrics::{CodeLabel, MetricsHub, NodeMetrics};
use crate::pipeline::ChainNotice;

/// How often the sync machine's timers run.
const SYNC_TICK: Duration = Duration::from_secs(1);

/// How often gossip scores are polled, local scores decay and bans expire.
const SCORE_TICK: Duration = Duration::from_secs(5);

/// The network task's state.
pub(super) struct NetLoop {
    pub(super) swarm: Swarm<NodeBehaviour>,
    pub(super) spec: NetworkSpec,
    pub(super) topics: Topics,
    pub(super) kad_protocol: StreamProtocol,
    /// Connected peers below which peers discovered through Kademlia are dialed.
    pub(super) target_peers: usize,
    /// Our role (a bootnode keeps more peers).
    pub(super) role: Role,
    /// The configured bootnodes that name their PeerId.
    pub(super) bootnodes: Vec<(PeerId, Multiaddr)>,
    pub(super) sync_protocol: StreamProtocol,
    /// Our status as last known (answers status requests without a store read).
    pub(super) local_status: ChainStatus,
    pub(super) notices: mpsc::Receiver<ChainNotice>,
    pub(super) commands: mpsc::Receiver<NetCommand>,
    pub(super) libp2p_metrics: libp2p::metrics::Metrics,
    pub(super) metrics: NodeMetrics,
    pub(super) peers: PeerBook,
    pub(super) sync: SyncDriver,
    pub(super) server: SyncServer,
    pub(super) served: mpsc::Receiver<Served>,
    pub(super) validator: GossipValidator,
    pub(super) verdicts: mpsc::Receiver<GossipVerdict>,
    pub(super) feeder: ImportFeeder,
    pub(super) batch_results: mpsc::Receiver<BatchResult>,
    pub(super) listen_addrs: Vec<Multiaddr>,
}

impl NetLoop {
    /// Builds the swarm, starts listening and dials the bootnodes.
    pub(super) fn start(
        config: NetConfig,
        store: Arc<dyn Store>,
        chain: ChainChannels,
        notices: mpsc::Receiver<ChainNotice>,
        commands: mpsc::Receiver<NetCommand>,
        hub: &MetricsHub,
    ) -> Result<Self, NetError> {
        let (mut swarm, libp2p_metrics) = {
            let mut registry = hub
                .registry
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let swarm = build_swarm(&config, &mut registry)?;
            (swarm, libp2p::metrics::Metrics::new(&mut registry))
        };
        for addr in &config.listen {
            swarm
                .listen_on(addr.clone())
                .map_err(|e| NetError::Listen {
                    addr: addr.clone(),
                    reason: e.to_string(),
                })?;
        }
        let network_id = config.spec.network_id;
        let local_status = store.chain_status(network_id)?;
        let (served_tx, served) = mpsc::channel(SERVED_QUEUE);
        let (verdict_tx, verdicts) = mpsc::channel(VERDICT_QUEUE);
        let (result_tx, batch_results) = mpsc::channel(RESULT_QUEUE);
        let mut this = Self {
            topics: Topics::for_network(&config.spec.name),
            kad_protocol: behaviour::kad_protocol(&config.spec.name)?,
            target_peers: config.target_peers,
            role: config.role,
            bootnodes: config
                .bootnodes
                .iter()
                .filter_map(|addr| match addr.iter().last() {
                    Some(Protocol::P2p(peer)) => Some((peer, addr.clone())),
                    _ => None,
                })
                .collect(),
            sync_protocol: behaviour::sync_protocol(&config.spec.name)?,
            local_status,
            notices,
            commands,
            libp2p_metrics,
            metrics: hub.node.clone(),
            peers: PeerBook::new(config.ban_duration),
            sync: SyncDriver::new(store.clone(), network_id, config.sync.clone()),
            server: SyncServer::new(store, network_id, config.spec.limits, served_tx),
            served,
            feeder: ImportFeeder::spawn(chain.imports.clone(), result_tx),
            validator: GossipValidator::new(chain, verdict_tx),
            verdicts,
            batch_results,
            listen_addrs: Vec::new(),
            spec: config.spec,
            swarm,
        };
        info!(peer = %this.swarm.local_peer_id(), network = %this.spec.name, role = %config.role, "network starting");
        this.dial_bootnodes(&config.bootnodes);
        Ok(this)
    }

    fn dial_bootnodes(&mut self, bootnodes: &[Multiaddr]) {
        let mut known = 0usize;
        for addr in bootnodes {
            if let Some(Protocol::P2p(peer)) = addr.iter().last() {
                if peer == *self.swarm.local_peer_id() {
                    continue;
                }
                let base: Multiaddr = addr
                    .iter()
                    .filter(|p| !matches!(p, Protocol::P2p(_)))
                    .collect();
                self.swarm.behaviour_mut().kad.add_address(&peer, base);
                known += 1;
            }
            if let Err(e) = self.swarm.dial(addr.clone()) {
                warn!(%addr, error = %e, "cannot dial bootnode");
            }
        }
        if known > 0 {
            // Ignore NoKnownPeers: the periodic bootstrap retries.
            let _ = self.swarm.behaviour_mut().kad.bootstrap();
        }
    }

    /// Runs until `shutdown` is notified.
    pub(super) async fn run(mut self, shutdown: Arc<Notify>) -> Result<(), NetError> {
        let notified = shutdown.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let mut sync_tick = tokio::time::interval(SYNC_TICK);
        sync_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut score_tick = tokio::time::interval(SCORE_TICK);
        score_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let (mut notices_open, mut commands_open) = (true, true);
        loop {
            tokio::select! {
                biased;
                () = &mut notified => break,
                Some(verdict) = self.verdicts.recv() => self.on_verdict(verdict),
                Some(served) = self.served.recv() => self.on_served(served),
                Some(result) = self.batch_results.recv() => self.on_batch_result(result),
                notice = self.notices.recv(), if notices_open => match notice {
                    Some(notice) => self.on_notice(notice),
                    None => notices_open = false,
                },
                command = self.commands.recv(), if commands_open => match command {
                    Some(command) => self.on_command(command),
                    None => commands_open = false,
                },
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                _ = sync_tick.tick() => self.on_sync_tick(),
                _ = score_tick.tick() => self.on_score_tick(),
            }
            self.drain_sync_actions();
        }
        info!("network stopping");
        Ok(())
    }

    fn on_sync_tick(&mut self) {
        self.sync.tick(Instant::now());
        match self.sync.status() {
            talos_sync::SyncStatus::Idle => {
                self.metrics.syncing.set(0);
            }
            talos_sync::SyncStatus::Syncing { target_height } => {
                self.metrics.syncing.set(1);
                self.metrics
                    .sync_target_height
                    .set(i64::try_from(target_height).unwrap_or(i64::MAX));
            }
        }
    }

    fn on_score_tick(&mut self) {
        let now = Instant::now();
        let low: Vec<(PeerId, f64)> = self
            .peers
            .iter()
            .filter_map(|(peer, _)| {
                let score = self.swarm.behaviour().gossipsub.peer_score(peer)?;
                (score < behaviour::GRAYLIST_THRESHOLD).then_some((*peer, score))
            })
            .collect();
        for (peer, score) in low {
            debug!(%peer, score, "gossip score below the graylist threshold");
            self.ban(peer, "gossip_score");
        }
        self.prune_excess_peers();
        self.redial_bootnodes(now);
        self.peers.decay();
        for peer in self.peers.expire_bans(now) {
            info!(%peer, "ban expired");
            self.swarm.behaviour_mut().blocked.unblock_peer(peer);
        }
    }

    /// Disconnects peers above the limit (`target_peers` × 3/2, × 4 for a bootnode) down to
    /// `target_peers`, sparing gossip mesh members and peers ahead of us (sync sources).
    /// Kademlia queries connect to many peers; without this every node of a small network
    /// ends up connected to every other.
    fn prune_excess_peers(&mut self) {
        let target = self.target_peers.max(1);
        let limit = match self.role {
            Role::Bootstrap => target * 4,
            Role::Full => target + target / 2,
        };
        let our_height = self.local_status.tip_height;
        let gossipsub = &self.swarm.behaviour().gossipsub;
        let mut protected: std::collections::HashSet<PeerId> =
            gossipsub.all_mesh_peers().copied().collect();
        protected.extend(self.bootnodes.iter().map(|(peer, _)| *peer));
        protected.extend(
            self.peers
                .iter()
                .filter(|(_, e)| e.tip_height.is_some_and(|h| h > our_height))
                .map(|(p, _)| *p),
        );
        let excess = self.peers.excess(limit, target, &protected, |p| {
            gossipsub.peer_score(p).unwrap_or(0.0)
        });
        for peer in excess {
            debug!(%peer, "disconnecting an excess peer");
            let _ = self.swarm.disconnect_peer_id(peer);
        }
    }

    /// Bootnodes keep each other connected (they are the network's backbone, which is also
    /// how a healed partition finds itself again); another node redials its bootnodes only
    /// when it has fewer than half its target peers. (Redialing whenever it held no bootnode
    /// fought the bootnodes' own pruning: a dial/prune loop.)
    fn redial_bootnodes(&mut self, now: Instant) {
        let local = *self.swarm.local_peer_id();
        if self.role == Role::Full && self.peers.len() >= self.target_peers.div_ceil(2) {
            return;
        }
        let due: Vec<Multiaddr> = self
            .bootnodes
            .iter()
            .filter(|(peer, _)| {
                *peer != local && !self.swarm.is_connected(peer) && !self.peers.is_banned(peer, now)
            })
            .map(|(_, addr)| addr.clone())
            .collect();
        for addr in due {
            debug!(%addr, "redialing a bootnode");
            if let Err(e) = self.swarm.dial(addr.clone()) {
                debug!(%addr, error = %e, "bootnode redial failed");
            }
        }
    }

    /// Lowers `peer`'s score; bans it when the score falls too low.
    pub(super) fn penalize(&mut self, peer: PeerId, offence: Offence) {
        debug!(%peer, reason = offence.code(), "peer penalized");
        if self.peers.penalize(&peer, offence) {
            self.ban(peer, offence.code());
        }
    }

    /// Bans `peer` (closes its connections and refuses new ones until the ban expires).
    pub(super) fn ban(&mut self, peer: PeerId, reason: &'static str) {
        if self.peers.ban(peer, Instant::now()) {
            warn!(%peer, reason, "peer banned");
            self.metrics
                .peers_banned
                .get_or_create(&CodeLabel {
                    code: reason.to_owned(),
                })
                .inc();
        }
        let behaviour = self.swarm.behaviour_mut();
        behaviour.blocked.block_peer(peer);
        behaviour.kad.remove_peer(&peer);
    }

    /// Whether `peer` has at least one connection.
    pub(super) fn is_connected(&self, peer: &PeerId) -> bool {
        self.swarm.is_connected(peer)
    }

    pub(super) fn set_peer_gauge(&self) {
        self.metrics
            .peers
            .set(i64::try_from(self.peers.len()).unwrap_or(i64::MAX));
    }

    pub(super) fn target_peers(&self) -> usize {
        self.target_peers
    }
}
