//! [`ChainServiceConfig`]: what the chain service is told at start-up.

use std::sync::Arc;
use std::time::Duration;

use talos_chain::{ForkChoiceConfig, NetworkSpec};

use crate::clock::{Clock, SystemClock};

/// Configuration of the chain service. Build with [`ChainServiceConfig::new`] and the
/// `with_*` methods.
#[derive(Clone, Debug)]
pub struct ChainServiceConfig {
    /// The network.
    pub spec: NetworkSpec,
    /// Whether to mine on the best tip.
    pub mine: bool,
    /// Mining threads (clamped to at least 1).
    pub miner_threads: usize,
    /// Fork-choice limits. `keep_depth` is also how many best-chain headers are loaded at
    /// start-up and the deepest reorg the node can follow.
    pub fork_choice: ForkChoiceConfig,
    /// Deepest side branch whose items are gathered to validate a block on it (the semantic
    /// check of a side-branch block reads every branch block down to the fork point).
    pub max_branch_depth: u64,
    /// How many blocks' worth of work (at the tip's target) a gossiped side-branch block may
    /// trail the tip by and still be stored and relayed ([`talos_chain::side_branch_floor`]).
    pub side_branch_margin: u32,
    /// Side-branch blocks this far below the tip are deleted from the store (checked every
    /// 64 blocks). At least `fork_choice.keep_depth`: no reorg that deep can be followed.
    pub side_prune_depth: u64,
    /// Most blocks waiting for their parent.
    pub max_orphans: usize,
    /// Most canonical bytes of blocks waiting for their parent.
    pub max_orphan_bytes: usize,
    /// How long a block waits for its parent before it is dropped.
    pub orphan_ttl: Duration,
    /// How often the miner is polled for a found block.
    pub mining_poll: Duration,
    /// A running mining job is rebuilt with new mempool items when it is at least this old.
    pub template_refresh: Duration,
    /// Where the service reads the time (block times, future drift, orphan expiry).
    pub clock: Arc<dyn Clock>,
}

impl ChainServiceConfig {
    /// Defaults for `spec`: no mining, one miner thread, 4,096-deep fork choice, the system
    /// clock.
    pub fn new(spec: NetworkSpec) -> Self {
        Self {
            spec,
            mine: false,
            miner_threads: 1,
            fork_choice: ForkChoiceConfig::default()
                .with_max_headers(1 << 16)
                .with_keep_depth(1 << 12),
            max_branch_depth: 2_048,
            side_branch_margin: talos_chain::SIDE_BRANCH_MARGIN_BLOCKS,
            side_prune_depth: 1 << 12,
            max_orphans: 256,
            max_orphan_bytes: 32 << 20,
            orphan_ttl: Duration::from_secs(300),
            mining_poll: Duration::from_millis(20),
            template_refresh: Duration::from_secs(2),
            clock: Arc::new(SystemClock),
        }
    }

    /// Sets [`Self::mine`].
    #[must_use]
    pub fn with_mine(mut self, mine: bool) -> Self {
        self.mine = mine;
        self
    }

    /// Sets [`Self::miner_threads`].
    #[must_use]
    pub fn with_miner_threads(mut self, threads: usize) -> Self {
        self.miner_threads = threads;
        self
    }

    /// Sets [`Self::fork_choice`].
    #[must_use]
    pub fn with_fork_choice(mut self, fork_choice: ForkChoiceConfig) -> Self {
        self.fork_choice = fork_choice;
        self
    }

    /// Sets [`Self::max_branch_depth`].
    #[must_use]
    pub fn with_max_branch_depth(mut self, depth: u64) -> Self {
        self.max_branch_depth = depth;
        self
    }

    /// Sets [`Self::side_branch_margin`].
    #[must_use]
    pub fn with_side_branch_margin(mut self, blocks: u32) -> Self {
        self.side_branch_margin = blocks;
        self
    }

    /// Sets [`Self::side_prune_depth`].
    #[must_use]
    pub fn with_side_prune_depth(mut self, depth: u64) -> Self {
        self.side_prune_depth = depth;
        self
    }

    /// Sets [`Self::max_orphans`] and [`Self::max_orphan_bytes`].
    #[must_use]
    pub fn with_orphan_limits(mut self, max_orphans: usize, max_bytes: usize) -> Self {
        self.max_orphans = max_orphans;
        self.max_orphan_bytes = max_bytes;
        self
    }

    /// Sets [`Self::orphan_ttl`].
    #[must_use]
    pub fn with_orphan_ttl(mut self, ttl: Duration) -> Self {
        self.orphan_ttl = ttl;
        self
    }

    /// Sets [`Self::mining_poll`].
    #[must_use]
    pub fn with_mining_poll(mut self, poll: Duration) -> Self {
        self.mining_poll = poll;
        self
    }

    /// Sets [`Self::template_refresh`].
    #[must_use]
    pub fn with_template_refresh(mut self, refresh: Duration) -> Self {
        self.template_refresh = refresh;
        self
    }

    /// Sets [`Self::clock`].
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}
