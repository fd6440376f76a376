//! Kademlia over real TCP: a peer putting a record of no kind Talos defines gets nothing
//! stored, and pays for asking; an agent's signed DID record is stored and served, a forged one
//! is not.

mod net_common;

use futures::StreamExt;
use libp2p::Swarm;
use libp2p::kad::{self, Quorum, Record, RecordKey};
use libp2p::multiaddr::Protocol;
use libp2p::swarm::SwarmEvent;
use net_common::{Node, WAIT, easy_spec};

fn kad_peer() -> Swarm<kad::Behaviour<kad::store::MemoryStore>> {
    net_common::tcp_swarm(|key| {
        let id = key.public().to_peer_id();
        let names = talos_network::ProtocolNames::for_network("local").expect("names");
        let mut kad = kad::Behaviour::with_config(
            id,
            kad::store::MemoryStore::new(id),
            kad::Config::new(names.kad),
        );
        kad.set_mode(Some(kad::Mode::Client));
        kad
    })
}

/// Drives `swarm` until a query result `pick` accepts.
async fn query_result<T>(
    swarm: &mut Swarm<kad::Behaviour<kad::store::MemoryStore>>,
    mut pick: impl FnMut(kad::QueryResult) -> Option<T>,
) -> T {
    tokio::time::timeout(WAIT, async {
        loop {
            if let SwarmEvent::Behaviour(kad::Event::OutboundQueryProgressed { result, .. }) =
                swarm.select_next_some().await
                && let Some(found) = pick(result)
            {
                return found;
            }
        }
    })
    .await
    .expect("query result in time")
}

/// Puts `record` on the node through `peer`, then asks the node for it back (the putter's own
/// copy forgotten, so only the node can answer): what the node serves, if anything.
async fn put_then_get(
    peer: &mut Swarm<kad::Behaviour<kad::store::MemoryStore>>,
    record: Record,
) -> Option<Vec<u8>> {
    let key = record.key.clone();
    peer.behaviour_mut()
        .put_record(record, Quorum::One)
        .expect("put starts");
    // Whatever the put reports, what counts is what the node hands back.
    query_result(peer, |r| {
        matches!(r, kad::QueryResult::PutRecord(_)).then_some(())
    })
    .await;
    kad::store::RecordStore::remove(peer.behaviour_mut().store_mut(), &key);
    peer.behaviour_mut().get_record(key);
    query_result(peer, |r| match r {
        kad::QueryResult::GetRecord(Ok(kad::GetRecordOk::FoundRecord(found))) => {
            Some(Some(found.record.value))
        }
        kad::QueryResult::GetRecord(_) => Some(None),
        _ => None,
    })
    .await
}

async fn node_and_peer() -> (Node, Swarm<kad::Behaviour<kad::store::MemoryStore>>) {
    let node = Node::start(&easy_spec(), "/ip4/127.0.0.1/tcp/0", Vec::new()).await;
    let addr = node.addr().await;
    let mut peer = kad_peer();
    let base: libp2p::Multiaddr = addr
        .iter()
        .filter(|p| !matches!(p, Protocol::P2p(_)))
        .collect();
    peer.behaviour_mut().add_address(&node.peer_id, base);
    (node, peer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_of_no_talos_kind_are_not_stored() {
    let (node, mut peer) = node_and_peer().await;
    let record = Record::new(RecordKey::new(&"/talos/local/junk/1"), vec![0xab; 1024]);
    let found = put_then_get(&mut peer, record).await;
    assert!(
        found.is_none(),
        "the node stored a record it has no kind for"
    );
    node.stop().await;
}

/// Agent `seed`'s DID record, signed now, as a Kademlia record.
fn did_record(seed: u8) -> Record {
    use talos_identity::{DidDocument, DidRecord, SignedPrekey, SigningKey, X25519PublicKey};
    let key = SigningKey::from_bytes(&[seed; 32]);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64;
    let dh = X25519PublicKey::from_bytes([seed; 32]);
    let spk = SignedPrekey::sign(&key, &dh, 1, [!seed; 32].into(), now_ms);
    let document = DidDocument::for_agent(&key, dh, spk, Vec::new()).expect("a document");
    let record = DidRecord::sign(&document, now_ms, now_ms, 3_600_000, &key).expect("signed");
    Record::new(RecordKey::new(&record.key()), record.encode())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_did_record_is_stored_and_served_a_forged_one_is_not() {
    let (node, mut peer) = node_and_peer().await;
    let genuine = did_record(1);
    let found = put_then_get(&mut peer, genuine.clone()).await;
    assert_eq!(
        found,
        Some(genuine.value),
        "the node serves the DID record it validated"
    );
    let mut forged = did_record(2);
    let last = forged.value.len() - 1;
    forged.value[last] ^= 1;
    let found = put_then_get(&mut peer, forged).await;
    assert!(
        found.is_none(),
        "the node stored a record whose signature fails"
    );
    node.stop().await;
}

async fn publish(node: &Node, did: &str, record: Vec<u8>) -> talos_network::PublishResult {
    let (reply, rx) = tokio::sync::oneshot::channel();
    let did = did.to_owned();
    node.commands
        .send(talos_network::NetCommand::PublishDid { did, record, reply })
        .await
        .expect("net alive");
    rx.await.expect("reply")
}

async fn resolve(node: &Node, did: &str) -> talos_network::ResolveResult {
    let (reply, rx) = tokio::sync::oneshot::channel();
    node.commands
        .send(talos_network::NetCommand::ResolveDid {
            did: did.to_owned(),
            reply,
        })
        .await
        .expect("net alive");
    rx.await.expect("reply")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_publishes_its_did_record_and_another_node_resolves_it() {
    let a = Node::start(&easy_spec(), "/ip4/127.0.0.1/tcp/0", Vec::new()).await;
    let b = Node::start(&easy_spec(), "/ip4/127.0.0.1/tcp/0", vec![a.addr().await]).await;
    tokio::time::timeout(WAIT, async {
        while a.peers().await.is_empty() || b.peers().await.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("connected");
    let record = did_record(7);
    let did =
        talos_identity::did_key(&talos_identity::SigningKey::from_bytes(&[7; 32]).verifying_key());
    let published = publish(&a, &did, record.value.clone())
        .await
        .expect("published");
    assert!(published.peers >= 1, "{published:?}");
    let found = resolve(&b, &did).await.expect("resolved");
    assert_eq!(found.bytes(), record.value.as_slice());
    assert_eq!(found.record().did(), did);
    // An unknown DID is not found; a forged record is refused before it leaves the node.
    let stranger =
        talos_identity::did_key(&talos_identity::SigningKey::from_bytes(&[8; 32]).verifying_key());
    assert_eq!(
        resolve(&b, &stranger).await.unwrap_err().code(),
        "not_found"
    );
    let mut forged = did_record(9).value;
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let forger =
        talos_identity::did_key(&talos_identity::SigningKey::from_bytes(&[9; 32]).verifying_key());
    assert!(publish(&a, &forger, forged).await.is_err());
    // A genuine record under another DID's name is refused too.
    assert!(publish(&a, &stranger, record.value.clone()).await.is_err());
    assert_eq!(
        resolve(&b, "did:web:example.com").await.unwrap_err().code(),
        "not_did_key"
    );
    a.stop().await;
    b.stop().await;
}
