//! The simulator's error type.

/// Why a simulation step failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A scenario file could not be read or parsed.
    #[error("scenario {path}: {message}")]
    Scenario {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A scenario is inconsistent (e.g. more miners than nodes).
    #[error("invalid scenario: {0}")]
    InvalidScenario(String),
    /// A simulated node failed to start or answer.
    #[error("node {node}: {message}")]
    Node {
        /// Node index.
        node: usize,
        /// What failed.
        message: String,
    },
    /// The simulated transport failed.
    #[error("transport: {0}")]
    Transport(String),
    /// An adversary failed to start.
    #[error("adversary: {0}")]
    Adversary(String),
    /// A report could not be computed or written.
    #[error("report: {0}")]
    Report(String),
    /// A plot could not be drawn.
    #[error("plot: {0}")]
    Plot(String),
    /// File I/O.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// JSON encoding.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}
