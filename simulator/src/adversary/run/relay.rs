//! Relaying sync between peers: a mutator's plain relay, and a proof liar's, which relays
//! everything but the proofs it lies about.

use std::sync::atomic::Ordering;

use libp2p::PeerId;
use talos_sync::SyncRequest;

use super::{Channel, Hostile, MAX_HELD_REQUESTS, Relay};
use crate::adversary::junk::SyncLies;
use crate::adversary::proofs::ProofForger;

impl Hostile {
    /// A mutator relays sync too: `requester`'s request goes to another connected peer and
    /// that peer's answer comes back unchanged. Gives the channel back when there is no other
    /// peer or [`MAX_HELD_REQUESTS`] are already waiting.
    pub(super) fn proxy(
        &mut self,
        requester: PeerId,
        request: &[u8],
        channel: Channel,
    ) -> Result<(), Channel> {
        let upstream = self.connected.iter().find(|p| **p != requester).copied();
        self.relay_to(upstream, request, channel, false)
    }

    /// A proof liar's answer to `requester`: "not found" to an item proof request; any other
    /// request relayed to one of its connected targets (never to the requester, nor to a peer
    /// that dialed it, such as a light client), a state proof's answer to be forged on its way
    /// back ([`Hostile::relay_back`]). With no target to relay to it answers like a fresh node.
    pub(super) fn answer_as_proof_liar(
        &mut self,
        requester: PeerId,
        request: &[u8],
        channel: Channel,
    ) {
        let decoded = talos_sync::decode_request(request);
        if matches!(decoded, Ok(SyncRequest::Proof(_))) {
            self.respond(channel, ProofForger::denial(), true);
            return;
        }
        let forge = matches!(decoded, Ok(SyncRequest::StateProof { .. }));
        let upstream = self
            .connected
            .iter()
            .find(|p| **p != requester && self.redial.is_target(p))
            .copied();
        if let Err(channel) = self.relay_to(upstream, request, channel, forge) {
            let answer = SyncLies::plain_answer(request, self.lies.genesis_status());
            self.respond(channel, answer, false);
        }
    }

    /// An upstream answered a relayed request: the answer goes back to the requester,
    /// forged first when the relay says so (and the answer carries a state proof).
    pub(super) fn relay_back(&mut self, relay: Relay, response: Vec<u8>) {
        let forged = relay
            .forge
            .then(|| self.forger.forge_response(&response, &self.limits))
            .flatten();
        match forged {
            Some(forged) => self.respond(relay.channel, forged, true),
            None => self.respond(relay.channel, response, false),
        }
    }

    /// Sends `request` to `upstream` and remembers where its answer goes. Gives the channel
    /// back when there is no upstream or [`MAX_HELD_REQUESTS`] are already waiting.
    fn relay_to(
        &mut self,
        upstream: Option<PeerId>,
        request: &[u8],
        channel: Channel,
        forge: bool,
    ) -> Result<(), Channel> {
        let Some(upstream) = upstream.filter(|_| self.proxied.len() < MAX_HELD_REQUESTS) else {
            return Err(channel);
        };
        let id = self
            .swarm
            .behaviour_mut()
            .sync
            .send_request(&upstream, request.to_vec());
        self.proxied.insert(id, Relay { channel, forge });
        Ok(())
    }

    /// Answers on `channel`; a `hostile` answer that went out is counted as sent.
    fn respond(&mut self, channel: Channel, answer: Vec<u8>, hostile: bool) {
        let sent = self
            .swarm
            .behaviour_mut()
            .sync
            .send_response(channel, answer)
            .is_ok();
        if sent && hostile {
            self.counters.sent.fetch_add(1, Ordering::Relaxed);
        } else if !sent {
            tracing::trace!("sync answer not sent: stream gone");
        }
    }
}
