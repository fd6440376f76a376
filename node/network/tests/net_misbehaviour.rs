//! A misbehaving peer — a bare libp2p swarm speaking gossipsub and a raw sync codec — sending
//! junk to a real node is rejected, scored down and banned.

mod net_common;

use std::time::Duration;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, StreamProtocol, Swarm, gossipsub, request_response};
use net_common::{ChainBuilder, Node, WAIT, easy_spec, eventually};
use talos_network::NetCommand;

/// Writes whatever bytes it is given as one length-prefixed frame: no validation at all.
#[derive(Clone, Default)]
struct RawCodec;

async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let n = u32::from_be_bytes(len) as usize;
    if n > 1 << 20 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "too large",
        ));
    }
    let mut buf = vec![0u8; n];
    io.read_exact(&mut buf).await?;
    Ok(buf)
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(io: &mut T, data: &[u8]) -> std::io::Result<()> {
    io.write_all(&(data.len() as u32).to_be_bytes()).await?;
    io.write_all(data).await?;
    io.flush().await
}

impl request_response::Codec for RawCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> std::io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> std::io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> std::io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &req).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> std::io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &res).await
    }
}

#[derive(NetworkBehaviour)]
struct Adversary {
    gossipsub: gossipsub::Behaviour,
    sync: request_response::Behaviour<RawCodec>,
}

fn adversary() -> Swarm<Adversary> {
    adversary_with(request_response::ProtocolSupport::Outbound)
}

/// An adversary whose sync protocol support is `support` (`Full`: it also answers requests).
fn adversary_with(support: request_response::ProtocolSupport) -> Swarm<Adversary> {
    net_common::tcp_swarm(|key| {
        let config = gossipsub::ConfigBuilder::default()
            .heartbeat_initial_delay(Duration::from_millis(100))
            .build()
            .expect("gossipsub config");
        let gossipsub =
            gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Signed(key.clone()), config)
                .expect("gossipsub");
        // Outbound only: the node's status requests fail as unsupported (no penalty), so
        // the only offences are the ones each test commits.
        let sync = request_response::Behaviour::with_codec(
            RawCodec,
            [(
                talos_network::ProtocolNames::for_network("local")
                    .expect("names")
                    .sync,
                support,
            )],
            request_response::Config::default(),
        );
        Adversary { gossipsub, sync }
    })
}

/// Dials `addr` and drives the swarm until `done` says so (or [`WAIT`] passes).
async fn drive_until(
    swarm: &mut Swarm<Adversary>,
    mut done: impl FnMut(&SwarmEvent<AdversaryEvent>) -> bool,
) {
    tokio::time::timeout(WAIT, async {
        loop {
            let event = swarm.select_next_some().await;
            if done(&event) {
                return;
            }
        }
    })
    .await
    .expect("adversary event in time");
}

