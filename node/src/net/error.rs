//! Errors of the network task.

/// Why the network task could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The transport could not be built.
    #[error("transport: {0}")]
    Transport(String),
    /// A behaviour could not be built (bad gossipsub or scoring parameters).
    #[error("behaviour: {0}")]
    Behaviour(String),
    /// Listening on an address failed.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: libp2p::Multiaddr,
        /// Why.
        reason: String,
    },
    /// Subscribing to a gossip topic failed.
    #[error("gossip subscription: {0}")]
    Subscribe(String),
    /// The store failed.
    #[error("storage: {0}")]
    Storage(#[from] talos_storage::StorageError),
}
