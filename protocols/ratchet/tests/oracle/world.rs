//! Alice and Bob in both engines, driven together: sending, delivering, rejecting and
//! tampering, with the engines checked against each other at every step.

use std::collections::VecDeque;

use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use talos_ratchet::ENCRYPTED_HEADER_LEN;

use crate::common;
use crate::delivery::{Delivery, Outcome, check_our_error};
use crate::headers::HeaderLog;
use crate::observe::{observe_ours, ours_ratchet_key};
use crate::oracle_session::{ORACLE_AD, ORACLE_HEADER_LEN, Rng04, oracle_decrypt, oracle_encode};
use crate::pair::{Party, oracle_pair, ours_pair};
use crate::provider::OraclePublic;
use crate::stats::Stats;

/// Alice's index in [`World::parties`] and the other per-party arrays.
pub(crate) const ALICE: usize = 0;
/// Bob's index.
pub(crate) const BOB: usize = 1;

/// One message, as each engine encoded it.
#[derive(Clone)]
pub(crate) struct Sent {
    /// Plaintext sent.
    pub(crate) plaintext: Vec<u8>,
    /// Our wire bytes.
    pub(crate) ours: Vec<u8>,
    /// The oracle's wire bytes ([`oracle_encode`]).
    pub(crate) oracle: Vec<u8>,
    /// Ordinal of its sending chain in its direction (from the oracle's header; the two
    /// engines' ordinals are checked equal at the send).
    pub(crate) chain: usize,
}

/// Alice and Bob in both engines, the messages in flight, and what was observed.
pub(crate) struct World {
    /// Alice ([`ALICE`]) and Bob ([`BOB`]).
    pub(crate) parties: [Party; 2],
    /// Messages in flight, by receiver, oldest first.
    pub(crate) in_flight: [VecDeque<Sent>; 2],
    /// Messages accepted, by receiver (for replays).
    pub(crate) delivered: [Vec<Sent>; 2],
    /// Messages sent, by sender (for reflections).
    pub(crate) sent: [Vec<Sent>; 2],
    /// Headers of our messages, by sender.
    pub(crate) ours_headers: [HeaderLog<[u8; 32]>; 2],
    /// Headers of the oracle's messages, by sender.
    pub(crate) oracle_headers: [HeaderLog<OraclePublic>; 2],
    /// Receive-side DH ratchet steps `(ours, oracle)` after every delivery, by receiver.
    pub(crate) receive_steps: [Vec<(u64, u64)>; 2],
    /// Newest chain ordinal each receiver has accepted a message of.
    pub(crate) newest_chain: [usize; 2],
    /// Randomness for our engine's ratchet keys.
    pub(crate) rng_ours: StdRng,
    /// Randomness for the oracle's ratchet keys.
    pub(crate) rng_oracle: Rng04,
    /// What happened.
    pub(crate) stats: Stats,
}

impl World {
    /// Both pairs of sessions, from `seed`, with the first message delivered in both.
    pub(crate) fn new(seed: u64) -> Self {
        let mut rng_ours = StdRng::seed_from_u64(seed ^ 0x6f75_7273);
        let mut rng_oracle = Rng04(StdRng::seed_from_u64(seed ^ 0x6f72_6163));
        let (alice, bob, ours_first) = ours_pair(&mut rng_ours);
        let (oracle_alice, oracle_bob, oracle_first) = oracle_pair(&mut rng_oracle);
        let mut parties = [
            Party::new("Alice", alice, oracle_alice),
            Party::new("Bob", bob, oracle_bob),
        ];
        // The first message was Bob's first receive-side ratchet step in both engines: the
        // oracle's `DHr` went from `None` (checked in `oracle_pair`) to Alice's key.
        parties[BOB].oracle_steps = 1;
        let mut world = Self {
            parties,
            in_flight: [VecDeque::new(), VecDeque::new()],
            delivered: [Vec::new(), Vec::new()],
            sent: [Vec::new(), Vec::new()],
            ours_headers: [HeaderLog::default(), HeaderLog::default()],
            oracle_headers: [HeaderLog::default(), HeaderLog::default()],
            receive_steps: [Vec::new(), Vec::new()],
            newest_chain: [0, 0],
            rng_ours,
            rng_oracle,
            stats: Stats::default(),
        };
        let first = Sent {
            plaintext: b"hello".to_vec(),
            ours: ours_first,
            oracle: oracle_first,
            chain: 0,
        };
        // Alice's first header, as both engines sent it: her first ratchet key, PN 0, N 0.
        let ours_key = ours_ratchet_key(&world.parties[ALICE].ours);
        world.ours_headers[ALICE].record(ours_key, 0, 0);
        let mut oracle_key = [0u8; 32];
        oracle_key.copy_from_slice(&first.oracle[..32]);
        world.oracle_headers[ALICE].record(OraclePublic(oracle_key), 0, 0);
        world.delivered[BOB].push(first.clone());
        world.sent[ALICE].push(first);
        world.stats.sent = 1;
        world.stats.delivered = 1;
        for party in &mut world.parties {
            party.compare("after the first message");
        }
        world
    }

