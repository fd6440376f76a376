//! What the agent keeps in the node's key-value store, and how.
//!
//! | namespace | key | value |
//! |---|---|---|
//! | `agent` | `keys` | the identity's X25519 half and the prekey store (postcard) |
//! | `msg.conv` | peer's Ed25519 key | its [`Conversation`] (postcard) |
//! | `msg.in` | arrival number (u64 BE) | an [`InboxEntry`] (postcard) |
//! | `msg.seen` | sender key ‖ message id | when it arrived (u64 BE ms): duplicates are acked, never opened twice |
//! | `msg.out` | outbox number (u64 BE) | an [`OutboxEntry`] (postcard) |
//! | `mbox` | seq (u64 BE) | an envelope kept for another agent, with when it was stored |
//! | `mbox.meta` | `next` | the mailbox book's high-water mark |
//!
//! Serialized secrets (keys, sessions) are protected by the data dir's 0700 mode; buffers that
//! held them are zeroized after the write.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use talos_storage::{KvBatch, KvStore, StorageError};
use zeroize::Zeroizing;

/// The agent's key material.
pub(crate) const NS_AGENT: &str = "agent";
/// Conversations by peer key.
pub(crate) const NS_CONVERSATIONS: &str = "msg.conv";
/// Received messages by arrival.
pub(crate) const NS_INBOX: &str = "msg.in";
/// (sender, message id) of received envelopes.
pub(crate) const NS_SEEN: &str = "msg.seen";
/// Messages not yet delivered.
pub(crate) const NS_OUTBOX: &str = "msg.out";
/// Envelopes this node keeps for other agents.
pub(crate) const NS_MAILBOX: &str = "mbox";
/// The mailbox book's high-water mark.
pub(crate) const NS_MAILBOX_META: &str = "mbox.meta";

/// Why agent state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum AgentStoreError {
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The agent's thread could not be started.
    #[error("starting the agent thread: {0}")]
    Thread(std::io::Error),
    /// A stored value does not decode (written by another version, or damaged).
    #[error("stored {what} does not decode: {source}")]
    Corrupt {
        /// What it was.
        what: &'static str,
        /// Why.
        source: postcard::Error,
    },
}

/// A message this agent received.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxEntry {
    /// Arrival number here (increasing).
    pub number: u64,
    /// The sender's Ed25519 key.
    pub sender: [u8; 32],
    /// The message id.
    pub message_id: [u8; 16],
    /// The sender's sequence number in the conversation.
    pub seq: u64,
    /// The sender's clock when sealed (ms).
    pub sent_ms: u64,
    /// When it arrived here (ms).
    pub received_ms: u64,
    /// How it came: directly or from a mailbox.
    pub via_mailbox: bool,
    /// The body.
    pub body: Vec<u8>,
}

/// A message waiting for its acknowledgement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Outbox number (increasing).
    pub number: u64,
    /// The recipient's Ed25519 key.
    pub recipient: [u8; 32],
    /// The encoded envelope (signed; resent unchanged).
    pub envelope: Vec<u8>,
    /// Attempts so far.
    pub attempts: u32,
    /// When it was sealed (ms).
    pub created_ms: u64,
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Zeroizing<Vec<u8>> {
    // Serializing plain data into a Vec cannot fail.
    Zeroizing::new(postcard::to_stdvec(value).unwrap_or_default())
}

pub(crate) fn decode<T: DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, AgentStoreError> {
    postcard::from_bytes(bytes).map_err(|source| AgentStoreError::Corrupt { what, source })
}

/// Reads one value.
pub(crate) fn get<T: DeserializeOwned>(
    kv: &dyn KvStore,
    namespace: &str,
    key: &[u8],
    what: &'static str,
) -> Result<Option<T>, AgentStoreError> {
    match kv.kv_get(namespace, key)? {
        Some(bytes) => {
            let bytes = Zeroizing::new(bytes);
            decode(what, &bytes).map(Some)
        }
        None => Ok(None),
    }
}

/// Every entry of `namespace`, in key order (paged through the store's scan limit).
pub(crate) fn scan_all(
    kv: &dyn KvStore,
    namespace: &str,
    mut visit: impl FnMut(&[u8], &[u8]) -> Result<(), AgentStoreError>,
) -> Result<(), AgentStoreError> {
    let mut after: Option<Vec<u8>> = None;
    loop {
        let page = kv.kv_scan(namespace, after.as_deref(), talos_storage::MAX_KV_SCAN)?;
        let Some((last, _)) = page.last() else {
            return Ok(());
        };
        let last = last.clone();
        for (key, value) in &page {
            visit(key, value)?;
        }
        after = Some(last);
    }
}

/// Entries of `namespace` after `after`, at most `limit`, decoded.
pub(crate) fn scan_page<T: DeserializeOwned>(
    kv: &dyn KvStore,
    namespace: &str,
    after: Option<&[u8]>,
    limit: usize,
    what: &'static str,
) -> Result<Vec<T>, AgentStoreError> {
    kv.kv_scan(namespace, after, limit)?
        .iter()
        .map(|(_, v)| decode(what, v))
        .collect()
}

/// Writes collected for one group commit; flushed when near the store's batch limit.
#[derive(Default)]
pub(crate) struct Pending {
    pub(crate) batch: KvBatch,
}

impl Pending {
    /// Operations left before a batch must be written.
    pub(crate) fn room(&self) -> usize {
        talos_storage::MAX_KV_BATCH.saturating_sub(self.batch.len())
    }

    pub(crate) fn put(
        &mut self,
        ns: &str,
        key: &[u8],
        value: &[u8],
    ) -> Result<(), AgentStoreError> {
        self.batch.put(ns, key, value)?;
        Ok(())
    }

    pub(crate) fn delete(&mut self, ns: &str, key: &[u8]) -> Result<(), AgentStoreError> {
        self.batch.delete(ns, key)?;
        Ok(())
    }

    /// Writes everything atomically and durably.
    pub(crate) fn commit(&mut self, kv: &dyn KvStore) -> Result<(), AgentStoreError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        kv.kv_write(std::mem::take(&mut self.batch))?;
        Ok(())
    }
}

/// `sender ‖ message id`.
pub(crate) fn seen_key(sender: &[u8; 32], id: &[u8; 16]) -> [u8; 48] {
    let mut key = [0u8; 48];
    key[..32].copy_from_slice(sender);
    key[32..].copy_from_slice(id);
    key
}
