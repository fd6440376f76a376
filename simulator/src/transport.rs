//! [`SimTransport`]: libp2p's memory transport behind the [`NetModel`], as the raw transport
//! a simulated node's swarm is built on (the node upgrades it with Noise and Yamux itself).
//!
//! Every connection knows both its nodes: the dialer maps the dialed `/memory/<port>` back to a
//! node through the model, and tells the listener who it is with a sim-internal preamble (its
//! node index, 8 bytes big-endian, written as soon as the memory connection opens, below
//! multistream-select and Noise). Both ends then wrap the stream in a [`LinkStream`].

use std::collections::HashSet;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::{AsyncReadExt, AsyncWriteExt, FutureExt};
use libp2p::Multiaddr;
use libp2p::core::transport::memory::{Channel, MemoryTransportError};
use libp2p::core::transport::{
    DialOpts, ListenerId, MemoryTransport, Transport, TransportError, TransportEvent,
};
use libp2p::multiaddr::Protocol;
use talos_network::{InjectedTransport, RawStream};

use crate::link::LinkStream;
use crate::model::NetModel;

/// A simulated connection end over a memory channel.
pub type SimStream = LinkStream<Channel<Vec<u8>>>;

/// Why a simulated dial or incoming connection failed.
#[derive(Debug, thiserror::Error)]
pub enum SimTransportError {
    /// The memory transport failed (nobody listens on the port, port in use).
    #[error("memory transport: {0}")]
    Memory(#[from] MemoryTransportError),
    /// A partition separates the two nodes.
    #[error("node {from} cannot reach node {to}: partitioned")]
    Partitioned {
        /// The node that tried.
        from: usize,
        /// The node it tried to reach.
        to: usize,
    },
    /// The dialed memory port belongs to no simulated node.
    #[error("memory port {0} belongs to no simulated node")]
    UnknownPort(u64),
    /// The dialer's preamble could not be exchanged.
    #[error("preamble: {0}")]
    Preamble(#[from] io::Error),
    /// The dialer announced an index that is not a node index.
    #[error("preamble announced node {0}, not a valid index")]
    BadIndex(u64),
}

/// The port a `/memory/<port>` address (optionally followed by `/p2p/<id>`) names.
pub fn memory_port(addr: &Multiaddr) -> Option<u64> {
    let mut parts = addr.iter();
    let port = match parts.next() {
        Some(Protocol::Memory(port)) => port,
        _ => return None,
    };
    match parts.next() {
        None | Some(Protocol::P2p(_)) => Some(port),
        Some(_) => None,
    }
}

/// The raw transport of one simulated node: dials and listens are attributed to `node`.
pub struct SimTransport {
    model: NetModel,
    node: usize,
    inner: MemoryTransport,
    listeners: HashSet<ListenerId>,
}

impl SimTransport {
    /// A transport for `node` of `model`.
    pub fn new(model: NetModel, node: usize) -> Self {
        Self {
            model,
            node,
            inner: MemoryTransport::default(),
            listeners: HashSet::new(),
        }
    }

    /// The node this transport belongs to.
    pub fn node(&self) -> usize {
        self.node
    }
}

impl std::fmt::Debug for SimTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimTransport")
            .field("node", &self.node)
            .field("listeners", &self.listeners.len())
            .finish_non_exhaustive()
    }
}

/// Releases the memory ports this transport listens on, so a restarted node can listen on
/// its port again (the memory transport keeps a port taken until its listener is removed).
impl Drop for SimTransport {
    fn drop(&mut self) {
        for id in self.listeners.drain() {
            self.inner.remove_listener(id);
        }
    }
}