    /// Sends a random plaintext from `sender` in both engines and puts it in flight.
    pub(crate) fn send(&mut self, rng: &mut StdRng, sender: usize, context: &str) {
        let mut plaintext = vec![0u8; rng.gen_range(0..48)];
        rng.fill_bytes(&mut plaintext);
        let party = &mut self.parties[sender];
        let (before, _) = observe_ours(&party.ours);
        let dh = ours_ratchet_key(&party.ours);
        let ours = party.ours.encrypt(&plaintext).expect("our engine encrypts");
        let (header, ciphertext) = party
            .oracle
            .try_ratchet_encrypt(&plaintext, ORACLE_AD, &mut self.rng_oracle)
            .expect("every oracle session here can send");
        let ours_chain = self.ours_headers[sender].record(dh, before.pn, before.ns);
        let oracle_chain = self.oracle_headers[sender].record(
            header.dh.clone(),
            header.pn.into(),
            header.n.into(),
        );
        let triples = (
            self.ours_headers[sender].headers.last(),
            self.oracle_headers[sender].headers.last(),
        );
        assert_eq!(
            triples.0, triples.1,
            "{context}: headers (chain, PN, N) differ (left ours, right the oracle)"
        );
        assert_eq!(ours_chain, oracle_chain);
        let message = Sent {
            plaintext,
            ours,
            oracle: oracle_encode(&header, &ciphertext),
            chain: oracle_chain,
        };
        self.parties[sender].compare(context);
        self.sent[sender].push(message.clone());
        self.in_flight[1 - sender].push_back(message);
        self.stats.sent += 1;
    }

    /// Delivers `ours` and `oracle` (one message in each encoding) to `receiver` in both
    /// engines, checks they agree and that a rejection changed neither state, and returns the
    /// common outcome.
    pub(crate) fn decrypt_both(
        &mut self,
        receiver: usize,
        ours: &[u8],
        oracle: &[u8],
        kind: Delivery,
        context: &str,
    ) -> Outcome {
        let party = &mut self.parties[receiver];
        let ours_before = party.ours.clone();
        let oracle_before = format!("{:?}", party.oracle);
        let ours_result = party.ours.decrypt_with_rng(&mut self.rng_ours, ours);
        let oracle_result = oracle_decrypt(&mut party.oracle, oracle);
        let outcome = match (ours_result, oracle_result) {
            (Ok(a), Ok(b)) => {
                assert_eq!(
                    a, b,
                    "{context}: the engines decrypt to different plaintexts"
                );
                Outcome::Accepted(a)
            }
            (Err(a), Err(b)) => {
                assert_eq!(
                    common::snapshot(&party.ours),
                    common::snapshot(&ours_before),
                    "{context}: our rejection {a:?} changed our state"
                );
                assert_eq!(
                    format!("{:?}", party.oracle),
                    oracle_before,
                    "{context}: the oracle's rejection {b:?} changed its state"
                );
                assert_ne!(
                    b,
                    double_ratchet::DecryptError::StorageFull,
                    "{context}: the schedule left the zone where both engines keep every key"
                );
                if kind == Delivery::OverSkipBound {
                    assert_eq!(b, double_ratchet::DecryptError::SkipTooLarge, "{context}");
                }
                check_our_error(&a, kind, context);
                *self.stats.ours_errors.entry(a.code()).or_default() += 1;
                *self
                    .stats
                    .oracle_errors
                    .entry(format!("{b:?}"))
                    .or_default() += 1;
                Outcome::Rejected
            }
            (a, b) => panic!(
                "{context}: {kind:?} delivery to {}: the engines disagree: ours {a:?}, \
                 the oracle {b:?}",
                party.name
            ),
        };
        let (counters, ours_steps) = party.compare(context);
        self.receive_steps[receiver].push((ours_steps, party.oracle_steps));
        self.stats.max_skipped = self.stats.max_skipped.max(counters.skipped);
        outcome
    }

