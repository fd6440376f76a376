//! Gossip validation without blocking the event loop.
//!
//! Each message is decoded on the loop (bounded decoders, cheap), then handed to the chain
//! service with a oneshot reply. A small task per message awaits the verdict (with a timeout)
//! and sends `(message id, source, acceptance)` back to the loop over a bounded channel; the
//! loop reports it to gossipsub. A semaphore bounds the messages awaiting a verdict: when it is
//! exhausted, new messages are ignored at once (no penalty, not forwarded).

use std::sync::Arc;
use std::time::Duration;

use libp2p::PeerId;
use libp2p::gossipsub::{MessageAcceptance, MessageId};
use talos_gossip::{Acceptance, BlockOutcome, GossipPayload, ItemOutcome, TopicKind};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use crate::chain::ChainChannels;
use crate::pipeline::{BlockSource, GossipItem, ImportOutcome, ImportRequest, ItemVerdict};

/// How long a gossip message waits for the chain service's verdict before it is ignored.
pub const VERDICT_TIMEOUT: Duration = Duration::from_secs(20);

/// Most gossip messages awaiting a verdict at once.
pub const MAX_PENDING_VERDICTS: usize = 512;

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
    /// The rule an invalid payload broke, if any.
    pub code: Option<&'static str>,
}

/// Maps our acceptance to gossipsub's.
pub fn to_gossipsub(acceptance: Acceptance) -> MessageAcceptance {
    match acceptance {
        Acceptance::Accept => MessageAcceptance::Accept,
        Acceptance::Reject => MessageAcceptance::Reject,
        Acceptance::Ignore => MessageAcceptance::Ignore,
    }
}

/// The acceptance of a block import outcome.
pub fn block_acceptance(outcome: &ImportOutcome) -> Acceptance {
    Acceptance::for_block(match outcome {
        ImportOutcome::Imported { .. } => BlockOutcome::Imported,
        ImportOutcome::AlreadyKnown => BlockOutcome::AlreadyKnown,
        ImportOutcome::Orphan { .. } => BlockOutcome::Orphan,
        ImportOutcome::Dropped => BlockOutcome::Dropped,
        ImportOutcome::Invalid { code } => BlockOutcome::Invalid { code },
    })
}

/// The acceptance of an item verdict.
pub fn item_acceptance(verdict: &ItemVerdict) -> Acceptance {
    Acceptance::for_item(match verdict {
        ItemVerdict::Accepted => ItemOutcome::Accepted,
        ItemVerdict::Ignored => ItemOutcome::Ignored,
        ItemVerdict::Rejected { code } => ItemOutcome::Rejected { code },
    })
}

/// Hands decoded gossip payloads to the chain service and collects verdicts.
pub struct GossipValidator {
    chain: ChainChannels,
    pending: Arc<Semaphore>,
    verdicts: mpsc::Sender<GossipVerdict>,
}

impl GossipValidator {
    /// A validator feeding `chain` and reporting to `verdicts`.
    pub fn new(chain: ChainChannels, verdicts: mpsc::Sender<GossipVerdict>) -> Self {
        Self {
            chain,
            pending: Arc::new(Semaphore::new(MAX_PENDING_VERDICTS)),
            verdicts,
        }
    }

    /// Starts validating a payload. Returns the acceptance to report at once when the payload
    /// cannot be handed over (queue full, service gone, too many pending): `Ignore`.
    pub fn submit(
        &self,
        message_id: MessageId,
        source: PeerId,
        payload: GossipPayload,
    ) -> Option<Acceptance> {
        let Ok(permit) = self.pending.clone().try_acquire_owned() else {
            return Some(Acceptance::Ignore);
        };
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
                    let outcome = rx.await.ok()?;
                    let code = match &outcome {
                        ImportOutcome::Invalid { code } => Some(*code),
                        _ => None,
                    };
                    Some((block_acceptance(&outcome), code))
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
                    let code = match &verdict {
                        ItemVerdict::Rejected { code } => Some(*code),
                        _ => None,
                    };
                    Some((item_acceptance(&verdict), code))
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
        verdict: impl Future<Output = Option<(Acceptance, Option<&'static str>)>> + Send + 'static,
    ) {
        let verdicts = self.verdicts.clone();
        tokio::spawn(async move {
            let (acceptance, code) = tokio::time::timeout(VERDICT_TIMEOUT, verdict)
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
                    code,
                })
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_map_to_gossipsub() {
        assert_eq!(
            block_acceptance(&ImportOutcome::Imported { new_tip: false }),
            Acceptance::Accept
        );
        assert_eq!(
            block_acceptance(&ImportOutcome::AlreadyKnown),
            Acceptance::Ignore
        );
        assert_eq!(
            block_acceptance(&ImportOutcome::Orphan {
                parent: talos_chain::Hash256([0; 32])
            }),
            Acceptance::Ignore
        );
        assert_eq!(
            block_acceptance(&ImportOutcome::Dropped),
            Acceptance::Ignore
        );
        assert_eq!(
            block_acceptance(&ImportOutcome::Invalid {
                code: "bad_signature"
            }),
            Acceptance::Reject
        );
        assert_eq!(item_acceptance(&ItemVerdict::Accepted), Acceptance::Accept);
        assert_eq!(item_acceptance(&ItemVerdict::Ignored), Acceptance::Ignore);
        assert_eq!(
            item_acceptance(&ItemVerdict::Rejected {
                code: "bad_signature"
            }),
            Acceptance::Reject
        );
        assert_eq!(to_gossipsub(Acceptance::Reject), MessageAcceptance::Reject);
    }
}