fn dial(swarm: &mut Swarm<Adversary>, addr: Multiaddr) {
    swarm.dial(addr).expect("dial");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_gossip_is_rejected_and_its_sender_banned() {
    let spec = easy_spec();
    let node = Node::start(&spec, "/ip4/127.0.0.1/tcp/0", Vec::new()).await;
    let target: PeerId = node.peer_id;
    let mut adv = adversary();
    let topic = gossipsub::IdentTopic::new(talos_gossip::Topics::for_network(&spec.name).blocks());
    adv.behaviour_mut()
        .gossipsub
        .subscribe(&topic)
        .expect("subscribe");
    dial(&mut adv, node.addr().await);
    drive_until(&mut adv, |e| {
        matches!(e, SwarmEvent::Behaviour(AdversaryEvent::Gossipsub(gossipsub::Event::Subscribed { peer_id, .. })) if *peer_id == target)
    })
    .await;
    for i in 0..8u8 {
        // Distinct bytes (distinct message ids), none a valid block.
        let junk = vec![0xff, i, 0xff, 0xff, 0x0f];
        adv.behaviour_mut()
            .gossipsub
            .publish(topic.clone(), junk)
            .expect("publish");
    }
    let driver = tokio::spawn(async move {
        loop {
            adv.select_next_some().await;
        }
    });
    eventually("junk rejected", || async {
        node.metric("talos_gossip_validation_total{topic=\"blocks\",outcome=\"reject\"}") >= 1.0
    })
    .await;
    // Gossipsub graylists the sender after a few rejects (its RPCs are then ignored); the
    // node bans it on its gossip score, or on its local score if enough junk got through.
    eventually("sender banned", || async {
        node.metric("talos_peers_banned_total{code=\"gossip_score\"}")
            + node.metric("talos_peers_banned_total{code=\"invalid_gossip\"}")
            == 1.0
    })
    .await;
    eventually("sender disconnected", || async {
        node.peers().await.is_empty()
    })
    .await;
    driver.abort();
    node.stop().await;
}

/// A node and an adversary connected to it.
async fn node_with_connected_adversary() -> (Node, Swarm<Adversary>) {
    let node = Node::start(&easy_spec(), "/ip4/127.0.0.1/tcp/0", Vec::new()).await;
    let target: PeerId = node.peer_id;
    let mut adv = adversary();
    dial(&mut adv, node.addr().await);
    drive_until(
        &mut adv,
        |e| matches!(e, SwarmEvent::ConnectionEstablished { peer_id, .. } if *peer_id == target),
    )
    .await;
    (node, adv)
}

/// Waits until `node` has banned one peer for `code` and has no peer left.
async fn banned_and_disconnected(node: &Node, code: &str) {
    let metric = format!("talos_peers_banned_total{{code=\"{code}\"}}");
    eventually("sender banned", || async { node.metric(&metric) == 1.0 }).await;
    eventually("sender disconnected", || async {
        node.peers().await.is_empty()
    })
    .await;
    let (reply, banned) = tokio::sync::oneshot::channel();
    node.commands
        .send(NetCommand::Banned { reply })
        .await
        .expect("node running");
    assert_eq!(
        banned.await.expect("answered").len(),
        1,
        "the ban list names it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_sync_requests_get_bad_request_and_their_sender_banned() {
    let (node, mut adv) = node_with_connected_adversary().await;
    let target: PeerId = node.peer_id;
    // The first request gets a typed `bad_request` answer.
    adv.behaviour_mut()
        .sync
        .send_request(&target, vec![0xff; 12]);
    let mut answer = None;
    drive_until(&mut adv, |e| {
        if let SwarmEvent::Behaviour(AdversaryEvent::Sync(request_response::Event::Message {
            message: request_response::Message::Response { response, .. },
            ..
        })) = e
        {
            answer = Some(response.clone());
            return true;
        }
        false
    })
    .await;
    let answer = answer.expect("an answer");
    assert!(
        answer
            .windows(b"bad_request".len())
            .any(|w| w == b"bad_request"),
        "answer carries the bad_request code"
    );
    for _ in 0..5 {
        adv.behaviour_mut()
            .sync
            .send_request(&target, vec![0xff; 12]);
    }
    let driver = tokio::spawn(async move {
        loop {
            adv.select_next_some().await;
        }
    });
    banned_and_disconnected(&node, "bad_request").await;
    driver.abort();
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_sync_frames_are_refused_unread_and_their_sender_banned() {
    let (node, mut adv) = node_with_connected_adversary().await;
    let target: PeerId = node.peer_id;
    // 64 KiB requests: eight times the request cap. The node refuses each from its length
    // prefix alone, answers `bad_request` and scores the sender down until it is banned.
    for _ in 0..6 {
        adv.behaviour_mut()
            .sync
            .send_request(&target, vec![0x0a; 64 * 1024]);
    }
    let driver = tokio::spawn(async move {
        loop {
            adv.select_next_some().await;
        }
    });
    banned_and_disconnected(&node, "bad_request").await;
    driver.abort();
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_sync_answers_and_invalid_blocks_get_a_peer_banned_while_honest_sync_completes() {
    let spec = easy_spec();
    let mut builder = ChainBuilder::new(&spec);
    let honest = Node::start(&spec, "/ip4/127.0.0.1/tcp/0", Vec::new()).await;
    let n = 40;
    for _ in 0..n {
        honest.import(builder.next_block()).await;
    }

    // The adversary listens, answers every sync request with junk, and gossips a block that
    // decodes but breaks the rules (its header claims one more item than it carries).
    let mut adv = adversary_with(request_response::ProtocolSupport::Full);
    let adv_id = *adv.local_peer_id();
    adv.listen_on("/ip4/127.0.0.1/tcp/0".parse().expect("addr"))
        .expect("listen");
    let adv_addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = adv.select_next_some().await {
            break address.with(Protocol::P2p(adv_id));
        }
    };
    let topic = gossipsub::IdentTopic::new(talos_gossip::Topics::for_network(&spec.name).blocks());
    adv.behaviour_mut()
        .gossipsub
        .subscribe(&topic)
        .expect("subscribe");
    let mut bad = builder.next_block();
    bad.header.item_count += 1;
    let bad_bytes = talos_chain::wire::encode_block(&bad);
    let driver = tokio::spawn(async move {
        let mut published = false;
        loop {
            match adv.select_next_some().await {
                SwarmEvent::Behaviour(AdversaryEvent::Sync(request_response::Event::Message {
                    message: request_response::Message::Request { channel, .. },
                    ..
                })) => {
                    let _ = adv
                        .behaviour_mut()
                        .sync
                        .send_response(channel, vec![0xff; 40]);
                }
                SwarmEvent::Behaviour(AdversaryEvent::Gossipsub(
                    gossipsub::Event::Subscribed { .. },
                )) if !published => {
                    published = adv
                        .behaviour_mut()
                        .gossipsub
                        .publish(topic.clone(), bad_bytes.clone())
                        .is_ok();
                }
                _ => {}
            }
        }
    });

    let victim = Node::start(
        &spec,
        "/ip4/127.0.0.1/tcp/0",
        vec![adv_addr, honest.addr().await],
    )
    .await;
    eventually("the victim syncs the honest chain", || async {
        victim.height() == n
    })
    .await;
    assert_eq!(
        victim.store.tip().unwrap().id,
        honest.store.tip().unwrap().id
    );
    eventually("the adversary is banned", || async {
        let banned: f64 = victim
            .encode()
            .lines()
            .filter(|l| l.starts_with("talos_peers_banned_total"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        banned >= 1.0
    })
    .await;
    eventually("only the honest peer stays connected", || async {
        let peers = victim.peers().await;
        peers.len() == 1 && peers[0].peer_id == honest.peer_id
    })
    .await;
    driver.abort();
    victim.stop().await;
    honest.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_flooding_sync_requests_is_answered_busy_past_its_quota_then_banned() {
    let (node, mut adv) = node_with_connected_adversary().await;
    let target: PeerId = node.peer_id;
    // Well-formed range requests, 64 blocks each, in waves the node's stream limit lets
    // through: the quota is 16,384 blocks per 10 s, so past 256 of them each one is answered
    // `busy` and costs the sender, until it is banned.
    let request = talos_sync::encode_request(&talos_sync::SyncRequest::BlocksByRange {
        start_height: 1,
        count: 64,
    });
    let mut busy = 0;
    for _ in 0..12 {
        for _ in 0..40 {
            adv.behaviour_mut()
                .sync
                .send_request(&target, request.clone());
        }
        let wave = tokio::time::sleep(Duration::from_millis(300));
        tokio::pin!(wave);
        loop {
            tokio::select! {
                () = &mut wave => break,
                event = adv.select_next_some() => {
                    if let SwarmEvent::Behaviour(AdversaryEvent::Sync(
                        request_response::Event::Message {
                            message: request_response::Message::Response { response, .. },
                            ..
                        },
                    )) = event
                        && response.windows(4).any(|w| w == b"busy")
                    {
                        busy += 1;
                    }
                }
            }
        }
    }
    assert!(busy > 0, "answered busy past the quota");
    let driver = tokio::spawn(async move {
        loop {
            adv.select_next_some().await;
        }
    });
    banned_and_disconnected(&node, "over_quota").await;
    driver.abort();
    node.stop().await;
}
