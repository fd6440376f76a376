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

/// A kept envelope as stored.
#[derive(Serialize, Deserialize)]
struct Kept {
    stored_at_ms: u64,
    envelope: Vec<u8>,
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
                let status = self.deposit(*envelope);
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
                    let _ = self.pending.delete(NS_MAILBOX, &seq.to_be_bytes());
                }
                self.set_mailbox_gauge();
                MailboxResponse::Acknowledged(deleted)
            }
        })
    }

    pub(crate) fn deposit(&mut self, envelope: Envelope) -> DepositStatus {
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
        let kept = Kept {
            stored_at_ms,
            envelope,
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
            let _ = self.pending.delete(NS_MAILBOX, &seq.to_be_bytes());
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
                let _ = self.pending.delete(NS_MAILBOX, &seq.to_be_bytes());
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
}
