//! The agent's network errands, as small tasks that report back to the agent thread: direct
//! delivery with a fall back to the recipient's mailboxes, fetching the agent's own
//! mailboxes, and keeping its DID record published.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use libp2p::PeerId;
use talos_messaging::{
    DepositStatus, Envelope, MailboxRequest, MailboxResponse,
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

/// How long one network request may take, queueing included.
const REQUEST_DEADLINE: Duration = Duration::from_secs(20);

/// Pages fetched from one mailbox per round.
const MAX_PAGES_PER_ROUND: usize = 64;

/// The agent's network errands.
#[derive(Clone)]
pub(crate) struct Couriers {
    pub(super) rt: Handle,
    pub(super) net: mpsc::Sender<NetCommand>,
    pub(super) core: mpsc::Sender<Input>,
    config: AgentConfig,
    local: PeerId,
    pub(super) permits: Arc<Semaphore>,
    pub(super) lanes: super::lanes::Lanes,
    fetching: Arc<AtomicBool>,
    publish_now: Arc<Notify>,
}

/// Sends `make(reply)` to the network and waits for the answer within the deadline.
pub(super) async fn ask<T>(
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
            lanes: super::lanes::Lanes::default(),
            fetching: Arc::new(AtomicBool::new(false)),
            publish_now: Arc::new(Notify::new()),
        }
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

    pub(super) async fn deposit(&self, envelope: Envelope) -> Option<Delivery> {
        let replicas = self.config.mailbox_replicas;
        let boxes = self
            .mailboxes(&envelope.recipient().to_bytes(), replicas)
            .await;
        if boxes.is_empty() {
            return None;
        }
        let peers: Vec<PeerId> = boxes.iter().map(|c| c.peer).collect();
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
        debug!(
            mailbox = %hex::encode(&mailbox_key(&envelope.recipient().to_bytes())[..6]),
            id = %envelope.message_id().to_hex(),
            local = %self.local,
            boxes = ?peers,
            stored,
            "deposited"
        );
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
            let boxes = this.mailboxes(&me, count).await;
            let peers: Vec<PeerId> = boxes.iter().map(|c| c.peer).collect();
            // All at once: one that is gone costs the round a dial timeout, not each after it.
            let rounds = boxes
                .into_iter()
                .filter(|close| close.peer != this.local)
                .map(|close| this.fetch_from(close));
            let reached = futures::future::join_all(rounds)
                .await
                .into_iter()
                .filter(|answered| *answered)
                .count();
            debug!(
                mailbox = %hex::encode(&mailbox_key(&me)[..6]),
                boxes = ?peers,
                reached,
                "mailboxes fetched"
            );
            this.fetching.store(false, Ordering::Release);
            let _ = this.core.send(Input::FetchRound { reached }).await;
        });
    }

    /// Fetches from one mailbox node; whether it answered.
    async fn fetch_from(&self, close: ClosePeer) -> bool {
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
                return cursor > 0;
            };
            if page.envelopes.is_empty() {
                return true;
            }
            let (reply, answer) = oneshot::channel();
            let fetched = Input::Fetched {
                envelopes: page.envelopes,
                reply,
            };
            if self.core.send(fetched).await.is_err() {
                return true;
            }
            let Ok(acked) = answer.await else {
                return true;
            };
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
                return true;
            }
            cursor = page.next_cursor;
        }
        true
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
