//! Whether headers join the light client's header chain, and how.
//!
//! Header-first sync hands over headers only once their checked work beats the local tip's
//! (`talos_sync`'s headers-only mode), so nothing of a low-work chain is ever handed over.
//! [`plan_headers`] checks them again against the stored chain, because the store, not the sync
//! round, is what a light client answers from: the parent must be stored, every header must meet
//! the consensus rules against its parent ([`talos_chain::check_header_context`]: link, height,
//! the retarget's target within the pow limit, a time after the parent's and within the future
//! drift), checkpoints must match, and the chain they end must carry more work than the best one
//! (else nothing is stored: "more work than ours, or nothing", [`Lighter::Refuse`]). The one
//! exception is [`Lighter::Keep`], for the chunks header-first sync hands a heavier fork over
//! in: the chain as a whole was checked to beat ours before the first chunk left the sync
//! round, but its first chunks alone may not. The result is a [`HeaderPlan`]: the headers to
//! store and the best-chain change, which the node commits atomically.

use talos_chain::{
    Blame, BlockError, BlockHeader, Hash256, NetworkSpec, ParentContext, Work, check_header_context,
};

/// A stored header with the cumulative work of the chain it ends (genesis included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredHeader {
    /// The header.
    pub header: BlockHeader,
    /// Cumulative work up to and including it.
    pub cumulative_work: Work,
}

impl StoredHeader {
    /// Its block id.
    pub fn id(&self) -> Hash256 {
        self.header.id()
    }

    /// Its height.
    pub fn height(&self) -> u64 {
        self.header.height
    }
}

/// A block named by id and height, as a light client's header store addresses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockAt {
    /// The block id.
    pub id: Hash256,
    /// Its height.
    pub height: u64,
}

impl BlockAt {
    /// The block `header` heads.
    pub fn of(header: &BlockHeader) -> Self {
        Self {
            id: header.id(),
            height: header.height,
        }
    }
}

/// Read access to the light client's header store.
///
/// Headers are addressed by id *and* height: the node's store keeps its best chain by height
/// and no index by id (so its memory does not grow with the chain), and every header names
/// its own height, its parent's is one less.
pub trait HeaderSource {
    /// Why the store could not answer.
    type Error;
    /// The best tip.
    fn tip(&self) -> Result<StoredHeader, Self::Error>;
    /// The stored header `id` of height `height`, best chain or not (`None` for a header not
    /// stored, or stored at another height).
    fn header(&self, id: &Hash256, height: u64) -> Result<Option<StoredHeader>, Self::Error>;
    /// The best-chain header id at `height`.
    fn best_id_at(&self, height: u64) -> Result<Option<Hash256>, Self::Error>;
}

/// What to do with valid headers whose chain does not carry more work than the best one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lighter {
    /// Store nothing ([`HeaderRejection::NotHeavier`]).
    Refuse,
    /// Store them off the best chain: only for headers of a chain already checked to beat
    /// ours (the chunks of one sync round).
    Keep,
}

/// How deep below the best chain a stored branch may be walked, in multiples of the deepest
/// reorg followed (a kept branch can be longer than the reorg it ends in).
const BRANCH_WALK_FACTOR: u64 = 16;

/// What to write: new headers, then the best-chain change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderPlan {
    /// Headers to store, parents first.
    pub store: Vec<StoredHeader>,
    /// Best-chain headers that leave the best chain, tip first.
    pub disconnect: Vec<Hash256>,
    /// Headers that join the best chain, oldest first (ending with the new tip).
    pub connect: Vec<Hash256>,
    /// The new best tip.
    pub new_tip: StoredHeader,
}

impl HeaderPlan {
    /// How deep the best chain is rewound (0 for an extension).
    pub fn reorg_depth(&self) -> usize {
        self.disconnect.len()
    }
}

/// Why headers do not join the chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderRejection<E> {
    /// Nothing new was handed over (every header is stored already).
    #[error("no new header")]
    NothingNew,
    /// The first new header's parent is not stored.
    #[error("parent {0} of the first new header is not stored")]
    UnknownParent(Hash256),
    /// Header `index` breaks a consensus rule against its parent.
    #[error("header {index}: {error}")]
    Rule {
        /// Index in the handed-over batch.
        index: usize,
        /// The rule.
        error: BlockError,
    },
    /// Header `index` sits at a checkpoint's height with another id.
    #[error("header {index} at height {height} is not the checkpoint {expected}")]
    Checkpoint {
        /// Index in the handed-over batch.
        index: usize,
        /// The checkpoint's height.
        height: u64,
        /// The checkpoint's id.
        expected: Hash256,
    },
    /// The chain they end does not carry more work than the best one: nothing is stored.
    #[error("the headers end a chain with no more work than ours")]
    NotHeavier,
    /// Joining them would rewind the best chain deeper than allowed.
    #[error("a reorg of {depth} headers, at most {max} are followed")]
    TooDeep {
        /// The depth.
        depth: u64,
        /// The limit.
        max: u64,
    },
    /// The header store failed: no verdict.
    #[error("header store: {0}")]
    Source(E),
}

impl<E> HeaderRejection<E> {
    /// Whether the peer that served the headers is to blame: a rule it broke (not our clock's)
    /// or a checkpoint it contradicts. A race with another round or a store failure is not.
    pub fn is_peer_fault(&self) -> bool {
        match self {
            Self::Rule { error, .. } => error.blame() != Blame::Clock,
            Self::Checkpoint { .. } | Self::UnknownParent(_) => true,
            Self::NothingNew | Self::NotHeavier | Self::TooDeep { .. } | Self::Source(_) => false,
        }
    }

    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NothingNew => "nothing_new",
            Self::UnknownParent(_) => "unknown_parent",
            Self::Rule { error, .. } => error.code(),
            Self::Checkpoint { .. } => "checkpoint_mismatch",
            Self::NotHeavier => "not_heavier",
            Self::TooDeep { .. } => "reorg_too_deep",
            Self::Source(_) => "store_failed",
        }
    }
}

