//! The agent's counters, under `talos_messages_*`.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Counters of the messaging agent.
#[derive(Clone, Debug, Default)]
pub struct AgentMetrics {
    /// Messages sealed and queued.
    pub sent: Counter,
    /// Messages the recipient acknowledged directly.
    pub delivered_direct: Counter,
    /// Messages handed to the recipient's mailboxes.
    pub delivered_mailbox: Counter,
    /// Delivery attempts that will be retried.
    pub retries: Counter,
    /// Messages opened into the inbox.
    pub received: Counter,
    /// Envelopes refused (not for us, out of window, undecryptable, over quota).
    pub refused: Counter,
    /// Envelopes stored for other agents (this node as their mailbox).
    pub deposited: Counter,
    /// Envelopes kept for other agents now.
    pub mailbox_envelopes: Gauge,
    /// Messages waiting in the outbox.
    pub outbox: Gauge,
    /// Received messages held in the inbox.
    pub inbox: Gauge,
}

impl AgentMetrics {
    /// Registers the counters in `registry` (the node's `talos_` sub-registry).
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self::default();
        let r = registry.sub_registry_with_prefix("messages");
        r.register("sent", "Messages sealed and queued", m.sent.clone());
        r.register(
            "delivered_direct",
            "Messages acknowledged by their recipient",
            m.delivered_direct.clone(),
        );
        r.register(
            "delivered_mailbox",
            "Messages handed to the recipient's mailboxes",
            m.delivered_mailbox.clone(),
        );
        r.register(
            "retries",
            "Delivery attempts to be retried",
            m.retries.clone(),
        );
        r.register(
            "received",
            "Messages opened into the inbox",
            m.received.clone(),
        );
        r.register("refused", "Envelopes refused", m.refused.clone());
        r.register(
            "deposited",
            "Envelopes stored for other agents",
            m.deposited.clone(),
        );
        r.register(
            "mailbox_envelopes",
            "Envelopes kept for other agents",
            m.mailbox_envelopes.clone(),
        );
        r.register(
            "outbox",
            "Messages waiting for an acknowledgement",
            m.outbox.clone(),
        );
        r.register(
            "inbox",
            "Received messages held in the inbox",
            m.inbox.clone(),
        );
        m
    }
}
