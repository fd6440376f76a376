//! [`Mining`]: the job mining on the best tip, the template it mines, and the callers waiting
//! for a block. Polled from the service loop, never waited on; restarted on every new tip and,
//! when the mempool changed, after [`ChainServiceConfig::template_refresh`].

use std::time::Duration;

use talos_chain::{
    Block, BlockTemplate, Hash256, HeaderTree, ItemLookup, Mempool, Miner, MiningJob, NetworkSpec,
};
use tokio::sync::oneshot;
use tracing::{debug, warn};

use crate::config::ChainServiceConfig;
use crate::error::MineError;

/// Most [`crate::ChainCommand::MineBlock`] callers waiting at once.
const MAX_WAITING: usize = 64;

/// Where to send the id of the next block mined here.
pub(crate) type MineReply = oneshot::Sender<Result<Hash256, MineError>>;

/// Whether the node mines without being asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Only for waiting callers.
    OnRequest,
    /// Always.
    Continuous,
}

/// The running job and the template it mines.
#[derive(Debug)]
struct Job {
    job: MiningJob,
    template: BlockTemplate,
}

/// What [`Mining::poll`] found.
#[derive(Debug)]
pub(crate) enum MinerPoll {
    /// No job runs, though one is wanted: start one.
    Idle,
    /// The job is still searching.
    Working,
    /// The job is old and the mempool changed (or it ran out of nonces): start a new one.
    Stale,
    /// A block was found.
    Found(Found),
}

/// A block found by the job, with the callers it answers.
#[derive(Debug)]
pub(crate) struct Found {
    /// The block.
    pub(crate) block: Block,
    /// Callers waiting for it.
    pub(crate) waiting: Vec<MineReply>,
    /// Hashes per second of the job.
    pub(crate) hashrate: f64,
}

/// The mining driver (see the [module documentation](self)).
#[derive(Debug)]
pub(crate) struct Mining {
    mode: Mode,
    threads: usize,
    refresh: Duration,
    job: Option<Job>,
    waiting: Vec<MineReply>,
    /// The mempool gained items since the template was built.
    pool_changed: bool,
}

impl Mining {
    /// A driver with `config`'s settings, not mining yet.
    pub(crate) fn new(config: &ChainServiceConfig) -> Self {
        Self {
            mode: if config.mine {
                Mode::Continuous
            } else {
                Mode::OnRequest
            },
            threads: config.miner_threads.max(1),
            refresh: config.template_refresh,
            job: None,
            waiting: Vec::new(),
            pool_changed: false,
        }
    }

    /// Whether a job should run: continuous mining, or a caller waiting for a block.
    pub(crate) fn wanted(&self) -> bool {
        self.mode == Mode::Continuous || !self.waiting.is_empty()
    }

    /// Whether a job runs.
    pub(crate) fn is_running(&self) -> bool {
        self.job.is_some()
    }

    /// Queues a caller for the next block mined here (answering `Busy` when too many wait).
    pub(crate) fn request(&mut self, reply: MineReply) {
        if self.waiting.len() >= MAX_WAITING {
            let _ = reply.send(Err(MineError::Busy));
            return;
        }
        self.waiting.push(reply);
    }

    /// The mempool gained items: the next refresh rebuilds the template.
    pub(crate) fn pool_changed(&mut self) {
        self.pool_changed = true;
    }

    /// Cancels the current job (if any) and, when mining is wanted, starts one on the best tip
    /// of `tree` with the pending items that fit.
    pub(crate) fn restart(
        &mut self,
        spec: &NetworkSpec,
        tree: &HeaderTree,
        mempool: &Mempool,
        now_ms: u64,
        chain: &impl ItemLookup<Error = talos_storage::StorageError>,
    ) {
        if !self.wanted() {
            return;
        }
        self.stop();
        let best = tree.best();
        let Some(parent) = tree.parent_context(&best.id) else {
            warn!(hash = %best.id, "no context for the best tip; not mining");
            return;
        };
        let template = match BlockTemplate::from_mempool(spec, &parent, mempool, now_ms, chain) {
            Ok(template) => template,
            Err(e) => {
                warn!(error = %e, "the best tip's state is unreadable; not mining");
                return;
            }
        };
        match Miner::start(*template.header(), self.threads) {
            Ok(job) => {
                debug!(
                    height = template.header().height,
                    items = template.items().len(),
                    "mining"
                );
                self.pool_changed = false;
                self.job = Some(Job { job, template });
            }
            Err(e) => warn!(error = %e, code = e.code(), "could not start mining"),
        }
    }

    /// Stops the current job; its threads stop within a few milliseconds.
    pub(crate) fn stop(&mut self) {
        if let Some(job) = self.job.take() {
            job.job.cancel();
        }
    }

    /// Checks the job.
    pub(crate) fn poll(&mut self) -> MinerPoll {
        let Some(current) = self.job.as_mut() else {
            return MinerPoll::Idle;
        };
        if let Some(header) = current.job.try_result() {
            let Some(Job { job, template }) = self.job.take() else {
                return MinerPoll::Idle;
            };
            let hashrate = job.hashrate();
            drop(job);
            return match template.complete(header) {
                Ok(block) => MinerPoll::Found(Found {
                    block,
                    // Taken now, so that the restart the import causes does not keep mining
                    // for requests this block answers.
                    waiting: std::mem::take(&mut self.waiting),
                    hashrate,
                }),
                Err(e) => {
                    warn!(error = %e, "mined header does not fit its template");
                    MinerPoll::Stale
                }
            };
        }
        // A job that ended without a result (never in practice: 2^64 nonces) is restarted too,
        // after the refresh delay so that a result still on its way is not lost.
        let old = current.job.elapsed() >= self.refresh;
        if old && (self.pool_changed || current.job.is_finished()) {
            MinerPoll::Stale
        } else {
            MinerPoll::Working
        }
    }
}
