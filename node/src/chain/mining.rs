//! Mining on the best tip: a [`MiningJob`] on its own threads, polled from the service loop
//! (never waited on), rebuilt on every new tip and, when the mempool changed, after
//! [`super::ChainServiceConfig::template_refresh`].

use talos_chain::{BlockTemplate, Hash256, ItemLookup, Miner, MiningJob};
use tokio::sync::oneshot;
use tracing::{debug, info, warn};

use crate::handle::MineError;
use crate::pipeline::{BlockSource, ImportOutcome};

use super::lookup::StoreLookup;
use super::service::{Service, now_ms};

/// The running job and the template it mines.
#[derive(Debug)]
pub(crate) struct MiningState {
    job: MiningJob,
    template: BlockTemplate,
}

/// Most [`crate::NodeHandle::mine_block`] callers waiting at once.
const MAX_MINE_REQUESTS: usize = 64;

impl Service {
    /// Whether a job should run: continuous mining, or a caller waiting for a block.
    pub(crate) fn mining_wanted(&self) -> bool {
        self.config.mine || !self.mine_requests.is_empty()
    }

    /// Queues a caller for the next block mined here and makes sure a job runs.
    pub(crate) fn request_block(&mut self, reply: oneshot::Sender<Result<Hash256, MineError>>) {
        if self.mine_requests.len() >= MAX_MINE_REQUESTS {
            let _ = reply.send(Err(MineError::Busy));
            return;
        }
        self.mine_requests.push(reply);
        if self.mining.is_none() {
            self.restart_mining();
        }
    }

    /// Cancels the current job (if any) and starts one on the best tip.
    pub(crate) fn restart_mining(&mut self) {
        if !self.mining_wanted() {
            return;
        }
        self.stop_mining();
        let spec = &self.config.spec;
        let best = self.tree.best();
        let Some(parent) = self.tree.parent_context(&best.id, spec) else {
            warn!(hash = %best.id, "no context for the best tip; not mining");
            return;
        };
        let template = BlockTemplate::from_mempool(spec, &parent, &self.mempool, now_ms());
        match Miner::start(*template.header(), self.config.miner_threads.max(1)) {
            Ok(job) => {
                debug!(
                    height = template.header().height,
                    items = template.items().len(),
                    "mining"
                );
                self.mempool_changed = false;
                self.mining = Some(MiningState { job, template });
            }
            Err(e) => warn!(error = %e, code = e.code(), "could not start mining"),
        }
    }

    /// Stops the current job; its threads are joined (they stop within a few milliseconds).
    pub(crate) fn stop_mining(&mut self) {
        if let Some(state) = self.mining.take() {
            state.job.cancel();
        }
    }

    /// Checks the job: a found block goes through the import pipeline; a finished or stale
    /// job is restarted.
    pub(crate) fn poll_miner(&mut self) {
        let Some(state) = self.mining.as_mut() else {
            self.restart_mining();
            return;
        };
        if let Some(header) = state.job.try_result() {
            let Some(state) = self.mining.take() else {
                return;
            };
            let hashrate = state.job.hashrate();
            drop(state.job);
            let block = match state.template.complete(header) {
                Ok(block) => block,
                Err(e) => {
                    warn!(error = %e, "mined header does not fit its template");
                    self.restart_mining();
                    return;
                }
            };
            let id = block.id();
            let items = block.items.clone();
            // Taken before the import, so that the import's restart does not keep mining
            // for requests this block answers.
            let waiting = std::mem::take(&mut self.mine_requests);
            info!(hash = %id, height = block.header.height, items = items.len(), hashrate, "mined a block");
            let outcome = self.import_block(block, BlockSource::Mined);
            let answer = match outcome {
                ImportOutcome::Invalid { code } => Err(MineError::Refused(code)),
                _ => Ok(id),
            };
            for reply in waiting {
                let _ = reply.send(answer.clone());
            }
            if let ImportOutcome::Invalid { code } = outcome {
                // A template built from the pool was refused: drop the pool items the chain
                // already has so the next template is valid.
                let lookup = StoreLookup::best(&*self.store);
                for item in &items {
                    if lookup.contains_item(&item.id())
                        || lookup.nonce_used(item.author(), item.nonce())
                    {
                        self.mempool.remove(&item.id());
                    }
                }
                warn!(hash = %id, code, "mined block refused by our own pipeline");
                self.set_mempool_gauges();
            }
            if !matches!(outcome, ImportOutcome::Imported { new_tip: true }) {
                self.restart_mining();
            }
            return;
        }
        // A job that ended without a result (never in practice: 2^64 nonces) is restarted too,
        // after the refresh delay so that a result still on its way is not lost.
        let old = state.job.elapsed() >= self.config.template_refresh;
        if old && (self.mempool_changed || state.job.is_finished()) {
            self.restart_mining();
        }
    }
}
