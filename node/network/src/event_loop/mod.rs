//! The network task: one loop owning the swarm, fed by chain notices, node commands, gossip
//! verdicts, served sync answers, sync import results and timers. It translates; the chain
//! service, the sync machine and [`crate::policy`] decide.
//!
//! Nothing here blocks: store reads for peers run on the blocking pool
//! ([`crate::sync_server`]), gossip verdicts and sync imports are awaited by small tasks
//! ([`crate::gossip`], [`crate::imports`]) that report back over bounded channels, and the sync
//! machine reads the chain service's in-memory index. The node's answers to inbound messaging
//! requests are awaited in a `FuturesUnordered` the loop polls ([`crate::messaging`]).

mod closest;
mod control;
mod did;
mod messaging;
mod peering;
mod queries;
mod swarm_events;
mod sync_events;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId, Swarm};
use talos_chain::NetworkSpec;
use talos_gossip::Topics;
use tokio::sync::{Notify, mpsc};
use tokio::time::MissedTickBehavior;
use tracing::{debug, info, warn};

use crate::behaviour::NodeBehaviour;
use crate::config::{NetConfig, Role};
use crate::error::NetError;
use crate::gossip::{GossipValidator, GossipVerdict, VERDICT_QUEUE};
use crate::imports::{BatchResult, ImportFeeder, RESULT_QUEUE};
use crate::light::import::HEADER_QUEUE;
use crate::light::{
    HeaderImporter, HeaderResult, LIGHT_HEADERS_AHEAD, LIGHT_HEADERS_PER_REQUEST,
    LIGHT_STATUS_INTERVAL, LightView,
};
use crate::metrics::NetMetrics;
use crate::peers::PeerManager;
use crate::protocols::ProtocolNames;
use crate::queries::PendingQueries;
use crate::swarm::build_swarm;
use crate::sync_driver::SyncDriver;
use crate::sync_server::{SERVED_QUEUE, Served, SyncServer};
use crate::{LightNetParts, NetCommand, NetParts};

/// How often the sync machine's timers run.
const SYNC_TICK: Duration = Duration::from_secs(1);

/// How often gossip scores are polled, local scores decay and bans expire.
const SCORE_TICK: Duration = Duration::from_secs(5);

/// What the loop knows about its network and role.
struct Settings {
    spec: NetworkSpec,
    topics: Topics,
    names: ProtocolNames,
    role: Role,
    /// Connected peers below which peers discovered through Kademlia are dialed.
    target_peers: usize,
    /// The configured bootnodes that name their PeerId.
    bootnodes: Vec<(PeerId, Multiaddr)>,
}

/// The receiving ends of every queue into the loop.
struct Inbox {
    notices: mpsc::Receiver<talos_chain_service::ChainNotice<PeerId>>,
    commands: mpsc::Receiver<NetCommand>,
    served: mpsc::Receiver<Served>,
    verdicts: mpsc::Receiver<GossipVerdict>,
    batch_results: mpsc::Receiver<BatchResult>,
    header_results: mpsc::Receiver<HeaderResult>,
}

/// The swarm, listening, with what the loop knows about its network.
struct Built {
    swarm: Swarm<NodeBehaviour>,
    libp2p_metrics: libp2p::metrics::Metrics,
    settings: Settings,
}

/// What a full node's or a light client's start hands the loop.
struct Assembly {
    inbox: Inbox,
    sync: SyncDriver,
    backend: Backend,
    metrics: NetMetrics,
    messaging: Option<mpsc::Sender<crate::messaging::InboundMessaging>>,
}

/// What the loop hands chain data to: a full node's chain service, or a light client's header
/// importer.
#[expect(
    clippy::large_enum_variant,
    reason = "one per network task, built once: boxing would buy nothing"
)]
enum Backend {
    /// Serves peers from the store, validates gossip with and imports into the chain service.
    Full {
        server: SyncServer,
        validator: GossipValidator,
        feeder: ImportFeeder,
    },
    /// Imports headers-only sync into the header store; serves only `Status`, within the
    /// same per-peer quotas as a full node's server.
    Light {
        importer: HeaderImporter,
        quotas: talos_sync::server::RateLimiter<PeerId>,
    },
}

