//! The network task's metrics, registered in the node's one registry under the `talos_` prefix;
//! labels are `&'static str` codes, so counting allocates nothing.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use talos_gossip::{Acceptance, TopicKind};

use crate::policy::Offence;

/// Labels of a gossip validation outcome.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GossipLabel {
    /// `blocks`, `items` or `unknown`.
    pub topic: &'static str,
    /// `accept`, `reject` or `ignore`.
    pub outcome: &'static str,
}

/// A label set of one stable code.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// The code.
    pub code: &'static str,
}

/// The network task's metrics.
#[derive(Clone, Debug, Default)]
pub struct NetMetrics {
    /// Connected peers.
    pub peers: Gauge,
    /// 1 while syncing, 0 when idle.
    pub syncing: Gauge,
    /// Best height announced by the peer sync follows.
    pub sync_target_height: Gauge,
    /// Gossip validation results, by topic and outcome.
    pub gossip_validation: Family<GossipLabel, Counter>,
    /// Peers banned, by reason.
    pub peers_banned: Family<ReasonLabel, Counter>,
    /// Penalties given, by reason (a ban counts here too when a penalty caused it).
    pub peers_penalized: Family<ReasonLabel, Counter>,
    /// Inbound messaging requests dropped unanswered, by reason (`no_agent`, `peer_limit`,
    /// `queue_full`, `unanswered`).
    pub messaging_dropped: Family<ReasonLabel, Counter>,
    /// Outbound messaging requests that got no answer, by [`crate::MessagingFailure::code`].
    pub messaging_failed: Family<ReasonLabel, Counter>,
}

impl NetMetrics {
    /// Registers every metric in `registry` (the caller picks the prefix).
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self::default();
        registry.register("peers", "Connected peers", m.peers.clone());
        registry.register(
            "syncing",
            "1 while range sync is running",
            m.syncing.clone(),
        );
        registry.register(
            "sync_target_height",
            "Best height announced by a peer",
            m.sync_target_height.clone(),
        );
        registry.register(
            "gossip_validation",
            "Gossip validation results",
            m.gossip_validation.clone(),
        );
        registry.register(
            "peers_banned",
            "Peers banned, by reason",
            m.peers_banned.clone(),
        );
        registry.register(
            "peers_penalized",
            "Penalties given to peers, by reason",
            m.peers_penalized.clone(),
        );
        registry.register(
            "messaging_dropped",
            "Inbound messaging requests dropped unanswered, by reason",
            m.messaging_dropped.clone(),
        );
        registry.register(
            "messaging_failed",
            "Outbound messaging requests without an answer, by reason",
            m.messaging_failed.clone(),
        );
        m
    }

    /// Counts one inbound messaging request dropped for `code`.
    pub fn inbound_dropped(&self, code: &'static str) {
        self.messaging_dropped
            .get_or_create(&ReasonLabel { code })
            .inc();
    }

    /// Counts one outbound messaging request that failed.
    pub fn outbound_failed(&self, failure: &crate::MessagingFailure) {
        self.messaging_failed
            .get_or_create(&ReasonLabel {
                code: failure.code(),
            })
            .inc();
    }

    /// Counts one gossip validation result.
    pub fn gossip_result(&self, topic: Option<TopicKind>, acceptance: Acceptance) {
        self.gossip_validation
            .get_or_create(&GossipLabel {
                topic: topic.map_or("unknown", |k| k.as_str()),
                outcome: acceptance.as_str(),
            })
            .inc();
    }

    /// Counts one penalty.
    pub fn penalized(&self, offence: &Offence) {
        self.peers_penalized
            .get_or_create(&ReasonLabel {
                code: offence.code(),
            })
            .inc();
    }

    /// Counts one ban.
    pub fn banned(&self, offence: &Offence) {
        self.peers_banned
            .get_or_create(&ReasonLabel {
                code: offence.code(),
            })
            .inc();
    }
}
