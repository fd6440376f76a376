//! The agent's thread: one owner for keys, conversations, inbox, outbox and mailboxes, with
//! group commit (everything the waiting inputs changed is written in one atomic, durable
//! batch before any of them is acknowledged).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use libp2p::PeerId;
use talos_identity::{Multiaddr, SigningKey};
use talos_messaging::{Conversation, Envelope, MailboxBook};
use talos_network::{InboundMessaging, NetCommand};
use talos_storage::KvStore;
use tokio::sync::{broadcast, mpsc, oneshot};
use tracing::{debug, warn};

use super::client::{AgentClient, Delivery, SendOutcome, SessionInfo};
use super::courier::Couriers;
use super::keys::AgentKeys;
use super::store::{self, AgentStoreError, InboxEntry, NS_CONVERSATIONS, OutboxEntry, Pending};
use super::{AGENT_EVENTS, AGENT_QUEUE, AgentConfig};

/// Most inputs handled before one commit.
const MAX_GROUP: usize = 512;

/// Conversations kept decoded in memory (the rest are read from the store when needed).
const CONVERSATION_CACHE: usize = 4096;

/// How soon a mailbox fetch round that reached no mailbox is repeated.
const FETCH_RETRY: Duration = Duration::from_secs(2);

/// Rounds after the first that follow it quickly, [`FETCH_WARMUP_GAP`] apart: the node's
/// first lookups, with the routing table still filling, can miss mailbox nodes that later
/// ones find.
const FETCH_WARMUP_ROUNDS: u8 = 3;

/// The gap between the first rounds.
const FETCH_WARMUP_GAP: Duration = Duration::from_secs(5);

/// How often timers run.
const TICK: Duration = Duration::from_millis(500);

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub(crate) fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// What the agent thread is asked.
pub(crate) enum Input {
    /// A request a peer sent.
    Inbound(InboundMessaging),
    /// Seal `bodies` for `to` (with `bundle` when there is no conversation yet).
    Send {
        to: [u8; 32],
        addrs: Vec<Multiaddr>,
        bundle: Option<Box<talos_ratchet::PrekeyBundle>>,
        bodies: Vec<Vec<u8>>,
        wait: bool,
        reply: oneshot::Sender<Result<SendOutcome, AgentStoreError>>,
    },
    /// A delivery attempt ended.
    Attempted {
        number: u64,
        delivery: Option<Delivery>,
    },
    /// Envelopes fetched from a mailbox; reply with what to acknowledge.
    Fetched {
        envelopes: Vec<Envelope>,
        reply: oneshot::Sender<Vec<talos_messaging::Acked>>,
    },
    /// Received messages after `after`, at most `limit`.
    Inbox {
        after: Option<u64>,
        limit: usize,
        reply: oneshot::Sender<Result<Vec<InboxEntry>, AgentStoreError>>,
    },
    /// The conversations.
    Sessions {
        reply: oneshot::Sender<Result<Vec<SessionInfo>, AgentStoreError>>,
    },
    /// Messages not yet acknowledged.
    Outbox {
        reply: oneshot::Sender<Vec<OutboxEntry>>,
    },
    /// The DID record to publish now, for these addresses.
    DidRecord {
        addrs: Vec<Multiaddr>,
        reply: oneshot::Sender<Option<Vec<u8>>>,
    },
    /// Keep `envelope` in this node's own mailboxes (it is one of the recipient's).
    DepositLocal {
        envelope: Box<Envelope>,
        reply: oneshot::Sender<talos_messaging::DepositStatus>,
    },
    /// A round of mailbox fetches ended; `reached` mailbox nodes answered.
    FetchRound { reached: usize },
    /// Delete received messages numbered up to `through` (a page of them).
    DeleteInbox {
        through: u64,
        reply: oneshot::Sender<Result<super::inbox::Deleted, AgentStoreError>>,
    },
    /// Timers.
    Tick,
    /// The node stops.
    Stop,
}

/// Something to do once the batch is durable.
pub(crate) type After = Box<dyn FnOnce() + Send>;

/// A message in the outbox.
pub(crate) struct Outgoing {
    pub(crate) entry: OutboxEntry,
    /// The envelope, decoded once.
    pub(crate) envelope: Envelope,
    pub(crate) in_flight: bool,
    pub(crate) due: Instant,
    pub(crate) waiters: Vec<oneshot::Sender<Delivery>>,
}

