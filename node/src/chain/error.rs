//! Why the chain service could not start or had to stop.

use talos_storage::StorageError;

/// A failure of the chain service itself (not of a block or item it judged).
#[derive(Debug, thiserror::Error)]
pub enum ChainServiceError {
    /// The store failed: reading the chain at start-up, or a commit.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// The store's best chain has a gap (a height without a header below the tip).
    #[error("the store has no best-chain header at height {height}")]
    MissingHeader {
        /// The height.
        height: u64,
    },
    /// The in-memory fork choice and the store disagree and could not be reconciled.
    #[error("fork choice is inconsistent with the store: {0}")]
    Inconsistent(String),
    /// The service thread or its runtime could not be started.
    #[error("could not start the chain service: {0}")]
    Spawn(#[source] std::io::Error),
    /// The service thread ended abnormally (it panicked).
    #[error("the chain service thread ended abnormally")]
    Crashed,
}

impl ChainServiceError {
    /// Stable snake_case code (logs, metrics).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Storage(e) => e.code(),
            Self::MissingHeader { .. } => "missing_header",
            Self::Inconsistent(_) => "inconsistent",
            Self::Spawn(_) => "spawn",
            Self::Crashed => "crashed",
        }
    }
}
