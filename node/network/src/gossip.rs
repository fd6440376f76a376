//! Gossip validation without blocking the event loop.
//!
//! Each message is decoded on the loop (bounded decoders, cheap), then handed to the chain
//! service with a oneshot reply. A small task per message awaits the verdict (with a timeout)
//! and sends `(message id, source, acceptance)` back to the loop over a bounded channel; the
//! loop reports it to gossipsub. A semaphore bounds the messages awaiting a verdict, and one
//! peer may hold at most [`MAX_PENDING_PER_PEER`] of them: past either, new messages are
//! ignored at once (no penalty, not forwarded), so a flooding peer only delays itself. What a
//! verdict means for gossipsub and for the sender is [`crate::policy`]'s.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use libp2p::PeerId;
use libp2p::gossipsub::{MessageAcceptance, MessageId};
use talos_chain_service::{
    BlockSource, ChainChannels, GossipItem, ImportOutcome, ImportRequest, SubmitError,
};
use talos_gossip::{Acceptance, GossipPayload, TopicKind};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use crate::policy::{self, Offence};

/// How long a gossip message waits for the chain service's verdict before it is ignored.
pub const VERDICT_TIMEOUT: Duration = Duration::from_secs(20);

/// Most gossip messages awaiting a verdict at once.
pub const MAX_PENDING_VERDICTS: usize = 512;

/// Most of those one peer may hold: an eighth, so seven others always find room.
pub const MAX_PENDING_PER_PEER: usize = MAX_PENDING_VERDICTS / 8;

/// Capacity of the verdict channel back to the loop.
pub const VERDICT_QUEUE: usize = 1024;

/// The verdict on one gossip message.
#[derive(Debug)]
pub struct GossipVerdict {
    /// Gossipsub's id of the message.
    pub message_id: MessageId,
    /// The peer it came from.
    pub source: PeerId,
    /// Which topic.
    pub kind: TopicKind,
    /// What to report.
    pub acceptance: Acceptance,
    /// What the sender did wrong, when it is to be penalized here (invalid blocks are
    /// penalized through the chain service's `BadBlock` notice instead).
    pub offence: Option<Offence>,
}

/// Maps our acceptance to gossipsub's.
pub fn to_gossipsub(acceptance: Acceptance) -> MessageAcceptance {
    match acceptance {
        Acceptance::Accept => MessageAcceptance::Accept,
        Acceptance::Reject => MessageAcceptance::Reject,
        Acceptance::Ignore => MessageAcceptance::Ignore,
    }
}

/// The verdict of an item, and the offence to penalize when it was refused as invalid.
fn judge_item(
    verdict: &Result<talos_chain::Hash256, SubmitError>,
) -> (Acceptance, Option<Offence>) {
    let acceptance = policy::item_acceptance(verdict);
    let offence = match verdict {
        Err(SubmitError::Refused(e)) if acceptance == Acceptance::Reject => {
            Some(Offence::InvalidItem(*e))
        }
        _ => None,
    };
    (acceptance, offence)
}

/// Hands decoded gossip payloads to the chain service and collects verdicts.
#[derive(Debug)]
pub struct GossipValidator {
    chain: ChainChannels<PeerId>,
    pending: Arc<Semaphore>,
    /// Payloads under validation per sending peer.
    per_peer: HashMap<PeerId, usize>,
    verdicts: mpsc::Sender<GossipVerdict>,
}

impl GossipValidator {
    /// A validator feeding `chain` and reporting to `verdicts`.
    pub fn new(chain: ChainChannels<PeerId>, verdicts: mpsc::Sender<GossipVerdict>) -> Self {
        Self {
            chain,
            pending: Arc::new(Semaphore::new(MAX_PENDING_VERDICTS)),
            per_peer: HashMap::new(),
            verdicts,
        }
    }

    /// Starts validating a payload. Returns the acceptance to report at once when the payload
    /// cannot be handed over (queue full, service gone, too many pending overall or from this
    /// peer): `Ignore`. Each payload handed over ends in a verdict, which the caller passes to
    /// [`GossipValidator::finished`].
    pub fn submit(
        &mut self,
        message_id: MessageId,
        source: PeerId,
        payload: GossipPayload,
    ) -> Option<Acceptance> {
        if self.per_peer.get(&source).copied().unwrap_or(0) >= MAX_PENDING_PER_PEER {
            return Some(Acceptance::Ignore);
        }
        let Ok(permit) = self.pending.clone().try_acquire_owned() else {
            return Some(Acceptance::Ignore);
        };
        let outcome = self.hand_over(permit, message_id, source, payload);
        if outcome.is_none() {
            *self.per_peer.entry(source).or_default() += 1;
        }
        outcome
    }

