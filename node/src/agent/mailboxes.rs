//! The mailboxes this node keeps for other agents (full and bootstrap nodes): deposits,
//! fetches and acknowledgements of `/mailbox`, persisted so a restart loses nothing, and
//! the agent's own envelopes when this node is one of its own mailboxes.
//!
//! A fetch or an acknowledgement names no recipient: it is always the mailbox of the
//! Noise-authenticated peer that asks (its PeerId is its Ed25519 key).

use libp2p::PeerId;
use serde::{Deserialize, Serialize};
use talos_messaging::{
    DepositStatus, Envelope, MailboxRequest, MailboxResponse, StoredEnvelope, decode_envelope,
    encode_envelope,
};
use tracing::warn;

use super::core::{Core, now_ms};
use super::store::{self, AgentStoreError, NS_MAILBOX, NS_MAILBOX_META};

const NEXT_KEY: &[u8] = b"next";

/// Envelopes one depositing peer may have kept here at once, whatever identities signed them
/// (identities are free; peers are bounded by the connection limits and bans).
pub(crate) const MAX_PER_DEPOSITOR: usize = 2_000;

/// A kept envelope as stored.
#[derive(Serialize, Deserialize)]
struct Kept {
    stored_at_ms: u64,
    envelope: Vec<u8>,
    /// The PeerId that deposited it (empty: this node's own agent).
    depositor: Vec<u8>,
}

/// Who deposited what is kept here, for the per-depositor quota.
#[derive(Default)]
pub(crate) struct Depositors {
    count: std::collections::HashMap<PeerId, usize>,
    by_seq: std::collections::HashMap<u64, PeerId>,
}

impl Depositors {
    fn add(&mut self, seq: u64, peer: PeerId) {
        *self.count.entry(peer).or_default() += 1;
        self.by_seq.insert(seq, peer);
    }

    fn remove(&mut self, seq: u64) {
        if let Some(peer) = self.by_seq.remove(&seq)
            && let Some(n) = self.count.get_mut(&peer)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.count.remove(&peer);
            }
        }
    }

    fn full(&self, peer: &PeerId) -> bool {
        self.count.get(peer).copied().unwrap_or(0) >= MAX_PER_DEPOSITOR
    }
}

impl Core {
    /// Puts persisted envelopes back into the book.
    pub(crate) fn load_mailboxes(&mut self) -> Result<(), AgentStoreError> {
        let Some(book) = self.book.as_mut() else {
            return Ok(());
        };
        if let Some(bytes) = self.kv.kv_get(NS_MAILBOX_META, NEXT_KEY)?
            && let Ok(next) = <[u8; 8]>::try_from(bytes.as_slice())
        {
            book.set_next_seq(u64::from_be_bytes(next));
        }
        let now = now_ms();
        let mut dropped = Vec::new();
        let depositors = &mut self.depositors;
        store::scan_all(&*self.kv, NS_MAILBOX, |key, value| {
            let seq = key.try_into().map(u64::from_be_bytes).unwrap_or(u64::MAX);
            let kept: Kept = store::decode("kept envelope", value)?;
            match decode_envelope(&kept.envelope) {
                Ok(envelope) => {
                    let stored = StoredEnvelope {
                        seq,
                        stored_at_ms: kept.stored_at_ms,
                        envelope,
                    };
                    if !book.restore(stored, now) {
                        dropped.push(seq);
                    } else if let Ok(peer) = PeerId::from_bytes(&kept.depositor) {
                        depositors.add(seq, peer);
                    }
                }
                Err(e) => {
                    warn!(seq, error = %e, "dropping an undecodable kept envelope");
                    dropped.push(seq);
                }
            }
            Ok(())
        })?;
        for seq in dropped {
            self.pending.delete(NS_MAILBOX, &seq.to_be_bytes())?;
        }
        Ok(())
    }

