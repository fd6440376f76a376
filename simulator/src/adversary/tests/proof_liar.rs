//! A proof liar against a real honest node, seen from a requester speaking the sync protocol
//! to both: the liar relays status and headers, denies item proofs the node proves, and
//! forges state proofs the node's verify.

use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{Swarm, request_response};
use talos_chain::chain_state::{StateAnswer, revocation_key};
use talos_chain::item::Revocation;
use talos_chain::testkit::{item, key};
use talos_chain::{Hash256, ItemKind, SignedItem, UnsignedItem};
use talos_sync::{SyncRequest, SyncResponse};

use super::*;
use crate::adversary::junk::SyncLies;
use crate::adversary::swarm::{HostileBehaviour, HostileBehaviourEvent};

/// A bare requester: the adversaries' swarm, driven by hand.
struct Requester {
    swarm: Swarm<HostileBehaviour>,
    spec: NetworkSpec,
}

impl Requester {
    fn new(spec: &NetworkSpec) -> Self {
        let swarm = crate::adversary::swarm::build(&config(AdversaryKind::Silent, spec, vec![]))
            .expect("requester swarm");
        Self {
            swarm,
            spec: spec.clone(),
        }
    }

    /// Dials `addr` (ending in `/p2p/<peer>`) and waits for the connection.
    async fn connect(&mut self, addr: Multiaddr) -> PeerId {
        let peer = target_peer(&addr).expect("a peer id");
        self.swarm.dial(addr).expect("dials");
        self.drive(|event| {
            matches!(event, SwarmEvent::ConnectionEstablished { peer_id, .. } if *peer_id == peer)
        })
        .await;
        peer
    }

    /// Asks `peer` and waits for its answer.
    async fn ask(&mut self, peer: PeerId, request: &SyncRequest) -> SyncResponse {
        let encoded = talos_sync::encode_request(request);
        let id = self.swarm.behaviour_mut().sync.send_request(&peer, encoded);
        let mut answer = None;
        self.drive(|event| match event {
            SwarmEvent::Behaviour(HostileBehaviourEvent::Sync(
                request_response::Event::Message {
                    message:
                        request_response::Message::Response {
                            request_id,
                            response,
                        },
                    ..
                },
            )) if *request_id == id => {
                answer = Some(response.clone());
                true
            }
            SwarmEvent::Behaviour(HostileBehaviourEvent::Sync(
                request_response::Event::OutboundFailure {
                    request_id, error, ..
                },
            )) if *request_id == id => panic!("{request:?} to {peer} failed: {error}"),
            _ => false,
        })
        .await;
        let answer = answer.expect("an answer");
        talos_sync::decode_response(&answer, &self.spec.limits).expect("a valid response")
    }

    /// Runs the swarm until `done` accepts an event (or panics after [`WAIT`]), answering
    /// the requests it is sent as a fresh node would, so the node does not time out on it.
    async fn drive(&mut self, mut done: impl FnMut(&SwarmEvent<HostileBehaviourEvent>) -> bool) {
        let genesis = SyncLies::new(&self.spec, 0).genesis_status();
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let event = tokio::time::timeout_at(deadline, self.swarm.select_next_some())
                .await
                .expect("the awaited event in time");
            if done(&event) {
                return;
            }
            if let SwarmEvent::Behaviour(HostileBehaviourEvent::Sync(
                request_response::Event::Message {
                    message:
                        request_response::Message::Request {
                            request, channel, ..
                        },
                    ..
                },
            )) = event
            {
                let answer = SyncLies::plain_answer(&request, genesis);
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .sync
                    .send_response(channel, answer);
            }
        }
    }
}

fn revocation(spec: &NetworkSpec, nonce: u64, capability_id: Hash256) -> SignedItem {
    let author = key(2);
    UnsignedItem {
        author: author.verifying_key(),
        nonce,
        timestamp_ms: spec.genesis_timestamp_ms + 1,
        kind: ItemKind::Revocation(Revocation {
            capability_id,
            reason: "test".into(),
        }),
    }
    .sign(&author, spec.network_id)
}

