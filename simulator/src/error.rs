//! The simulator's error types.

use std::path::PathBuf;

use libp2p::Multiaddr;

/// Why a simulation step failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A scenario file could not be read.
    #[error("reading scenario {path}: {source}")]
    ScenarioRead {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A scenario file is not valid TOML for a scenario.
    #[error("scenario {path}: {source}")]
    ScenarioParse {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: Box<toml::de::Error>,
    },
    /// A scenario is inconsistent (e.g. more miners than nodes); the message names the setting.
    #[error("invalid scenario: {0}")]
    InvalidScenario(String),
    /// A simulated node failed to start.
    #[error("node {node}: {source}")]
    Node {
        /// Node index.
        node: usize,
        /// What failed.
        source: Box<NodeFailure>,
    },
    /// The simulated transport failed.
    #[error("transport: {0}")]
    Transport(#[from] crate::transport::SimTransportError),
    /// An adversary failed to start.
    #[error("adversary: {0}")]
    Adversary(#[from] AdversaryError),
    /// A messaging agent refused what the messaging scenario asked of it.
    #[error("messaging: {0}")]
    Messaging(String),
    /// A plot could not be drawn.
    #[error("plot: {0}")]
    Plot(#[from] plotters::drawing::DrawingAreaErrorKind<std::io::Error>),
    /// File I/O.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// JSON encoding.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

/// Why a simulated node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeFailure {
    /// Its key is unusable.
    #[error("identity: {0}")]
    Identity(#[from] talos_node::identity::IdentityError),
    /// Its store could not be created.
    #[error("store: {0}")]
    Store(#[from] talos_storage::StorageError),
    /// The node did not start.
    #[error("{0}")]
    Start(#[from] talos_node::node::NodeError),
}

/// Why an adversary could not start.
#[derive(Debug, thiserror::Error)]
pub enum AdversaryError {
    /// No adversary has this name.
    #[error("unknown adversary kind {0:?}")]
    UnknownKind(String),
    /// A flood rate that is not positive and finite.
    #[error("flood rate must be positive and finite, got {0}")]
    BadRate(f64),
    /// A target address without `/p2p/<peer id>`.
    #[error("target {0} does not end in /p2p/<peer id>")]
    TargetWithoutPeer(Multiaddr),
    /// Not called inside a tokio runtime.
    #[error("no tokio runtime: {0}")]
    NoRuntime(#[from] tokio::runtime::TryCurrentError),
    /// Its key could not be built.
    #[error("key: {0}")]
    Key(#[from] libp2p::identity::DecodingError),
    /// The Noise configuration could not be built.
    #[error("transport security: {0}")]
    Noise(#[from] libp2p::noise::Error),
    /// A behaviour could not be built.
    #[error("behaviour: {0}")]
    Behaviour(#[from] talos_network::BehaviourError),
    /// Listening failed.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: Multiaddr,
        /// Why.
        reason: talos_network::ListenFailure,
    },
}