/// The network task's state: the swarm and the components it drives.
pub(crate) struct NetLoop {
    swarm: Swarm<NodeBehaviour>,
    settings: Settings,
    inbox: Inbox,
    libp2p_metrics: libp2p::metrics::Metrics,
    metrics: NetMetrics,
    peers: PeerManager,
    sync: SyncDriver,
    backend: Backend,
    /// Requests the node sent to one peer ([`NetCommand::Ask`]).
    queries: PendingQueries,
    /// DID records being published or resolved.
    dids: crate::did::PendingDids,
    /// Which peer put which stored DHT record (a share each).
    record_quota: crate::records::quota::SourceQuota,
    /// Messaging requests both ways, and closest-peer queries.
    messaging: crate::messaging::Messaging,
    listen_addrs: Vec<Multiaddr>,
}

impl NetLoop {
    /// Builds the swarm, starts listening and dials the bootnodes. libp2p's metrics register
    /// in `registry`.
    pub(crate) fn start(
        config: NetConfig,
        parts: NetParts,
        registry: &mut libp2p::metrics::Registry,
        metrics: NetMetrics,
    ) -> Result<Self, NetError> {
        let built = Self::build(&config, registry)?;
        let NetParts {
            store,
            chain,
            index,
            notices,
            commands,
            messaging,
        } = parts;
        let (served_tx, served) = mpsc::channel(SERVED_QUEUE);
        let (verdict_tx, verdicts) = mpsc::channel(VERDICT_QUEUE);
        let (result_tx, batch_results) = mpsc::channel(RESULT_QUEUE);
        let (_, header_results) = mpsc::channel(1);
        let backend = Backend::Full {
            server: SyncServer::new(store, config.spec.network_id, config.spec.limits, served_tx),
            feeder: ImportFeeder::spawn(chain.imports.clone(), result_tx),
            validator: GossipValidator::new(chain, verdict_tx),
        };
        let sync = SyncDriver::new(index, config.spec.clone(), config.sync.clone());
        let inbox = Inbox {
            notices,
            commands,
            served,
            verdicts,
            batch_results,
            header_results,
        };
        let parts = Assembly {
            inbox,
            sync,
            backend,
            metrics,
            messaging,
        };
        Ok(Self::assemble(config, built, parts))
    }

    /// A light client's loop: headers-only sync into `parts.headers`.
    pub(crate) fn start_light(
        config: NetConfig,
        parts: LightNetParts,
        registry: &mut libp2p::metrics::Registry,
        metrics: NetMetrics,
    ) -> Result<Self, NetError> {
        let built = Self::build(&config, registry)?;
        let LightNetParts {
            headers,
            events,
            commands,
            messaging,
        } = parts;
        let (_, notices) = mpsc::channel(1);
        let (_, served) = mpsc::channel(1);
        let (_, verdicts) = mpsc::channel(1);
        let (_, batch_results) = mpsc::channel(1);
        let (header_tx, header_results) = mpsc::channel(HEADER_QUEUE);
        let backend = Backend::Light {
            importer: HeaderImporter::spawn(
                headers.clone(),
                config.spec.clone(),
                header_tx,
                events,
            ),
            quotas: talos_sync::server::RateLimiter::new(talos_sync::server::Quotas::default()),
        };
        let sync_config = talos_sync::SyncConfig {
            headers_only: true,
            status_interval: LIGHT_STATUS_INTERVAL,
            headers_per_request: LIGHT_HEADERS_PER_REQUEST,
            max_headers_ahead: LIGHT_HEADERS_AHEAD,
            ..config.sync.clone()
        };
        let sync = SyncDriver::light(LightView::new(headers, config.spec.clone()), sync_config);
        let inbox = Inbox {
            notices,
            commands,
            served,
            verdicts,
            batch_results,
            header_results,
        };
        let parts = Assembly {
            inbox,
            sync,
            backend,
            metrics,
            messaging,
        };
        Ok(Self::assemble(config, built, parts))
    }