/// Mines one block holding an anchor and two revocations; returns the anchor's id, the
/// block's id and the first revoked capability.
async fn mine_items(node: &RunningNode, spec: &NetworkSpec) -> (Hash256, Hash256, Hash256) {
    let anchor = item(spec, &key(1), 0);
    let capabilities = [Hash256::sha256(b"cap 1"), Hash256::sha256(b"cap 2")];
    let mut items = vec![anchor.clone()];
    items.extend((0..2).map(|n| revocation(spec, n, capabilities[n as usize])));
    for item in items {
        node.handle
            .submit_item(item)
            .await
            .expect("chain service")
            .expect("item pooled");
    }
    let block = node
        .handle
        .mine_block()
        .await
        .expect("chain service")
        .expect("mined");
    let mined = node.handle.block(&block).expect("store").expect("stored");
    assert_eq!(mined.items.len(), 3, "every item in the block");
    (anchor.id(), block, capabilities[0])
}

fn state_answer(response: SyncResponse) -> StateAnswer {
    match response {
        SyncResponse::StateProof(Some(answer)) => *answer,
        other => panic!("a state answer expected, got {other:?}"),
    }
}

/// Asks both peers for the state proof of `key` at `block`: the honest one verifies against
/// the block's state root, the liar's does not. Returns the honest one's siblings.
async fn check_state_proofs(
    requester: &mut Requester,
    (honest, liar): (PeerId, PeerId),
    node: &RunningNode,
    (block, key): (Hash256, Hash256),
) -> usize {
    let root = node
        .handle
        .header(&block)
        .expect("store")
        .expect("header")
        .header
        .state_root;
    let request = SyncRequest::StateProof { block, key };
    let real = state_answer(requester.ask(honest, &request).await);
    real.verify(&root, &key)
        .expect("the honest answer verifies");
    let forged = state_answer(requester.ask(liar, &request).await);
    assert_ne!(forged, real);
    let err = forged.verify(&root, &key).expect_err("the forgery fails");
    assert!(!err.code().is_empty(), "a typed error: {err}");
    real.proof.siblings.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proof_liar_relays_sync_denies_proofs_and_forges_state_proofs() {
    let spec = easy_spec();
    let (node, addr) = honest_node(&spec).await;
    let (anchor, block, capability) = mine_items(&node, &spec).await;
    assert!(node.handle.proof(&anchor).expect("store").is_some());
    let adversary = Adversary::spawn(config(AdversaryKind::ProofLiar, &spec, vec![addr.clone()]))
        .expect("adversary starts");
    let listen = adversary.listening(WAIT).await;
    assert_eq!(listen.len(), 1, "{listen:?}");
    eventually("the liar reaches the node", || async {
        connected_to(&node, adversary.peer_id()).await
    })
    .await;

    let mut requester = Requester::new(&spec);
    let honest = requester.connect(addr).await;
    let liar = requester.connect(listen[0].clone()).await;
    assert_eq!(liar, adversary.peer_id());
    // Status and headers are the node's own, relayed.
    let status = SyncRequest::Status(SyncLies::new(&spec, 0).genesis_status());
    let SyncResponse::Status(relayed) = requester.ask(liar, &status).await else {
        panic!("a status");
    };
    assert_eq!((relayed.tip_hash, relayed.tip_height), (block, 1));
    let headers = SyncRequest::HeadersByRange {
        start_height: 1,
        count: 16,
    };
    assert_eq!(
        requester.ask(liar, &headers).await,
        requester.ask(honest, &headers).await
    );
    assert_eq!(adversary.sent(), 0, "relaying is not lying");

    // The item proof the node serves, the liar denies.
    let proof = SyncRequest::Proof(anchor);
    let SyncResponse::Proof(Some(real)) = requester.ask(honest, &proof).await else {
        panic!("the node proves the item");
    };
    real.verify().expect("the node's proof holds");
    assert_eq!(requester.ask(liar, &proof).await, SyncResponse::Proof(None));
    // State proofs: with siblings (two revocations), and of the empty genesis state.
    let pair = (honest, liar);
    let revoked = (block, revocation_key(&capability));
    let siblings = check_state_proofs(&mut requester, pair, &node, revoked).await;
    assert!(siblings > 0);
    let genesis = (spec.genesis_hash(), revocation_key(&capability));
    let siblings = check_state_proofs(&mut requester, pair, &node, genesis).await;
    assert_eq!(siblings, 0);
    assert_eq!(adversary.sent(), 3, "one denial and two forgeries");
    // To the full node it is an honest relay: nothing to ban it for.
    assert_eq!(banned_total(&node), 0.0);
    assert!(connected_to(&node, adversary.peer_id()).await);
    adversary.stop().await;
    stop_node(node).await;
}
