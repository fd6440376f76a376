//! The agent's network errands, as small tasks that report back to the agent thread: direct
//! delivery with a fall back to the recipient's mailboxes, fetching the agent's own
//! mailboxes, and keeping its DID record published.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use libp2p::PeerId;
use talos_identity::Multiaddr;
use talos_messaging::{
    AckStatus, DepositStatus, Envelope, MailboxRequest, MailboxResponse, MsgRequest, MsgResponse,
    limits::{MAX_ACK_IDS, MAX_PAGE_ENVELOPES},
    mailbox_key,
};
use talos_network::{ClosePeer, NetCommand};
use tokio::runtime::Handle;
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};
use tracing::{debug, info};

use super::AgentConfig;
use super::client::Delivery;
use super::core::Input;

/// Delivery attempts in flight at once.
const MAX_ATTEMPTS_IN_FLIGHT: usize = 1024;

/// Delivery attempts in flight to one recipient (the network keeps at most 128 requests in
/// flight per peer).
const MAX_ATTEMPTS_PER_RECIPIENT: usize = 64;

/// Recipients with their own attempt limit at once; past this the map starts over.
const MAX_RECIPIENT_LIMITS: usize = 4096;

/// How long one network request may take, queueing included.
const REQUEST_DEADLINE: Duration = Duration::from_secs(20);

/// How long the recipient itself is tried before its mailboxes (an offline peer's QUIC
/// address answers nothing: its dial only fails at the handshake timeout).
const DIRECT_DEADLINE: Duration = Duration::from_secs(4);

/// Pages fetched from one mailbox per round.
const MAX_PAGES_PER_ROUND: usize = 64;

/// The agent's network errands.
#[derive(Clone)]
pub(crate) struct Couriers {
    rt: Handle,
    net: mpsc::Sender<NetCommand>,
    core: mpsc::Sender<Input>,
    config: AgentConfig,
    local: PeerId,
    permits: Arc<Semaphore>,
    per_recipient: Arc<std::sync::Mutex<std::collections::HashMap<[u8; 32], Arc<Semaphore>>>>,
    fetching: Arc<AtomicBool>,
    publish_now: Arc<Notify>,
}

/// Sends `make(reply)` to the network and waits for the answer within the deadline.
async fn ask<T>(
    net: &mpsc::Sender<NetCommand>,
    make: impl FnOnce(oneshot::Sender<T>) -> NetCommand,
) -> Option<T> {
    let (reply, answer) = oneshot::channel();
    net.send(make(reply)).await.ok()?;
    tokio::time::timeout(REQUEST_DEADLINE, answer)
        .await
        .ok()?
        .ok()
}

impl Couriers {
    pub(crate) fn new(
        rt: Handle,
        net: mpsc::Sender<NetCommand>,
        core: mpsc::Sender<Input>,
        config: AgentConfig,
        local: PeerId,
    ) -> Self {
        Self {
            rt,
            net,
            core,
            config,
            local,
            permits: Arc::new(Semaphore::new(MAX_ATTEMPTS_IN_FLIGHT)),
            per_recipient: Arc::default(),
            fetching: Arc::new(AtomicBool::new(false)),
            publish_now: Arc::new(Notify::new()),
        }
    }

    /// Tries to hand `envelope` (outbox entry `number`) over: to the recipient directly, else
    /// to its mailboxes; reports the outcome to the agent thread.
    pub(crate) fn deliver(&self, number: u64, envelope: Envelope, addrs: Vec<Multiaddr>) {
        let this = self.clone();
        self.rt.spawn(async move {
            let Ok(_permit) = this.permits.clone().acquire_owned().await else {
                return;
            };
            let Ok(_own) = this
                .recipient_limit(envelope.recipient().to_bytes())
                .acquire_owned()
                .await
            else {
                return;
            };
            let delivery = this.attempt(envelope, addrs).await;
            let _ = this.core.send(Input::Attempted { number, delivery }).await;
        });
    }

    fn recipient_limit(&self, recipient: [u8; 32]) -> Arc<Semaphore> {
        let mut map = self
            .per_recipient
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_RECIPIENT_LIMITS && !map.contains_key(&recipient) {
            map.clear();
        }
        map.entry(recipient)
            .or_insert_with(|| Arc::new(Semaphore::new(MAX_ATTEMPTS_PER_RECIPIENT)))
            .clone()
    }

    async fn attempt(&self, envelope: Envelope, addrs: Vec<Multiaddr>) -> Option<Delivery> {
        let peer = talos_identity::peer_id(envelope.recipient());
        let request = MsgRequest::Deliver(Box::new(envelope.clone()));
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
        match answer {
            Some(Ok(MsgResponse::Ack {
                status: AckStatus::Accepted,
                ..
            })) => return Some(Delivery::Direct),
            Some(Ok(MsgResponse::Ack {
                status: status @ (AckStatus::NotForMe | AckStatus::Undecryptable),
                ..
            })) => {
                return Some(Delivery::Refused(status));
            }
            // The network's per-peer window is full: try again later, directly.
            Some(Err(talos_network::MessagingFailure::TooManyInFlight)) => return None,
            Some(other) => {
                debug!(%peer, answer = ?other.map(|_| ()), "direct delivery failed; trying mailboxes")
            }
            None => debug!(%peer, "direct delivery timed out; trying mailboxes"),
        }
        self.deposit(envelope).await
    }

