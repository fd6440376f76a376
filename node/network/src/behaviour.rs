//! The composed libp2p behaviour and its configuration.
//!
//! Field order matters: `handle_established_*` runs on the fields in order, so the block list
//! and the connection limits deny a connection before any other behaviour spends state on it.
//! identify, ping and gossipsub keep libp2p's standard protocol ids (`/ipfs/id/1.0.0`,
//! `/ipfs/ping/1.0.0`, `/meshsub/*`) so other implementations interoperate; the network name
//! lives in the Kademlia, sync, msg and mailbox protocol names and in the gossip topics.

use std::num::NonZeroUsize;
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::metrics::Registry;
use libp2p::{
    allow_block_list, connection_limits, gossipsub, identify, kad, ping, request_response,
};
use talos_gossip::Topics;
use talos_messaging::rr_codec::{MailboxCodec, MsgCodec};
use talos_sync::SyncCodec;

use crate::config::{NetConfig, Role};
use crate::error::BehaviourError;
use crate::protocols::ProtocolNames;

/// The transport-level request timeout is the sync machine's plus this margin, so the
/// machine's own timeout (which retries on another peer) fires first.
const REQUEST_TIMEOUT_MARGIN: Duration = Duration::from_secs(5);

/// Peers a DHT record is put to: the record's closest peers, each of which republishes it to
/// the others as they change.
pub(crate) const DHT_REPLICATION: usize = 3;

pub use composed::{NodeBehaviour, NodeBehaviourEvent};

/// The derive's generated event enum (`NodeBehaviourEvent`, one variant per field, named after
/// it) carries no doc comments of its own.
mod composed {
    #![allow(missing_docs)]

    use libp2p::swarm::NetworkBehaviour;
    use libp2p::{
        allow_block_list, connection_limits, gossipsub, identify, kad, ping, request_response,
    };
    use talos_messaging::rr_codec::{MailboxCodec, MsgCodec};
    use talos_sync::SyncCodec;

    /// Every behaviour of a Talos node.
    #[derive(NetworkBehaviour)]
    pub struct NodeBehaviour {
        /// Bans (first: denies before anything else runs).
        pub blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
        /// Per-address and per-subnet inbound limits, address bans.
        pub gate: crate::gate::Gate,
        /// Connection limits.
        pub limits: connection_limits::Behaviour,
        /// identify (`/ipfs/id/1.0.0`).
        pub identify: identify::Behaviour,
        /// ping (`/ipfs/ping/1.0.0`).
        pub ping: ping::Behaviour,
        /// Kademlia on `/talos/<network>/kad/1.0.0`.
        pub kad: kad::Behaviour<kad::store::MemoryStore>,
        /// Gossipsub (blocks and items topics).
        pub gossipsub: gossipsub::Behaviour,
        /// Chain sync, request-response on `/talos/<network>/sync/1.0.0`.
        pub sync: request_response::Behaviour<SyncCodec>,
        /// Agent messaging, request-response on `/talos/<network>/msg/1.0.0`.
        pub msg: request_response::Behaviour<MsgCodec>,
        /// Mailboxes, request-response on `/talos/<network>/mailbox/1.0.0` (outbound only on
        /// a light client, which keeps no mailboxes).
        pub mailbox: request_response::Behaviour<MailboxCodec>,
    }
}

/// Score of a topic: weights tuned so an invalid message costs much more than a long, quiet
/// time in the mesh earns (gossipsub's defaults are test values, not a policy).
fn topic_score_params() -> gossipsub::TopicScoreParams {
    gossipsub::TopicScoreParams {
        topic_weight: 1.0,
        // P1: +0.01 per second in the mesh, at most +10.
        time_in_mesh_weight: 0.01,
        time_in_mesh_quantum: Duration::from_secs(1),
        time_in_mesh_cap: 1_000.0,
        // P2: first deliveries, capped.
        first_message_deliveries_weight: 0.5,
        first_message_deliveries_decay: 0.9,
        first_message_deliveries_cap: 40.0,
        // P3/P3b off: blocks are rare; quiet topics must not punish honest peers.
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        // P4: quadratic in the count; two invalid messages reach the graylist.
        invalid_message_deliveries_weight: -20.0,
        invalid_message_deliveries_decay: 0.99,
        ..Default::default()
    }
}