/// The agent's state.
pub(crate) struct Core {
    pub(crate) config: AgentConfig,
    pub(crate) kv: Arc<dyn KvStore>,
    pub(crate) signing: SigningKey,
    pub(crate) me: [u8; 32],
    pub(crate) keys: AgentKeys,
    pub(crate) conversations: HashMap<[u8; 32], Conversation>,
    pub(crate) addrs: HashMap<[u8; 32], Vec<Multiaddr>>,
    pub(crate) outbox: BTreeMap<u64, Outgoing>,
    pub(crate) next_outbox: u64,
    pub(crate) next_inbox: u64,
    /// What the inbox holds, against [`AgentConfig::inbox`].
    pub(crate) inbox_usage: super::inbox::InboxUsage,
    pub(crate) book: Option<MailboxBook>,
    pub(crate) first_contacts: HashMap<PeerId, (Instant, u32)>,
    pub(crate) events: broadcast::Sender<InboxEntry>,
    pub(crate) couriers: Couriers,
    pub(crate) pending: Pending,
    pub(crate) after: Vec<After>,
    /// Who deposited the envelopes kept here.
    pub(crate) depositors: super::mailboxes::Depositors,
    /// Where the next pruning of (sender, id) records starts.
    pub(crate) seen_cursor: Option<Vec<u8>>,
    /// Conversations this group changed, written at its commit.
    pub(crate) dirty: std::collections::HashSet<[u8; 32]>,
    /// (sender, id) of envelopes opened in the batch being built.
    pub(crate) batch_seen: std::collections::HashSet<[u8; 48]>,
    next_fetch: Instant,
    /// Quick fetch rounds still to come ([`FETCH_WARMUP_ROUNDS`]).
    warmup_rounds: u8,
    next_expire: Instant,
}

/// Starts the agent of the node whose key is `signing`: loads its state from `kv`, spawns its
/// thread, and forwards the network's inbound requests to it. Returns its client and the
/// sender the network task gives inbound messaging requests to.
pub fn spawn_agent(
    config: AgentConfig,
    kv: Arc<dyn KvStore>,
    signing: SigningKey,
    net: mpsc::Sender<NetCommand>,
    shutdown: Arc<tokio::sync::Notify>,
) -> Result<(AgentClient, mpsc::Sender<InboundMessaging>), AgentStoreError> {
    let (tx, rx) = mpsc::channel(AGENT_QUEUE);
    let (inbound_tx, mut inbound_rx) =
        mpsc::channel::<InboundMessaging>(talos_network::INBOUND_QUEUE);
    let (events, _) = broadcast::channel(AGENT_EVENTS);
    let local = talos_identity::peer_id(&signing.verifying_key());
    let couriers = Couriers::new(
        tokio::runtime::Handle::current(),
        net.clone(),
        tx.clone(),
        config.clone(),
        local,
    );
    let core = Core::load(
        config,
        kv,
        signing.clone(),
        events.clone(),
        couriers.clone(),
    )?;
    let me = core.me;
    couriers.keep_published(talos_identity::did_key(&signing.verifying_key()));
    std::thread::Builder::new()
        .name("talos-agent".into())
        .spawn(move || core.run(rx))
        .map_err(AgentStoreError::Thread)?;
    let forward = tx.clone();
    tokio::spawn(async move {
        while let Some(request) = inbound_rx.recv().await {
            if forward.send(Input::Inbound(request)).await.is_err() {
                break;
            }
        }
    });
    let ticker = tx.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let stop = shutdown.notified();
        tokio::pin!(stop);
        stop.as_mut().enable();
        loop {
            tokio::select! {
                () = &mut stop => {
                    let _ = ticker.send(Input::Stop).await;
                    break;
                }
                _ = tick.tick() => {
                    // A full queue skips a tick; a closed one ends the timer.
                    if let Err(mpsc::error::TrySendError::Closed(_)) = ticker.try_send(Input::Tick) {
                        break;
                    }
                }
            }
        }
    });
    Ok((AgentClient::new(tx, net, events, couriers, me), inbound_tx))
}

impl Core {
    pub(crate) fn load(
        config: AgentConfig,
        kv: Arc<dyn KvStore>,
        signing: SigningKey,
        events: broadcast::Sender<InboxEntry>,
        couriers: Couriers,
    ) -> Result<Self, AgentStoreError> {
        let mut pending = Pending::default();
        let (keys, _) = AgentKeys::load_or_create(&*kv, &signing, now_ms() / 1000, &mut pending)?;
        pending.commit(&*kv)?;
        let me = signing.verifying_key().to_bytes();
        let mut core = Self {
            book: config
                .host_mailboxes
                .then(|| MailboxBook::new(config.mailbox)),
            config,
            kv,
            signing,
            me,
            keys,
            conversations: HashMap::new(),
            addrs: HashMap::new(),
            outbox: BTreeMap::new(),
            next_outbox: 0,
            next_inbox: 0,
            inbox_usage: super::inbox::InboxUsage::default(),
            first_contacts: HashMap::new(),
            events,
            couriers,
            pending,
            after: Vec::new(),
            batch_seen: std::collections::HashSet::new(),
            dirty: std::collections::HashSet::new(),
            seen_cursor: None,
            depositors: super::mailboxes::Depositors::default(),
            next_fetch: Instant::now() + Duration::from_secs(1),
            warmup_rounds: FETCH_WARMUP_ROUNDS,
            next_expire: Instant::now(),
        };
        core.load_outbox()?;
        core.load_inbox()?;
        core.load_mailboxes()?;
        Ok(core)
    }

