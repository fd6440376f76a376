//! Errors of the network task.

use libp2p::{Multiaddr, TransportError, gossipsub};

/// Why the network could not start.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The Noise handshake configuration could not be built from the node key.
    #[error("transport security: {0}")]
    Noise(#[from] libp2p::noise::Error),
    /// A behaviour could not be built.
    #[error("behaviour: {0}")]
    Behaviour(#[from] BehaviourError),
    /// Listening on an address failed.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: Multiaddr,
        /// Why.
        reason: ListenFailure,
    },
}

/// Why listening on an address failed.
#[derive(Debug, thiserror::Error)]
pub enum ListenFailure {
    /// No transport of the node handles this kind of address.
    #[error("no transport supports this address")]
    Unsupported,
    /// The operating system refused (address in use, not available, permission).
    #[error("{0}")]
    Io(#[source] std::io::Error),
}

impl From<TransportError<std::io::Error>> for ListenFailure {
    fn from(e: TransportError<std::io::Error>) -> Self {
        match e {
            TransportError::MultiaddrNotSupported(_) => Self::Unsupported,
            TransportError::Other(e) => Self::Io(e),
        }
    }
}

/// Why a behaviour could not be built from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum BehaviourError {
    /// A protocol name built from the network name is not a valid libp2p protocol id.
    #[error("invalid protocol name {name:?}: {source}")]
    ProtocolName {
        /// The name.
        name: String,
        /// libp2p's reason.
        source: libp2p::swarm::InvalidProtocol,
    },
    /// The gossipsub configuration is invalid.
    #[error("gossipsub configuration: {0}")]
    GossipConfig(#[from] gossipsub::ConfigBuilderError),
    /// Gossipsub refused its setup (libp2p's reason).
    #[error("gossipsub: {0}")]
    Gossipsub(&'static str),
    /// Gossipsub refused the peer-scoring parameters (libp2p's reason).
    #[error("gossipsub peer scoring: {0}")]
    Scoring(String),
    /// Subscribing to a gossip topic failed.
    #[error("gossip subscription: {0}")]
    Subscribe(#[from] gossipsub::SubscriptionError),
}
