//! Keeping connections to the targets: redial with backoff, give up on a target that keeps
//! refusing (a ban shows as connections closed right after they open, or failed dials).

use std::time::{Duration, Instant};

use libp2p::{Multiaddr, PeerId};

/// First wait before redialing a target.
const BASE_BACKOFF: Duration = Duration::from_secs(2);

/// Longest wait between redials.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A connection closed sooner than this after it opened counts as a refusal.
const SHORT_CONNECTION: Duration = Duration::from_secs(3);

/// After this many refusals in a row the target is left alone.
pub(crate) const MAX_REFUSALS: u32 = 6;

/// One target and how dialing it goes.
#[derive(Debug)]
struct Target {
    peer: PeerId,
    addr: Multiaddr,
    connected_since: Option<Instant>,
    dialing: bool,
    refusals: u32,
    next_attempt: Instant,
}

/// The targets to keep connected to.
#[derive(Debug)]
pub(crate) struct Redialer {
    targets: Vec<Target>,
}

fn backoff(refusals: u32) -> Duration {
    BASE_BACKOFF
        .saturating_mul(1u32 << refusals.min(5))
        .min(MAX_BACKOFF)
}

impl Redialer {
    /// Targets to dial at once (`now`).
    pub(crate) fn new(targets: Vec<(PeerId, Multiaddr)>, now: Instant) -> Self {
        Self {
            targets: targets
                .into_iter()
                .map(|(peer, addr)| Target {
                    peer,
                    addr,
                    connected_since: None,
                    dialing: false,
                    refusals: 0,
                    next_attempt: now,
                })
                .collect(),
        }
    }

    /// The targets to dial now; they are marked as being dialed.
    pub(crate) fn due(&mut self, now: Instant) -> Vec<(PeerId, Multiaddr)> {
        self.targets
            .iter_mut()
            .filter(|t| {
                t.connected_since.is_none()
                    && !t.dialing
                    && t.refusals < MAX_REFUSALS
                    && t.next_attempt <= now
            })
            .map(|t| {
                t.dialing = true;
                (t.peer, t.addr.clone())
            })
            .collect()
    }

    /// Whether `peer` is one of the targets.
    pub(crate) fn is_target(&self, peer: &PeerId) -> bool {
        self.targets.iter().any(|t| t.peer == *peer)
    }

    fn target(&mut self, peer: &PeerId) -> Option<&mut Target> {
        self.targets.iter_mut().find(|t| t.peer == *peer)
    }

    /// The first connection to `peer` opened.
    pub(crate) fn connected(&mut self, peer: &PeerId, now: Instant) {
        if let Some(t) = self.target(peer) {
            t.dialing = false;
            t.connected_since = Some(now);
        }
    }

    /// The last connection to `peer` closed.
    pub(crate) fn disconnected(&mut self, peer: &PeerId, now: Instant) {
        if let Some(t) = self.target(peer) {
            let lasted = t
                .connected_since
                .take()
                .map(|since| now.saturating_duration_since(since));
            t.dialing = false;
            if lasted.is_some_and(|d| d >= SHORT_CONNECTION) {
                t.refusals = 0;
            } else {
                t.refusals = t.refusals.saturating_add(1);
            }
            t.next_attempt = now + backoff(t.refusals);
        }
    }

    /// A dial of `peer` failed.
    pub(crate) fn dial_failed(&mut self, peer: &PeerId, now: Instant) {
        if let Some(t) = self.target(peer)
            && t.connected_since.is_none()
        {
            t.dialing = false;
            t.refusals = t.refusals.saturating_add(1);
            t.next_attempt = now + backoff(t.refusals);
        }
    }

    /// Targets given up on (refused too often).
    pub(crate) fn given_up(&self) -> usize {
        self.targets
            .iter()
            .filter(|t| t.refusals >= MAX_REFUSALS)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_and_gives_up_on_refusals() {
        let peer = PeerId::random();
        let addr: Multiaddr = "/memory/1".parse().unwrap();
        let t0 = Instant::now();
        let mut r = Redialer::new(vec![(peer, addr.clone())], t0);
        assert!(r.is_target(&peer) && !r.is_target(&PeerId::random()));
        assert_eq!(r.due(t0), vec![(peer, addr)]);
        assert!(r.due(t0).is_empty(), "already dialing");
        // A connection that lasts resets the count; a short one is a refusal.
        r.connected(&peer, t0);
        assert!(r.due(t0 + Duration::from_secs(100)).is_empty(), "connected");
        r.disconnected(&peer, t0 + Duration::from_secs(10));
        assert!(
            r.due(t0 + Duration::from_secs(10)).is_empty(),
            "backing off"
        );
        let mut now = t0 + Duration::from_secs(20);
        assert_eq!(r.due(now).len(), 1);
        for _ in 0..MAX_REFUSALS {
            r.connected(&peer, now);
            r.disconnected(&peer, now);
            now += MAX_BACKOFF;
            let _ = r.due(now);
        }
        assert_eq!(r.given_up(), 1);
        assert!(r.due(now + MAX_BACKOFF).is_empty());
        // Failed dials count too.
        let other = PeerId::random();
        let mut r = Redialer::new(vec![(other, "/memory/2".parse().unwrap())], t0);
        let _ = r.due(t0);
        r.dial_failed(&other, t0);
        assert!(r.due(t0).is_empty());
        assert_eq!(r.due(t0 + backoff(1)).len(), 1);
    }
}
