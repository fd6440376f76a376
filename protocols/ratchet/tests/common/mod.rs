//! Shared helpers: handshakes and the "rejected with the state unchanged" check.
#![allow(dead_code)]

use rand::SeedableRng;
use rand::rngs::StdRng;
use talos_ratchet::{
    DecryptError, IdentityKeyPair, InitialMessage, PrekeyPolicy, PrekeyStore, Session,
};

/// A deterministic RNG.
pub(crate) fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// A responder: identity, prekey store with `one_time` one-time prekeys.
pub(crate) fn responder(rng: &mut StdRng, one_time: usize) -> (IdentityKeyPair, PrekeyStore) {
    let identity = IdentityKeyPair::generate(rng);
    let mut store = PrekeyStore::new(rng, &identity, PrekeyPolicy::default(), 1_000);
    store
        .generate_one_time_prekeys(rng, one_time)
        .expect("within the cap");
    (identity, store)
}

/// Alice's and Bob's sessions after a handshake (with a one-time prekey if `with_opk`),
/// the initial message carrying `b"hello"` already accepted by Bob.
pub(crate) fn pair(rng: &mut StdRng, with_opk: bool) -> (Session, Session) {
    let (bob_id, mut store) = responder(rng, 3);
    let alice_id = IdentityKeyPair::generate(rng);
    let opk = with_opk.then(|| store.one_time_prekey_ids()[0]);
    let bundle = store.bundle(&bob_id, opk).expect("bundle");
    let (alice, initial) = Session::initiate(rng, &alice_id, &bundle, b"hello").expect("initiate");
    let (bob, first) = Session::respond(rng, &bob_id, &mut store, &initial).expect("respond");
    assert_eq!(first, b"hello");
    (alice, bob)
}

/// The serialized state, to compare before and after a call.
pub(crate) fn snapshot(session: &Session) -> Vec<u8> {
    serde_json::to_vec(session).expect("serializable")
}

/// A session restarted from its serialized state.
pub(crate) fn restart(session: &Session) -> Session {
    serde_json::from_slice(&snapshot(session)).expect("deserializable")
}

/// Decrypts `bytes`, expects a rejection and checks the state did not change.
pub(crate) fn reject(session: &mut Session, bytes: &[u8]) -> DecryptError {
    let before = snapshot(session);
    let error = session
        .decrypt(bytes)
        .expect_err("message must be rejected");
    assert_eq!(
        snapshot(session),
        before,
        "state changed on rejection {error:?}"
    );
    error
}

/// Re-encodes an initial message, for tests that tamper with it.
pub(crate) fn reencode(initial: &InitialMessage) -> InitialMessage {
    InitialMessage::decode(&initial.encode()).expect("round trip")
}