/// The listener's side of a new connection: learns the dialer, checks the partition, wraps.
async fn accept(
    model: NetModel,
    node: usize,
    upgrade: impl Future<Output = Result<Channel<Vec<u8>>, MemoryTransportError>>,
) -> Result<SimStream, SimTransportError> {
    let mut stream = upgrade.await?;
    let mut preamble = [0u8; 8];
    stream.read_exact(&mut preamble).await?;
    let announced = u64::from_be_bytes(preamble);
    let dialer = usize::try_from(announced).map_err(|_| SimTransportError::BadIndex(announced))?;
    let conn = model
        .open_conn(node, dialer)
        .ok_or(SimTransportError::Partitioned {
            from: dialer,
            to: node,
        })?;
    Ok(LinkStream::new(stream, conn))
}

impl Transport for SimTransport {
    type Output = SimStream;
    type Error = SimTransportError;
    type ListenerUpgrade = BoxFuture<'static, Result<SimStream, SimTransportError>>;
    type Dial = BoxFuture<'static, Result<SimStream, SimTransportError>>;

    fn listen_on(
        &mut self,
        id: ListenerId,
        addr: Multiaddr,
    ) -> Result<(), TransportError<Self::Error>> {
        self.inner
            .listen_on(id, addr)
            .map_err(|e| e.map(SimTransportError::from))?;
        self.listeners.insert(id);
        Ok(())
    }

    fn remove_listener(&mut self, id: ListenerId) -> bool {
        self.listeners.remove(&id);
        self.inner.remove_listener(id)
    }

    fn dial(
        &mut self,
        addr: Multiaddr,
        opts: DialOpts,
    ) -> Result<Self::Dial, TransportError<Self::Error>> {
        let Some(port) = memory_port(&addr) else {
            return Err(TransportError::MultiaddrNotSupported(addr));
        };
        let Some(target) = self.model.node_of_port(port) else {
            return Err(TransportError::Other(SimTransportError::UnknownPort(port)));
        };
        let node = self.node;
        if !self.model.can_reach(node, target) {
            return Err(TransportError::Other(SimTransportError::Partitioned {
                from: node,
                to: target,
            }));
        }
        let dial = self
            .inner
            .dial(addr, opts)
            .map_err(|e| e.map(SimTransportError::from))?;
        let model = self.model.clone();
        Ok(async move {
            let mut stream = dial.await?;
            stream.write_all(&(node as u64).to_be_bytes()).await?;
            stream.flush().await?;
            let conn = model
                .open_conn(node, target)
                .ok_or(SimTransportError::Partitioned {
                    from: node,
                    to: target,
                })?;
            Ok(LinkStream::new(stream, conn))
        }
        .boxed())
    }

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<TransportEvent<Self::ListenerUpgrade, Self::Error>> {
        let this = &mut *self;
        let event = match Pin::new(&mut this.inner).poll(cx) {
            Poll::Ready(event) => event,
            Poll::Pending => return Poll::Pending,
        };
        if let TransportEvent::ListenerClosed { listener_id, .. } = &event {
            this.listeners.remove(listener_id);
        }
        let model = this.model.clone();
        let node = this.node;
        Poll::Ready(
            event
                .map_upgrade(|upgrade| accept(model, node, upgrade).boxed())
                .map_err(SimTransportError::from),
        )
    }
}