    /// A `/mailbox` request from `peer`; `None` drops it (this node keeps no mailboxes).
    pub(crate) fn on_mailbox_request(
        &mut self,
        peer: PeerId,
        request: MailboxRequest,
    ) -> Option<MailboxResponse> {
        self.book.as_ref()?;
        Some(match request {
            MailboxRequest::Deposit(envelope) => {
                let message_id = envelope.message_id();
                let status = self.deposit(*envelope, Some(peer));
                MailboxResponse::Deposit { message_id, status }
            }
            MailboxRequest::Fetch { cursor, limit } => {
                let owner = talos_identity::key_of_peer(&peer)?.to_bytes();
                let book = self.book.as_ref()?;
                MailboxResponse::Page(book.fetch(&owner, cursor, limit, now_ms()))
            }
            MailboxRequest::Acknowledge(acked) => {
                let owner = talos_identity::key_of_peer(&peer)?.to_bytes();
                let seqs = self.book.as_mut()?.acknowledge(&owner, &acked);
                let deleted = u32::try_from(seqs.len()).unwrap_or(u32::MAX);
                for seq in seqs {
                    self.forget_kept(seq);
                }
                self.set_mailbox_gauge();
                MailboxResponse::Acknowledged(deleted)
            }
        })
    }

    /// Keeps `envelope` for its recipient; `depositor` is the peer that asked (`None`: this
    /// node's own agent).
    pub(crate) fn deposit(
        &mut self,
        envelope: Envelope,
        depositor: Option<PeerId>,
    ) -> DepositStatus {
        if depositor.is_some_and(|peer| self.depositors.full(&peer)) {
            return DepositStatus::SenderOverQuota;
        }
        // Never keep in memory what this batch cannot write (the agent thread commits long
        // before; this is the guard).
        if self.pending.room() < 2 {
            return DepositStatus::NodeFull;
        }
        let Some(book) = self.book.as_mut() else {
            return DepositStatus::NotResponsible;
        };
        let stored = match book.deposit(envelope, now_ms()) {
            Ok(Some(stored)) => (
                stored.seq,
                stored.stored_at_ms,
                encode_envelope(&stored.envelope),
            ),
            Ok(None) => return DepositStatus::Stored,
            Err(rejection) => return rejection.0,
        };
        let next = book.next_seq();
        let (seq, stored_at_ms, envelope) = stored;
        if let Some(peer) = depositor {
            self.depositors.add(seq, peer);
        }
        let depositor = depositor.map(|p| p.to_bytes()).unwrap_or_default();
        let kept = Kept {
            stored_at_ms,
            envelope,
            depositor,
        };
        let result = self
            .pending
            .put(NS_MAILBOX, &seq.to_be_bytes(), &store::encode(&kept))
            .and_then(|()| {
                self.pending
                    .put(NS_MAILBOX_META, NEXT_KEY, &next.to_be_bytes())
            });
        self.config.metrics.deposited.inc();
        self.set_mailbox_gauge();
        match result {
            Ok(()) => DepositStatus::Stored,
            Err(_) => DepositStatus::NodeFull,
        }
    }

    /// Drops expired envelopes from the book and the store.
    pub(crate) fn expire_mailboxes(&mut self) {
        let Some(book) = self.book.as_mut() else {
            return;
        };
        for (_, seq) in book.expire(now_ms()) {
            self.forget_kept(seq);
        }
        self.set_mailbox_gauge();
    }

    /// The agent's own envelopes kept here (this node is one of its own mailboxes).
    pub(crate) fn fetch_own_book(&mut self) {
        let Some(book) = self.book.as_ref() else {
            return;
        };
        let page = book.fetch(&self.me, 0, u32::MAX, now_ms());
        if page.envelopes.is_empty() {
            return;
        }
        let acked = self.open_fetched(page.envelopes);
        let me = self.me;
        if let Some(book) = self.book.as_mut() {
            for seq in book.acknowledge(&me, &acked) {
                self.forget_kept(seq);
            }
        }
    }

    fn set_mailbox_gauge(&self) {
        let kept = self
            .book
            .as_ref()
            .map_or(0, talos_messaging::MailboxBook::len);
        self.config
            .metrics
            .mailbox_envelopes
            .set(i64::try_from(kept).unwrap_or(i64::MAX));
    }

    /// A kept envelope left the book: out of the store and the depositor's count.
    fn forget_kept(&mut self, seq: u64) {
        self.depositors.remove(seq);
        let _ = self.pending.delete(NS_MAILBOX, &seq.to_be_bytes());
    }
}
