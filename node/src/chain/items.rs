//! Items: submitted through the local API, or received by gossip.

use talos_chain::{Hash256, MempoolError, SignedItem};
use tracing::{debug, warn};

use crate::handle::{Hash256Hex, NodeEvent, SubmitError};
use crate::pipeline::{ChainNotice, GossipItem, ItemVerdict};

use super::lookup::StoreLookup;
use super::service::Service;

/// Why an item could not be judged (not the item's fault).
enum Admission {
    Admitted(Hash256),
    Refused(MempoolError),
    StoreFailed(String),
}

impl Service {
    /// Checks and pools an item against the best chain.
    fn admit(&mut self, item: SignedItem) -> Admission {
        let lookup = StoreLookup::best(&*self.store);
        let result = self.mempool.insert(item, &lookup, &self.config.spec);
        if let Some(e) = lookup.take_error() {
            warn!(error = %e, "store read failed while admitting an item");
            return Admission::StoreFailed(e.to_string());
        }
        match result {
            Ok(inserted) => {
                if !inserted.evicted.is_empty() {
                    debug!(evicted = inserted.evicted.len(), "mempool evicted items");
                }
                self.mempool_changed = true;
                self.set_mempool_gauges();
                self.emit(NodeEvent::NewItem {
                    id: Hash256Hex(inserted.id),
                });
                Admission::Admitted(inserted.id)
            }
            Err(e) => Admission::Refused(e),
        }
    }

    /// An item from the local API: pooled, then published on the items topic.
    pub(crate) fn submit_item(&mut self, item: SignedItem) -> Result<Hash256, SubmitError> {
        let copy = item.clone();
        match self.admit(item) {
            Admission::Admitted(id) => {
                debug!(item = %id, "item submitted");
                self.notify(ChainNotice::PublishItem(copy));
                Ok(id)
            }
            Admission::Refused(e) => Err(SubmitError {
                code: e.code(),
                message: e.to_string(),
            }),
            Admission::StoreFailed(message) => Err(SubmitError {
                code: "storage",
                message,
            }),
        }
    }

    /// An item from gossip: the verdict tells gossipsub whether to forward it (accepted),
    /// drop it quietly (ignored: duplicate, already in the chain, no room, author cap, nonce
    /// already pending) or penalize the sender (rejected: invalid item).
    pub(crate) fn on_gossip_item(&mut self, gossip: GossipItem) {
        let verdict = match self.admit(gossip.item) {
            Admission::Admitted(_) => ItemVerdict::Accepted,
            Admission::Refused(e) if e.is_invalid_item() => {
                debug!(peer = %gossip.from, code = e.code(), "invalid gossip item");
                ItemVerdict::Rejected { code: e.code() }
            }
            Admission::Refused(_) | Admission::StoreFailed(_) => ItemVerdict::Ignored,
        };
        let _ = gossip.reply.send(verdict);
    }
}
