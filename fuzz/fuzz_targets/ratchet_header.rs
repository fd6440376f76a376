//! Fuzzes the talos-ratchet wire decoders (`MessageRef::decode`, `InitialMessage::decode`)
//! and a live session's `decrypt`: arbitrary bytes decode or fail with a typed error, decoded
//! messages re-encode to the same bytes, and a session fed them rejects them (or, for the
//! genuine seed, accepts it) without panicking; a rejection leaves its state unchanged.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use talos_ratchet::rand_core::OsRng;
use talos_ratchet::{
    IdentityKeyPair, InitialMessage, MessageRef, PrekeyPolicy, PrekeyStore, Session,
};

/// Bob's side of a session whose first message has been received.
fn session() -> &'static Session {
    static SESSION: OnceLock<Session> = OnceLock::new();
    SESSION.get_or_init(|| {
        let bob_id = IdentityKeyPair::generate(&mut OsRng);
        let mut store = PrekeyStore::new(&mut OsRng, &bob_id, PrekeyPolicy::default(), 0);
        let alice_id = IdentityKeyPair::generate(&mut OsRng);
        let bundle = store.bundle(&bob_id, None).expect("bundle");
        let (_, initial) =
            Session::initiate(&mut OsRng, &alice_id, &bundle, b"seed").expect("initiate");
        Session::respond(&mut OsRng, &bob_id, &mut store, &initial)
            .expect("respond")
            .0
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = MessageRef::decode(data) {
        assert_eq!(message.to_bytes(), data, "re-encoded message");
        assert_eq!(
            message.plaintext_len() + talos_ratchet::MESSAGE_OVERHEAD,
            data.len()
        );
    }
    if let Ok(initial) = InitialMessage::decode(data) {
        assert_eq!(initial.encode(), data, "re-encoded initial message");
        assert!(
            MessageRef::decode(&initial.message).is_ok(),
            "embedded message decodes"
        );
    }
    let mut session = session().clone();
    let before = serde_json::to_vec(&session).expect("serializable");
    if let Err(error) = session.decrypt(data) {
        let _ = error.code();
        assert_eq!(
            serde_json::to_vec(&session).expect("serializable"),
            before,
            "{error:?}"
        );
    }
});