    fn run(mut self, mut rx: mpsc::Receiver<Input>) {
        while let Some(first) = rx.blocking_recv() {
            if matches!(first, Input::Stop) {
                break;
            }
            self.handle(first);
            let mut handled = 1;
            while handled < MAX_GROUP && self.pending.room() > 64 + self.dirty.len() {
                match rx.try_recv() {
                    Ok(input) => self.handle(input),
                    Err(_) => break,
                }
                handled += 1;
            }
            self.commit();
        }
        debug!("agent stopping");
    }

    /// Writes the batch, then runs what waited for it. A failed write drops the answers
    /// (peers retry, callers see an error) and reloads what the memory may hold ahead of the
    /// store.
    pub(crate) fn commit(&mut self) {
        self.batch_seen.clear();
        // Each conversation the group changed is written once, as it is now.
        for peer in std::mem::take(&mut self.dirty) {
            if let Some(conv) = self.conversations.get(&peer) {
                let bytes = store::encode(conv);
                if let Err(e) = self.pending.put(NS_CONVERSATIONS, &peer, &bytes) {
                    warn!(error = %e, "a conversation could not be queued for writing");
                }
            }
        }
        match self.pending.commit(&*self.kv) {
            Ok(()) => {
                for after in std::mem::take(&mut self.after) {
                    after();
                }
            }
            Err(e) => {
                warn!(error = %e, "agent state could not be written; dropping this batch's answers");
                self.after.clear();
                self.pending = Pending::default();
                self.conversations.clear();
                self.dirty.clear();
                if let Err(e) = self.load_inbox() {
                    warn!(error = %e, "the inbox could not be counted again");
                }
                if let Ok((keys, _)) = AgentKeys::load_or_create(
                    &*self.kv,
                    &self.signing,
                    now_ms() / 1000,
                    &mut self.pending,
                ) {
                    self.keys = keys;
                }
            }
        }
    }

    /// Runs `f` once the batch is durable.
    pub(crate) fn later(&mut self, f: impl FnOnce() + Send + 'static) {
        self.after.push(Box::new(f));
    }

