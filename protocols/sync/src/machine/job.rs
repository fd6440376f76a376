//! One sync round with one target peer: fork search, the accepted header chain and the block
//! batches downloaded against it.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::hash::Hash;
use std::time::Instant;

use talos_chain::{Block, BlockHeader, ChainStatus, Hash256, ParentContext, Work};

use super::actions::RequestId;

/// Where a round is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Looking for the last block we share with the target: probe number `attempt`.
    FindFork {
        /// 0 probes just above our tip; `k ≥ 1` probes `2^(k−1)` blocks below it.
        attempt: u32,
    },
    /// Fork point found; fetching headers and blocks.
    Download,
}

/// Where a block range is.
#[derive(Clone, Debug)]
pub(crate) enum BatchState<P> {
    /// Waiting for a peer.
    Pending,
    /// Asked for under `id`.
    InFlight { id: RequestId },
    /// Downloaded, matching the accepted headers, waiting for its turn to import.
    Done { peer: P, blocks: Vec<Block> },
}

/// A range of heights `start..start + count` of the accepted header chain.
#[derive(Clone, Debug)]
pub(crate) struct Batch<P> {
    pub(crate) count: u32,
    pub(crate) state: BatchState<P>,
    /// Failed attempts so far.
    pub(crate) attempts: u32,
    /// Peers that failed this range (tried last).
    pub(crate) tried: Vec<P>,
}

impl<P> Batch<P> {
    pub(crate) fn new(count: u32) -> Self {
        Self {
            count,
            state: BatchState::Pending,
            attempts: 0,
            tried: Vec::new(),
        }
    }
}

/// One sync round.
#[derive(Debug)]
pub(crate) struct Job<P> {
    /// Distinguishes rounds, so answers to an abandoned round are ignored.
    pub(crate) id: u64,
    /// The peer whose headers we follow.
    pub(crate) peer: P,
    /// Its status (updated when it advertises more).
    pub(crate) target: ChainStatus,
    pub(crate) phase: Phase,
    /// Accepted headers not yet known imported, contiguous by height.
    pub(crate) headers: VecDeque<BlockHeader>,
    /// Height and id of the last accepted header (the fork point before any).
    pub(crate) last_header: (u64, Hash256),
    /// The context of the last accepted header (of the fork point before any), once the fork
    /// point is found: what the next header is checked against, and the work the accepted
    /// headers back.
    pub(crate) ctx: Option<ParentContext>,
    /// Whether the target's claimed work was compared with what its headers back.
    pub(crate) claim_checked: bool,
    /// The header request in flight.
    pub(crate) header_request: Option<RequestId>,
    /// Whether the target has no more headers for now.
    pub(crate) headers_done: bool,
    /// Block ranges by start height, all within the window.
    pub(crate) batches: BTreeMap<u64, Batch<P>>,
    /// First height not yet put in a batch.
    pub(crate) next_batch: u64,
    /// First height not yet handed to import.
    pub(crate) next_emit: u64,
    /// Peers that served ranges handed to import and not yet confirmed: (last height, peer).
    pub(crate) emitted_by: VecDeque<(u64, P)>,
    /// Peers found on another chain than the target's: not asked again this round.
    pub(crate) excluded: HashSet<P>,
    /// Last time an import was handed over or confirmed (or the round started).
    pub(crate) last_progress: Instant,
}

impl<P: Copy + Eq + Hash> Job<P> {
    pub(crate) fn new(
        id: u64,
        peer: P,
        target: ChainStatus,
        fork_hint: (u64, Hash256),
        now: Instant,
    ) -> Self {
        Self {
            id,
            peer,
            target,
            phase: Phase::FindFork { attempt: 0 },
            headers: VecDeque::new(),
            last_header: fork_hint,
            ctx: None,
            claim_checked: false,
            header_request: None,
            headers_done: false,
            batches: BTreeMap::new(),
            next_batch: fork_hint.0.saturating_add(1),
            next_emit: fork_hint.0.saturating_add(1),
            emitted_by: VecDeque::new(),
            excluded: HashSet::new(),
            last_progress: now,
        }
    }

    /// The accepted header at `height`, if held.
    pub(crate) fn header_at(&self, height: u64) -> Option<&BlockHeader> {
        let first = self.headers.front()?.height;
        let index = usize::try_from(height.checked_sub(first)?).ok()?;
        self.headers.get(index)
    }

    /// Whether a peer with this status is on the target's chain: its tip is the target's or
    /// one of the accepted headers.
    pub(crate) fn is_on_chain(&self, status: &ChainStatus) -> bool {
        status.tip_hash == self.target.tip_hash
            || self
                .header_at(status.tip_height)
                .is_some_and(|h| h.id() == status.tip_hash)
    }

    /// Cumulative work of the chain ending at the last accepted header: what the target's
    /// checked headers back (nothing before the fork point is found).
    pub(crate) fn backed_work(&self) -> Option<Work> {
        self.ctx.as_ref().map(|c| c.cumulative_work)
    }

    /// Height of the last accepted header.
    pub(crate) fn last_height(&self) -> u64 {
        self.last_header.0
    }

    /// First height not yet known imported: the base of the download window.
    pub(crate) fn import_base(&self) -> u64 {
        self.headers
            .front()
            .map_or(self.last_header.0.saturating_add(1), |h| h.height)
    }

    /// Whether everything the target had was downloaded and confirmed imported.
    pub(crate) fn is_complete(&self) -> bool {
        self.phase == Phase::Download
            && self.headers_done
            && self.header_request.is_none()
            && self.headers.is_empty()
            && self.batches.is_empty()
    }
}
