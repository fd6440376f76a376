//! The adversary's swarm: the injected raw transport with Noise and Yamux, and a behaviour
//! speaking the protocols a Talos node speaks.

use std::time::Duration;

use libp2p::{
    Swarm, SwarmBuilder, connection_limits, gossipsub, identify, kad, ping, request_response,
};
use talos_gossip::Topics;
use talos_network::{BehaviourError, ProtocolNames};

use super::codec::RawSyncCodec;
use super::{AdversaryConfig, AdversaryKind};
use crate::SimError;
use crate::error::AdversaryError;

pub(crate) use composed::{HostileBehaviour, HostileBehaviourEvent};

/// The derive's generated event enum carries no doc comments of its own.
mod composed {
    #![allow(missing_docs)]

    use libp2p::swarm::NetworkBehaviour;
    use libp2p::{connection_limits, gossipsub, identify, kad, ping, request_response};

    use super::RawSyncCodec;

    /// Every protocol of a Talos node, driven by the adversary.
    #[derive(NetworkBehaviour)]
    pub(crate) struct HostileBehaviour {
        /// Connection limits (first: denies before anything else spends state).
        pub(crate) limits: connection_limits::Behaviour,
        /// identify, with the node's protocol version.
        pub(crate) identify: identify::Behaviour,
        /// ping.
        pub(crate) ping: ping::Behaviour,
        /// Kademlia on the network's protocol (server mode, so nodes keep it in their tables).
        pub(crate) kad: kad::Behaviour<kad::store::MemoryStore>,
        /// Gossipsub with manual validation (nothing is ever validated, so nothing is
        /// forwarded).
        pub(crate) gossipsub: gossipsub::Behaviour,
        /// Sync through a raw codec.
        pub(crate) sync: request_response::Behaviour<RawSyncCodec>,
    }
}

/// How long a connection may stay idle: adversaries hold on to their victims.
const IDLE_TIMEOUT: Duration = Duration::from_secs(3600);

/// Timeout of the adversary's own sync requests, and how long it may sit on a request it was
/// sent: longer than a node waits, so the node's own timeout fires first.
const SYNC_TIMEOUT: Duration = Duration::from_secs(120);

/// Most established connections in total.
const MAX_CONNECTIONS: u32 = 256;

/// Most connections pending in each direction.
const MAX_PENDING: u32 = 64;

/// Most sync streams open at once per connection.
const MAX_SYNC_STREAMS: usize = 64;

fn behaviour_error(e: impl Into<BehaviourError>) -> AdversaryError {
    AdversaryError::Behaviour(e.into())
}

/// The network's gossip topics.
pub(crate) fn topics(config: &AdversaryConfig) -> Topics {
    Topics::for_network(&config.spec.name)
}

fn behaviour(
    key: &libp2p::identity::Keypair,
    config: &AdversaryConfig,
) -> Result<HostileBehaviour, SimError> {
    let spec = &config.spec;
    let names = ProtocolNames::for_network(&spec.name).map_err(behaviour_error)?;
    let peer_id = key.public().to_peer_id();
    let identify = identify::Behaviour::new(
        identify::Config::new(names.identify.clone(), key.public())
            .with_agent_version(format!("talos/{}", env!("CARGO_PKG_VERSION")))
            .with_interval(Duration::from_secs(300)),
    );
    let ping = ping::Behaviour::new(
        ping::Config::new()
            .with_interval(Duration::from_secs(15))
            .with_timeout(Duration::from_secs(20)),
    );
    let mut kad_config = kad::Config::new(names.kad.clone());
    kad_config.set_max_packet_size(64 * 1024);
    let mut kad =
        kad::Behaviour::with_config(peer_id, kad::store::MemoryStore::new(peer_id), kad_config);
    // A mutator keeps its victims to itself: in client mode it answers no Kademlia query, so
    // a victim whose only peer it is never learns of the honest peers behind it.
    kad.set_mode(Some(if config.kind == AdversaryKind::MutatedBody {
        kad::Mode::Client
    } else {
        kad::Mode::Server
    }));
    let gossip_config = gossipsub::ConfigBuilder::default()
        .heartbeat_interval(Duration::from_millis(700))
        .heartbeat_initial_delay(Duration::from_millis(100))
        .validation_mode(gossipsub::ValidationMode::Strict)
        .validate_messages()
        .max_transmit_size(talos_gossip::max_transmit_size(&spec.limits))
        .message_id_fn(|m: &gossipsub::Message| {
            gossipsub::MessageId::from(talos_gossip::message_id(&m.data).to_vec())
        })
        .build()
        .map_err(behaviour_error)?;
    let mut gossipsub = gossipsub::Behaviour::new(
        gossipsub::MessageAuthenticity::Signed(key.clone()),
        gossip_config,
    )
    .map_err(|e| behaviour_error(BehaviourError::Gossipsub(e)))?;
    let topics = topics(config);
    for name in [topics.blocks(), topics.items()] {
        gossipsub
            .subscribe(&gossipsub::IdentTopic::new(name))
            .map_err(behaviour_error)?;
    }
    let codec = if config.kind.relays_sync() {
        RawSyncCodec::relaying()
    } else {
        RawSyncCodec::own()
    };
    let sync = request_response::Behaviour::with_codec(
        codec,
        [(names.sync.clone(), request_response::ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(SYNC_TIMEOUT)
            .with_max_concurrent_streams(MAX_SYNC_STREAMS),
    );
    let limits = connection_limits::ConnectionLimits::default()
        .with_max_pending_incoming(Some(MAX_PENDING))
        .with_max_pending_outgoing(Some(MAX_PENDING))
        .with_max_established(Some(MAX_CONNECTIONS))
        .with_max_established_per_peer(Some(2));
    Ok(HostileBehaviour {
        limits: connection_limits::Behaviour::new(limits),
        identify,
        ping,
        kad,
        gossipsub,
        sync,
    })
}

/// Builds the swarm of `config`: its raw transport upgraded with Noise and Yamux (as a node
/// upgrades it), and the hostile behaviour.
pub(crate) fn build(config: &AdversaryConfig) -> Result<Swarm<HostileBehaviour>, SimError> {
    let raw = config.transport.build();
    let behaviour = behaviour(&config.keypair, config)?;
    let transport =
        talos_network::secure_and_multiplex(raw, &config.keypair).map_err(AdversaryError::from)?;
    Ok(SwarmBuilder::with_existing_identity(config.keypair.clone())
        .with_tokio()
        .with_other_transport(|_| transport)
        .unwrap_or_else(|never| match never {})
        .with_behaviour(|_| behaviour)
        .unwrap_or_else(|never| match never {})
        .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE_TIMEOUT))
        .build())
}
