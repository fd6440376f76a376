//! Agent messaging over real TCP: `/msg` and `/mailbox` requests between nodes, answered by a
//! small agent task reading a node's inbound queue; pipelining, dialing a peer known only by
//! address or only to the DHT, closest peers, and a peer sending junk getting banned.

mod net_common;

use std::time::Instant;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::kad::KBucketKey;
use libp2p::swarm::SwarmEvent;
use libp2p::{PeerId, StreamProtocol, Swarm, request_response};
use net_common::messaging::{agent, closest, envelope, send_mailbox, send_msg};
use net_common::{Node, WAIT, easy_spec, eventually};
use talos_messaging::{
    Ack, AckStatus, DepositStatus, MailboxRequest, MailboxResponse, MsgRequest, MsgResponse, Page,
};
use talos_network::{MessagingFailure, NetCommand};
use tokio::sync::oneshot;

/// Node A and node B, B dialing A, both connected.
async fn connected_pair() -> (Node, Node) {
    let a = Node::start(&easy_spec(), "/ip4/127.0.0.1/tcp/0", Vec::new()).await;
    let b = Node::start(&easy_spec(), "/ip4/127.0.0.1/tcp/0", vec![a.addr().await]).await;
    eventually("connected", || async {
        !a.peers().await.is_empty() && !b.peers().await.is_empty()
    })
    .await;
    (a, b)
}

