//! [`SyncConfig`]: the knobs of the range-sync state machine.

use std::time::Duration;

use crate::limits::{MAX_BLOCKS_PER_RESPONSE, MAX_HEADERS_PER_RESPONSE};

/// Configuration of a [`crate::machine::SyncMachine`]. Every buffer the machine keeps is bounded
/// by one of these. Out-of-range values are clamped when the machine is built
/// ([`SyncConfig::normalized`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncConfig {
    /// Blocks asked for in one `BlocksByRange` (`1..=`[`MAX_BLOCKS_PER_RESPONSE`]).
    pub blocks_per_request: u32,
    /// Headers asked for in one `HeadersByRange` (`1..=`[`MAX_HEADERS_PER_RESPONSE`]).
    pub headers_per_request: u32,
    /// Most requests in flight to one peer.
    pub max_in_flight_per_peer: usize,
    /// Most requests in flight over all peers.
    pub max_in_flight_total: usize,
    /// How long a peer has to answer a request.
    pub request_timeout: Duration,
    /// How many times one block range is retried before the sync round is abandoned (and
    /// started afresh from the peers' statuses).
    pub max_retries: u32,
    /// Most orphan-chain blocks held while their ancestors are fetched by hash (over all
    /// orphan fetches); also the deepest such a fetch walks back.
    pub max_orphans: usize,
    /// Most orphan fetches at once.
    pub max_orphan_fetches: usize,
    /// An orphan chain is handed to import only if it comes within this many blocks' worth
    /// of work of our tip ([`talos_chain::side_branch_floor`]); the chain service holds
    /// gossiped side blocks to the same floor.
    pub side_branch_margin: u32,
    /// How many blocks past the last block known imported may be downloaded or handed to
    /// import: the memory bound of a sync round and the most blocks it puts in the import
    /// queue. Keep it below the node's import queue size.
    pub window: u64,
    /// Most accepted headers held ahead of the last block known imported.
    pub max_headers_ahead: u64,
    /// How long a round may go without handing blocks to import or seeing them stored before it
    /// is abandoned and restarted (the import pipeline may have dropped them, or no peer can
    /// serve the next range).
    pub import_timeout: Duration,
    /// How often each peer is asked for its status again.
    pub status_interval: Duration,
    /// How long a peer whose round failed waits before it may be the target again at the
    /// same tip, doubled with each failed round (up to 64 times).
    pub round_backoff: Duration,
    /// Most actions waiting in the output queue. Requests and imports wait while it is full;
    /// penalties and disconnects may use a second `max_queued_actions` of room, beyond which
    /// they are dropped (and counted).
    pub max_queued_actions: usize,
    /// Headers-only mode (a light client): rounds, fork search, claims and header checks are
    /// the same, but no body is ever requested (no block ranges, no orphan fetches). Once the
    /// accepted headers' checked work beats the local tip's, they are handed over in height
    /// order as [`crate::Action::ImportHeaders`], at most
    /// [`SyncConfig::headers_per_request`] at a time; headers that never beat it are never
    /// handed over. The [`crate::ChainView`] then answers from a header store
    /// (`has_block`: the header is stored). [`SyncConfig::blocks_per_request`] and
    /// [`SyncConfig::window`] are unused; [`SyncConfig::max_headers_ahead`] bounds the
    /// headers held and handed over but not yet seen stored.
    pub headers_only: bool,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            blocks_per_request: 32,
            headers_per_request: 512,
            max_in_flight_per_peer: 2,
            max_in_flight_total: 16,
            request_timeout: Duration::from_secs(10),
            max_retries: 5,
            max_orphans: 64,
            max_orphan_fetches: 8,
            side_branch_margin: talos_chain::SIDE_BRANCH_MARGIN_BLOCKS,
            window: 256,
            max_headers_ahead: 4_096,
            import_timeout: Duration::from_secs(60),
            status_interval: Duration::from_secs(30),
            round_backoff: Duration::from_secs(10),
            max_queued_actions: 256,
            headers_only: false,
        }
    }
}

