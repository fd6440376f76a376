//! Items: submitted through the local API, or received by gossip. Both are judged against the
//! best chain the same way; what a refusal means for the sender is the network's policy.

use talos_chain::{AdmitError, Hash256, SignedItem};
use tracing::{debug, warn};

use super::Service;
use crate::error::SubmitError;
use crate::lookup::StoreLookup;
use crate::messages::{ChainEvent, ChainNotice, GossipItem, PeerRef};

impl<P: PeerRef> Service<P> {
    /// Checks and pools an item against the best chain.
    fn admit(&mut self, item: SignedItem) -> Result<Hash256, SubmitError> {
        let lookup = StoreLookup::best(self.chain.store());
        let inserted = match self.mempool.insert(item, &lookup, &self.config.spec) {
            Ok(inserted) => inserted,
            Err(AdmitError::Refused(e)) => return Err(e.into()),
            Err(AdmitError::Lookup(e)) => {
                warn!(error = %e, "store read failed while admitting an item");
                return Err(e.into());
            }
        };
        if !inserted.evicted.is_empty() {
            debug!(evicted = inserted.evicted.len(), "mempool evicted items");
        }
        self.mining.pool_changed();
        self.set_mempool_gauges();
        self.out.emit(ChainEvent::NewItem { id: inserted.id });
        Ok(inserted.id)
    }

    /// An item from the local API: pooled, then published on the items topic.
    pub(super) fn submit_item(&mut self, item: SignedItem) -> Result<Hash256, SubmitError> {
        let id = self.admit(item)?;
        debug!(item = %id, "item submitted");
        if let Some(item) = self.mempool.get(&id) {
            self.out
                .notify(ChainNotice::PublishItem(Box::new(item.clone())));
        }
        Ok(id)
    }

    /// An item from gossip: the verdict tells the network task whether to forward it.
    pub(super) fn on_gossip_item(&mut self, gossip: GossipItem<P>) {
        let verdict = self.admit(gossip.item);
        if let Err(e) = &verdict {
            debug!(peer = %gossip.from, code = e.code(), "gossip item not pooled");
        }
        let _ = gossip.reply.send(verdict);
    }
}
