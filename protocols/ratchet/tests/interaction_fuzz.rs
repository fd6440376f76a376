//! Seeded interaction fuzzer: thousands of random steps (send either way, deliver out of order
//! within a window, drop, duplicate, restart either side from its serialized state). Every
//! message delivered within the bounds must decrypt exactly once, to its plaintext; every
//! duplicate must be rejected with the state unchanged.

mod common;

use std::collections::{HashSet, VecDeque};

use common::{pair, restart, snapshot};
use rand::rngs::StdRng;
use rand::{Rng, RngCore};
use talos_ratchet::{DecryptError, Session};

/// Steps per seed.
const STEPS: usize = 3000;
/// Out-of-order window: a delivery picks one of the oldest `WINDOW` messages in flight.
const WINDOW: usize = 8;
/// Messages older than this many steps are dropped, keeping every delivery well inside the
/// skipped-key bounds (at most 24 new chains and a few dozen keys per chain in the meantime).
const MAX_AGE: usize = 24;

struct InFlight {
    id: u64,
    plaintext: Vec<u8>,
    bytes: Vec<u8>,
    sent_at: usize,
}

struct Side {
    session: Session,
    inbox: VecDeque<InFlight>,
    delivered: Vec<Vec<u8>>,
    received: HashSet<u64>,
}

#[derive(Default, Debug)]
struct Stats {
    sent: usize,
    delivered: usize,
    dropped: usize,
    duplicates: usize,
    restarts: usize,
    reordered: usize,
}

fn send(rng: &mut StdRng, from: &mut Side, to: &mut Side, next_id: &mut u64, step: usize) {
    let mut plaintext = next_id.to_be_bytes().to_vec();
    let extra = rng.gen_range(0..64);
    plaintext.extend((0..extra).map(|_| rng.r#gen::<u8>()));
    let bytes = from.session.encrypt(&plaintext).expect("encrypt");
    to.inbox.push_back(InFlight {
        id: *next_id,
        plaintext,
        bytes,
        sent_at: step,
    });
    *next_id += 1;
}

fn deliver(rng: &mut StdRng, to: &mut Side, stats: &mut Stats, step: usize) {
    if to.inbox.is_empty() {
        return;
    }
    let at = rng.gen_range(0..to.inbox.len().min(WINDOW));
    stats.reordered += usize::from(at > 0);
    let Some(message) = to.inbox.remove(at) else {
        return;
    };
    let plaintext = to
        .session
        .decrypt_with_rng(rng, &message.bytes)
        .unwrap_or_else(|e| {
            panic!(
                "step {step}: message {} within bounds rejected: {e:?}",
                message.id
            )
        });
    assert_eq!(plaintext, message.plaintext, "step {step}: wrong plaintext");
    assert!(
        to.received.insert(message.id),
        "step {step}: message {} decrypted twice",
        message.id
    );
    to.delivered.push(message.bytes);
    stats.delivered += 1;
}

fn duplicate(rng: &mut StdRng, to: &mut Side, stats: &mut Stats, step: usize) {
    if to.delivered.is_empty() {
        return;
    }
    let at = rng.gen_range(0..to.delivered.len());
    let before = snapshot(&to.session);
    let err = to
        .session
        .decrypt_with_rng(rng, &to.delivered[at])
        .expect_err("duplicate accepted");
    assert!(
        matches!(
            err,
            DecryptError::DuplicateOrExpired { .. } | DecryptError::BadHeader
        ),
        "step {step}: duplicate gave {err:?}"
    );
    assert_eq!(
        snapshot(&to.session),
        before,
        "step {step}: duplicate changed the state"
    );
    stats.duplicates += 1;
}

fn expire(side: &mut Side, stats: &mut Stats, step: usize) {
    let before = side.inbox.len();
    side.inbox.retain(|m| step - m.sent_at <= MAX_AGE);
    stats.dropped += before - side.inbox.len();
}

fn drop_one(rng: &mut StdRng, side: &mut Side, stats: &mut Stats) {
    if !side.inbox.is_empty() {
        let at = rng.gen_range(0..side.inbox.len());
        side.inbox.remove(at);
        stats.dropped += 1;
    }
}

fn run(seed: u64) -> Stats {
    let mut rng = common::rng(seed);
    let (alice, bob) = pair(&mut rng, true);
    let side = |session| Side {
        session,
        inbox: VecDeque::new(),
        delivered: Vec::new(),
        received: HashSet::new(),
    };
    let mut sides = [side(alice), side(bob)];
    let mut stats = Stats::default();
    let mut next_id = 0u64;
    for step in 0..STEPS {
        for s in sides.iter_mut() {
            expire(s, &mut stats, step);
        }
        let who = rng.gen_range(0..2usize);
        let [a, b] = &mut sides;
        let (me, peer) = if who == 0 { (a, b) } else { (b, a) };
        match rng.next_u32() % 100 {
            0..35 => {
                send(&mut rng, me, peer, &mut next_id, step);
                stats.sent += 1;
            }
            35..80 => deliver(&mut rng, me, &mut stats, step),
            80..86 => drop_one(&mut rng, me, &mut stats),
            86..95 => duplicate(&mut rng, me, &mut stats, step),
            _ => {
                me.session = restart(&me.session);
                stats.restarts += 1;
            }
        }
    }
    for s in sides.iter_mut() {
        while !s.inbox.is_empty() {
            deliver(&mut rng, s, &mut stats, STEPS);
        }
    }
    assert_eq!(
        stats.sent,
        stats.delivered + stats.dropped,
        "every message accounted for"
    );
    stats
}

#[test]
fn seeded_interaction_fuzzer() {
    for seed in [1, 2, 3, 0xDEAD_BEEF] {
        let stats = run(seed);
        eprintln!("seed {seed:#x}: {stats:?}");
        assert!(
            stats.delivered > 800 && stats.duplicates > 100 && stats.reordered > 100,
            "{stats:?}"
        );
        assert!(stats.restarts > 50 && stats.dropped > 50, "{stats:?}");
    }
}