    /// The `count` nodes closest to `agent`'s mailbox key.
    async fn mailboxes(&self, agent: &[u8; 32], count: usize) -> Vec<ClosePeer> {
        let key = mailbox_key(agent).to_vec();
        ask(&self.net, |reply| NetCommand::ClosestPeers {
            key,
            count,
            reply,
        })
        .await
        .unwrap_or_default()
    }

    async fn deposit(&self, envelope: Envelope) -> Option<Delivery> {
        let replicas = self.config.mailbox_replicas;
        let boxes = self
            .mailboxes(&envelope.recipient().to_bytes(), replicas)
            .await;
        if boxes.is_empty() {
            return None;
        }
        let attempts = boxes.into_iter().map(|close| {
            let envelope = envelope.clone();
            async move { self.deposit_at(close, envelope).await }
        });
        let statuses = futures::future::join_all(attempts).await;
        let found = statuses.len();
        let stored = statuses
            .iter()
            .filter(|s| **s == Some(DepositStatus::Stored))
            .count();
        let needed = self.config.min_deposits.min(found).max(1);
        (stored >= needed).then_some(Delivery::Mailboxes(stored))
    }

    async fn deposit_at(&self, close: ClosePeer, envelope: Envelope) -> Option<DepositStatus> {
        if close.peer == self.local {
            let (reply, answer) = oneshot::channel();
            let envelope = Box::new(envelope);
            self.core
                .send(Input::DepositLocal { envelope, reply })
                .await
                .ok()?;
            return answer.await.ok();
        }
        let request = MailboxRequest::Deposit(Box::new(envelope));
        let (peer, addrs) = (close.peer, close.addrs);
        match ask(&self.net, |reply| NetCommand::SendMailbox {
            peer,
            addrs,
            request,
            reply,
        })
        .await
        {
            Some(Ok(MailboxResponse::Deposit { status, .. })) => Some(status),
            _ => None,
        }
    }

    /// Fetches the agent's envelopes from its mailbox nodes (one round at a time).
    pub(crate) fn fetch_mailboxes(&self, me: [u8; 32]) {
        if self.fetching.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        self.rt.spawn(async move {
            // Two more than deposits go to: nodes that joined or left since a deposit (the
            // agent itself among them) move the closest set by a place or two.
            let count = this.config.mailbox_replicas + 2;
            for close in this.mailboxes(&me, count).await {
                if close.peer != this.local {
                    this.fetch_from(close).await;
                }
            }
            this.fetching.store(false, Ordering::Release);
        });
    }

    async fn fetch_from(&self, close: ClosePeer) {
        let mut cursor = 0;
        for _ in 0..MAX_PAGES_PER_ROUND {
            let (peer, addrs) = (close.peer, close.addrs.clone());
            let request = MailboxRequest::Fetch {
                cursor,
                limit: MAX_PAGE_ENVELOPES as u32,
            };
            let Some(Ok(MailboxResponse::Page(page))) =
                ask(&self.net, |reply| NetCommand::SendMailbox {
                    peer,
                    addrs,
                    request,
                    reply,
                })
                .await
            else {
                return;
            };
            if page.envelopes.is_empty() {
                return;
            }
            let (reply, answer) = oneshot::channel();
            let fetched = Input::Fetched {
                envelopes: page.envelopes,
                reply,
            };
            if self.core.send(fetched).await.is_err() {
                return;
            }
            let Ok(acked) = answer.await else { return };
            for chunk in acked.chunks(MAX_ACK_IDS) {
                let request = MailboxRequest::Acknowledge(chunk.to_vec());
                let addrs = close.addrs.clone();
                let _ = ask(&self.net, |reply| NetCommand::SendMailbox {
                    peer,
                    addrs,
                    request,
                    reply,
                })
                .await;
            }
            if !page.more {
                return;
            }
            cursor = page.next_cursor;
        }
    }

    /// Asks for the DID record to be republished now (the signed prekey changed).
    pub(crate) fn publish_did_soon(&self) {
        self.publish_now.notify_one();
    }

    /// Keeps the agent's DID record published: shortly after start, every republish
    /// interval, and when asked.
    pub(crate) fn keep_published(&self, did: String) {
        let this = self.clone();
        self.rt.spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            loop {
                let peers = this.publish_once(&did).await;
                let wait = if peers.unwrap_or(0) == 0 {
                    Duration::from_secs(30)
                } else {
                    this.config.republish_interval
                };
                let _ = tokio::time::timeout(wait, this.publish_now.notified()).await;
                if this.core.is_closed() {
                    return;
                }
            }
        });
    }

    /// Publishes the current record once; how many peers took it.
    pub(crate) async fn publish_once(&self, did: &str) -> Option<usize> {
        let addrs = ask(&self.net, |reply| NetCommand::ListenAddrs { reply }).await?;
        let (reply, answer) = oneshot::channel();
        self.core
            .send(Input::DidRecord { addrs, reply })
            .await
            .ok()?;
        let record = answer.await.ok()??;
        let did = did.to_owned();
        match ask(&self.net, |reply| NetCommand::PublishDid {
            did,
            record,
            reply,
        })
        .await?
        {
            Ok(published) => {
                info!(peers = published.peers, "DID record published");
                Some(published.peers)
            }
            Err(e) => {
                debug!(error = %e, "DID record not published");
                None
            }
        }
    }
}
