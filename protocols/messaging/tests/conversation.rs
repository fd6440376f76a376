//! The session manager: first contact, answers that confirm, simultaneous starts converging,
//! handshakes that cannot replace a session, and unchanged state on every refusal.

use rand_core::OsRng;
use talos_messaging::{Conversation, OpenError, SealedParts};
use talos_ratchet::{IdentityKeyPair, PrekeyPolicy, PrekeyStore};

struct Agent {
    id: IdentityKeyPair,
    prekeys: PrekeyStore,
}

impl Agent {
    fn new() -> Self {
        let id = IdentityKeyPair::generate(&mut OsRng);
        let prekeys = PrekeyStore::new(&mut OsRng, &id, PrekeyPolicy::default(), 0);
        Self { id, prekeys }
    }

    fn key(&self) -> [u8; 32] {
        self.id.public().ed25519
    }

    fn bundle(&self) -> talos_ratchet::PrekeyBundle {
        self.prekeys.bundle(&self.id, None).unwrap()
    }

    fn open(&mut self, conv: &mut Conversation, from: &Agent, parts: &SealedParts) -> Vec<u8> {
        conv.open(&mut OsRng, &self.id, &mut self.prekeys, &from.key(), parts)
            .unwrap()
            .payload
            .body
    }

    fn accept(&mut self, from: &Agent, parts: &SealedParts) -> (Conversation, Vec<u8>) {
        let (conv, opened) =
            Conversation::accept(&mut OsRng, &self.id, &mut self.prekeys, &from.key(), parts)
                .unwrap();
        assert!(opened.new_session);
        (conv, opened.payload.body)
    }
}

fn state(conv: &Conversation) -> Vec<u8> {
    serde_json::to_vec(conv).unwrap()
}

#[test]
fn first_contact_then_an_answer_confirms_and_drops_the_handshake() {
    let (alice, mut bob) = (Agent::new(), Agent::new());
    let (mut a, first) =
        Conversation::start(&mut OsRng, &alice.id, &bob.bundle(), 10, b"hi").unwrap();
    assert!(first.handshake.is_some());
    assert!(!a.is_confirmed());
    // Until Bob answers, every message carries the handshake.
    let second = a.seal(0, b"again").unwrap();
    assert_eq!(second.handshake, first.handshake);
    // Out of order: the second arrives first and starts the session.
    let (mut b, body) = bob.accept(&alice, &second);
    assert_eq!(body, b"again");
    assert_eq!(bob.open(&mut b, &alice, &first), b"hi");
    let reply = b.seal(500, b"hello").unwrap();
    assert!(reply.handshake.is_none());
    let mut alice = alice;
    assert_eq!(alice.open(&mut a, &bob, &reply), b"hello");
    assert!(a.is_confirmed());
    assert!(a.seal(0, b"x").unwrap().handshake.is_none());
    // Sequence numbers only grow, from the floor the caller gives.
    assert_eq!(a.next_seq(), 13);
    assert_eq!(b.next_seq(), 501);
}

#[test]
fn a_known_handshake_goes_to_its_session_and_never_replaces_it() {
    let (alice, mut bob) = (Agent::new(), Agent::new());
    let (mut a, first) =
        Conversation::start(&mut OsRng, &alice.id, &bob.bundle(), 0, b"1").unwrap();
    let (mut b, _) = bob.accept(&alice, &first);
    let before = state(&b);
    // The same handshake again (a replayed envelope's parts): refused as a duplicate, and the
    // session is not re-created from it.
    let err = b
        .open(&mut OsRng, &bob.id, &mut bob.prekeys, &alice.key(), &first)
        .unwrap_err();
    assert!(matches!(err, OpenError::Decrypt(_)), "{err:?}");
    assert_eq!(state(&b), before);
    let later = a.seal(0, b"2").unwrap();
    assert_eq!(bob.open(&mut b, &alice, &later), b"2");
    assert_eq!(b.previous_sessions(), 0);
}

