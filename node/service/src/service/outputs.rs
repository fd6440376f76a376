//! Where the service's results go: metrics, events for subscribers, notices for the network
//! task. Nothing here ever waits.

use tokio::sync::{broadcast, mpsc};
use tracing::{debug, warn};

use crate::messages::{BlockSource, ChainEvent, ChainNotice, PeerRef, Rejection};
use crate::metrics::ChainMetrics;

/// The service's outputs.
pub(crate) struct Outputs<P> {
    pub(crate) metrics: ChainMetrics,
    events: broadcast::Sender<ChainEvent>,
    notices: mpsc::Sender<ChainNotice<P>>,
}

impl<P: PeerRef> Outputs<P> {
    pub(crate) fn new(
        metrics: ChainMetrics,
        events: broadcast::Sender<ChainEvent>,
        notices: mpsc::Sender<ChainNotice<P>>,
    ) -> Self {
        Self {
            metrics,
            events,
            notices,
        }
    }

    /// Sends a notice to the network task without waiting: the network task also feeds our
    /// queues, so waiting on it could deadlock. A full queue drops the notice (the next tip
    /// notice supersedes a lost one; a lost penalty or parent request costs little).
    pub(crate) fn notify(&self, notice: ChainNotice<P>) {
        match self.notices.try_send(notice) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(notice)) => {
                warn!(?notice, "chain notice queue full, notice dropped");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                debug!("chain notice receiver gone");
            }
        }
    }

    /// Sends an event (no subscriber is fine).
    pub(crate) fn emit(&self, event: ChainEvent) {
        let _ = self.events.send(event);
    }

    /// Asks the network task to penalize the peer a bad block came from.
    pub(crate) fn penalize(&self, source: &BlockSource<P>, rejection: &Rejection) {
        if let Some(peer) = source.peer() {
            self.notify(ChainNotice::BadBlock {
                peer,
                rejection: rejection.clone(),
            });
        }
    }
}