impl NetModel {
    /// The raw transport `node`'s swarm is built on (dials and listens are attributed to
    /// `node`); each call of the factory builds a fresh [`SimTransport`].
    pub fn transport(&self, node: usize) -> InjectedTransport {
        let model = self.clone();
        InjectedTransport::new("sim", move || {
            SimTransport::new(model.clone(), node)
                .map(|stream, _| Box::new(stream) as Box<dyn RawStream>)
                .boxed()
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use futures::StreamExt;
    use futures::future::poll_fn;
    use libp2p::core::Endpoint;
    use libp2p::core::transport::PortUse;
    use libp2p::core::upgrade::Version;
    use libp2p::swarm::SwarmEvent;
    use libp2p::{Swarm, SwarmBuilder, identity, noise, ping, yamux};

    use super::*;
    use crate::model::LinkParams;

    fn opts() -> DialOpts {
        DialOpts {
            role: Endpoint::Dialer,
            port_use: PortUse::New,
        }
    }

    fn model(latency_ms: u64, jitter_ms: u64, bandwidth: Option<u64>) -> NetModel {
        NetModel::new(
            42,
            LinkParams {
                latency: Duration::from_millis(latency_ms),
                jitter: Duration::from_millis(jitter_ms),
                bandwidth_bytes_per_s: bandwidth,
            },
        )
    }

    async fn next_event(
        t: &mut SimTransport,
    ) -> TransportEvent<BoxFuture<'static, Result<SimStream, SimTransportError>>, SimTransportError>
    {
        poll_fn(|cx| Pin::new(&mut *t).poll(cx)).await
    }

    /// `node`'s transport, listening on its model address.
    async fn listening(model: &NetModel, node: usize) -> SimTransport {
        let mut t = SimTransport::new(model.clone(), node);
        t.listen_on(ListenerId::next(), model.listen_addr(node))
            .unwrap();
        match next_event(&mut t).await {
            TransportEvent::NewAddress { listen_addr, .. } => {
                assert_eq!(listen_addr, model.listen_addr(node));
            }
            _ => panic!("expected the listen address first"),
        }
        t
    }

    /// The next incoming connection's upgrade result.
    async fn accept_next(t: &mut SimTransport) -> Result<SimStream, SimTransportError> {
        loop {
            if let TransportEvent::Incoming { upgrade, .. } = next_event(t).await {
                return upgrade.await;
            }
        }
    }

    /// A connection from `dialer` to `listener`'s node: (dialer's end, listener's end).
    async fn connect(
        model: &NetModel,
        dialer: &mut SimTransport,
        listener: &mut SimTransport,
    ) -> (SimStream, SimStream) {
        let addr = model.listen_addr(listener.node());
        let out = dialer.dial(addr, opts()).unwrap().await.unwrap();
        let inc = accept_next(listener).await.unwrap();
        (out, inc)
    }

    #[test]
    fn memory_ports_parse_with_or_without_peer_id() {
        let id = identity::Keypair::generate_ed25519().public().to_peer_id();
        assert_eq!(memory_port(&"/memory/77".parse().unwrap()), Some(77));
        let with_id: Multiaddr = format!("/memory/77/p2p/{id}").parse().unwrap();
        assert_eq!(memory_port(&with_id), Some(77));
        assert_eq!(memory_port(&"/ip4/127.0.0.1/tcp/1".parse().unwrap()), None);
        assert_eq!(memory_port(&"/memory/7/tcp/1".parse().unwrap()), None);
    }

    #[tokio::test]
    async fn bytes_arrive_intact_and_in_order_under_jitter() {
        let model = model(2, 15, None);
        let mut a = SimTransport::new(model.clone(), 0);
        let mut b = listening(&model, 1).await;
        let (mut out, mut inc) = connect(&model, &mut a, &mut b).await;
        let sent: Vec<u8> = (0..200_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        // Writes of varied sizes, each becoming its own jittered chunk.
        let mut off = 0;
        let mut size = 1;
        while off < sent.len() {
            let end = (off + size).min(sent.len());
            out.write_all(&sent[off..end]).await.unwrap();
            off = end;
            size = size * 3 % 4099 + 1;
        }
        let mut got = vec![0u8; sent.len()];
        inc.read_exact(&mut got).await.unwrap();
        assert!(got == sent, "stream corrupted or reordered");
        // The other direction too.
        inc.write_all(b"back").await.unwrap();
        let mut back = [0u8; 4];
        out.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"back");
    }

    #[tokio::test]
    async fn listener_learns_the_dialer_and_reads_wait_for_latency() {
        let latency = Duration::from_millis(40);
        let model = model(40, 0, None);
        let mut a = SimTransport::new(model.clone(), 3);
        let mut b = listening(&model, 5).await;
        let (mut out, mut inc) = connect(&model, &mut a, &mut b).await;
        assert_eq!((out.local(), out.remote()), (3, 5));
        assert_eq!((inc.local(), inc.remote()), (5, 3));

        let start = Instant::now();
        out.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        inc.read_exact(&mut buf).await.unwrap();
        assert!(start.elapsed() >= latency, "delivered before the latency");
        inc.write_all(b"pong!").await.unwrap();
        let mut buf = [0u8; 5];
        out.read_exact(&mut buf).await.unwrap();
        assert!(
            start.elapsed() >= 2 * latency,
            "round trip under 2 × latency"
        );

        // The preamble is not traffic; the payload is credited to the right nodes.
        let (t3, t5) = (model.traffic(3), model.traffic(5));
        assert_eq!((t3.bytes_out, t3.bytes_in), (4, 5));
        assert_eq!((t5.bytes_out, t5.bytes_in), (5, 4));
        assert_eq!(t3.connections_opened, 1);
        assert_eq!(t5.connections_opened, 1);
    }

    #[tokio::test]
    async fn bandwidth_cap_bounds_transfer_time() {
        let bw = 500_000u64;
        let model = model(0, 0, Some(bw));
        let mut a = SimTransport::new(model.clone(), 0);
        let mut b = listening(&model, 1).await;
        let (mut out, mut inc) = connect(&model, &mut a, &mut b).await;
        let size = 100_000usize;
        let start = Instant::now();
        let payload = vec![9u8; size];
        for chunk in payload.chunks(4096) {
            out.write_all(chunk).await.unwrap();
        }
        let mut got = vec![0u8; size];
        inc.read_exact(&mut got).await.unwrap();
        let floor = Duration::from_secs_f64(size as f64 / bw as f64);
        assert!(
            start.elapsed() >= floor,
            "{:?} < {floor:?}",
            start.elapsed()
        );
        assert_eq!(got, payload);
    }

    #[tokio::test]
    async fn partition_cuts_connections_and_refuses_dials_until_healed() {
        let model = model(1, 0, None);
        let mut a = SimTransport::new(model.clone(), 0);
        let mut b = listening(&model, 1).await;
        let (mut out, mut inc) = connect(&model, &mut a, &mut b).await;
        assert_eq!(model.open_links(), vec![(0, 1)]);

        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 8];
            inc.read(&mut buf).await
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        model.partition(&[vec![0], vec![1]]);
        let err = reader.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
        let err = out.write_all(b"x").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
        assert!(model.open_links().is_empty());

        match a.dial(model.listen_addr(1), opts()) {
            Err(TransportError::Other(SimTransportError::Partitioned { from: 0, to: 1 })) => {}
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("dial across a partition succeeded"),
        }

        model.heal();
        let (mut out2, mut inc2) = connect(&model, &mut a, &mut b).await;
        out2.write_all(b"again").await.unwrap();
        let mut buf = [0u8; 5];
        inc2.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"again");
        assert_eq!(model.open_links(), vec![(0, 1)]);
    }

    #[tokio::test]
    async fn listener_refuses_a_connection_partitioned_while_opening() {
        let model = model(0, 0, None);
        let mut a = SimTransport::new(model.clone(), 0);
        let mut b = listening(&model, 1).await;
        let out = a.dial(model.listen_addr(1), opts()).unwrap().await.unwrap();
        model.partition(&[vec![0]]);
        assert!(out.remote() == 1);
        match accept_next(&mut b).await {
            Err(SimTransportError::Partitioned { from: 0, to: 1 }) => {}
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("incoming connection across a partition accepted"),
        }
    }

    #[tokio::test]
    async fn open_links_forget_closed_connections_and_ports_are_released() {
        let model = model(0, 0, None);
        let mut a = listening(&model, 0).await;
        let mut b = listening(&model, 1).await;
        let mut c = SimTransport::new(model.clone(), 2);
        let (ab_out, ab_in) = connect(&model, &mut a, &mut b).await;
        let (cb_out, cb_in) = connect(&model, &mut c, &mut b).await;
        let (ca_out, ca_in) = connect(&model, &mut c, &mut a).await;
        assert_eq!(model.open_links(), vec![(0, 1), (0, 2), (1, 2)]);
        drop((cb_out, cb_in));
        assert_eq!(model.open_links(), vec![(0, 1), (0, 2)]);
        drop((ab_out, ab_in, ca_out, ca_in));
        assert!(model.open_links().is_empty());
        assert_eq!(model.open_connection_ends(), 0);
        assert_eq!(model.traffic(2).connections_opened, 2);

        // A dropped transport frees its port: node 1 restarts on the same address.
        drop(b);
        let mut b = listening(&model, 1).await;
        let (_o, inc) = connect(&model, &mut a, &mut b).await;
        assert_eq!(inc.remote(), 0);
    }

    #[tokio::test]
    async fn unknown_and_foreign_addresses_are_refused() {
        let model = model(0, 0, None);
        let mut a = SimTransport::new(model.clone(), 0);
        let other = NetModel::new(0, LinkParams::default());
        assert!(matches!(
            a.dial(other.listen_addr(0), opts()),
            Err(TransportError::Other(SimTransportError::UnknownPort(_)))
        ));
        assert!(matches!(
            a.dial("/ip4/127.0.0.1/tcp/4001".parse().unwrap(), opts()),
            Err(TransportError::MultiaddrNotSupported(_))
        ));
    }

    type BoxError = Box<dyn std::error::Error + Send + Sync>;

    /// A swarm with the node's upgrade stack (V1, Noise, Yamux) over `model.transport(node)`.
    fn ping_swarm(model: &NetModel, node: usize) -> Swarm<ping::Behaviour> {
        let raw = model.transport(node);
        SwarmBuilder::with_existing_identity(identity::Keypair::generate_ed25519())
            .with_tokio()
            .with_other_transport(|key| {
                Ok::<_, BoxError>(
                    raw.build()
                        .upgrade(Version::V1)
                        .authenticate(noise::Config::new(key)?)
                        .multiplex(yamux::Config::default()),
                )
            })
            .unwrap()
            .with_behaviour(|_| {
                ping::Behaviour::new(ping::Config::new().with_interval(Duration::from_millis(100)))
            })
            .unwrap()
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(30)))
            .build()
    }

    #[tokio::test]
    async fn noise_and_yamux_run_over_the_model() {
        let latency = Duration::from_millis(10);
        let model = model(10, 2, Some(10_000_000));
        let mut a = ping_swarm(&model, 0);
        let mut b = ping_swarm(&model, 1);
        let b_id = *b.local_peer_id();
        b.listen_on(model.listen_addr(1)).unwrap();
        let b_task = tokio::spawn(async move {
            loop {
                b.select_next_some().await;
            }
        });
        let addr = model.listen_addr(1).with(Protocol::P2p(b_id));
        // The listener may not be registered yet: retry the dial until it connects.
        let rtt = loop {
            a.dial(addr.clone()).unwrap();
            let outcome = loop {
                match a.select_next_some().await {
                    SwarmEvent::Behaviour(ping::Event {
                        peer,
                        result: Ok(rtt),
                        ..
                    }) => {
                        assert_eq!(peer, b_id);
                        break Some(rtt);
                    }
                    SwarmEvent::OutgoingConnectionError { .. } => break None,
                    _ => {}
                }
            };
            match outcome {
                Some(rtt) => break rtt,
                None => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        assert!(rtt >= 2 * latency, "ping rtt {rtt:?} under 2 × latency");
        assert_eq!(model.open_links(), vec![(0, 1)]);
        assert!(model.traffic(0).bytes_out > 0 && model.traffic(1).bytes_in > 0);

        // A partition closes the muxed connection.
        model.partition(&[vec![0], vec![1]]);
        loop {
            if let SwarmEvent::ConnectionClosed { peer_id, .. } = a.select_next_some().await {
                assert_eq!(peer_id, b_id);
                break;
            }
        }
        assert!(model.open_links().is_empty());
        b_task.abort();
    }
}
