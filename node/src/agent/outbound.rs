//! Messages this agent sends: sealed on the conversation, kept in the outbox (durably) until
//! the recipient or enough of its mailboxes acknowledge them, retried with a doubling delay,
//! dropped once a mailbox would no longer keep them.

use std::time::{Duration, Instant};

use rand::RngCore;
use rand::rngs::OsRng;
use talos_identity::VerifyingKey;
use talos_messaging::{Conversation, Envelope, MessageId, decode_envelope, encode_envelope};
use tokio::sync::oneshot;
use tracing::{debug, warn};

use super::client::{Delivery, SendOutcome, SentMessage};
use super::core::{Core, Outgoing, now_ms, now_us};
use super::store::{self, AgentStoreError, NS_OUTBOX, OutboxEntry};

/// Longest delay between two attempts.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(300);

impl Core {
    pub(crate) fn load_outbox(&mut self) -> Result<(), AgentStoreError> {
        let mut entries = Vec::new();
        store::scan_all(&*self.kv, NS_OUTBOX, |_, value| {
            entries.push(store::decode::<OutboxEntry>("outbox entry", value)?);
            Ok(())
        })?;
        let now = Instant::now();
        for entry in entries {
            self.next_outbox = self.next_outbox.max(entry.number.saturating_add(1));
            let number = entry.number;
            match decode_envelope(&entry.envelope) {
                Ok(envelope) => {
                    self.outbox.insert(
                        number,
                        Outgoing {
                            entry,
                            envelope,
                            in_flight: false,
                            due: now,
                            waiters: Vec::new(),
                        },
                    );
                }
                Err(e) => {
                    warn!(number, error = %e, "dropping an undecodable outbox entry");
                    self.pending.delete(NS_OUTBOX, &number.to_be_bytes())?;
                }
            }
        }
        Ok(())
    }

    /// Seals `bodies` for `to` and queues them; `NeedBundle` when there is no conversation and
    /// no bundle to start one with.
    pub(crate) fn seal_and_queue(
        &mut self,
        to: [u8; 32],
        bundle: Option<&talos_ratchet::PrekeyBundle>,
        bodies: &[Vec<u8>],
        wait: bool,
    ) -> Result<SendOutcome, AgentStoreError> {
        let Ok(recipient) = VerifyingKey::from_bytes(&to) else {
            return Ok(SendOutcome::Refused("not an Ed25519 key".into()));
        };
        let min_seq = now_us();
        let mut sealed = Vec::with_capacity(bodies.len());
        let mut rest = bodies;
        if self.conversation(&to)?.is_none() {
            let Some(bundle) = bundle else {
                return Ok(SendOutcome::NeedBundle);
            };
            if bundle.identity.ed25519 != to {
                return Ok(SendOutcome::Refused(
                    "the prekey bundle is another agent's".into(),
                ));
            }
            let Some((first, others)) = bodies.split_first() else {
                return Ok(SendOutcome::Sealed(Vec::new()));
            };
            match Conversation::start(&mut OsRng, &self.keys.identity, bundle, min_seq, first) {
                Ok((conv, parts)) => {
                    self.conversations.insert(to, conv);
                    sealed.push(parts);
                }
                Err(e) => return Ok(SendOutcome::Refused(e.to_string())),
            }
            rest = others;
        }
        let conv = self
            .conversations
            .get_mut(&to)
            .ok_or(AgentStoreError::Corrupt {
                what: "conversation",
                source: postcard::Error::DeserializeUnexpectedEnd,
            })?;
        for body in rest {
            match conv.seal(min_seq, body) {
                Ok(parts) => sealed.push(parts),
                Err(e) => return Ok(SendOutcome::Refused(e.to_string())),
            }
        }
        self.persist_conversation(&to)?;
        let now = now_ms();
        let first_number = self.next_outbox;
        let mut sent = Vec::with_capacity(sealed.len());
        for parts in sealed {
            let mut id = [0u8; 16];
            OsRng.fill_bytes(&mut id);
            let envelope = match Envelope::seal(&self.signing, recipient, MessageId(id), now, parts)
            {
                Ok(envelope) => envelope,
                Err(e) => return Ok(SendOutcome::Refused(e.to_string())),
            };
            let number = self.next_outbox;
            self.next_outbox += 1;
            let entry = OutboxEntry {
                number,
                recipient: to,
                envelope: encode_envelope(&envelope),
                attempts: 0,
                created_ms: now,
            };
            self.pending
                .put(NS_OUTBOX, &number.to_be_bytes(), &store::encode(&entry))?;
            let (tx, rx) = oneshot::channel();
            let waiters = if wait { vec![tx] } else { Vec::new() };
            sent.push(SentMessage {
                message_id: id,
                envelope_hash: envelope.hash().0,
                delivery: wait.then_some(rx),
            });
            self.outbox.insert(
                number,
                Outgoing {
                    entry,
                    envelope,
                    in_flight: false,
                    due: Instant::now(),
                    waiters,
                },
            );
        }
        self.config.metrics.sent.inc_by(sent.len() as u64);
        self.set_outbox_gauge();
        // Sent as soon as the batch is durable (the next tick at the latest).
        self.dispatch_due(Instant::now(), first_number);
        Ok(SendOutcome::Sealed(sent))
    }

