//! What the inbox may hold, and deleting from it. Every peer that has a session can write to
//! the inbox, so it is bounded per sender and in total; an envelope that would not fit is
//! refused as busy before it is opened (the ratchet state stays as it was, the sender or the
//! mailbox keeps it and offers it again), and room comes back when the owner deletes what it
//! has read (`talos inbox --delete-through N`, `DELETE /v1/messages?through=N`).

use std::collections::HashMap;

use tokio::sync::oneshot;

use super::core::Core;
use super::store::{self, AgentStoreError, InboxEntry, NS_INBOX};

/// The inbox's bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxLimits {
    /// Messages held from one sender.
    pub per_sender_messages: u64,
    /// Body bytes held from one sender.
    pub per_sender_bytes: u64,
    /// Messages held in all.
    pub total_messages: u64,
    /// Body bytes held in all.
    pub total_bytes: u64,
}

impl Default for InboxLimits {
    fn default() -> Self {
        Self {
            per_sender_messages: 50_000,
            per_sender_bytes: 256 << 20,
            total_messages: 1_000_000,
            total_bytes: 2 << 30,
        }
    }
}

/// What the inbox holds, per sender and in total (messages, body bytes).
#[derive(Debug, Default)]
pub(crate) struct InboxUsage {
    per_sender: HashMap<[u8; 32], (u64, u64)>,
    messages: u64,
    bytes: u64,
}

impl InboxUsage {
    /// Whether a message of at most `len` body bytes from `sender` fits.
    pub(crate) fn admits(&self, limits: &InboxLimits, sender: &[u8; 32], len: usize) -> bool {
        let len = len as u64;
        let (count, bytes) = self.per_sender.get(sender).copied().unwrap_or((0, 0));
        count < limits.per_sender_messages
            && bytes.saturating_add(len) <= limits.per_sender_bytes
            && self.messages < limits.total_messages
            && self.bytes.saturating_add(len) <= limits.total_bytes
    }

    /// Counts a stored message.
    pub(crate) fn charge(&mut self, sender: [u8; 32], len: usize) {
        let len = len as u64;
        let entry = self.per_sender.entry(sender).or_default();
        entry.0 += 1;
        entry.1 = entry.1.saturating_add(len);
        self.messages += 1;
        self.bytes = self.bytes.saturating_add(len);
    }

    /// Uncounts a deleted message.
    fn release(&mut self, sender: &[u8; 32], len: usize) {
        let len = len as u64;
        if let Some(entry) = self.per_sender.get_mut(sender) {
            entry.0 = entry.0.saturating_sub(1);
            entry.1 = entry.1.saturating_sub(len);
            if entry.0 == 0 {
                self.per_sender.remove(sender);
            }
        }
        self.messages = self.messages.saturating_sub(1);
        self.bytes = self.bytes.saturating_sub(len);
    }

    /// Messages held in all.
    pub(crate) fn messages(&self) -> u64 {
        self.messages
    }
}

/// A page of a deletion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Deleted {
    /// Messages deleted by this page.
    pub(crate) count: usize,
    /// Whether messages up to the bound remain (another page is needed).
    pub(crate) more: bool,
}

impl Core {
    /// Counts what the stored inbox holds, and the next arrival number (the keys are arrival
    /// numbers: the next follows the largest stored).
    pub(crate) fn load_inbox(&mut self) -> Result<(), AgentStoreError> {
        let mut last = None;
        let mut usage = InboxUsage::default();
        store::scan_all(&*self.kv, NS_INBOX, |key, value| {
            last = key.try_into().ok().map(u64::from_be_bytes);
            let entry: InboxEntry = store::decode("inbox entry", value)?;
            usage.charge(entry.sender, entry.body.len());
            Ok(())
        })?;
        self.next_inbox = last.map_or(0, |n| n.saturating_add(1));
        self.inbox_usage = usage;
        Ok(())
    }

    /// A deletion asked for: in a batch of its own (what the group wrote so far is committed
    /// first, so the page has the batch's room), answered once durable, and committed at once
    /// (a second deletion in the same group would scan what this one deletes).
    pub(crate) fn on_delete_inbox(
        &mut self,
        through: u64,
        reply: oneshot::Sender<Result<Deleted, AgentStoreError>>,
    ) {
        self.commit();
        match self.delete_inbox(through) {
            Ok(deleted) => self.later(move || {
                let _ = reply.send(Ok(deleted));
            }),
            Err(e) => {
                let _ = reply.send(Err(e));
            }
        }
        self.commit();
    }

    /// Deletes received messages numbered up to `through`, as many as one group commit holds.
    pub(crate) fn delete_inbox(&mut self, through: u64) -> Result<Deleted, AgentStoreError> {
        let room = self.pending.room().saturating_sub(64);
        let page = self.kv.kv_scan(NS_INBOX, None, room.max(1))?;
        let mut count = 0;
        for (key, value) in &page {
            let number = <[u8; 8]>::try_from(key.as_slice()).map_or(u64::MAX, u64::from_be_bytes);
            if number > through {
                return Ok(Deleted { count, more: false });
            }
            let entry: InboxEntry = store::decode("inbox entry", value)?;
            self.pending.delete(NS_INBOX, key)?;
            self.inbox_usage.release(&entry.sender, entry.body.len());
            count += 1;
        }
        // A full page: entries past it may still be at or below the bound.
        Ok(Deleted {
            count,
            more: count > 0 && page.len() >= room.max(1),
        })
    }
}