    /// The swarm, listening, with libp2p's metrics and the loop's settings.
    fn build(
        config: &NetConfig,
        registry: &mut libp2p::metrics::Registry,
    ) -> Result<Built, NetError> {
        let mut swarm = build_swarm(config, registry)?;
        let libp2p_metrics = libp2p::metrics::Metrics::new(registry);
        for addr in &config.listen {
            swarm
                .listen_on(addr.clone())
                .map_err(|e| NetError::Listen {
                    addr: addr.clone(),
                    reason: e.into(),
                })?;
        }
        let settings = Settings {
            topics: Topics::for_network(&config.spec.name),
            names: ProtocolNames::for_network(&config.spec.name)?,
            role: config.role,
            target_peers: config.target_peers,
            bootnodes: config
                .bootnodes
                .iter()
                .filter_map(|addr| match addr.iter().last() {
                    Some(Protocol::P2p(peer)) => Some((peer, addr.clone())),
                    _ => None,
                })
                .collect(),
            spec: config.spec.clone(),
        };
        Ok(Built {
            swarm,
            libp2p_metrics,
            settings,
        })
    }

    /// The loop from its parts; dials the bootnodes.
    fn assemble(config: NetConfig, built: Built, parts: Assembly) -> Self {
        let Built {
            swarm,
            libp2p_metrics,
            settings,
        } = built;
        let Assembly {
            inbox,
            sync,
            backend,
            metrics,
            messaging,
        } = parts;
        let mut this = Self {
            inbox,
            libp2p_metrics,
            metrics,
            peers: PeerManager::new(config.ban_duration),
            sync,
            backend,
            queries: PendingQueries::default(),
            dids: crate::did::PendingDids::default(),
            record_quota: crate::records::quota::SourceQuota::default(),
            messaging: crate::messaging::Messaging::new(messaging),
            listen_addrs: Vec::new(),
            settings,
            swarm,
        };
        info!(peer = %this.swarm.local_peer_id(), network = %config.spec.name, role = %config.role, "network starting");
        this.dial_bootnodes(&config.bootnodes);
        this
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
    pub(crate) async fn run(mut self, shutdown: Arc<Notify>) {
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
                Some(verdict) = self.inbox.verdicts.recv() => self.on_verdict(verdict),
                Some(served) = self.inbox.served.recv() => self.on_served(served),
                Some(result) = self.inbox.batch_results.recv() => self.on_batch_result(result),
                Some(result) = self.inbox.header_results.recv() => self.on_header_result(result),
                notice = self.inbox.notices.recv(), if notices_open => match notice {
                    Some(notice) => self.on_notice(notice),
                    None => notices_open = false,
                },
                command = self.inbox.commands.recv(), if commands_open => match command {
                    Some(command) => self.on_command(command),
                    None => commands_open = false,
                },
                Some(answered) = self.messaging.inbound.next_answered(),
                    if self.messaging.inbound.has_waiting() => self.on_messaging_answered(answered),
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                _ = sync_tick.tick() => self.on_sync_tick(),
                _ = score_tick.tick() => self.on_score_tick(),
            }
            self.drain_sync_actions();
        }
        debug!(
            in_flight = self.sync.in_flight(),
            asked = self.queries.len(),
            messaging = self.messaging.outbound.len(),
            "requests left in flight"
        );
        info!("network stopping");
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

    fn set_peer_gauge(&self) {
        self.metrics
            .peers
            .set(i64::try_from(self.peers.len()).unwrap_or(i64::MAX));
    }
}
