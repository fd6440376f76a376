//! Connection slots over real TCP: one address cannot take more than its share of a node's
//! inbound connections.

mod net_common;

use std::time::Duration;

use futures::StreamExt;
use libp2p::Swarm;
use libp2p::swarm::{SwarmEvent, dummy};
use net_common::{Node, WAIT, easy_spec};
use talos_network::TransportKind;
use talos_network::gate::IpLimits;

/// A bare libp2p peer that only connects (it never listens, so the node cannot dial it).
fn bare_peer() -> Swarm<dummy::Behaviour> {
    net_common::tcp_swarm(|_| dummy::Behaviour)
}

/// Dials `addr` and reports whether a connection was established (and stayed up a moment).
async fn connects(swarm: &mut Swarm<dummy::Behaviour>, addr: libp2p::Multiaddr) -> bool {
    swarm.dial(addr).expect("dial");
    tokio::time::timeout(WAIT, async {
        loop {
            match swarm.select_next_some().await {
                SwarmEvent::ConnectionEstablished { .. } => {
                    // A gate that refuses only after the handshake closes at once.
                    let closed = tokio::time::timeout(Duration::from_millis(500), async {
                        loop {
                            if let SwarmEvent::ConnectionClosed { .. } =
                                swarm.select_next_some().await
                            {
                                return;
                            }
                        }
                    })
                    .await;
                    return closed.is_err();
                }
                SwarmEvent::OutgoingConnectionError { .. }
                | SwarmEvent::ConnectionClosed { .. } => {
                    return false;
                }
                _ => {}
            }
        }
    })
    .await
    .expect("a dial outcome in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_gets_at_most_its_share_of_inbound_connections() {
    let limits = IpLimits {
        per_ip: 2,
        per_subnet: 8,
        include_loopback: true,
    };
    let node = Node::start_configured(
        &easy_spec(),
        "/ip4/127.0.0.1/tcp/0",
        Vec::new(),
        TransportKind::Network,
        |c| c.with_ip_limits(limits),
    )
    .await;
    let addr = node.addr().await;
    let mut peers: Vec<Swarm<dummy::Behaviour>> = (0..4).map(|_| bare_peer()).collect();
    let mut accepted = 0;
    for peer in &mut peers {
        if connects(peer, addr.clone()).await {
            accepted += 1;
        }
    }
    assert_eq!(
        accepted, 2,
        "two connections from 127.0.0.1, the rest refused"
    );
    assert_eq!(node.peers().await.len(), 2);
    // A slot frees when a connection closes.
    drop(peers.remove(0));
    net_common::eventually("slot freed", || async { node.peers().await.len() == 1 }).await;
    let mut late = bare_peer();
    assert!(connects(&mut late, addr).await);
    node.stop().await;
}
