//! Two real nodes — real sled stores in temporary directories, real chain services, real
//! libp2p swarms over loopback TCP or QUIC — finding each other, exchanging status, syncing a
//! chain through the sync protocol, gossiping a new block and an item, and refusing a peer from
//! another genesis.

mod net_common;

use std::time::Duration;

use net_common::{ChainBuilder, Node, easy_spec, eventually};
use talos_chain::item::Anchor;
use talos_chain::{Hash256, ItemKind, SigningKey, UnsignedItem};
use talos_chain_service::ChainCommand;
use talos_network::NetCommand;
use tokio::sync::oneshot;

/// A node with `n` blocks, a late joiner that syncs them, then a block gossiped between them.
async fn sync_then_gossip(listen: &str, n: u64) {
    let spec = easy_spec();
    let mut builder = ChainBuilder::new(&spec);
    let a = Node::start(&spec, listen, Vec::new()).await;
    for _ in 0..n {
        a.import(builder.next_block()).await;
    }
    assert_eq!(a.height(), n);

    let b = Node::start(&spec, listen, vec![a.addr().await]).await;
    eventually("b syncs a's chain", || async { b.height() == n }).await;
    assert_eq!(b.store.tip().unwrap().id, a.store.tip().unwrap().id);
    // Every block came through the sync protocol (there was nothing to gossip yet).
    eventually("b counts the sync imports", || async {
        b.metric("talos_blocks_imported_total{code=\"sync\"}") == n as f64
    })
    .await;

    // Both sides saw each other's status.
    eventually("status exchanged", || async {
        let (pa, pb) = (a.peers().await, b.peers().await);
        pa.iter().any(|p| p.tip_height.is_some()) && pb.iter().any(|p| p.tip_height == Some(n))
    })
    .await;
    // Let the gossip subscriptions reach each other.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let block = builder.next_block();
    let id = block.id();
    a.import(block).await;
    eventually("b imports the gossiped block", || async {
        b.height() == n + 1
    })
    .await;
    assert_eq!(b.store.tip().unwrap().id, id);
    // (The import metric is counted just after the commit the height check saw.)
    eventually("b counts one gossip import", || async {
        b.metric("talos_blocks_imported_total{code=\"gossip\"}") == 1.0
    })
    .await;
    eventually("gossip accepted", || async {
        b.encode()
            .contains("talos_gossip_validation_total{topic=\"blocks\",outcome=\"accept\"} 1")
    })
    .await;

    // An item submitted to one node reaches the other's mempool through the items topic.
    let key = SigningKey::from_bytes(&[9; 32]);
    let item = UnsignedItem {
        author: key.verifying_key(),
        nonce: 1,
        timestamp_ms: spec.genesis_timestamp_ms,
        kind: ItemKind::Anchor(Anchor {
            content_hash: Hash256::sha256(b"hello"),
            label: "net test".into(),
        }),
    }
    .sign(&key, spec.network_id);
    let item_id = item.id();
    let (reply, rx) = oneshot::channel();
    a.chain
        .commands
        .send(ChainCommand::SubmitItem {
            item: Box::new(item),
            reply,
        })
        .await
        .expect("chain alive");
    assert_eq!(rx.await.expect("verdict").ok(), Some(item_id));
    eventually("b pools the gossiped item", || async {
        let (reply, rx) = oneshot::channel();
        b.chain
            .commands
            .send(ChainCommand::MempoolItem { id: item_id, reply })
            .await
            .expect("chain alive");
        rx.await.expect("reply").is_some()
    })
    .await;

    b.stop().await;
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_late_node_syncs_then_receives_gossip() {
    sync_then_gossip("/ip4/127.0.0.1/tcp/0", 60).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_late_node_syncs_then_receives_gossip() {
    sync_then_gossip("/ip4/127.0.0.1/udp/0/quic-v1", 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_transport_late_node_syncs_then_receives_gossip() {
    sync_then_gossip("/memory/0", 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_with_another_genesis_is_banned() {
    let spec = easy_spec();
    let mut other = easy_spec();
    other.genesis_timestamp_ms += 1;
    assert_ne!(spec.genesis_hash(), other.genesis_hash());

    let a = Node::start(&spec, "/ip4/127.0.0.1/tcp/0", Vec::new()).await;
    let b = Node::start(&other, "/ip4/127.0.0.1/tcp/0", vec![a.addr().await]).await;
    // Whichever side reads the other's status first bans it (both may).
    let banned = |n: &Node| {
        n.encode()
            .contains("talos_peers_banned_total{code=\"wrong_network\"} 1")
    };
    eventually("one side bans the other", || async {
        banned(&a) || banned(&b)
    })
    .await;
    eventually("no connection left", || async {
        a.peers().await.is_empty() && b.peers().await.is_empty()
    })
    .await;
    // A ban holds: redialing does not bring the connection back.
    b.commands
        .send(NetCommand::Dial {
            addr: a.addr().await,
        })
        .await
        .expect("net alive");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(a.peers().await.is_empty() && b.peers().await.is_empty());
    b.stop().await;
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_discover_each_other_through_a_bootnode_via_kademlia() {
    let spec = easy_spec();
    let boot = Node::start(&spec, "/ip4/127.0.0.1/tcp/0", Vec::new()).await;
    let boot_addr = boot.addr().await;
    let c = Node::start(&spec, "/ip4/127.0.0.1/tcp/0", vec![boot_addr.clone()]).await;
    // Let the bootnode learn c's listen address (identify) before d asks it.
    eventually("c known to the bootnode", || async {
        !boot.peers().await.is_empty()
    })
    .await;
    let d = Node::start(&spec, "/ip4/127.0.0.1/tcp/0", vec![boot_addr]).await;
    let (c_id, d_id) = (c.peer_id, d.peer_id);
    eventually("c and d connected without dialing each other", || async {
        c.peers().await.iter().any(|p| p.peer_id == d_id)
            && d.peers().await.iter().any(|p| p.peer_id == c_id)
    })
    .await;
    d.stop().await;
    c.stop().await;
    boot.stop().await;
}
