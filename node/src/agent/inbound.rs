//! Envelopes that arrive: directly on `/msg` or fetched from a mailbox. Checked cheapest
//! first (addressed to us, within the time window, not seen before), then opened by the
//! conversation; a first contact from a delivering peer is rate-limited before the X3DH work.

use std::time::Instant;

use libp2p::PeerId;
use rand::rngs::OsRng;
use talos_messaging::{
    Ack, AckStatus, Acked, Conversation, Envelope, MsgRequest, MsgResponse, OpenError,
};
use tracing::debug;

use super::core::{Core, now_ms};
use super::store::{self, InboxEntry, NS_INBOX, NS_SEEN, seen_key};

/// How far in the future a sender's clock may be.
pub(crate) const MAX_FUTURE_MS: u64 = 10 * 60_000;

/// Why an envelope was not accepted (the ack says less: these are for logs).
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refusal {
    #[error("addressed to another agent")]
    NotForMe,
    #[error("timestamp outside the accepted window")]
    OutOfWindow,
    #[error("too many first contacts from the delivering peer")]
    FirstContactQuota,
    #[error("the inbox holds as much from this sender, or in all, as it may")]
    InboxFull,
    #[error("no conversation and no handshake")]
    NoSession,
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Store(#[from] super::store::AgentStoreError),
}

impl Refusal {
    fn status(&self) -> AckStatus {
        match self {
            Self::NotForMe => AckStatus::NotForMe,
            Self::FirstContactQuota | Self::InboxFull | Self::Store(_) => AckStatus::Busy,
            Self::OutOfWindow | Self::NoSession | Self::Open(_) => AckStatus::Undecryptable,
        }
    }
}

impl Core {
    /// A `/msg` request from `peer`.
    pub(crate) fn on_msg_request(&mut self, peer: PeerId, request: MsgRequest) -> MsgResponse {
        match request {
            MsgRequest::Prekeys => {
                // Which one-time prekey went out last is written with the batch: handed out
                // again after a restart, one key would reach two senders and the second
                // sender's handshake would be refused.
                let bundle = self.keys.served_bundle(&self.signing, now_ms());
                let _ = self.keys.persist(&mut self.pending);
                MsgResponse::Prekeys(bundle)
            }
            MsgRequest::Deliver(envelopes) => {
                let acks = envelopes
                    .into_iter()
                    .map(|envelope| {
                        let message_id = envelope.message_id();
                        let status = match self.open_envelope(envelope, Some(peer)) {
                            Ok(()) => AckStatus::Accepted,
                            Err(refusal) => {
                                self.config.metrics.refused.inc();
                                debug!(%peer, reason = %refusal, "envelope refused");
                                refusal.status()
                            }
                        };
                        Ack { message_id, status }
                    })
                    .collect();
                MsgResponse::Acks(acks)
            }
        }
    }

    /// Envelopes fetched from a mailbox: every one is acknowledged (opened, a duplicate, or
    /// never openable), except those refused for a passing reason.
    pub(crate) fn open_fetched(&mut self, envelopes: Vec<Envelope>) -> Vec<Acked> {
        let mut acked = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            let ack = Acked {
                sender: envelope.sender().to_bytes(),
                message_id: envelope.message_id(),
            };
            match self.open_envelope(envelope, None) {
                Ok(()) => acked.push(ack),
                Err(refusal) if refusal.status() == AckStatus::Busy => {}
                Err(refusal) => {
                    debug!(reason = %refusal, "mailbox envelope dropped");
                    acked.push(ack);
                }
            }
        }
        acked
    }

    /// Opens `envelope` (delivered by `peer`, or from a mailbox) into the inbox. A duplicate
    /// is `Ok` (acknowledged again, never opened twice).
    pub(crate) fn open_envelope(
        &mut self,
        envelope: Envelope,
        peer: Option<PeerId>,
    ) -> Result<(), Refusal> {
        if envelope.recipient().to_bytes() != self.me {
            return Err(Refusal::NotForMe);
        }
        let now = now_ms();
        let ts = envelope.timestamp_ms();
        if ts > now.saturating_add(MAX_FUTURE_MS) || ts.saturating_add(self.max_age_ms()) < now {
            return Err(Refusal::OutOfWindow);
        }
        let sender = envelope.sender().to_bytes();
        let id = envelope.message_id().0;
        let seen = seen_key(&sender, &id);
        if self.batch_seen.contains(&seen)
            || self
                .kv
                .kv_get(NS_SEEN, &seen)
                .map_err(super::store::AgentStoreError::from)?
                .is_some()
        {
            return Ok(());
        }
        // Before opening: refused after it, the message's key would be spent and never
        // offered again. The ciphertext bounds the body it holds.
        if !self.inbox_usage.admits(
            &self.config.inbox,
            &sender,
            envelope.parts().ciphertext.len(),
        ) {
            return Err(Refusal::InboxFull);
        }
        let parts = envelope.parts();
        let opened = if self.conversation(&sender)?.is_some() {
            let (identity, prekeys) = (&self.keys.identity, &mut self.keys.prekeys);
            let conv = self
                .conversations
                .get_mut(&sender)
                .ok_or(Refusal::NoSession)?;
            let opened = conv.open(&mut OsRng, identity, prekeys, &sender, parts)?;
            self.persist_conversation(&sender)?;
            opened
        } else {
            if parts.handshake.is_none() {
                return Err(Refusal::NoSession);
            }
            if let Some(peer) = peer {
                self.charge_first_contact(peer)?;
            }
            let (conv, opened) = Conversation::accept(
                &mut OsRng,
                &self.keys.identity,
                &mut self.keys.prekeys,
                &sender,
                parts,
            )?;
            self.keep_conversation(sender, conv)?;
            opened
        };
        if opened.new_session {
            self.keys.persist(&mut self.pending)?;
        }
        let entry = InboxEntry {
            number: self.take_inbox_number(),
            sender,
            message_id: id,
            seq: opened.payload.seq,
            sent_ms: ts,
            received_ms: now,
            via_mailbox: peer.is_none(),
            body: opened.payload.body,
        };
        self.pending.put(NS_SEEN, &seen, &now.to_be_bytes())?;
        self.batch_seen.insert(seen);
        self.inbox_usage.charge(sender, entry.body.len());
        self.pending.put(
            NS_INBOX,
            &entry.number.to_be_bytes(),
            &store::encode(&entry),
        )?;
        self.config.metrics.received.inc();
        let events = self.events.clone();
        self.later(move || {
            let _ = events.send(entry);
        });
        Ok(())
    }

    /// How old an envelope may be: as long as a mailbox keeps it.
    pub(crate) fn max_age_ms(&self) -> u64 {
        self.config.mailbox.ttl_ms.saturating_add(MAX_FUTURE_MS)
    }

    fn charge_first_contact(&mut self, peer: PeerId) -> Result<(), Refusal> {
        let now = Instant::now();
        let limit = self.config.first_contacts_per_minute;
        let (since, count) = self.first_contacts.entry(peer).or_insert((now, 0));
        if now.duration_since(*since).as_secs() >= 60 {
            *since = now;
            *count = 0;
        }
        if *count >= limit {
            return Err(Refusal::FirstContactQuota);
        }
        *count += 1;
        Ok(())
    }

    /// Deletes (sender, id) records older than an envelope may be, a page per call (the
    /// maintenance timer walks the whole namespace over time).
    pub(crate) fn prune_seen(&mut self) -> Result<(), super::store::AgentStoreError> {
        const PAGE: usize = 1024;
        let oldest = now_ms().saturating_sub(self.max_age_ms());
        let page = self
            .kv
            .kv_scan(NS_SEEN, self.seen_cursor.as_deref(), PAGE)?;
        self.seen_cursor = if page.len() < PAGE {
            None
        } else {
            page.last().map(|(k, _)| k.clone())
        };
        for (key, value) in page {
            let at = <[u8; 8]>::try_from(value.as_slice()).map_or(0, u64::from_be_bytes);
            if at < oldest && self.pending.room() > 64 {
                self.pending.delete(NS_SEEN, &key)?;
            }
        }
        Ok(())
    }
}
