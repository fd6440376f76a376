//! What the service does with the miner: a found block goes through the import pipeline like
//! any other, and answers the callers waiting for it.

use talos_chain::{Hash256, ItemLookup, VerifyingKey};
use tracing::{info, warn};

use super::Service;
use crate::error::MineError;
use crate::lookup::StoreLookup;
use crate::messages::{BlockSource, ImportOutcome, PeerRef};
use crate::mining::{Found, MinerPoll};

impl<P: PeerRef> Service<P> {
    /// Checks the job: a found block is imported; a missing or stale job is restarted.
    pub(super) fn poll_miner(&mut self) {
        match self.mining.poll() {
            MinerPoll::Working => {}
            MinerPoll::Idle | MinerPoll::Stale => self.restart_mining(),
            MinerPoll::Found(found) => self.on_mined(found),
        }
    }

    fn on_mined(&mut self, found: Found) {
        let Found {
            block,
            waiting,
            hashrate,
        } = found;
        let id = block.id();
        // What the pool must lose if our own template was refused (ids and nonces only: the
        // block itself moves into the pipeline).
        let used: Vec<(Hash256, VerifyingKey, u64)> = block
            .items
            .iter()
            .map(|i| (i.id(), *i.author(), i.nonce()))
            .collect();
        info!(hash = %id, height = block.header.height, items = used.len(), hashrate, "mined a block");
        let outcome = self.import_block(block, BlockSource::Mined);
        let answer = match &outcome {
            ImportOutcome::Invalid(rejection) => Err(MineError::Refused(rejection.clone())),
            _ => Ok(id),
        };
        for reply in waiting {
            let _ = reply.send(answer.clone());
        }
        if let ImportOutcome::Invalid(rejection) = &outcome {
            warn!(hash = %id, code = rejection.code(), "mined block refused by our own pipeline");
            self.drop_stale_pool_items(&used);
        }
        if !matches!(outcome, ImportOutcome::Imported { new_tip: true }) {
            self.restart_mining();
        }
    }

    /// A template built from the pool was refused: drop the pool items the chain already has,
    /// so the next template is valid. A store read that fails keeps the item (it is judged
    /// again when the next block includes it).
    fn drop_stale_pool_items(&mut self, used: &[(Hash256, VerifyingKey, u64)]) {
        let lookup = StoreLookup::best(self.chain.store());
        for (id, author, nonce) in used {
            let stale = lookup.contains_item(id).and_then(|found| {
                if found {
                    Ok(true)
                } else {
                    lookup.nonce_used(author, *nonce)
                }
            });
            match stale {
                Ok(true) => {
                    self.mempool.remove(id);
                }
                Ok(false) => {}
                Err(e) => warn!(item = %id, error = %e, "store read failed; item kept"),
            }
        }
        self.set_mempool_gauges();
    }
}