/// The context a child of `parent` is checked against.
fn context_of<S: HeaderSource>(
    source: &S,
    parent: &StoredHeader,
) -> Result<ParentContext, HeaderRejection<S::Error>> {
    let grandparent_timestamp = if parent.height() == 0 {
        None
    } else {
        let grandparent = source
            .header(&parent.header.prev_hash, parent.height().saturating_sub(1))
            .map_err(HeaderRejection::Source)?
            .ok_or(HeaderRejection::UnknownParent(parent.header.prev_hash))?;
        Some(grandparent.header.timestamp_ms)
    };
    Ok(ParentContext {
        id: parent.id(),
        header: parent.header,
        cumulative_work: parent.cumulative_work,
        grandparent_timestamp,
    })
}

/// Checks `headers` (contiguous, oldest first, as header-first sync hands them over) against
/// the stored chain and plans their adoption. `now_ms` is the local clock for the future-drift
/// rule; `max_reorg` bounds how many best-chain headers may be disconnected; `lighter` says
/// what becomes of headers that do not make a heavier chain.
pub fn plan_headers<S: HeaderSource>(
    source: &S,
    headers: &[BlockHeader],
    spec: &NetworkSpec,
    now_ms: u64,
    max_reorg: u64,
    lighter: Lighter,
) -> Result<HeaderPlan, HeaderRejection<S::Error>> {
    let mut skip = 0;
    for header in headers {
        if source
            .header(&header.id(), header.height)
            .map_err(HeaderRejection::Source)?
            .is_none()
        {
            break;
        }
        skip += 1;
    }
    let new = &headers[skip..];
    let first = new.first().ok_or(HeaderRejection::NothingNew)?;
    let parent = match first.height.checked_sub(1) {
        Some(height) => source
            .header(&first.prev_hash, height)
            .map_err(HeaderRejection::Source)?,
        None => None,
    }
    .ok_or(HeaderRejection::UnknownParent(first.prev_hash))?;
    let mut ctx = context_of(source, &parent)?;
    let mut store = Vec::with_capacity(new.len());
    for (offset, header) in new.iter().enumerate() {
        let index = skip + offset;
        check_header_context(header, spec, &ctx, now_ms)
            .map_err(|error| HeaderRejection::Rule { index, error })?;
        if let Some(checkpoint) = spec.checkpoint_at(header.height)
            && checkpoint.hash != header.id()
        {
            return Err(HeaderRejection::Checkpoint {
                index,
                height: header.height,
                expected: checkpoint.hash,
            });
        }
        ctx = ctx.child_of_header(header);
        store.push(StoredHeader {
            header: *header,
            cumulative_work: ctx.cumulative_work,
        });
    }
    let tip = source.tip().map_err(HeaderRejection::Source)?;
    let new_tip = *store.last().ok_or(HeaderRejection::NothingNew)?;
    let max_branch = max_reorg.saturating_mul(BRANCH_WALK_FACTOR);
    if new_tip.cumulative_work <= tip.cumulative_work {
        return match lighter {
            Lighter::Refuse => Err(HeaderRejection::NotHeavier),
            Lighter::Keep => {
                // Bounded like any branch: it must reach the best chain within the walk.
                stored_branch(source, parent, max_branch)?;
                Ok(HeaderPlan {
                    store,
                    disconnect: Vec::new(),
                    connect: Vec::new(),
                    new_tip: tip,
                })
            }
        };
    }
    let (fork_height, mut connect) = stored_branch(source, parent, max_branch)?;
    let depth = tip.height().saturating_sub(fork_height);
    if depth > max_reorg {
        return Err(HeaderRejection::TooDeep {
            depth,
            max: max_reorg,
        });
    }
    let disconnect = (fork_height + 1..=tip.height())
        .rev()
        .map(|height| {
            source
                .best_id_at(height)
                .map_err(HeaderRejection::Source)?
                .ok_or(HeaderRejection::UnknownParent(tip.id()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    connect.extend(store.iter().map(StoredHeader::id));
    Ok(HeaderPlan {
        store,
        disconnect,
        connect,
        new_tip,
    })
}

/// From `parent` (stored) down to the best chain: the fork height and the stored side headers
/// above it, oldest first (empty when `parent` is on the best chain).
fn stored_branch<S: HeaderSource>(
    source: &S,
    parent: StoredHeader,
    max_reorg: u64,
) -> Result<(u64, Vec<Hash256>), HeaderRejection<S::Error>> {
    let mut branch = Vec::new();
    let mut current = parent;
    loop {
        let on_best = source
            .best_id_at(current.height())
            .map_err(HeaderRejection::Source)?
            == Some(current.id());
        if on_best {
            branch.reverse();
            return Ok((current.height(), branch));
        }
        if branch.len() as u64 >= max_reorg {
            return Err(HeaderRejection::TooDeep {
                depth: branch.len() as u64 + 1,
                max: max_reorg,
            });
        }
        branch.push(current.id());
        // Not on the best chain, so not genesis: it has a parent one height down.
        current = source
            .header(
                &current.header.prev_hash,
                current.height().saturating_sub(1),
            )
            .map_err(HeaderRejection::Source)?
            .ok_or(HeaderRejection::UnknownParent(current.header.prev_hash))?;
    }
}

#[cfg(test)]
mod tests;
