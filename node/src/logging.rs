//! Logging: `tracing` events to stderr, filtered by `RUST_LOG` (default `info`), as text or
//! one JSON object per line (`--log-format json`).

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt;
use tracing_subscriber::prelude::*;

use crate::config::LogFormat;

/// Filter used when `RUST_LOG` is unset.
pub const DEFAULT_FILTER: &str = "info";

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    /// `RUST_LOG` does not parse.
    #[error("RUST_LOG is not a valid filter: {0}")]
    Filter(#[source] tracing_subscriber::filter::ParseError),
    /// A global subscriber is already installed.
    #[error("logging is already initialised: {0}")]
    AlreadySet(#[source] tracing_subscriber::util::TryInitError),
}

/// The filter from `RUST_LOG`, or [`DEFAULT_FILTER`] when it is unset or empty.
pub fn env_filter(rust_log: Option<&str>) -> Result<EnvFilter, LoggingError> {
    match rust_log.map(str::trim).filter(|s| !s.is_empty()) {
        Some(spec) => EnvFilter::try_new(spec).map_err(LoggingError::Filter),
        None => Ok(EnvFilter::new(DEFAULT_FILTER)),
    }
}

/// Installs the global subscriber. Call once, early in `talos run`.
pub fn init(format: LogFormat) -> Result<(), LoggingError> {
    let filter = env_filter(std::env::var("RUST_LOG").ok().as_deref())?;
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Text => registry
            .with(fmt::layer().with_writer(std::io::stderr).with_target(true))
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .with_writer(std::io::stderr)
                    .with_current_span(false)
                    .flatten_event(true),
            )
            .try_init(),
    };
    result.map_err(LoggingError::AlreadySet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_defaults_to_info_and_rejects_garbage() {
        assert_eq!(env_filter(None).unwrap().to_string(), "info");
        assert_eq!(env_filter(Some("  ")).unwrap().to_string(), "info");
        assert!(env_filter(Some("talos_node=debug,libp2p=warn")).is_ok());
        assert!(matches!(
            env_filter(Some("talos_node=loud")),
            Err(LoggingError::Filter(_))
        ));
    }
}
