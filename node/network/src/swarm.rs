//! Swarm construction: transports, behaviour, swarm configuration.

use std::time::Duration;

use libp2p::core::muxing::StreamMuxerBox;
use libp2p::core::transport::Boxed;
use libp2p::core::transport::MemoryTransport;
use libp2p::core::upgrade::Version;
use libp2p::metrics::Registry;
use libp2p::{PeerId, Swarm, SwarmBuilder, Transport, noise, tcp, yamux};

use crate::behaviour::{self, NodeBehaviour};
use crate::config::{NetConfig, TransportKind};
use crate::error::NetError;

/// How long dialing a peer may take.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(20);

/// Builds the swarm for `config`, registering gossipsub's metrics in `registry`.
pub fn build_swarm(
    config: &NetConfig,
    registry: &mut Registry,
) -> Result<Swarm<NodeBehaviour>, NetError> {
    let behaviour = behaviour::build(&config.keypair, config, registry)?;
    match &config.transport {
        TransportKind::Network => network_swarm(config, behaviour),
        TransportKind::Memory => {
            memory_swarm(config, behaviour, MemoryTransport::default().boxed())
        }
        TransportKind::Injected(raw) => memory_swarm(config, behaviour, raw.build()),
    }
}

fn swarm_config(config: &NetConfig) -> impl FnOnce(libp2p::swarm::Config) -> libp2p::swarm::Config {
    let idle = config.idle_timeout;
    move |c| c.with_idle_connection_timeout(idle)
}

/// TCP + Noise + Yamux, QUIC v1 and DNS; without DNS when the system resolver configuration
/// has no nameserver (offline machines, some sandboxes), rather than failing to start.
fn network_swarm(
    config: &NetConfig,
    behaviour: NodeBehaviour,
) -> Result<Swarm<NodeBehaviour>, NetError> {
    let tcp_config = || tcp::Config::default().nodelay(true);
    let with_quic = SwarmBuilder::with_existing_identity(config.keypair.clone())
        .with_tokio()
        .with_tcp(tcp_config(), noise::Config::new, yamux::Config::default)?
        .with_quic();
    let swarm = match with_quic.with_dns() {
        Ok(builder) => builder
            .with_behaviour(|_| behaviour)
            .unwrap_or_else(|never| match never {})
            .with_swarm_config(swarm_config(config))
            .with_connection_timeout(CONNECTION_TIMEOUT)
            .build(),
        Err(e) => {
            tracing::warn!(error = %e, "DNS resolver unavailable; /dns addresses will not resolve");
            SwarmBuilder::with_existing_identity(config.keypair.clone())
                .with_tokio()
                .with_tcp(tcp_config(), noise::Config::new, yamux::Config::default)?
                .with_quic()
                .with_behaviour(|_| behaviour)
                .unwrap_or_else(|never| match never {})
                .with_swarm_config(swarm_config(config))
                .with_connection_timeout(CONNECTION_TIMEOUT)
                .build()
        }
    };
    Ok(swarm)
}

/// The node's stack on a raw in-process transport: multistream-select V1, Noise, Yamux. Also
/// what the simulator's adversaries speak.
pub fn secure_and_multiplex<S>(
    raw: Boxed<S>,
    key: &libp2p::identity::Keypair,
) -> Result<Boxed<(PeerId, StreamMuxerBox)>, noise::Error>
where
    S: futures::AsyncRead + futures::AsyncWrite + Send + Unpin + 'static,
{
    Ok(raw
        .upgrade(Version::V1)
        .authenticate(noise::Config::new(key)?)
        .multiplex(yamux::Config::default())
        .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)))
        .boxed())
}

/// An in-process raw transport (memory, or the simulator's) + Noise + Yamux.
fn memory_swarm<S>(
    config: &NetConfig,
    behaviour: NodeBehaviour,
    raw: Boxed<S>,
) -> Result<Swarm<NodeBehaviour>, NetError>
where
    S: futures::AsyncRead + futures::AsyncWrite + Send + Unpin + 'static,
{
    let transport = secure_and_multiplex(raw, &config.keypair)?;
    Ok(SwarmBuilder::with_existing_identity(config.keypair.clone())
        .with_tokio()
        .with_other_transport(|_| transport)
        .unwrap_or_else(|never| match never {})
        .with_behaviour(|_| behaviour)
        .unwrap_or_else(|never| match never {})
        .with_swarm_config(swarm_config(config))
        .build())
}
