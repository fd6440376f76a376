//! [`AgentClient`]: what the node's handle, the API and tests ask the agent.

use std::time::Duration;

use libp2p::PeerId;
use talos_identity::{Multiaddr, VerifyingKey};
use talos_messaging::{AckStatus, Conversation, MsgRequest, MsgResponse};
use talos_network::{DidQueryError, NetCommand};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::core::Input;
use super::courier::Couriers;
use super::store::{AgentStoreError, InboxEntry, OutboxEntry};

/// How long a call waits for the agent thread.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the owner of a DID is asked for a prekey bundle before its document's is used.
const PREKEY_TIMEOUT: Duration = Duration::from_secs(2);

/// Most messages in one send.
pub(crate) const MAX_SEND_BATCH: usize = 256;

/// Who a message is for: a `did:key` or a PeerId (two spellings of one Ed25519 key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recipient(pub VerifyingKey);

impl std::str::FromStr for Recipient {
    type Err = AgentError;

    fn from_str(s: &str) -> Result<Self, AgentError> {
        if s.starts_with("did:") {
            return talos_identity::parse_did_key(s)
                .map(Recipient)
                .map_err(|e| AgentError::BadRecipient(e.to_string()));
        }
        let peer: PeerId = s.parse().map_err(|_| {
            AgentError::BadRecipient(format!("{s} is neither a did:key nor a PeerId"))
        })?;
        talos_identity::key_of_peer(&peer)
            .map(Recipient)
            .ok_or_else(|| AgentError::BadRecipient(format!("{s} is not an Ed25519 PeerId")))
    }
}

impl Recipient {
    /// Its `did:key`.
    pub fn did(&self) -> String {
        talos_identity::did_key(&self.0)
    }
}

/// How a message was handed over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The recipient acknowledged it.
    Direct,
    /// This many of the recipient's mailbox nodes stored it.
    Mailboxes(usize),
    /// The recipient refused it (it cannot open it: sending again will not help).
    Refused(AckStatus),
}

/// A message sealed and queued.
#[derive(Debug)]
pub struct SentMessage {
    /// Its id.
    pub message_id: [u8; 16],
    /// The envelope's hash (what `--anchor` puts on chain).
    pub envelope_hash: [u8; 32],
    /// Resolves once it is handed over, when asked for.
    pub delivery: Option<oneshot::Receiver<Delivery>>,
}

/// What the agent thread answers a send with.
pub(crate) enum SendOutcome {
    /// Sealed and queued.
    Sealed(Vec<SentMessage>),
    /// No conversation yet: a prekey bundle is needed.
    NeedBundle,
    /// Cannot be sent (bad bundle, key, or size).
    Refused(String),
}

/// One conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// The peer's Ed25519 key.
    pub peer: [u8; 32],
    /// Whether this side started it.
    pub initiator: bool,
    /// Whether the peer has answered on it.
    pub confirmed: bool,
    /// Older sessions kept.
    pub previous_sessions: usize,
    /// Skipped message keys held.
    pub skipped_keys: usize,
    /// Messages to it not yet acknowledged.
    pub outbox: usize,
}

impl SessionInfo {
    pub(crate) fn new(peer: [u8; 32], conv: &Conversation, outbox: usize) -> Self {
        Self {
            peer,
            initiator: conv.session().role() == talos_ratchet::Role::Initiator,
            confirmed: conv.is_confirmed(),
            previous_sessions: conv.previous_sessions(),
            skipped_keys: conv.session().skipped_key_count(),
            outbox,
        }
    }
}

/// Why the agent could not do it.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The agent is stopping or gone.
    #[error("the agent is not running")]
    Stopped,
    /// It did not answer in time.
    #[error("the agent did not answer in time")]
    Timeout,
    /// Its store failed.
    #[error(transparent)]
    Store(#[from] AgentStoreError),
    /// Not a did:key or PeerId.
    #[error("bad recipient: {0}")]
    BadRecipient(String),
    /// No way to start a session: no DID record found and the peer gave no bundle.
    #[error("no prekey bundle for {did}: {reason}")]
    NoBundle {
        /// Whose.
        did: String,
        /// Why.
        reason: String,
    },
    /// The message cannot be sent.
    #[error("cannot send: {0}")]
    Refused(String),
    /// Publishing or resolving a DID failed.
    #[error(transparent)]
    Did(#[from] DidQueryError),
}

/// A handle to the agent.
#[derive(Clone)]
pub struct AgentClient {
    tx: mpsc::Sender<Input>,
    net: mpsc::Sender<NetCommand>,
    events: broadcast::Sender<InboxEntry>,
    couriers: Couriers,
    me: [u8; 32],
}

impl std::fmt::Debug for AgentClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentClient").finish_non_exhaustive()
    }
}

impl AgentClient {
    pub(crate) fn new(
        tx: mpsc::Sender<Input>,
        net: mpsc::Sender<NetCommand>,
        events: broadcast::Sender<InboxEntry>,
        couriers: Couriers,
        me: [u8; 32],
    ) -> Self {
        Self {
            tx,
            net,
            events,
            couriers,
            me,
        }
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Input,
    ) -> Result<T, AgentError> {
        let (reply, answer) = oneshot::channel();
        tokio::time::timeout(CALL_TIMEOUT, self.tx.send(make(reply)))
            .await
            .map_err(|_| AgentError::Timeout)?
            .map_err(|_| AgentError::Stopped)?;
        tokio::time::timeout(CALL_TIMEOUT, answer)
            .await
            .map_err(|_| AgentError::Timeout)?
            .map_err(|_| AgentError::Stopped)
    }