    /// Starts an attempt for every message that is due and not in flight.
    /// (Outbox numbers from `from` on: a send dispatches only what it queued.)
    pub(crate) fn dispatch_due(&mut self, now: Instant, from: u64) {
        let max_age = self.max_age_ms();
        let now_ms = now_ms();
        let mut expired = Vec::new();
        for (number, out) in self.outbox.range_mut(from..) {
            if out.in_flight || out.due > now {
                continue;
            }
            if out.entry.created_ms.saturating_add(max_age) < now_ms {
                expired.push(*number);
                continue;
            }
            let envelope = out.envelope.clone();
            out.in_flight = true;
            let addrs = self
                .addrs
                .get(&out.entry.recipient)
                .cloned()
                .unwrap_or_default();
            let couriers = self.couriers.clone();
            let number = *number;
            self.after
                .push(Box::new(move || couriers.deliver(number, envelope, addrs)));
        }
        for number in expired {
            warn!(number, "dropping a message no mailbox would keep any more");
            self.outbox.remove(&number);
            let _ = self.pending.delete(NS_OUTBOX, &number.to_be_bytes());
        }
    }

    /// An attempt ended: delivered (the outbox entry goes) or not (retried later).
    pub(crate) fn on_attempted(&mut self, number: u64, delivery: Option<Delivery>) {
        let Some(out) = self.outbox.get_mut(&number) else {
            return;
        };
        out.in_flight = false;
        match delivery {
            Some(delivery) => {
                debug!(number, ?delivery, "message handed over");
                match delivery {
                    Delivery::Direct => self.config.metrics.delivered_direct.inc(),
                    Delivery::Mailboxes(_) => self.config.metrics.delivered_mailbox.inc(),
                    Delivery::Refused(_) => self.config.metrics.refused.inc(),
                };
                if let Some(out) = self.outbox.remove(&number) {
                    let _ = self.pending.delete(NS_OUTBOX, &number.to_be_bytes());
                    self.set_outbox_gauge();
                    // The hand-over is a fact already: no need to wait for the deletion to be
                    // durable (a resend after a crash is acknowledged as a duplicate).
                    for waiter in out.waiters {
                        let _ = waiter.send(delivery);
                    }
                }
            }
            None => {
                self.config.metrics.retries.inc();
                out.entry.attempts = out.entry.attempts.saturating_add(1);
                let doubling = 1u32 << out.entry.attempts.min(8);
                let delay = self
                    .config
                    .retry_interval
                    .saturating_mul(doubling)
                    .min(MAX_RETRY_DELAY);
                out.due = Instant::now() + delay;
                let bytes = store::encode(&out.entry);
                let _ = self.pending.put(NS_OUTBOX, &number.to_be_bytes(), &bytes);
            }
        }
    }

    fn set_outbox_gauge(&self) {
        self.config
            .metrics
            .outbox
            .set(i64::try_from(self.outbox.len()).unwrap_or(i64::MAX));
    }
}