/// Gossipsub score thresholds. Below [`GRAYLIST_THRESHOLD`] the node also bans the peer.
pub fn score_thresholds() -> gossipsub::PeerScoreThresholds {
    gossipsub::PeerScoreThresholds {
        gossip_threshold: -10.0,
        publish_threshold: -50.0,
        graylist_threshold: GRAYLIST_THRESHOLD,
        accept_px_threshold: 10.0,
        opportunistic_graft_threshold: 5.0,
    }
}

/// Gossipsub graylist threshold; the peer book bans peers whose gossip score falls below it.
pub const GRAYLIST_THRESHOLD: f64 = -80.0;

fn score_params(topics: &Topics) -> gossipsub::PeerScoreParams {
    let mut params = gossipsub::PeerScoreParams {
        // Local and docker peers share an IP: no colocation penalty.
        ip_colocation_factor_weight: 0.0,
        // A peer's positive topic score is capped well below what misbehaviour costs.
        topic_score_cap: 50.0,
        ..Default::default()
    };
    for name in [topics.blocks(), topics.items()] {
        params.topics.insert(
            gossipsub::IdentTopic::new(name).hash(),
            topic_score_params(),
        );
    }
    params
}

fn gossipsub(
    key: &Keypair,
    config: &NetConfig,
    topics: &Topics,
    registry: &mut Registry,
) -> Result<gossipsub::Behaviour, BehaviourError> {
    let gs_config = gossipsub::ConfigBuilder::default()
        .heartbeat_interval(config.gossip_heartbeat)
        .heartbeat_initial_delay(Duration::from_millis(100))
        .validation_mode(gossipsub::ValidationMode::Strict)
        .validate_messages()
        .max_transmit_size(talos_gossip::max_transmit_size(&config.spec.limits))
        .message_id_fn(|m: &gossipsub::Message| {
            gossipsub::MessageId::from(talos_gossip::message_id(&m.data).to_vec())
        })
        .duplicate_cache_time(Duration::from_secs(120))
        .build()?;
    let mut gs = gossipsub::Behaviour::new(
        gossipsub::MessageAuthenticity::Signed(key.clone()),
        gs_config,
    )
    .map_err(BehaviourError::Gossipsub)?
    .with_metrics(
        registry.sub_registry_with_prefix("gossipsub"),
        gossipsub::MetricsConfig::default(),
    );
    gs.with_peer_score(score_params(topics), score_thresholds())
        .map_err(BehaviourError::Scoring)?;
    // A light client has no bodies to validate gossip with: it subscribes to nothing.
    if config.role != Role::Light {
        for name in [topics.blocks(), topics.items()] {
            gs.subscribe(&gossipsub::IdentTopic::new(name))?;
        }
    }
    Ok(gs)
}

fn kad(
    key: &Keypair,
    config: &NetConfig,
    names: &ProtocolNames,
) -> kad::Behaviour<kad::store::MemoryStore> {
    let peer_id = key.public().to_peer_id();
    let mut cfg = kad::Config::new(names.kad.clone());
    cfg.set_query_timeout(Duration::from_secs(30))
        .set_periodic_bootstrap_interval(Some(config.kad_bootstrap_interval))
        .set_max_packet_size(64 * 1024)
        // The node decides what enters the routing table (identify, bootnodes), and never a
        // peer for a full bucket: kad would otherwise dial the bucket's oldest disconnected
        // entry to test it, which together with pruning excess connections turns into a
        // steady dial/prune churn.
        .set_kbucket_inserts(kad::BucketInserts::Manual)
        // Nothing a peer puts is stored unless `records::judge` accepts it.
        .set_record_filtering(kad::StoreInserts::FilterBoth);
    if let Some(n) = NonZeroUsize::new(DHT_REPLICATION) {
        cfg.set_replication_factor(n);
    }
    // Records are DID records (≤ 4 KiB each, `talos_identity::MAX_RECORD_BYTES`): 8,192 of
    // them bound the store to 32 MiB; a full store refuses new keys, never evicts stored ones.
    let store_config = kad::store::MemoryStoreConfig {
        max_records: 8_192,
        max_value_bytes: talos_identity::MAX_RECORD_BYTES,
        ..kad::store::MemoryStoreConfig::default()
    };
    let store = kad::store::MemoryStore::with_config(peer_id, store_config);
    let mut kad = kad::Behaviour::with_config(peer_id, store, cfg);
    // Bootstrap and full nodes serve the DHT even before an external address is confirmed
    // (private and docker networks never confirm one).
    match config.role {
        Role::Bootstrap | Role::Full => kad.set_mode(Some(kad::Mode::Server)),
        // A light client asks the DHT but serves nothing from it.
        Role::Light => kad.set_mode(Some(kad::Mode::Client)),
    }
    kad
}