    pub(crate) fn handle(&mut self, input: Input) {
        match input {
            Input::Inbound(InboundMessaging::Msg {
                peer,
                request,
                respond,
            }) => {
                let response = self.on_msg_request(peer, request);
                self.later(move || {
                    let _ = respond.send(response);
                });
            }
            Input::Inbound(InboundMessaging::Mailbox {
                peer,
                request,
                respond,
            }) => {
                if let Some(response) = self.on_mailbox_request(peer, request) {
                    self.later(move || {
                        let _ = respond.send(response);
                    });
                }
            }
            Input::Send {
                to,
                addrs,
                bundle,
                bodies,
                wait,
                reply,
            } => {
                if !addrs.is_empty() {
                    self.addrs.insert(to, addrs);
                }
                let outcome = self.seal_and_queue(to, bundle.as_deref(), &bodies, wait);
                self.later(move || {
                    let _ = reply.send(outcome);
                });
            }
            Input::Attempted { number, delivery } => self.on_attempted(number, delivery),
            Input::Fetched { envelopes, reply } => {
                let acked = self.open_fetched(envelopes);
                self.later(move || {
                    let _ = reply.send(acked);
                });
            }
            Input::Inbox {
                after,
                limit,
                reply,
            } => {
                let key = after.map(u64::to_be_bytes);
                let page = store::scan_page(
                    &*self.kv,
                    store::NS_INBOX,
                    key.as_ref().map(|k| &k[..]),
                    limit,
                    "inbox entry",
                );
                let _ = reply.send(page);
            }
            Input::Sessions { reply } => {
                let _ = reply.send(self.sessions());
            }
            Input::Outbox { reply } => {
                let _ = reply.send(self.outbox.values().map(|o| o.entry.clone()).collect());
            }
            Input::DidRecord { addrs, reply } => {
                let record = self
                    .keys
                    .did_record(&self.signing, addrs, now_ms())
                    .map(|r| r.encode());
                if let Err(e) = &record {
                    warn!(error = %e, "cannot build the DID record");
                }
                let _ = reply.send(record.ok());
            }
            Input::DepositLocal { envelope, reply } => {
                let status = self.deposit(*envelope, None);
                self.later(move || {
                    let _ = reply.send(status);
                });
            }
            Input::FetchRound { reached } => {
                // No mailbox answered (the node is still joining, or cut off): try again
                // soon rather than a whole interval later.
                let wait = if reached == 0 {
                    FETCH_RETRY
                } else if self.warmup_rounds > 0 {
                    self.warmup_rounds -= 1;
                    FETCH_WARMUP_GAP.min(self.config.fetch_interval)
                } else {
                    self.config.fetch_interval
                };
                self.next_fetch = Instant::now() + wait;
            }
            Input::DeleteInbox { through, reply } => self.on_delete_inbox(through, reply),
            Input::Tick => self.on_tick(),
            // Handled by the loop (a stop inside a group ends it after the commit).
            Input::Stop => {}
        }
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        let metrics = &self.config.metrics;
        metrics
            .outbox
            .set(i64::try_from(self.outbox.len()).unwrap_or(i64::MAX));
        metrics
            .inbox
            .set(i64::try_from(self.inbox_usage.messages()).unwrap_or(i64::MAX));
        self.dispatch_due(now, 0);
        if now >= self.next_fetch {
            // Until the round ends (`FetchRound`), which sets the next.
            self.next_fetch = now + self.config.fetch_interval;
            self.fetch_own_book();
            self.couriers.fetch_mailboxes(self.me);
        }
        if now >= self.next_expire {
            self.next_expire = now + Duration::from_secs(60);
            self.expire_mailboxes();
            if self.keys.maintain(now_ms() / 1000) {
                self.couriers.publish_did_soon();
            }
            let _ = self.keys.persist(&mut self.pending);
            if let Err(e) = self.prune_seen() {
                warn!(error = %e, "cannot prune the seen-envelope records");
            }
            self.first_contacts
                .retain(|_, (since, _)| now.duration_since(*since) < Duration::from_secs(60));
        }
    }

    /// The conversation with `peer`, from memory or the store.
    pub(crate) fn conversation(
        &mut self,
        peer: &[u8; 32],
    ) -> Result<Option<&mut Conversation>, AgentStoreError> {
        if !self.conversations.contains_key(peer) {
            let Some(conv) =
                store::get::<Conversation>(&*self.kv, NS_CONVERSATIONS, peer, "conversation")?
            else {
                return Ok(None);
            };
            if self.conversations.len() >= CONVERSATION_CACHE {
                // Everything cached but this group's changes is persisted: those may go.
                let dirty = &self.dirty;
                if let Some(evict) = self
                    .conversations
                    .keys()
                    .find(|k| !dirty.contains(*k))
                    .copied()
                {
                    self.conversations.remove(&evict);
                }
            }
            self.conversations.insert(*peer, conv);
        }
        Ok(self.conversations.get_mut(peer))
    }

    /// Records `conv` as `peer`'s conversation, in memory and in the batch.
    pub(crate) fn keep_conversation(
        &mut self,
        peer: [u8; 32],
        conv: Conversation,
    ) -> Result<(), AgentStoreError> {
        self.conversations.insert(peer, conv);
        self.dirty.insert(peer);
        Ok(())
    }

    /// Marks the conversation with `peer` to be written with this group's batch (once, however
    /// many of the group's messages changed it).
    pub(crate) fn persist_conversation(&mut self, peer: &[u8; 32]) -> Result<(), AgentStoreError> {
        if self.conversations.contains_key(peer) {
            self.dirty.insert(*peer);
        }
        Ok(())
    }

    fn sessions(&mut self) -> Result<Vec<SessionInfo>, AgentStoreError> {
        let mut out = Vec::new();
        let outbox = &self.outbox;
        store::scan_all(&*self.kv, NS_CONVERSATIONS, |key, value| {
            let conv: Conversation = store::decode("conversation", value)?;
            let peer: [u8; 32] = key.try_into().unwrap_or([0; 32]);
            out.push(SessionInfo::new(
                peer,
                &conv,
                outbox
                    .values()
                    .filter(|o| o.entry.recipient == peer)
                    .count(),
            ));
            Ok(())
        })?;
        Ok(out)
    }

    /// The next inbox arrival number.
    pub(crate) fn take_inbox_number(&mut self) -> u64 {
        let n = self.next_inbox;
        self.next_inbox += 1;
        n
    }
}