impl SyncConfig {
    /// Sets [`SyncConfig::blocks_per_request`].
    #[must_use]
    pub fn with_blocks_per_request(mut self, n: u32) -> Self {
        self.blocks_per_request = n;
        self
    }

    /// Sets [`SyncConfig::headers_per_request`].
    #[must_use]
    pub fn with_headers_per_request(mut self, n: u32) -> Self {
        self.headers_per_request = n;
        self
    }

    /// Sets [`SyncConfig::max_in_flight_per_peer`].
    #[must_use]
    pub fn with_max_in_flight_per_peer(mut self, n: usize) -> Self {
        self.max_in_flight_per_peer = n;
        self
    }

    /// Sets [`SyncConfig::max_in_flight_total`].
    #[must_use]
    pub fn with_max_in_flight_total(mut self, n: usize) -> Self {
        self.max_in_flight_total = n;
        self
    }

    /// Sets [`SyncConfig::request_timeout`].
    #[must_use]
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets [`SyncConfig::max_retries`].
    #[must_use]
    pub fn with_max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// Sets [`SyncConfig::max_orphans`].
    #[must_use]
    pub fn with_max_orphans(mut self, n: usize) -> Self {
        self.max_orphans = n;
        self
    }

    /// Sets [`SyncConfig::max_orphan_fetches`].
    #[must_use]
    pub fn with_max_orphan_fetches(mut self, n: usize) -> Self {
        self.max_orphan_fetches = n;
        self
    }

    /// Sets [`SyncConfig::window`].
    #[must_use]
    pub fn with_window(mut self, blocks: u64) -> Self {
        self.window = blocks;
        self
    }

    /// Sets [`SyncConfig::max_headers_ahead`].
    #[must_use]
    pub fn with_max_headers_ahead(mut self, headers: u64) -> Self {
        self.max_headers_ahead = headers;
        self
    }

    /// Sets [`SyncConfig::import_timeout`].
    #[must_use]
    pub fn with_import_timeout(mut self, timeout: Duration) -> Self {
        self.import_timeout = timeout;
        self
    }

    /// Sets [`SyncConfig::status_interval`].
    #[must_use]
    pub fn with_status_interval(mut self, interval: Duration) -> Self {
        self.status_interval = interval;
        self
    }

    /// Sets [`SyncConfig::round_backoff`].
    #[must_use]
    pub fn with_round_backoff(mut self, backoff: Duration) -> Self {
        self.round_backoff = backoff;
        self
    }

    /// Sets [`SyncConfig::max_queued_actions`].
    #[must_use]
    pub fn with_max_queued_actions(mut self, n: usize) -> Self {
        self.max_queued_actions = n;
        self
    }

    /// Sets [`SyncConfig::headers_only`].
    #[must_use]
    pub fn with_headers_only(mut self, headers_only: bool) -> Self {
        self.headers_only = headers_only;
        self
    }

    /// The configuration with every value clamped into its valid range: request sizes within
    /// the protocol caps, counts and windows at least one, the header allowance at least one
    /// request and at least the window.
    #[must_use]
    pub fn normalized(mut self) -> Self {
        self.blocks_per_request = self.blocks_per_request.clamp(1, MAX_BLOCKS_PER_RESPONSE);
        self.headers_per_request = self.headers_per_request.clamp(1, MAX_HEADERS_PER_RESPONSE);
        self.max_in_flight_per_peer = self.max_in_flight_per_peer.max(1);
        self.max_in_flight_total = self.max_in_flight_total.max(1);
        self.max_orphans = self.max_orphans.max(1);
        self.max_orphan_fetches = self.max_orphan_fetches.max(1);
        self.window = self.window.max(u64::from(self.blocks_per_request));
        self.max_headers_ahead = self
            .max_headers_ahead
            .max(u64::from(self.headers_per_request))
            .max(self.window);
        self.max_queued_actions = self.max_queued_actions.max(1);
        self
    }
}
