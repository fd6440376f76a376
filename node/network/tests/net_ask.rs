//! `NetCommand::Ask` between two real nodes: a state proof and an SPV proof asked of one
//! chosen peer, answered from its store and checked against the headers they name; an unknown
//! block; a peer that is not connected.

mod net_common;

use libp2p::PeerId;
use net_common::{ChainBuilder, Node, easy_spec, eventually};
use talos_chain::chain_state::{StateFinding, revocation_key};
use talos_chain::item::Revocation;
use talos_chain::{Hash256, ItemKind, SigningKey, UnsignedItem};
use talos_network::{NetCommand, QueryFailure, QueryResult};
use talos_sync::{SyncRequest, SyncResponse};
use tokio::sync::oneshot;

async fn ask(node: &Node, peer: PeerId, request: SyncRequest) -> QueryResult {
    let (reply, answer) = oneshot::channel();
    node.commands
        .send(NetCommand::Ask {
            peer,
            request,
            reply,
        })
        .await
        .expect("net alive");
    tokio::time::timeout(net_common::WAIT, answer)
        .await
        .expect("answered in time")
        .expect("reply sent")
}

#[tokio::test]
async fn state_and_item_proofs_are_asked_of_one_peer() {
    let spec = easy_spec();
    let mut builder = ChainBuilder::new(&spec);
    let a = Node::start(&spec, "/ip4/127.0.0.1/tcp/0", Vec::new()).await;
    let key = SigningKey::from_bytes(&[5; 32]);
    let capability = Hash256::sha256(b"capability");
    let revocation = UnsignedItem {
        author: key.verifying_key(),
        nonce: 0,
        timestamp_ms: spec.genesis_timestamp_ms + 1,
        kind: ItemKind::Revocation(Revocation {
            capability_id: capability,
            reason: "leaked".into(),
        }),
    }
    .sign(&key, spec.network_id);
    let revoking = builder.child(builder.tip(), vec![revocation.clone()]);
    a.import(revoking.clone()).await;
    a.import(builder.next_block()).await;

    let b = Node::start(&spec, "/ip4/127.0.0.1/tcp/0", vec![a.addr().await]).await;
    eventually("b connects to a", || async {
        b.peers().await.iter().any(|p| p.peer_id == a.peer_id)
    })
    .await;

    let state_key = revocation_key(&capability);
    let request = SyncRequest::StateProof {
        block: revoking.id(),
        key: state_key,
    };
    let Ok(SyncResponse::StateProof(Some(answer))) = ask(&b, a.peer_id, request).await else {
        panic!("a state proof");
    };
    let Ok(StateFinding::Present(record)) = answer.verify(&revoking.header.state_root, &state_key)
    else {
        panic!("the revocation is proven present");
    };
    assert_eq!(record.item_id(), revocation.id());

    let Ok(SyncResponse::Proof(Some(proof))) =
        ask(&b, a.peer_id, SyncRequest::Proof(revocation.id())).await
    else {
        panic!("an item proof");
    };
    assert!(proof.verify().is_ok());
    assert_eq!(proof.header, revoking.header);

    let unknown = SyncRequest::StateProof {
        block: Hash256([9; 32]),
        key: state_key,
    };
    assert_eq!(
        ask(&b, a.peer_id, unknown).await,
        Ok(SyncResponse::StateProof(None))
    );
    let stranger = libp2p::identity::Keypair::generate_ed25519()
        .public()
        .to_peer_id();
    assert_eq!(
        ask(&b, stranger, SyncRequest::Proof(revocation.id())).await,
        Err(QueryFailure::NotConnected)
    );
    // An honest peer's answers cost it nothing.
    let metrics = b.encode();
    for code in ["unrequested_data", "bad_frame"] {
        assert!(!metrics.contains(&format!("code=\"{code}\"")), "{metrics}");
    }
    a.stop().await;
    b.stop().await;
}
