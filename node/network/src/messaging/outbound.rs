//! The outbound requests' book, without I/O: what waits for which peer, what is on the wire,
//! and what to do next for a peer (send, look its addresses up, or wait).
//!
//! A peer's requests leave in the order the node sent them. While the peer is not connected,
//! one request is handed to the behaviour (whose dial carries it); the rest follow once the
//! connection is established, at most [`MAX_OUTBOUND_PER_PEER`] on the wire at once. A peer
//! with no address anywhere is looked up in Kademlia once before that dial.

use std::collections::{HashMap, VecDeque};

use libp2p::kad::QueryId;
use libp2p::request_response::OutboundRequestId;
use libp2p::{Multiaddr, PeerId};
use talos_messaging::{MailboxRequest, MsgRequest};
use tokio::sync::oneshot;

use super::{
    MAX_LOOKUPS, MAX_OUTBOUND_IN_FLIGHT, MAX_OUTBOUND_PER_PEER, MailboxResult, MessagingFailure,
    MsgResult,
};

/// Most addresses kept per peer to dial it with.
const MAX_ADDRS_PER_PEER: usize = 16;

/// A request the node asked to send, with where its answer goes.
#[derive(Debug)]
pub(crate) enum Outgoing {
    Msg(MsgRequest, oneshot::Sender<MsgResult>),
    Mailbox(MailboxRequest, oneshot::Sender<MailboxResult>),
}

impl Outgoing {
    /// Replies `failure` (the node may have stopped waiting: nobody to tell then).
    pub(crate) fn fail(self, failure: MessagingFailure) {
        match self {
            Self::Msg(_, reply) => {
                let _ = reply.send(Err(failure));
            }
            Self::Mailbox(_, reply) => {
                let _ = reply.send(Err(failure));
            }
        }
    }
}

/// What to do next for a peer.
#[derive(Debug)]
pub(crate) enum Next {
    /// Hand this request to the behaviour, dialing with `addrs` if not connected.
    Send {
        outgoing: Outgoing,
        addrs: Vec<Multiaddr>,
    },
    /// Look the peer's addresses up in Kademlia, then ask again.
    Lookup,
    /// Nothing now.
    Wait,
}

/// One peer's requests.
#[derive(Debug, Default)]
struct PeerQueue {
    queued: VecDeque<Outgoing>,
    addrs: Vec<Multiaddr>,
    /// Requests handed to the behaviour and not finished.
    sent: usize,
    lookup: Option<QueryId>,
    looked_up: bool,
}

/// The outbound requests: queued per peer, and on the wire by request id (one map per
/// protocol: each behaviour numbers its requests on its own).
#[derive(Debug, Default)]
pub(crate) struct OutboundBook {
    peers: HashMap<PeerId, PeerQueue>,
    msg: HashMap<OutboundRequestId, (PeerId, oneshot::Sender<MsgResult>)>,
    mailbox: HashMap<OutboundRequestId, (PeerId, oneshot::Sender<MailboxResult>)>,
    lookups: HashMap<QueryId, PeerId>,
    /// Queued plus sent, over all peers (at most [`MAX_OUTBOUND_IN_FLIGHT`]).
    total: usize,
}

impl OutboundBook {
    /// Queues `outgoing` for `peer`, remembering `addrs` to dial it with; hands it back when
    /// [`MAX_OUTBOUND_IN_FLIGHT`] requests wait already.
    pub(crate) fn enqueue(
        &mut self,
        peer: PeerId,
        addrs: Vec<Multiaddr>,
        outgoing: Outgoing,
    ) -> Result<(), Outgoing> {
        if self.total >= MAX_OUTBOUND_IN_FLIGHT {
            return Err(outgoing);
        }
        let queue = self.peers.entry(peer).or_default();
        for addr in addrs {
            if queue.addrs.len() < MAX_ADDRS_PER_PEER && !queue.addrs.contains(&addr) {
                queue.addrs.push(addr);
            }
        }
        queue.queued.push_back(outgoing);
        self.total += 1;
        Ok(())
    }