#[test]
fn a_handshake_naming_another_identity_is_refused() {
    let (alice, mut bob, mallory) = (Agent::new(), Agent::new(), Agent::new());
    let (_, first) = Conversation::start(&mut OsRng, &alice.id, &bob.bundle(), 0, b"1").unwrap();
    // Mallory signs Alice's handshake as her own envelope: the identity inside is Alice's.
    let err = Conversation::accept(
        &mut OsRng,
        &bob.id,
        &mut bob.prekeys,
        &mallory.key(),
        &first,
    )
    .unwrap_err();
    assert_eq!(err, OpenError::ForeignHandshake);
}

#[test]
fn simultaneous_starts_converge_on_one_session() {
    let (mut alice, mut bob) = (Agent::new(), Agent::new());
    let (mut a, a_first) =
        Conversation::start(&mut OsRng, &alice.id, &bob.bundle(), 0, b"a1").unwrap();
    let (mut b, b_first) =
        Conversation::start(&mut OsRng, &bob.id, &alice.bundle(), 0, b"b1").unwrap();
    // Each receives the other's handshake: a new current session on both sides.
    assert_eq!(bob.open(&mut b, &alice, &a_first), b"a1");
    assert_eq!(alice.open(&mut a, &bob, &b_first), b"b1");
    assert_eq!((a.previous_sessions(), b.previous_sessions()), (1, 1));
    // From here both directions work, whatever session each side picked.
    for round in 0..3u8 {
        let m = a.seal(0, &[round]).unwrap();
        assert_eq!(bob.open(&mut b, &alice, &m), [round]);
        let m = b.seal(0, &[round, round]).unwrap();
        assert_eq!(alice.open(&mut a, &bob, &m), [round, round]);
    }
}

#[test]
fn a_new_handshake_from_the_sender_starts_over_and_keeps_the_old_session() {
    let (alice, mut bob) = (Agent::new(), Agent::new());
    let (mut a, first) =
        Conversation::start(&mut OsRng, &alice.id, &bob.bundle(), 0, b"1").unwrap();
    let (mut b, _) = bob.accept(&alice, &first);
    let late = a.seal(0, b"late").unwrap();
    // Alice lost her state and starts again.
    let (_, restart) =
        Conversation::start(&mut OsRng, &alice.id, &bob.bundle(), 100, b"new").unwrap();
    assert_eq!(bob.open(&mut b, &alice, &restart), b"new");
    assert_eq!(b.previous_sessions(), 1);
    // A message still in flight on the old session decrypts under it.
    assert_eq!(bob.open(&mut b, &alice, &late), b"late");
}

#[test]
fn tampered_parts_leave_the_conversation_unchanged() {
    let (alice, mut bob) = (Agent::new(), Agent::new());
    let (mut a, first) =
        Conversation::start(&mut OsRng, &alice.id, &bob.bundle(), 0, b"1").unwrap();
    let (mut b, _) = bob.accept(&alice, &first);
    let good = a.seal(0, b"2").unwrap();
    let before = state(&b);
    for tamper in [0usize, 1] {
        let mut bad = good.clone();
        if tamper == 0 {
            bad.header[5] ^= 1;
        } else {
            bad.ciphertext[0] ^= 1;
        }
        bad.handshake = None;
        assert!(
            b.open(&mut OsRng, &bob.id, &mut bob.prekeys, &alice.key(), &bad)
                .is_err()
        );
        assert_eq!(state(&b), before);
    }
    assert_eq!(bob.open(&mut b, &alice, &good), b"2");
}

#[test]
fn conversations_survive_serialization() {
    let (mut alice, mut bob) = (Agent::new(), Agent::new());
    let (a, first) = Conversation::start(&mut OsRng, &alice.id, &bob.bundle(), 0, b"1").unwrap();
    let (b, _) = bob.accept(&alice, &first);
    let mut a: Conversation = serde_json::from_slice(&state(&a)).unwrap();
    let mut b: Conversation = serde_json::from_slice(&state(&b)).unwrap();
    let m = b.seal(0, b"back").unwrap();
    assert_eq!(alice.open(&mut a, &bob, &m), b"back");
    let m = a.seal(0, b"forth").unwrap();
    assert_eq!(bob.open(&mut b, &alice, &m), b"forth");
}
