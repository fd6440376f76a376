//! The node's messaging agent: its keys, its conversations, its inbox and outbox, and (on full
//! and bootstrap nodes) the mailboxes it keeps for other agents.
//!
//! One thread owns all of that state and the store writes ([`core`]): it takes inbound
//! requests, commands and delivery results from one bounded queue, handles as many as are
//! waiting, writes everything they changed in one atomic, durable batch (group commit), and
//! only then acknowledges, answers and sends. Network I/O runs in small tasks ([`courier`]):
//! direct delivery with a fall back to the recipient's mailboxes, mailbox fetches, DID
//! publication; they report back over the same queue.
//!
//! The rules it applies are `talos-messaging`'s and `talos-ratchet`'s; this module only keeps
//! state, moves bytes and keeps time.

mod client;
mod core;
mod courier;
mod inbound;
mod inbox;
mod keys;
mod lanes;
mod mailboxes;
mod metrics;
mod outbound;
pub mod store;
#[cfg(test)]
mod tests;

use std::time::Duration;

pub use client::{AgentClient, AgentError, Delivery, Recipient, SentMessage, SessionInfo};
pub use core::spawn_agent;
pub use inbox::InboxLimits;
pub use metrics::AgentMetrics;
pub use store::{AgentStoreError, InboxEntry};
use talos_messaging::MailboxConfig;

/// Capacity of the agent's input queue.
pub const AGENT_QUEUE: usize = 4096;

/// Capacity of the broadcast of received messages (slow subscribers lag).
pub const AGENT_EVENTS: usize = 4096;

/// How the agent behaves.
#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// Whether this node keeps mailboxes for other agents (full and bootstrap nodes).
    pub host_mailboxes: bool,
    /// Mailbox limits.
    pub mailbox: MailboxConfig,
    /// Mailboxes an envelope for an unreachable recipient is deposited in.
    pub mailbox_replicas: usize,
    /// Deposits that must be acknowledged before a message counts as handed over (at most the
    /// number of mailboxes found).
    pub min_deposits: usize,
    /// How often the agent fetches its own mailboxes (senders deliver directly while it is
    /// online; the mailboxes hold what came while it was not). A round that reaches no
    /// mailbox node is repeated after 2 s.
    pub fetch_interval: Duration,
    /// First retry delay of an unacknowledged message (doubling, at most 5 minutes).
    pub retry_interval: Duration,
    /// How often the DID record is republished.
    pub republish_interval: Duration,
    /// Handshakes (first contacts) one delivering peer may make per minute.
    pub first_contacts_per_minute: u32,
    /// What the inbox may hold.
    pub inbox: InboxLimits,
    /// Counters.
    pub metrics: AgentMetrics,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            host_mailboxes: true,
            mailbox: MailboxConfig::default(),
            mailbox_replicas: 3,
            min_deposits: 2,
            fetch_interval: Duration::from_secs(30),
            retry_interval: Duration::from_secs(2),
            republish_interval: Duration::from_secs(12 * 3600),
            first_contacts_per_minute: 30,
            inbox: InboxLimits::default(),
            metrics: AgentMetrics::default(),
        }
    }
}

/// A message received, as subscribers of [`AgentClient::subscribe`] see it.
pub type AgentEvent = InboxEntry;