/// Builds the behaviour for `key` (the swarm's identity) and registers gossipsub's metrics in
/// `registry`.
pub fn build(
    key: &Keypair,
    config: &NetConfig,
    registry: &mut Registry,
) -> Result<NodeBehaviour, BehaviourError> {
    let topics = Topics::for_network(&config.spec.name);
    let names = ProtocolNames::for_network(&config.spec.name)?;
    let limits = connection_limits::ConnectionLimits::default()
        .with_max_pending_incoming(Some(64))
        .with_max_pending_outgoing(Some(64))
        .with_max_established(Some(config.max_connections))
        .with_max_established_incoming(Some(config.max_inbound()))
        .with_max_established_outgoing(Some(config.max_outbound))
        .with_max_established_per_peer(Some(config.max_connections_per_peer));
    let identify = identify::Behaviour::new(
        identify::Config::new(names.identify.clone(), key.public())
            .with_agent_version(config.agent_version.clone())
            .with_interval(Duration::from_secs(300))
            .with_push_listen_addr_updates(true),
    );
    let ping = ping::Behaviour::new(
        ping::Config::new()
            .with_interval(Duration::from_secs(15))
            .with_timeout(Duration::from_secs(20)),
    );
    let sync = request_response::Behaviour::with_codec(
        SyncCodec::new(config.spec.limits),
        [(names.sync.clone(), request_response::ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(config.request_timeout + REQUEST_TIMEOUT_MARGIN)
            .with_max_concurrent_streams(64),
    );
    let (msg, mailbox) = messaging(config, &names);
    Ok(NodeBehaviour {
        blocked: allow_block_list::Behaviour::default(),
        gate: crate::gate::Gate::new(config.ip_limits),
        limits: connection_limits::Behaviour::new(limits),
        identify,
        ping,
        kad: kad(key, config, &names),
        gossipsub: gossipsub(key, config, &topics, registry)?,
        sync,
        msg,
        mailbox,
    })
}

/// The msg and mailbox behaviours. Every role speaks `/msg` both ways (agents may run on light
/// clients); only full and bootstrap nodes answer `/mailbox`. A sender pipelines many messages
/// over one connection (the event loop keeps at most
/// [`crate::messaging::MAX_OUTBOUND_PER_PEER`] in flight per peer), so the stream limits are
/// generous; a peer over them has its streams refused.
fn messaging(
    config: &NetConfig,
    names: &ProtocolNames,
) -> (
    request_response::Behaviour<MsgCodec>,
    request_response::Behaviour<MailboxCodec>,
) {
    use request_response::ProtocolSupport;
    let rr_config = |streams| {
        request_response::Config::default()
            .with_request_timeout(crate::messaging::REQUEST_TIMEOUT)
            .with_max_concurrent_streams(streams)
    };
    let msg = request_response::Behaviour::with_codec(
        MsgCodec,
        [(names.msg.clone(), ProtocolSupport::Full)],
        rr_config(1024),
    );
    let mailbox_support = match config.role {
        Role::Bootstrap | Role::Full => ProtocolSupport::Full,
        Role::Light => ProtocolSupport::Outbound,
    };
    let mailbox = request_response::Behaviour::with_codec(
        MailboxCodec,
        [(names.mailbox.clone(), mailbox_support)],
        rr_config(256),
    );
    (msg, mailbox)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_parameters_are_valid() {
        let topics = Topics::for_network("local");
        score_params(&topics).validate().unwrap();
        score_thresholds().validate().unwrap();
        topic_score_params().validate().unwrap();
    }

    #[test]
    fn behaviour_builds() {
        let key = Keypair::generate_ed25519();
        let config = NetConfig::new(talos_chain::NetworkSpec::local(), key.clone());
        let mut registry = Registry::default();
        let b = build(&key, &config, &mut registry).unwrap();
        assert_eq!(b.kad.mode(), kad::Mode::Server);
    }
}