    /// This agent's Ed25519 key.
    pub fn key(&self) -> [u8; 32] {
        self.me
    }

    /// Seals `bodies` for `to` and queues them (durably) for delivery; with `wait`, each
    /// [`SentMessage::delivery`] resolves once it is handed over. A first message to `to`
    /// resolves its DID record (and asks the owner for a one-time prekey when reachable).
    pub async fn send(
        &self,
        to: Recipient,
        bodies: Vec<Vec<u8>>,
        wait: bool,
    ) -> Result<Vec<SentMessage>, AgentError> {
        if bodies.len() > MAX_SEND_BATCH {
            return Err(AgentError::Refused(format!(
                "at most {MAX_SEND_BATCH} messages at once"
            )));
        }
        let key = to.0.to_bytes();
        if key == self.me {
            return Err(AgentError::Refused(
                "an agent does not message itself".into(),
            ));
        }
        let mut start: Option<(Box<talos_ratchet::PrekeyBundle>, Vec<Multiaddr>)> = None;
        for _ in 0..2 {
            let (bundle, addrs) = match start.take() {
                Some((bundle, addrs)) => (Some(bundle), addrs),
                None => (None, Vec::new()),
            };
            let bodies = bodies.clone();
            let outcome = self
                .call(|reply| Input::Send {
                    to: key,
                    addrs,
                    bundle,
                    bodies,
                    wait,
                    reply,
                })
                .await??;
            match outcome {
                SendOutcome::Sealed(sent) => return Ok(sent),
                SendOutcome::Refused(reason) => return Err(AgentError::Refused(reason)),
                SendOutcome::NeedBundle => start = Some(self.find_bundle(to).await?),
            }
        }
        Err(AgentError::Refused(
            "the conversation could not be started".into(),
        ))
    }

    /// A bundle to start a session with `to`: from the owner itself when it answers (with a
    /// one-time prekey), else from its DID document.
    async fn find_bundle(
        &self,
        to: Recipient,
    ) -> Result<(Box<talos_ratchet::PrekeyBundle>, Vec<Multiaddr>), AgentError> {
        let did = to.did();
        let record = self.resolve_did(&did).await;
        let addrs: Vec<Multiaddr> = record
            .as_ref()
            .map(|r| r.record().document().multiaddrs().to_vec())
            .unwrap_or_default();
        let peer = talos_identity::peer_id(&to.0);
        let (reply, answer) = oneshot::channel();
        let ask = NetCommand::SendMsg {
            peer,
            addrs: addrs.clone(),
            request: MsgRequest::Prekeys,
            reply,
        };
        if self.net.send(ask).await.is_ok()
            && let Ok(Ok(Ok(MsgResponse::Prekeys(bytes)))) =
                tokio::time::timeout(PREKEY_TIMEOUT, answer).await
            && let Ok(bundle) = talos_identity::validate_bundle(&bytes, &to.0)
        {
            return Ok((Box::new((&bundle).into()), addrs));
        }
        match record {
            Ok(record) => {
                let bundle =
                    talos_identity::PrekeyBundle::from_document(record.record().document(), None);
                Ok((Box::new((&bundle).into()), addrs))
            }
            Err(e) => Err(AgentError::NoBundle {
                did,
                reason: e.to_string(),
            }),
        }
    }

    /// The best valid DID record of `did` (this node's store and the DHT).
    pub async fn resolve_did(&self, did: &str) -> Result<talos_identity::ValidRecord, AgentError> {
        let (reply, answer) = oneshot::channel();
        let did = did.to_owned();
        self.net
            .send(NetCommand::ResolveDid { did, reply })
            .await
            .map_err(|_| AgentError::Stopped)?;
        let result = tokio::time::timeout(CALL_TIMEOUT + Duration::from_secs(30), answer)
            .await
            .map_err(|_| AgentError::Timeout)?
            .map_err(|_| AgentError::Stopped)?;
        Ok(result?)
    }

    /// Publishes this agent's DID record now; how many peers took it.
    pub async fn publish_did(&self) -> Result<usize, AgentError> {
        let did = talos_identity::did_key(
            &VerifyingKey::from_bytes(&self.me).map_err(|_| AgentError::Stopped)?,
        );
        self.couriers
            .publish_once(&did)
            .await
            .ok_or_else(|| AgentError::Refused("the DID record could not be published".into()))
    }

    /// Received messages after arrival number `after`, at most `limit`.
    pub async fn inbox(
        &self,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<InboxEntry>, AgentError> {
        Ok(self
            .call(|reply| Input::Inbox {
                after,
                limit,
                reply,
            })
            .await??)
    }

    /// Deletes received messages numbered up to `through`; how many were deleted.
    pub async fn delete_inbox(&self, through: u64) -> Result<u64, AgentError> {
        let mut deleted = 0u64;
        loop {
            let page = self
                .call(|reply| Input::DeleteInbox { through, reply })
                .await??;
            deleted += page.count as u64;
            if !page.more {
                return Ok(deleted);
            }
        }
    }

    /// Conversations.
    pub async fn sessions(&self) -> Result<Vec<SessionInfo>, AgentError> {
        Ok(self.call(|reply| Input::Sessions { reply }).await??)
    }

    /// Messages not yet handed over.
    pub async fn outbox(&self) -> Result<Vec<OutboxEntry>, AgentError> {
        self.call(|reply| Input::Outbox { reply }).await
    }

    /// Messages received from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<InboxEntry> {
        self.events.subscribe()
    }
}
