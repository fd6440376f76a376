//! The store-and-forward book of a mailbox node: envelopes kept for recipients that were
//! offline, ciphertext only.
//!
//! Bounded every way a depositor could push: envelopes and bytes per recipient, envelopes per
//! (recipient, sender) pair (one sender cannot fill somebody's mailbox alone), envelopes and
//! bytes in total, each envelope charged [`ENVELOPE_OVERHEAD_BYTES`] on top of its payload (so
//! none is free), and a TTL counted from when *this node* stored the envelope (the sender's
//! timestamp is its word only; it is checked for plausibility, never trusted for expiry).
//! Sender keys cost nothing to make, so these bounds hold the book's size, not fairness
//! between depositors: the node adds a quota per Noise-authenticated depositing peer and
//! takes deposits only for recipients it is a mailbox of ([`DepositStatus::NotResponsible`]). A duplicate deposit
//! (same recipient, sender and message id) is acknowledged as stored and costs nothing. The
//! sender is part of that key, and of an acknowledgement's: another depositor reusing a message
//! id it saw can neither make a node drop the real envelope as a "duplicate" nor have it
//! deleted by the recipient's acknowledgement of its own. Fetches page by a cursor (a per-node
//! sequence number that never goes back, [`MailboxBook::next_seq`]), acknowledgements delete.
//! The book keeps no clock: every call takes `now_ms`; a fetch skips what has expired, and
//! [`MailboxBook::expire`], which the node calls on a timer, drops it and says what to delete
//! from disk. The node persists what [`MailboxBook::deposit`] reports as new (and the sequence
//! high-water mark) and rebuilds the book at start-up with [`MailboxBook::restore`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::envelope::{Envelope, MessageId};
use crate::error::DecodeError;
use crate::limits::{ENVELOPE_OVERHEAD_BYTES, MAX_PAGE_ENVELOPES};

/// A recipient or sender key, as the book indexes it.
type Key = [u8; 32];

/// Limits of a [`MailboxBook`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MailboxConfig {
    /// Envelopes kept per recipient.
    pub max_per_recipient: usize,
    /// Envelopes kept per (recipient, sender).
    pub max_per_sender: usize,
    /// Bytes kept per recipient (payload + [`ENVELOPE_OVERHEAD_BYTES`] per envelope).
    pub max_bytes_per_recipient: usize,
    /// Bytes kept in total (counted the same way).
    pub max_total_bytes: usize,
    /// Envelopes kept in total.
    pub max_envelopes: usize,
    /// How long an envelope is kept after it was stored, in ms.
    pub ttl_ms: u64,
    /// How far in the future a sender's timestamp may be, in ms.
    pub max_future_ms: u64,
}

impl Default for MailboxConfig {
    fn default() -> Self {
        Self {
            max_per_recipient: 2_000,
            max_per_sender: 500,
            max_bytes_per_recipient: 32 << 20,
            max_total_bytes: 512 << 20,
            max_envelopes: 200_000,
            ttl_ms: 7 * 24 * 3_600_000,
            max_future_ms: 10 * 60_000,
        }
    }
}

/// What a deposit came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DepositStatus {
    /// Stored (or stored already): the sender may stop retrying this node.
    Stored,
    /// The recipient's mailbox is full.
    MailboxFull,
    /// This sender has as many envelopes waiting for this recipient as it may.
    SenderOverQuota,
    /// The node keeps as many bytes as it will.
    NodeFull,
    /// The sender's timestamp is older than the TTL: it would expire at once.
    Expired,
    /// The sender's timestamp is further in the future than allowed.
    FromTheFuture,
    /// This node is not one of the recipient's mailboxes.
    NotResponsible,
}

impl DepositStatus {
    pub(crate) fn to_wire(self) -> u32 {
        match self {
            Self::Stored => 0,
            Self::MailboxFull => 1,
            Self::SenderOverQuota => 2,
            Self::NodeFull => 3,
            Self::Expired => 4,
            Self::FromTheFuture => 5,
            Self::NotResponsible => 6,
        }
    }

    pub(crate) fn from_wire(code: u32) -> Result<Self, DecodeError> {
        Ok(match code {
            0 => Self::Stored,
            1 => Self::MailboxFull,
            2 => Self::SenderOverQuota,
            3 => Self::NodeFull,
            4 => Self::Expired,
            5 => Self::FromTheFuture,
            6 => Self::NotResponsible,
            code => {
                return Err(DecodeError::UnknownStatus {
                    what: "deposit",
                    code,
                });
            }
        })
    }

    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Stored => "stored",
            Self::MailboxFull => "mailbox_full",
            Self::SenderOverQuota => "sender_over_quota",
            Self::NodeFull => "node_full",
            Self::Expired => "expired",
            Self::FromTheFuture => "from_the_future",
            Self::NotResponsible => "not_responsible",
        }
    }
}

/// A refused deposit: the status to answer with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("deposit refused: {}", .0.code())]
pub struct DepositRejection(pub DepositStatus);

/// An envelope its recipient acknowledges: named by sender and message id, as the book keys it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Acked {
    /// The sender's Ed25519 key.
    pub sender: [u8; 32],
    /// The message id.
    pub message_id: MessageId,
}

