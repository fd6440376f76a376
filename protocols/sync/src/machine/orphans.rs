//! Orphans from gossip: fetching their missing ancestors by hash.

use std::fmt::Debug;
use std::hash::Hash;
use std::time::Instant;

use talos_chain::{Block, Hash256, Work, side_branch_floor};

use super::SyncMachine;
use super::actions::{Action, Misbehaviour, RequestId};
use super::chain_view::ChainView;
use super::requests::Kind;
use crate::messages::SyncRequest;

/// The walk back from one orphan towards a block we store.
#[derive(Clone, Debug)]
pub(crate) struct OrphanFetch<P> {
    /// The peer that sent the orphan, asked for its ancestors.
    pub(crate) peer: P,
    /// The ancestor fetched next.
    pub(crate) want: Hash256,
    /// Ancestors fetched so far, newest first.
    pub(crate) blocks: Vec<Block>,
    /// The request for `want`, once sent.
    pub(crate) request: Option<RequestId>,
    /// The oldest block links to a stored one: waiting for room to hand the chain to import.
    pub(crate) complete: bool,
}

impl<P: Copy + Eq + Hash + Debug> SyncMachine<P> {
    /// Starts fetching the ancestors of an orphan whose parent is `parent` at `parent_height`,
    /// unless it is stored, already wanted, range sync is running, or too many fetches are
    /// going on.
    pub(super) fn start_orphan_fetch(
        &mut self,
        peer: P,
        (parent, parent_height): (Hash256, u64),
        chain: &impl ChainView,
        now: Instant,
    ) {
        // A notice about a peer that already left recreates nothing.
        if chain.has_block(&parent, parent_height) || !self.peers.contains_key(&peer) {
            return;
        }
        if self.job.is_some() || self.config.headers_only {
            // A round is catching up anyway (or bodies are never fetched): make sure we know
            // how far this peer is.
            self.request_status(peer, now);
            return;
        }
        let wanted = self
            .orphans
            .iter()
            .any(|o| o.want == parent || o.blocks.iter().any(|b| b.id() == parent));
        if wanted {
            return;
        }
        if self.orphans.len() >= self.config.max_orphan_fetches {
            tracing::debug!(
                ?peer,
                "sync: too many orphan fetches; leaving it to range sync"
            );
            self.request_status(peer, now);
            return;
        }
        tracing::debug!(?peer, hash = %parent.to_hex(), "sync: fetching orphan parent");
        self.orphans.push(OrphanFetch {
            peer,
            want: parent,
            blocks: Vec::new(),
            request: None,
            complete: false,
        });
    }

    /// Sends the requests of fetches waiting for one; hands complete chains to import.
    pub(super) fn send_orphan_requests(&mut self, now: Instant) {
        let mut index = 0;
        while index < self.orphans.len() {
            let (peer, want, complete, waiting) = {
                let o = &self.orphans[index];
                (o.peer, o.want, o.complete, o.request.is_none())
            };
            if complete {
                if !self.actions.has_room() {
                    index += 1;
                    continue;
                }
                let fetch = self.orphans.swap_remove(index);
                let blocks: Vec<Block> = fetch.blocks.into_iter().rev().collect();
                tracing::debug!(
                    ?peer,
                    count = blocks.len(),
                    "sync: orphan ancestors complete"
                );
                self.actions.push(Action::Import { peer, blocks });
                continue;
            }
            if waiting && self.can_send_to(&peer) {
                let request = SyncRequest::BlocksByHash(vec![want]);
                let id = self.send(peer, Kind::Orphan { want }, request, now);
                self.orphans[index].request = Some(id);
            }
            index += 1;
        }
    }

    /// Blocks answering the request `id` for the orphan ancestor `want`.
    pub(super) fn on_orphan_blocks(
        &mut self,
        peer: P,
        id: RequestId,
        want: Hash256,
        blocks: Vec<Block>,
        chain: &impl ChainView,
        now: Instant,
    ) {
        let Some(index) = self
            .orphans
            .iter()
            .position(|o| o.peer == peer && o.request == Some(id))
        else {
            return;
        };
        let fault = match blocks.as_slice() {
            [] => Some(Misbehaviour::EmptyResponse),
            [block] if block.id() == want => None,
            [_] => Some(Misbehaviour::UnrequestedData),
            _ => Some(Misbehaviour::TooManyItems),
        };
        if let Some(misbehaviour) = fault {
            self.orphans.swap_remove(index);
            self.penalize(peer, misbehaviour);
            return;
        }
        let Some(block) = blocks.into_iter().next() else {
            return;
        };
        let (parent, height) = (block.header.prev_hash, block.header.height);
        let held_elsewhere: usize = self
            .orphans
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != index)
            .map(|(_, o)| o.blocks.len())
            .sum();
        let max = self.config.max_orphans;
        let fetch = &mut self.orphans[index];
        fetch.blocks.push(block);
        fetch.request = None;
        if chain.has_block(&parent, height.saturating_sub(1)) {
            fetch.complete = true;
            if !reaches_side_floor(&fetch.blocks, chain, self.config.side_branch_margin) {
                tracing::debug!(?peer, "sync: orphan chain too light to store; dropped");
                self.orphans.swap_remove(index);
            }
        } else if fetch.blocks.len() >= max || held_elsewhere + fetch.blocks.len() >= max {
            tracing::debug!(
                ?peer,
                "sync: orphan chain too deep; leaving it to range sync"
            );
            self.orphans.swap_remove(index);
            self.request_status(peer, now);
        } else {
            fetch.want = parent;
        }
    }
}

/// Whether the chain of `blocks` (newest first, the oldest building on a stored block) ends
/// with at least the side-branch floor's work. The work is what the headers' targets claim:
/// the chain service checks each proof of work on import, so a false target only costs its
/// sender a penalty there.
fn reaches_side_floor(blocks: &[Block], chain: &impl ChainView, margin: u32) -> bool {
    let tip = chain.tip();
    let (Some(oldest), Some(tip_ctx)) =
        (blocks.last(), chain.context(&tip.tip_hash, tip.tip_height))
    else {
        return true;
    };
    let Some(parent_height) = oldest.header.height.checked_sub(1) else {
        return false;
    };
    let Some(base) = chain.context(&oldest.header.prev_hash, parent_height) else {
        return false;
    };
    let work = blocks.iter().fold(base.cumulative_work, |sum, block| {
        let own = block
            .header
            .target
            .to_target()
            .map_or(Work::ZERO, |t| t.work());
        sum.saturating_add(own)
    });
    work >= side_branch_floor(tip.cumulative_work, tip_ctx.header.target, margin)
}