fn accepted(n: u64) -> MsgResponse {
    MsgResponse::Acks(vec![Ack {
        message_id: envelope(n).message_id(),
        status: AckStatus::Accepted,
    }])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prekeys_and_a_delivery_are_answered_by_the_peers_agent() {
    let (a, mut b) = connected_pair().await;
    let _agent = agent(&mut b);
    let prekeys = send_msg(&a, b.peer_id, Vec::new(), MsgRequest::Prekeys).await;
    assert_eq!(prekeys, Ok(MsgResponse::Prekeys(vec![1, 2, 3])));
    let deliver = MsgRequest::Deliver(vec![envelope(1)]);
    assert_eq!(
        send_msg(&a, b.peer_id, Vec::new(), deliver).await,
        Ok(accepted(1))
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deposit_is_fetched_back_from_the_mailbox() {
    let (a, mut b) = connected_pair().await;
    let _agent = agent(&mut b);
    let deposit = MailboxRequest::Deposit(Box::new(envelope(5)));
    assert_eq!(
        send_mailbox(&a, b.peer_id, deposit).await,
        Ok(MailboxResponse::Deposit {
            message_id: envelope(5).message_id(),
            status: DepositStatus::Stored,
        })
    );
    let fetch = MailboxRequest::Fetch {
        cursor: 0,
        limit: 64,
    };
    assert_eq!(
        send_mailbox(&a, b.peer_id, fetch).await,
        Ok(MailboxResponse::Page(Page {
            envelopes: vec![envelope(5)],
            next_cursor: 1,
            more: false,
        }))
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_pipelined_deliveries_are_all_answered() {
    const N: u64 = 10_000;
    let (a, mut b) = connected_pair().await;
    let _agent = agent(&mut b);
    let sealed = envelope(7);
    let started = Instant::now();
    let mut waiting = Vec::new();
    for _ in 0..N {
        let (commands, peer, sealed) = (a.commands.clone(), b.peer_id, sealed.clone());
        waiting.push(tokio::spawn(async move {
            // Past `MAX_OUTBOUND_IN_FLIGHT` waiting requests the node is told to send again
            // later: a sender backs off.
            let mut retries = 0u32;
            loop {
                let (reply, rx) = oneshot::channel();
                let command = NetCommand::SendMsg {
                    peer,
                    addrs: Vec::new(),
                    request: MsgRequest::Deliver(vec![sealed.clone()]),
                    reply,
                };
                commands.send(command).await.expect("net alive");
                match rx.await.expect("reply") {
                    Err(MessagingFailure::TooManyInFlight) => {
                        retries += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                    answer => return (answer, retries),
                }
            }
        }));
    }
    let (mut answered, mut retried) = (0, 0);
    for task in waiting {
        let (answer, retries) = tokio::time::timeout(WAIT * 4, task)
            .await
            .expect("answered in time")
            .expect("task");
        assert_eq!(answer, Ok(accepted(7)));
        answered += 1;
        retried += retries;
    }
    let elapsed = started.elapsed();
    eprintln!(
        "{answered} pipelined deliveries answered in {elapsed:?} ({:.0}/s; {retried} sends \
         told to retry past MAX_OUTBOUND_IN_FLIGHT = {})",
        answered as f64 / elapsed.as_secs_f64(),
        talos_network::MAX_OUTBOUND_IN_FLIGHT,
    );
    assert_eq!(answered, N);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_known_only_by_address_is_dialed_and_delivered_to() {
    let a = Node::start(&easy_spec(), "/ip4/127.0.0.1/tcp/0", Vec::new()).await;
    let mut c = Node::start(&easy_spec(), "/ip4/127.0.0.1/tcp/0", Vec::new()).await;
    let _agent = agent(&mut c);
    assert!(a.peers().await.is_empty(), "not connected yet");
    let deliver = MsgRequest::Deliver(vec![envelope(2)]);
    let answer = send_msg(&a, c.peer_id, vec![c.addr().await], deliver).await;
    assert_eq!(answer, Ok(accepted(2)));
    // A peer nobody knows cannot be reached, and says so.
    let stranger = PeerId::random();
    let answer = send_msg(&a, stranger, Vec::new(), MsgRequest::Prekeys).await;
    assert_eq!(answer, Err(MessagingFailure::Unreachable));
    a.stop().await;
    c.stop().await;
}

/// Three full nodes around a bootnode B: A's closest peers to a key are the three of them,
/// itself included, nearest first; then a fourth node, known to A only through the DHT, is
/// looked up and delivered to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closest_peers_are_sorted_by_distance_and_include_this_node() {
    let b = Node::start(&easy_spec(), "/ip4/127.0.0.1/tcp/0", Vec::new()).await;
    let a = Node::start(&easy_spec(), "/ip4/127.0.0.1/tcp/0", vec![b.addr().await]).await;
    let c = Node::start(&easy_spec(), "/ip4/127.0.0.1/tcp/0", vec![b.addr().await]).await;
    let key = b"an agent's mailbox key".to_vec();
    let found = tokio::time::timeout(WAIT, async {
        loop {
            let found = closest(&a, &key, 3).await;
            if found.len() == 3 {
                return found;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("all three found");
    let target = KBucketKey::new(key.clone());
    let mut expected = vec![a.peer_id, b.peer_id, c.peer_id];
    expected.sort_by_key(|p| target.distance(&KBucketKey::from(*p)));
    let got: Vec<PeerId> = found.iter().map(|p| p.peer).collect();
    assert_eq!(got, expected, "nearest first, this node included");
    let own = found.iter().find(|p| p.peer == a.peer_id).expect("self");
    assert!(!own.addrs.is_empty(), "with its listen addresses");
    assert_eq!(closest(&a, &key, 1).await.len(), 1);

    let mut d = Node::start(&easy_spec(), "/ip4/127.0.0.1/tcp/0", vec![b.addr().await]).await;
    let _agent = agent(&mut d);
    eventually("B knows D", || async {
        b.peers().await.iter().any(|p| p.peer_id == d.peer_id)
    })
    .await;
    let answer = send_msg(&a, d.peer_id, Vec::new(), MsgRequest::Prekeys).await;
    assert_eq!(answer, Ok(MsgResponse::Prekeys(vec![1, 2, 3])));
    for node in [a, b, c, d] {
        node.stop().await;
    }
}

/// Writes whatever bytes it is given as one length-prefixed frame, and reads frames back.
#[derive(Clone, Default)]
struct RawCodec;

async fn read_raw<T: AsyncRead + Unpin + Send>(io: &mut T) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    io.take(1 << 20).read_to_end(&mut buf).await?;
    Ok(buf)
}

async fn write_raw<T: AsyncWrite + Unpin + Send>(io: &mut T, data: &[u8]) -> std::io::Result<()> {
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
        read_raw(io).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> std::io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_raw(io).await
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
        write_raw(io, &req).await
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
        write_raw(io, &res).await
    }
}

/// A bare swarm speaking `/msg` with [`RawCodec`], answering every request with junk.
fn adversary() -> Swarm<request_response::Behaviour<RawCodec>> {
    net_common::tcp_swarm(|_| {
        let names = talos_network::ProtocolNames::for_network("local").expect("names");
        request_response::Behaviour::with_codec(
            RawCodec,
            [(names.msg, request_response::ProtocolSupport::Full)],
            request_response::Config::default(),
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_answers_are_malformed_and_junk_requests_get_their_sender_banned() {
    let mut node = Node::start(&easy_spec(), "/ip4/127.0.0.1/tcp/0", Vec::new()).await;
    let _agent = agent(&mut node);
    let mut adv = adversary();
    let adv_id = *adv.local_peer_id();
    adv.listen_on("/ip4/127.0.0.1/tcp/0".parse().expect("addr"))
        .expect("listen");
    let adv_addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = adv.select_next_some().await {
            break address;
        }
    };
    let (junk_tx, junk) = oneshot::channel::<()>();
    let target = node.peer_id;
    let driver = tokio::spawn(async move {
        let mut junk = Some(junk);
        loop {
            let event = tokio::select! {
                event = adv.select_next_some() => event,
                Ok(()) = async { junk.as_mut().expect("pending").await }, if junk.is_some() => {
                    junk = None;
                    // Junk within the cap, then lengths far over it: nothing the node answers.
                    for _ in 0..3 {
                        adv.behaviour_mut().send_request(&target, vec![0xff; 12]);
                    }
                    for _ in 0..2 {
                        adv.behaviour_mut()
                            .send_request(&target, vec![0x0a; 200 * 1024]);
                    }
                    continue;
                }
            };
            if let SwarmEvent::Behaviour(request_response::Event::Message {
                message: request_response::Message::Request { channel, .. },
                ..
            }) = event
            {
                let _ = adv.behaviour_mut().send_response(channel, vec![0xff; 40]);
            }
        }
    });
    // The node's own request to the adversary gets junk back: malformed, and it costs.
    let answer = send_msg(&node, adv_id, vec![adv_addr], MsgRequest::Prekeys).await;
    assert!(
        matches!(answer, Err(MessagingFailure::Malformed(_))),
        "{answer:?}"
    );
    junk_tx.send(()).expect("driver alive");
    assert!(node.metric("talos_peers_penalized_total{code=\"bad_messaging_response\"}") >= 1.0);
    eventually("sender banned", || async {
        node.metric("talos_peers_banned_total{code=\"bad_messaging_request\"}") == 1.0
    })
    .await;
    eventually("sender disconnected", || async {
        node.peers().await.is_empty()
    })
    .await;
    assert!(node.metric("talos_messaging_dropped_total{code=\"malformed\"}") >= 3.0);
    driver.abort();
    node.stop().await;
}
