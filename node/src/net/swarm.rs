//! Swarm construction: transports, behaviour, swarm configuration.

use std::time::Duration;

use libp2p::core::muxing::StreamMuxerBox;
use libp2p::core::transport::Boxed;
use libp2p::core::transport::MemoryTransport;
use libp2p::core::upgrade::Version;
use libp2p::metrics::Registry;
use libp2p::{PeerId, Swarm, SwarmBuilder, Transport, noise, tcp, yamux};

use super::behaviour::{self, NodeBehaviour};
use super::config::{NetConfig, TransportKind};
use super::error::NetError;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Builds the swarm for `config`, registering gossipsub's metrics in `registry`.
pub fn build_swarm(
    config: &NetConfig,
    registry: &mut Registry,
) -> Result<Swarm<NodeBehaviour>, NetError> {
    match &config.transport {
        TransportKind::Network => network_swarm(config, registry),
        TransportKind::Memory => memory_swarm(config, registry, MemoryTransport::default().boxed()),
        TransportKind::Injected(raw) => memory_swarm(config, registry, raw.build()),
    }
}

fn transport_error(e: impl std::fmt::Display) -> NetError {
    NetError::Transport(e.to_string())
}

fn make_behaviour<'a>(
    config: &'a NetConfig,
    registry: &'a mut Registry,
) -> impl FnOnce(&libp2p::identity::Keypair) -> Result<NodeBehaviour, BoxError> + 'a {
    move |key| behaviour::build(key, config, registry).map_err(BoxError::from)
}

fn swarm_config(config: &NetConfig) -> impl FnOnce(libp2p::swarm::Config) -> libp2p::swarm::Config {
    let idle = config.idle_timeout;
    move |c| c.with_idle_connection_timeout(idle)
}

/// TCP + Noise + Yamux, QUIC v1 and DNS; without DNS when the system resolver configuration
/// has no nameserver (offline machines, some sandboxes), rather than failing to start.
fn network_swarm(
    config: &NetConfig,
    registry: &mut Registry,
) -> Result<Swarm<NodeBehaviour>, NetError> {
    let with_dns = SwarmBuilder::with_existing_identity(config.keypair.clone())
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(transport_error)?
        .with_quic()
        .with_dns();
    match with_dns {
        Ok(builder) => Ok(builder
            .with_behaviour(make_behaviour(config, registry))
            .map_err(transport_error)?
            .with_swarm_config(swarm_config(config))
            .with_connection_timeout(Duration::from_secs(20))
            .build()),
        Err(e) => {
            tracing::warn!(error = %e, "DNS resolver unavailable; /dns addresses will not resolve");
            Ok(SwarmBuilder::with_existing_identity(config.keypair.clone())
                .with_tokio()
                .with_tcp(
                    tcp::Config::default().nodelay(true),
                    noise::Config::new,
                    yamux::Config::default,
                )
                .map_err(transport_error)?
                .with_quic()
                .with_behaviour(make_behaviour(config, registry))
                .map_err(transport_error)?
                .with_swarm_config(swarm_config(config))
                .with_connection_timeout(Duration::from_secs(20))
                .build())
        }
    }
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
    registry: &mut Registry,
    raw: Boxed<S>,
) -> Result<Swarm<NodeBehaviour>, NetError>
where
    S: futures::AsyncRead + futures::AsyncWrite + Send + Unpin + 'static,
{
    Ok(SwarmBuilder::with_existing_identity(config.keypair.clone())
        .with_tokio()
        .with_other_transport(|key| secure_and_multiplex(raw, key).map_err(BoxError::from))
        .map_err(transport_error)?
        .with_behaviour(make_behaviour(config, registry))
        .map_err(transport_error)?
        .with_swarm_config(swarm_config(config))
        .build())
}
