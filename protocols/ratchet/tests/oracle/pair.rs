//! How each engine's Alice/Bob pair is built (ours through X3DH, the oracle from a shared
//! secret, both through the same first message), and one person's session in each engine.

use double_ratchet::KeyPair;
use rand::rngs::StdRng;
use talos_ratchet::{IdentityKeyPair, Session};

use crate::common;
use crate::observe::{Counters, observe_oracle, observe_ours};
use crate::oracle_session::{ORACLE_AD, Oracle, Rng04, oracle_decrypt, oracle_encode};
use crate::provider::{OracleKeyPair, RootKey};

/// One person's session in each engine.
pub(crate) struct Party {
    /// "Alice" or "Bob", for messages.
    pub(crate) name: &'static str,
    /// Our engine's session.
    pub(crate) ours: Session,
    /// The oracle's session.
    pub(crate) oracle: Oracle,
    /// The oracle's `DHr` as last seen in its `Debug` output.
    pub(crate) oracle_dhr: String,
    /// Receive-side DH ratchet steps of the oracle (changes of `DHr` seen so far).
    pub(crate) oracle_steps: u64,
}

/// Our pair of sessions after X3DH, and the first message (`hello`) Bob accepted.
pub(crate) fn ours_pair(rng: &mut StdRng) -> (Session, Session, Vec<u8>) {
    let (bob_id, mut store) = common::responder(rng, 1);
    let alice_id = IdentityKeyPair::generate(rng);
    let opk = store.one_time_prekey_ids().first().copied();
    let bundle = store.bundle(&bob_id, opk).expect("the store has a bundle");
    let (alice, initial) =
        Session::initiate(rng, &alice_id, &bundle, b"hello").expect("X3DH initiates");
    let (bob, first) = Session::respond(rng, &bob_id, &mut store, &initial).expect("X3DH responds");
    assert_eq!(first, b"hello");
    (alice, bob, initial.message)
}

/// The oracle's pair of sessions after the same first message, and that message.
pub(crate) fn oracle_pair(rng: &mut Rng04) -> (Oracle, Oracle, Vec<u8>) {
    let mut shared = [0u8; 32];
    rand_core_04::RngCore::fill_bytes(rng, &mut shared);
    let bob_key = OracleKeyPair::new(rng);
    let mut alice = Oracle::new_alice(&RootKey(shared), bob_key.public().clone(), None, rng);
    let mut bob = Oracle::new_bob(RootKey(shared), bob_key, None);
    assert_eq!(
        observe_oracle(&bob).1,
        "None",
        "a new oracle Bob has no DHr"
    );
    let (header, ciphertext) = alice.ratchet_encrypt(b"hello", ORACLE_AD, rng);
    let first = oracle_encode(&header, &ciphertext);
    let plaintext = oracle_decrypt(&mut bob, &first).expect("the oracle's first message decrypts");
    assert_eq!(plaintext, b"hello");
    (alice, bob, first)
}

impl Party {
    /// A party from its two sessions.
    pub(crate) fn new(name: &'static str, ours: Session, oracle: Oracle) -> Self {
        let (_, oracle_dhr) = observe_oracle(&oracle);
        Self {
            name,
            ours,
            oracle,
            oracle_dhr,
            oracle_steps: 0,
        }
    }

    /// Checks both engines show the same counters; returns them and our receive-side ratchet
    /// steps. Also counts the oracle's receive-side ratchet steps from its `DHr`.
    pub(crate) fn compare(&mut self, context: &str) -> (Counters, u64) {
        let (ours, steps) = observe_ours(&self.ours);
        let (oracle, dhr) = observe_oracle(&self.oracle);
        if dhr != self.oracle_dhr {
            self.oracle_dhr = dhr;
            self.oracle_steps += 1;
        }
        assert_eq!(
            ours, oracle,
            "{context}: {}'s counters differ (left ours, right the oracle)",
            self.name
        );
        (ours, steps)
    }
}
