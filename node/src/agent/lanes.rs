//! Direct delivery, one lane per recipient: what waits for a recipient goes out in batches
//! (up to [`MAX_DELIVER_BATCH`] envelopes, [`MAX_DELIVER_BYTES`]), in outbox order, a few
//! batches in flight at once. An envelope the recipient does not take (unreachable, busy)
//! goes to its mailboxes; every outcome is reported to the agent thread.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use talos_identity::Multiaddr;
use talos_messaging::limits::{MAX_DELIVER_BATCH, MAX_DELIVER_BYTES};
use talos_messaging::{AckStatus, Envelope, MsgRequest, MsgResponse};
use talos_network::{MessagingFailure, NetCommand};
use tokio::sync::{Semaphore, mpsc};
use tracing::debug;

use super::client::Delivery;
use super::core::Input;
use super::courier::{Couriers, ask};

/// How long the recipient itself is tried before its mailboxes (an offline peer's QUIC
/// address answers nothing: its dial only fails at the handshake timeout).
const DIRECT_DEADLINE: Duration = Duration::from_secs(4);

/// Messages waiting in one lane; past this an attempt is reported failed (retried later).
const LANE_CAPACITY: usize = 8192;

/// Batches in flight to one recipient.
const BATCHES_IN_FLIGHT: usize = 4;

/// How long an idle lane lives.
const LANE_IDLE: Duration = Duration::from_secs(30);

/// Bytes an envelope is counted for in a batch: its payload and room for the rest.
fn batch_bytes(envelope: &Envelope) -> usize {
    envelope.payload_len() + 512
}

/// One outbox entry on its way.
struct Parcel {
    number: u64,
    envelope: Envelope,
    addrs: Vec<Multiaddr>,
}

/// The lanes, by recipient key.
#[derive(Clone, Default)]
pub(crate) struct Lanes(Arc<Mutex<HashMap<[u8; 32], mpsc::Sender<Parcel>>>>);

impl Couriers {
    /// Tries to hand `envelope` (outbox entry `number`) over: to the recipient directly, else
    /// to its mailboxes; reports the outcome to the agent thread.
    pub(crate) fn deliver(&self, number: u64, envelope: Envelope, addrs: Vec<Multiaddr>) {
        let recipient = envelope.recipient().to_bytes();
        let mut parcel = Parcel {
            number,
            envelope,
            addrs,
        };
        for _ in 0..2 {
            let lane = self.lane(recipient);
            match lane.try_send(parcel) {
                Ok(()) => return,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    let core = self.core.clone();
                    self.rt.spawn(async move {
                        let _ = core
                            .send(Input::Attempted {
                                number,
                                delivery: None,
                            })
                            .await;
                    });
                    return;
                }
                // The lane just ended (idle): a new one takes it.
                Err(mpsc::error::TrySendError::Closed(back)) => {
                    self.lanes
                        .0
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .remove(&recipient);
                    parcel = back;
                }
            }
        }
    }

    fn lane(&self, recipient: [u8; 32]) -> mpsc::Sender<Parcel> {
        let mut lanes = self.lanes.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(lane) = lanes.get(&recipient)
            && !lane.is_closed()
        {
            return lane.clone();
        }
        if lanes.len() >= 1024 {
            lanes.retain(|_, lane| !lane.is_closed());
        }
        let (tx, rx) = mpsc::channel(LANE_CAPACITY);
        lanes.insert(recipient, tx.clone());
        let this = self.clone();
        self.rt.spawn(async move { this.run_lane(rx).await });
        tx
    }

    async fn run_lane(self, mut rx: mpsc::Receiver<Parcel>) {
        let window = Arc::new(Semaphore::new(BATCHES_IN_FLIGHT));
        loop {
            let Ok(Some(first)) = tokio::time::timeout(LANE_IDLE, rx.recv()).await else {
                rx.close();
                // Whatever raced in before the close still gets its attempt.
                while let Ok(parcel) = rx.try_recv() {
                    self.send_batch(vec![parcel]).await;
                }
                return;
            };
            let Ok(permit) = window.clone().acquire_owned().await else {
                return;
            };
            let mut bytes = batch_bytes(&first.envelope);
            let mut batch = vec![first];
            while batch.len() < MAX_DELIVER_BATCH {
                let Ok(next) = rx.try_recv() else { break };
                bytes += batch_bytes(&next.envelope);
                batch.push(next);
                if bytes >= MAX_DELIVER_BYTES / 2 {
                    break;
                }
            }
            let this = self.clone();
            self.rt.spawn(async move {
                this.send_batch(batch).await;
                drop(permit);
            });
        }
    }

    /// One delivery request; what it does not hand over goes to the mailboxes.
    async fn send_batch(&self, batch: Vec<Parcel>) {
        let Some(first) = batch.first() else { return };
        let peer = talos_identity::peer_id(first.envelope.recipient());
        let addrs = first.addrs.clone();
        let request = MsgRequest::Deliver(batch.iter().map(|p| p.envelope.clone()).collect());
        let answer = tokio::time::timeout(
            DIRECT_DEADLINE,
            ask(&self.net, |reply| NetCommand::SendMsg {
                peer,
                addrs,
                request,
                reply,
            }),
        )
        .await
        .ok()
        .flatten();
        let statuses: Vec<Option<AckStatus>> = match answer {
            Some(Ok(MsgResponse::Acks(acks))) => batch
                .iter()
                .map(|p| {
                    let id = p.envelope.message_id();
                    acks.iter().find(|a| a.message_id == id).map(|a| a.status)
                })
                .collect(),
            // The network's per-peer window is full: try again later, directly.
            Some(Err(MessagingFailure::TooManyInFlight)) => {
                for parcel in batch {
                    self.report(parcel.number, None).await;
                }
                return;
            }
            other => {
                debug!(%peer, failed = ?other.map(|r| r.map(|_| ())), "direct delivery failed; trying mailboxes");
                vec![None; batch.len()]
            }
        };
        for (parcel, status) in batch.into_iter().zip(statuses) {
            match status {
                Some(AckStatus::Accepted) => {
                    self.report(parcel.number, Some(Delivery::Direct)).await
                }
                Some(status @ (AckStatus::NotForMe | AckStatus::Undecryptable)) => {
                    self.report(parcel.number, Some(Delivery::Refused(status)))
                        .await;
                }
                // Busy, or no answer for it: its mailboxes.
                Some(AckStatus::Busy) | None => {
                    let this = self.clone();
                    self.rt.spawn(async move {
                        let Ok(_permit) = this.permits.clone().acquire_owned().await else {
                            return;
                        };
                        let delivery = this.deposit(parcel.envelope).await;
                        this.report(parcel.number, delivery).await;
                    });
                }
            }
        }
    }

    async fn report(&self, number: u64, delivery: Option<Delivery>) {
        let _ = self.core.send(Input::Attempted { number, delivery }).await;
    }
}
