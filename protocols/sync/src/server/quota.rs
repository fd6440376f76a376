//! [`RateLimiter`]: per-peer token buckets per request kind, the server's answer to a peer
//! asking more than its share (as Lighthouse's RPC rate limiter).
//!
//! Each kind has a bucket of `capacity` tokens that refills evenly over `period`; a request
//! costs what it asks for (one per status or proof, item and state proofs sharing one bucket;
//! one per header or block asked), so asking for 32 blocks costs 32. A request the bucket
//! cannot pay for is refused ([`QuotaExceeded`]) and costs nothing; the node answers `busy` and
//! penalizes the peer. Buckets of peers that leave are dropped ([`RateLimiter::forget`]), so
//! memory follows the connected peers.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

use crate::messages::SyncRequest;

/// Request kinds with a quota of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuotaKind {
    /// `Status`.
    Status,
    /// `HeadersByRange`, per header asked.
    Headers,
    /// `BlocksByRange` and `BlocksByHash`, per block asked.
    Blocks,
    /// `Proof` and `StateProof`: one bucket for both, each costing one.
    Proof,
}

impl QuotaKind {
    /// The kind of `request` and what it costs.
    pub fn of(request: &SyncRequest) -> (Self, u64) {
        match request {
            SyncRequest::Status(_) => (Self::Status, 1),
            SyncRequest::HeadersByRange { count, .. } => (Self::Headers, u64::from(*count)),
            SyncRequest::BlocksByRange { count, .. } => (Self::Blocks, u64::from(*count)),
            SyncRequest::BlocksByHash(ids) => (Self::Blocks, ids.len() as u64),
            SyncRequest::Proof(_) | SyncRequest::StateProof { .. } => (Self::Proof, 1),
        }
    }

    /// Stable code (metrics, logs).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Headers => "headers",
            Self::Blocks => "blocks",
            Self::Proof => "proof",
        }
    }
}

/// One kind's allowance: `capacity` tokens, refilled evenly over `period`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    /// Most tokens held (the largest burst).
    pub capacity: u64,
    /// Time to refill from empty.
    pub period: Duration,
}

/// The allowance of every kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    /// Status requests.
    pub status: Quota,
    /// Headers asked.
    pub headers: Quota,
    /// Blocks asked.
    pub blocks: Quota,
    /// Proofs asked (item and state proofs together).
    pub proofs: Quota,
}

impl Default for Quotas {
    /// Well above what an honest syncing peer asks even on a fast local chain (our own
    /// machine asks for status every 30 s, 512 headers and 2 × 32 blocks at a time per peer,
    /// and syncs a few hundred blocks a second), far below what saturates a node. Headers are
    /// cheap to serve (136 bytes each, one index read): a light client catching up asks
    /// 2,000 at a time and accepts ≈ 40,000 a second, so the bucket holds 400,000 per 10 s.
    fn default() -> Self {
        let per_10s = |capacity| Quota {
            capacity,
            period: Duration::from_secs(10),
        };
        Self {
            status: per_10s(20),
            headers: per_10s(400_000),
            blocks: per_10s(16_384),
            proofs: per_10s(1_024),
        }
    }
}

impl Quotas {
    fn of(&self, kind: QuotaKind) -> Quota {
        match kind {
            QuotaKind::Status => self.status,
            QuotaKind::Headers => self.headers,
            QuotaKind::Blocks => self.blocks,
            QuotaKind::Proof => self.proofs,
        }
    }
}

/// A request over its peer's quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} quota exceeded: asked {cost}, {available} left", kind.code())]
pub struct QuotaExceeded {
    /// The kind.
    pub kind: QuotaKind,
    /// What the request cost.
    pub cost: u64,
    /// Tokens left.
    pub available: u64,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    /// Tokens, scaled by the period in nanoseconds so refills are exact integer math.
    scaled: u128,
    last: Instant,
}

/// Token buckets per peer and kind.
#[derive(Debug)]
pub struct RateLimiter<P> {
    quotas: Quotas,
    buckets: HashMap<(P, QuotaKind), Bucket>,
}

impl<P: Copy + Eq + Hash> RateLimiter<P> {
    /// No peer has asked anything yet.
    pub fn new(quotas: Quotas) -> Self {
        Self {
            quotas,
            buckets: HashMap::new(),
        }
    }

    /// Charges `peer` for `request` at `now`, or refuses it (then nothing is charged). A
    /// request costing more than the whole capacity is always refused.
    pub fn check(
        &mut self,
        peer: P,
        request: &SyncRequest,
        now: Instant,
    ) -> Result<(), QuotaExceeded> {
        let (kind, cost) = QuotaKind::of(request);
        let quota = self.quotas.of(kind);
        let period = quota.period.as_nanos().max(1);
        let full = u128::from(quota.capacity) * period;
        let bucket = self.buckets.entry((peer, kind)).or_insert(Bucket {
            scaled: full,
            last: now,
        });
        // Each nanosecond refills capacity tokens / period: capacity (scaled) per ns.
        let elapsed = now.saturating_duration_since(bucket.last).as_nanos();
        bucket.scaled = bucket
            .scaled
            .saturating_add(elapsed.saturating_mul(u128::from(quota.capacity)))
            .min(full);
        bucket.last = now;
        let price = u128::from(cost) * period;
        if price > bucket.scaled {
            return Err(QuotaExceeded {
                kind,
                cost,
                available: u64::try_from(bucket.scaled / period).unwrap_or(u64::MAX),
            });
        }
        bucket.scaled -= price;
        Ok(())
    }

    /// Drops `peer`'s buckets (it left).
    pub fn forget(&mut self, peer: &P) {
        self.buckets.retain(|(p, _), _| p != peer);
    }

    /// Peers with buckets.
    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }
}