/// A stored envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEnvelope {
    /// Its place in this node's sequence (the fetch cursor).
    pub seq: u64,
    /// When this node stored it (ms since the Unix epoch).
    pub stored_at_ms: u64,
    /// The envelope.
    pub envelope: Envelope,
}

/// A page of a mailbox.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// Envelopes, oldest first.
    pub envelopes: Vec<Envelope>,
    /// Where the next fetch starts.
    pub next_cursor: u64,
    /// Whether more envelopes wait past `next_cursor`.
    pub more: bool,
}

/// One recipient's envelopes.
#[derive(Debug, Default)]
struct Mailbox {
    by_seq: BTreeMap<u64, StoredEnvelope>,
    /// (message id, sender) → seq.
    by_id: BTreeMap<(MessageId, Key), u64>,
    per_sender: HashMap<Key, usize>,
    bytes: usize,
}

/// The mailboxes of one node.
#[derive(Debug, Default)]
pub struct MailboxBook {
    config: MailboxConfig,
    boxes: HashMap<Key, Mailbox>,
    /// (expiry, recipient, seq), soonest first.
    expiries: BTreeSet<(u64, Key, u64)>,
    next_seq: u64,
    bytes: usize,
}

impl MailboxBook {
    /// An empty book with `config`'s limits.
    pub fn new(config: MailboxConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// Its limits.
    pub fn config(&self) -> &MailboxConfig {
        &self.config
    }

    /// Keeps `envelope` for its recipient. `Ok(Some(stored))` for a new envelope (the node
    /// persists it before it acknowledges), `Ok(None)` for one stored already.
    pub fn deposit(
        &mut self,
        envelope: Envelope,
        now_ms: u64,
    ) -> Result<Option<&StoredEnvelope>, DepositRejection> {
        let reject = |status| Err(DepositRejection(status));
        if envelope.timestamp_ms() > now_ms.saturating_add(self.config.max_future_ms) {
            return reject(DepositStatus::FromTheFuture);
        }
        if envelope.timestamp_ms().saturating_add(self.config.ttl_ms) <= now_ms {
            return reject(DepositStatus::Expired);
        }
        let recipient = envelope.recipient().to_bytes();
        let sender = envelope.sender().to_bytes();
        let size = charge(&envelope);
        if let Some(mailbox) = self.boxes.get(&recipient) {
            if mailbox.by_id.contains_key(&(envelope.message_id(), sender)) {
                return Ok(None);
            }
            if mailbox.by_seq.len() >= self.config.max_per_recipient
                || mailbox.bytes.saturating_add(size) > self.config.max_bytes_per_recipient
            {
                return reject(DepositStatus::MailboxFull);
            }
            if mailbox.per_sender.get(&sender).copied().unwrap_or(0) >= self.config.max_per_sender {
                return reject(DepositStatus::SenderOverQuota);
            }
        }
        if self.bytes.saturating_add(size) > self.config.max_total_bytes
            || self.expiries.len() >= self.config.max_envelopes
        {
            return reject(DepositStatus::NodeFull);
        }
        let Some(next) = self.next_seq.checked_add(1) else {
            return reject(DepositStatus::NodeFull);
        };
        let seq = std::mem::replace(&mut self.next_seq, next);
        let stored = StoredEnvelope {
            seq,
            stored_at_ms: now_ms,
            envelope,
        };
        Ok(self.insert(stored))
    }

    /// The sequence number the next deposit gets: the node persists it (a high-water mark)
    /// so that after a restart no new envelope lands below a cursor a recipient holds.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Puts back an envelope the node persisted earlier (at start-up), after
    /// [`Self::set_next_seq`] with the persisted high-water mark. Limits are not checked again;
    /// an envelope past its TTL, or one whose seq or (sender, id) is here already, is dropped
    /// (`false`).
    pub fn restore(&mut self, stored: StoredEnvelope, now_ms: u64) -> bool {
        self.next_seq = self.next_seq.max(stored.seq.saturating_add(1));
        if stored.stored_at_ms.saturating_add(self.config.ttl_ms) <= now_ms {
            return false;
        }
        self.insert(stored).is_some()
    }

    /// Moves the sequence up to `next` (the persisted high-water mark); never down.
    pub fn set_next_seq(&mut self, next: u64) {
        self.next_seq = self.next_seq.max(next);
    }

    /// Indexes `stored`, unless its seq or its (sender, id) is taken (then nothing changes).
    fn insert(&mut self, stored: StoredEnvelope) -> Option<&StoredEnvelope> {
        let recipient = stored.envelope.recipient().to_bytes();
        let sender = stored.envelope.sender().to_bytes();
        let seq = stored.seq;
        let id = (stored.envelope.message_id(), sender);
        if let Some(mailbox) = self.boxes.get(&recipient)
            && (mailbox.by_seq.contains_key(&seq) || mailbox.by_id.contains_key(&id))
        {
            return None;
        }
        let size = charge(&stored.envelope);
        let expiry = stored.stored_at_ms.saturating_add(self.config.ttl_ms);
        self.expiries.insert((expiry, recipient, seq));
        self.bytes = self.bytes.saturating_add(size);
        let mailbox = self.boxes.entry(recipient).or_default();
        mailbox.bytes = mailbox.bytes.saturating_add(size);
        *mailbox.per_sender.entry(sender).or_default() += 1;
        mailbox.by_id.insert(id, seq);
        Some(mailbox.by_seq.entry(seq).or_insert(stored))
    }

    /// The envelopes waiting for `owner` from `cursor` on: at most `limit` (and at most
    /// [`MAX_PAGE_ENVELOPES`]), oldest first.
    pub fn fetch(&self, owner: &Key, cursor: u64, limit: u32, now_ms: u64) -> Page {
        let ttl = self.config.ttl_ms;
        let limit = usize::try_from(limit)
            .unwrap_or(usize::MAX)
            .min(MAX_PAGE_ENVELOPES);
        let Some(mailbox) = self.boxes.get(owner) else {
            return Page {
                next_cursor: cursor,
                ..Page::default()
            };
        };
        let mut waiting = mailbox
            .by_seq
            .range(cursor..)
            .filter(|(_, s)| s.stored_at_ms.saturating_add(ttl) > now_ms);
        let envelopes: Vec<(u64, Envelope)> = waiting
            .by_ref()
            .take(limit)
            .map(|(seq, s)| (*seq, s.envelope.clone()))
            .collect();
        let more = waiting.next().is_some();
        let next_cursor = envelopes
            .last()
            .map_or(cursor, |(seq, _)| seq.saturating_add(1));
        Page {
            envelopes: envelopes.into_iter().map(|(_, e)| e).collect(),
            next_cursor,
            more,
        }
    }

    /// Deletes the envelopes `owner` acknowledges, each named by (sender key, message id)
    /// (others are ignored); returns their sequence numbers, for the node to delete what it
    /// persisted.
    pub fn acknowledge(&mut self, owner: &Key, acked: &[Acked]) -> Vec<u64> {
        let Some(mailbox) = self.boxes.get(owner) else {
            return Vec::new();
        };
        let mut seqs: Vec<u64> = acked
            .iter()
            .filter_map(|a| mailbox.by_id.get(&(a.message_id, a.sender)).copied())
            .collect();
        seqs.sort_unstable();
        seqs.dedup();
        for seq in &seqs {
            self.remove(owner, *seq);
        }
        seqs
    }

    /// Drops every envelope past its TTL; returns their (recipient, seq), for the node to
    /// delete what it persisted.
    pub fn expire(&mut self, now_ms: u64) -> Vec<(Key, u64)> {
        let mut gone = Vec::new();
        while let Some(&(expiry, recipient, seq)) = self.expiries.first() {
            if expiry > now_ms {
                break;
            }
            // Taken off first, so the loop ends whatever `remove` finds.
            self.expiries.pop_first();
            self.remove(&recipient, seq);
            gone.push((recipient, seq));
        }
        gone
    }

    fn remove(&mut self, recipient: &Key, seq: u64) {
        let Some(mailbox) = self.boxes.get_mut(recipient) else {
            return;
        };
        let Some(stored) = mailbox.by_seq.remove(&seq) else {
            return;
        };
        let size = charge(&stored.envelope);
        mailbox.bytes = mailbox.bytes.saturating_sub(size);
        self.bytes = self.bytes.saturating_sub(size);
        let sender = stored.envelope.sender().to_bytes();
        mailbox
            .by_id
            .remove(&(stored.envelope.message_id(), sender));
        if let Some(n) = mailbox.per_sender.get_mut(&sender) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                mailbox.per_sender.remove(&sender);
            }
        }
        let expiry = stored.stored_at_ms.saturating_add(self.config.ttl_ms);
        self.expiries.remove(&(expiry, *recipient, seq));
        if mailbox.by_seq.is_empty() {
            self.boxes.remove(recipient);
        }
    }

    /// Envelopes waiting for `owner`.
    pub fn waiting(&self, owner: &Key) -> usize {
        self.boxes.get(owner).map_or(0, |m| m.by_seq.len())
    }

    /// Bytes kept in total (payload + overhead per envelope).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Envelopes kept in total.
    pub fn len(&self) -> usize {
        self.expiries.len()
    }

    /// Whether the book keeps nothing.
    pub fn is_empty(&self) -> bool {
        self.expiries.is_empty()
    }
}

/// What an envelope costs a mailbox: its payload and a fixed overhead.
fn charge(envelope: &Envelope) -> usize {
    envelope
        .payload_len()
        .saturating_add(ENVELOPE_OVERHEAD_BYTES)
}

/// Domain tag of [`mailbox_key`].
const MAILBOX_KEY_TAG: &[u8] = b"talos/mailbox/v1\0";

/// Where an agent's mailboxes are: the Kademlia key whose closest full nodes keep envelopes
/// for the agent with this Ed25519 key (SHA-256 of a domain tag and the key).
pub fn mailbox_key(agent: &[u8; 32]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(MAILBOX_KEY_TAG);
    h.update(agent);
    h.finalize().into()
}