    /// What to do next for `peer`, given whether it is connected and whether any behaviour
    /// knows an address of it. A [`Next::Send`] counts the request as sent; register its id
    /// with [`OutboundBook::sent_msg`] / [`OutboundBook::sent_mailbox`].
    pub(crate) fn next(&mut self, peer: PeerId, connected: bool, address_known: bool) -> Next {
        let lookups = self.lookups.len();
        let Some(queue) = self.peers.get_mut(&peer) else {
            return Next::Wait;
        };
        if queue.queued.is_empty() {
            if queue.sent == 0 && queue.lookup.is_none() {
                self.peers.remove(&peer);
            }
            return Next::Wait;
        }
        // Connected meanwhile (it dialed us, or the lookup's queries reached it): no need to
        // wait for the lookup's end.
        if queue.lookup.is_some() && !connected {
            return Next::Wait;
        }
        let addrs = if connected {
            if queue.sent >= MAX_OUTBOUND_PER_PEER {
                return Next::Wait;
            }
            Vec::new()
        } else {
            // One request carries the dial; the rest follow once connected.
            if queue.sent > 0 {
                return Next::Wait;
            }
            if queue.addrs.is_empty() && !address_known && !queue.looked_up && lookups < MAX_LOOKUPS
            {
                return Next::Lookup;
            }
            queue.addrs.clone()
        };
        match queue.queued.pop_front() {
            Some(outgoing) => {
                queue.sent += 1;
                Next::Send { outgoing, addrs }
            }
            None => Next::Wait,
        }
    }

    /// A `/msg` request handed to the behaviour as `id`.
    pub(crate) fn sent_msg(
        &mut self,
        peer: PeerId,
        id: OutboundRequestId,
        reply: oneshot::Sender<MsgResult>,
    ) {
        self.msg.insert(id, (peer, reply));
    }

    /// A `/mailbox` request handed to the behaviour as `id`.
    pub(crate) fn sent_mailbox(
        &mut self,
        peer: PeerId,
        id: OutboundRequestId,
        reply: oneshot::Sender<MailboxResult>,
    ) {
        self.mailbox.insert(id, (peer, reply));
    }

    /// The `/msg` request `id` is over (answered or failed): where its answer goes.
    pub(crate) fn take_msg(
        &mut self,
        id: &OutboundRequestId,
    ) -> Option<(PeerId, oneshot::Sender<MsgResult>)> {
        let (peer, reply) = self.msg.remove(id)?;
        self.finished(&peer);
        Some((peer, reply))
    }

    /// The `/mailbox` request `id` is over (answered or failed): where its answer goes.
    pub(crate) fn take_mailbox(
        &mut self,
        id: &OutboundRequestId,
    ) -> Option<(PeerId, oneshot::Sender<MailboxResult>)> {
        let (peer, reply) = self.mailbox.remove(id)?;
        self.finished(&peer);
        Some((peer, reply))
    }

    fn finished(&mut self, peer: &PeerId) {
        self.total = self.total.saturating_sub(1);
        if let Some(queue) = self.peers.get_mut(peer) {
            queue.sent = queue.sent.saturating_sub(1);
        }
    }

    /// A Kademlia lookup of `peer`'s addresses started as `id`.
    pub(crate) fn looking_up(&mut self, peer: PeerId, id: QueryId) {
        if let Some(queue) = self.peers.get_mut(&peer) {
            queue.lookup = Some(id);
            self.lookups.insert(id, peer);
        }
    }

    /// The lookup `id` is over and found `addrs`: whose it was, if it was one.
    pub(crate) fn lookup_done(&mut self, id: &QueryId, addrs: Vec<Multiaddr>) -> Option<PeerId> {
        let peer = self.lookups.remove(id)?;
        if let Some(queue) = self.peers.get_mut(&peer) {
            queue.lookup = None;
            queue.looked_up = true;
            for addr in addrs {
                if queue.addrs.len() < MAX_ADDRS_PER_PEER && !queue.addrs.contains(&addr) {
                    queue.addrs.push(addr);
                }
            }
        }
        Some(peer)
    }

    /// The peer `id` is a lookup of, if it is one.
    pub(crate) fn lookup_of(&self, id: &QueryId) -> Option<PeerId> {
        self.lookups.get(id).copied()
    }

    /// Takes every request still queued for `peer` (it cannot be reached: they fail too).
    pub(crate) fn take_queued(&mut self, peer: &PeerId) -> Vec<Outgoing> {
        let Some(queue) = self.peers.get_mut(peer) else {
            return Vec::new();
        };
        let taken: Vec<Outgoing> = queue.queued.drain(..).collect();
        // A later request may find the peer again through a fresh lookup.
        queue.looked_up = false;
        self.total = self.total.saturating_sub(taken.len());
        taken
    }

    /// Whether anything is queued or in flight for `peer`.
    pub(crate) fn has(&self, peer: &PeerId) -> bool {
        self.peers.contains_key(peer)
    }

    /// The peers something is queued or in flight for.
    pub(crate) fn peers(&self) -> impl Iterator<Item = &PeerId> {
        self.peers.keys()
    }

    /// Requests queued or in flight over all peers.
    pub(crate) fn len(&self) -> usize {
        self.total
    }
}