    /// Delivers the in-flight message at `at` to `receiver`: both must accept it.
    pub(crate) fn deliver(&mut self, receiver: usize, at: usize, context: &str) {
        let Some(message) = self.in_flight[receiver].remove(at) else {
            return;
        };
        let skipped_before = self.parties[receiver].ours.skipped_key_count();
        let outcome = self.decrypt_both(
            receiver,
            &message.ours,
            &message.oracle,
            Delivery::Genuine,
            context,
        );
        assert_eq!(
            outcome,
            Outcome::Accepted(message.plaintext.clone()),
            "{context}: a genuine message within the bounds must decrypt to what was sent"
        );
        let skipped_after = self.parties[receiver].ours.skipped_key_count();
        self.stats.delivered += 1;
        self.stats.reordered += usize::from(at > 0);
        self.stats.from_skipped += usize::from(skipped_after < skipped_before);
        self.stats.across_ratchet += usize::from(message.chain < self.newest_chain[receiver]);
        self.newest_chain[receiver] = self.newest_chain[receiver].max(message.chain);
        self.delivered[receiver].push(message);
    }

    /// Delivers something that must be rejected (`kind` is not [`Delivery::Genuine`]).
    pub(crate) fn reject(
        &mut self,
        receiver: usize,
        ours: &[u8],
        oracle: &[u8],
        kind: Delivery,
        context: &str,
    ) {
        let outcome = self.decrypt_both(receiver, ours, oracle, kind, context);
        assert_eq!(
            outcome,
            Outcome::Rejected,
            "{context}: a {kind:?} message was accepted"
        );
        self.stats.replays += usize::from(kind == Delivery::Replay);
        self.stats.tampered += usize::from(kind == Delivery::Tampered);
        self.stats.reflected += usize::from(kind == Delivery::Reflected);
    }

    /// Delivers a copy of the in-flight message at `at` with one random byte of its header
    /// (`in_header`) or of its body changed, in each encoding.
    pub(crate) fn tamper(
        &mut self,
        rng: &mut StdRng,
        receiver: usize,
        at: usize,
        in_header: bool,
        context: &str,
    ) {
        let Some(message) = self.in_flight[receiver].get(at) else {
            return;
        };
        let mut ours = message.ours.clone();
        let mut oracle = message.oracle.clone();
        flip_in_part(rng, &mut ours, 1 + ENCRYPTED_HEADER_LEN, in_header);
        flip_in_part(rng, &mut oracle, ORACLE_HEADER_LEN, in_header);
        self.reject(receiver, &ours, &oracle, Delivery::Tampered, context);
    }
}

/// Changes one random byte of `bytes[..split]` (`in_header`) or of `bytes[split..]`.
fn flip_in_part(rng: &mut StdRng, bytes: &mut [u8], split: usize, in_header: bool) {
    let range = if in_header {
        0..split
    } else {
        split..bytes.len()
    };
    let at = rng.gen_range(range);
    bytes[at] ^= rng.gen_range(1..=255u8);
}