    /// A verdict for a payload from `source` came back: its slot is free.
    pub fn finished(&mut self, source: &PeerId) {
        if let Some(n) = self.per_peer.get_mut(source) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_peer.remove(source);
            }
        }
    }

    /// Payloads from `source` under validation.
    pub fn pending_from(&self, source: &PeerId) -> usize {
        self.per_peer.get(source).copied().unwrap_or(0)
    }

    fn hand_over(
        &self,
        permit: OwnedSemaphorePermit,
        message_id: MessageId,
        source: PeerId,
        payload: GossipPayload,
    ) -> Option<Acceptance> {
        match payload {
            GossipPayload::Block(block) => {
                let (reply, rx) = oneshot::channel();
                let request = ImportRequest {
                    block,
                    source: BlockSource::Gossip(source),
                    reply: Some(reply),
                };
                if self.chain.imports.try_send(request).is_err() {
                    return Some(Acceptance::Ignore);
                }
                self.await_verdict(permit, message_id, source, TopicKind::Blocks, async move {
                    let outcome: ImportOutcome = rx.await.ok()?;
                    Some((policy::block_acceptance(&outcome), None))
                });
            }
            GossipPayload::Item(item) => {
                let (reply, rx) = oneshot::channel();
                let item = GossipItem {
                    item: *item,
                    from: source,
                    reply,
                };
                if self.chain.gossip_items.try_send(item).is_err() {
                    return Some(Acceptance::Ignore);
                }
                self.await_verdict(permit, message_id, source, TopicKind::Items, async move {
                    let verdict = rx.await.ok()?;
                    Some(judge_item(&verdict))
                });
            }
        }
        None
    }

    fn await_verdict(
        &self,
        permit: OwnedSemaphorePermit,
        message_id: MessageId,
        source: PeerId,
        kind: TopicKind,
        verdict: impl Future<Output = Option<(Acceptance, Option<Offence>)>> + Send + 'static,
    ) {
        let verdicts = self.verdicts.clone();
        tokio::spawn(async move {
            let (acceptance, offence) = tokio::time::timeout(VERDICT_TIMEOUT, verdict)
                .await
                .ok()
                .flatten()
                .unwrap_or((Acceptance::Ignore, None));
            drop(permit);
            let _ = verdicts
                .send(GossipVerdict {
                    message_id,
                    source,
                    kind,
                    acceptance,
                    offence,
                })
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use talos_chain::MempoolError;
    use talos_chain::testkit::{easy_spec, item, key};

    use super::*;

    #[tokio::test]
    async fn one_peer_cannot_hold_every_validation_slot() {
        // A chain service that never answers: every payload handed over stays pending.
        let (commands, _commands_rx) = mpsc::channel(1);
        let (imports, _imports_rx) = mpsc::channel(1);
        let (gossip_items, _items_rx) = mpsc::channel(1_024);
        let chain = ChainChannels {
            commands,
            imports,
            gossip_items,
        };
        let (verdicts, _verdicts_rx) = mpsc::channel(VERDICT_QUEUE);
        let mut validator = GossipValidator::new(chain, verdicts);
        let spec = easy_spec();
        let payload = |n: u64| GossipPayload::Item(Box::new(item(&spec, &key(1), n)));
        let (flooder, honest) = (PeerId::random(), PeerId::random());
        let id = |n: u64| MessageId::new(&n.to_be_bytes());
        let handed: usize = (0..200u64)
            .map(|n| validator.submit(id(n), flooder, payload(n)).is_none())
            .filter(|handed| *handed)
            .count();
        assert_eq!(handed, MAX_PENDING_PER_PEER);
        assert_eq!(validator.pending_from(&flooder), MAX_PENDING_PER_PEER);
        assert_eq!(
            validator.submit(id(999), honest, payload(999)),
            None,
            "room for others"
        );
        validator.finished(&flooder);
        assert_eq!(validator.submit(id(1_000), flooder, payload(1_000)), None);
    }

    #[test]
    fn item_verdicts_name_the_offence_only_for_invalid_items() {
        let (acceptance, offence) =
            judge_item(&Err(SubmitError::Refused(MempoolError::BadSignature)));
        assert_eq!(acceptance, Acceptance::Reject);
        assert_eq!(
            offence,
            Some(Offence::InvalidItem(MempoolError::BadSignature))
        );
        assert_eq!(
            judge_item(&Err(SubmitError::Refused(MempoolError::Duplicate))),
            (Acceptance::Ignore, None)
        );
        assert_eq!(
            judge_item(&Ok(talos_chain::Hash256::ZERO)),
            (Acceptance::Accept, None)
        );
        assert_eq!(to_gossipsub(Acceptance::Reject), MessageAcceptance::Reject);
        assert_eq!(to_gossipsub(Acceptance::Ignore), MessageAcceptance::Ignore);
        assert_eq!(to_gossipsub(Acceptance::Accept), MessageAcceptance::Accept);
    }
}
