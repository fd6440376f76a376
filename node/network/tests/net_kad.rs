//! Kademlia over real TCP: a peer putting a record of no kind Talos defines gets nothing
//! stored, and pays for asking.

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_of_no_talos_kind_are_not_stored() {
    let node = Node::start(&easy_spec(), "/ip4/127.0.0.1/tcp/0", Vec::new()).await;
    let addr = node.addr().await;
    let mut peer = kad_peer();
    let base: libp2p::Multiaddr = addr
        .iter()
        .filter(|p| !matches!(p, Protocol::P2p(_)))
        .collect();
    peer.behaviour_mut().add_address(&node.peer_id, base);
    let key = RecordKey::new(&"/talos/local/junk/1");
    let record = Record::new(key.clone(), vec![0xab; 1024]);
    peer.behaviour_mut()
        .put_record(record, Quorum::One)
        .expect("put starts");
    // Whatever the put reports, the node must not hand the record back.
    query_result(&mut peer, |r| {
        matches!(r, kad::QueryResult::PutRecord(_)).then_some(())
    })
    .await;
    // The putter keeps its own copy: forget it, so only the node could answer.
    kad::store::RecordStore::remove(peer.behaviour_mut().store_mut(), &key);
    peer.behaviour_mut().get_record(key);
    let found = query_result(&mut peer, |r| match r {
        kad::QueryResult::GetRecord(Ok(kad::GetRecordOk::FoundRecord(_))) => Some(true),
        kad::QueryResult::GetRecord(_) => Some(false),
        _ => None,
    })
    .await;
    assert!(!found, "the node stored a record it has no kind for");
    node.stop().await;
}
