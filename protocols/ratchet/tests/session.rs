//! Double Ratchet sessions: replay, reordering, tampering, foreign messages, bounds. Every
//! rejection is checked to leave the serialized state unchanged.

mod common;

use common::{pair, reject, restart, rng, snapshot};
use talos_ratchet::{
    DecryptError, EncryptError, IdentityKeyPair, MAX_PLAINTEXT_LEN, MAX_SKIP, MESSAGE_OVERHEAD,
    PrekeyPolicy, PrekeyStore, Session, WireError,
};

fn send_many(from: &mut Session, count: u32) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| from.encrypt(&i.to_be_bytes()).expect("encrypt"))
        .collect()
}

#[test]
fn replayed_message_is_rejected() {
    let mut rng = rng(10);
    let (mut alice, mut bob) = pair(&mut rng, true);
    let m1 = alice.encrypt(b"one").expect("encrypt");
    assert_eq!(bob.decrypt(&m1).expect("first delivery"), b"one");
    let err = reject(&mut bob, &m1);
    assert_eq!(err, DecryptError::DuplicateOrExpired { n: 1 });
    assert_eq!(err.code(), "decrypt_duplicate_or_expired");

    // A replay from a chain both sides have ratcheted past: no key opens its header.
    let b1 = bob.encrypt(b"reply").expect("encrypt");
    alice.decrypt(&b1).expect("reply");
    let m2 = alice.encrypt(b"two").expect("encrypt");
    bob.decrypt(&m2).expect("two");
    assert_eq!(reject(&mut bob, &m1), DecryptError::BadHeader);
    assert_eq!(
        reject(&mut alice, &b1),
        DecryptError::DuplicateOrExpired { n: 0 }
    );
}

#[test]
fn reordered_within_bound_decrypts_once() {
    let mut rng = rng(11);
    let (mut alice, mut bob) = pair(&mut rng, false);
    let messages = send_many(&mut alice, 20);
    for (i, m) in messages.iter().enumerate().rev() {
        assert_eq!(bob.decrypt(m).expect("in bound"), (i as u32).to_be_bytes());
    }
    assert_eq!(bob.skipped_key_count(), 0);
    for m in &messages {
        reject(&mut bob, m);
    }

    // Across a DH ratchet: a1 arrives after the chain it belongs to was replaced.
    let a = send_many(&mut alice, 2);
    bob.decrypt(&a[1]).expect("a2");
    alice
        .decrypt(&bob.encrypt(b"b1").expect("encrypt"))
        .expect("b1");
    let a3 = alice.encrypt(b"a3").expect("encrypt");
    bob.decrypt(&a3).expect("a3, ratchets");
    assert_eq!(bob.decrypt(&a[0]).expect("late a1"), 0u32.to_be_bytes());
    assert_eq!(
        reject(&mut bob, &a[0]),
        DecryptError::BadHeader,
        "its skipped chain is gone"
    );
}

#[test]
fn gap_beyond_bound_is_rejected_in_current_chain() {
    let mut rng = rng(12);
    let (mut alice, mut bob) = pair(&mut rng, false);
    let messages = send_many(&mut alice, MAX_SKIP + 2);
    // Bob has received message 0 (the initial one); message n needs n - 1 skipped keys.
    let last = messages.last().expect("some");
    let err = reject(&mut bob, last);
    assert_eq!(
        err,
        DecryptError::TooManySkipped {
            gap: u64::from(MAX_SKIP) + 1,
            max: MAX_SKIP
        }
    );
    let in_bound = &messages[messages.len() - 2];
    bob.decrypt(in_bound).expect("exactly MAX_SKIP skipped");
    assert_eq!(bob.skipped_key_count(), MAX_SKIP as usize);
    bob.decrypt(last).expect("now adjacent");
}

#[test]
fn gap_beyond_bound_is_rejected_across_a_ratchet() {
    let mut rng = rng(13);
    let (mut alice, mut bob) = pair(&mut rng, false);
    // New chain: Bob's first MAX_SKIP + 2 messages, Alice sees only the last.
    let from_bob = send_many(&mut bob, MAX_SKIP + 2);
    let err = reject(&mut alice, from_bob.last().expect("some"));
    assert!(
        matches!(err, DecryptError::TooManySkipped { .. }),
        "{err:?}"
    );
    alice.decrypt(&from_bob[0]).expect("first of the chain");
}

#[test]
fn gap_beyond_bound_is_rejected_in_the_previous_chain() {
    let mut rng = rng(20);
    let (mut alice, mut bob) = pair(&mut rng, false);
    // Alice's first chain: messages 1..=MAX_SKIP + 2 are lost (Bob has message 0).
    let _lost = send_many(&mut alice, MAX_SKIP + 2);
    alice
        .decrypt(&bob.encrypt(b"reply").expect("encrypt"))
        .expect("reply, Alice ratchets");
    // The new chain's header says PN = MAX_SKIP + 3: Bob would skip MAX_SKIP + 2 keys.
    let after = alice.encrypt(b"after").expect("encrypt");
    let err = reject(&mut bob, &after);
    assert_eq!(
        err,
        DecryptError::TooManySkipped {
            gap: u64::from(MAX_SKIP) + 2,
            max: MAX_SKIP
        }
    );
}

#[test]
fn tampered_header_is_rejected() {
    let mut rng = rng(14);
    let (mut alice, mut bob) = pair(&mut rng, true);
    let message = alice.encrypt(b"payload").expect("encrypt");
    for at in 1..1 + talos_ratchet::ENCRYPTED_HEADER_LEN {
        let mut tampered = message.clone();
        tampered[at] ^= 0x40;
        let err = reject(&mut bob, &tampered);
        assert_eq!(err, DecryptError::BadHeader, "byte {at}");
    }
    let mut version = message.clone();
    version[0] = 9;
    assert_eq!(
        reject(&mut bob, &version),
        DecryptError::Wire(WireError::UnknownVersion(9))
    );
    bob.decrypt(&message)
        .expect("the genuine message still decrypts");
}

#[test]
fn tampered_ciphertext_is_rejected() {
    let mut rng = rng(15);
    let (mut alice, mut bob) = pair(&mut rng, true);
    let message = alice.encrypt(&[7u8; 100]).expect("encrypt");
    for at in 1 + talos_ratchet::ENCRYPTED_HEADER_LEN..message.len() {
        let mut tampered = message.clone();
        tampered[at] ^= 1;
        assert_eq!(
            reject(&mut bob, &tampered),
            DecryptError::BadCiphertext,
            "byte {at}"
        );
    }
    let err = reject(&mut bob, &message[..message.len() - 1]);
    assert_eq!(err, DecryptError::BadCiphertext, "truncated body");
    let mut longer = message.clone();
    longer.push(0);
    reject(&mut bob, &longer);
    assert_eq!(bob.decrypt(&message).expect("genuine"), [7u8; 100]);
}

#[test]
fn message_from_another_session_is_rejected() {
    let mut rng = rng(16);
    let (mut alice, mut bob) = pair(&mut rng, true);
    let (mut carol, _bob_with_carol) = pair(&mut rng, true);
    let from_carol = carol.encrypt(b"not for this session").expect("encrypt");
    assert_eq!(reject(&mut bob, &from_carol), DecryptError::BadHeader);

    // The same two identities, a second session: its messages do not open the first.
    let bob_id = IdentityKeyPair::generate(&mut rng);
    let alice_id = IdentityKeyPair::generate(&mut rng);
    let mut store = PrekeyStore::new(&mut rng, &bob_id, PrekeyPolicy::default(), 0);
    let bundle = store.bundle(&bob_id, None).expect("bundle");
    let (mut a1, i1) = Session::initiate(&mut rng, &alice_id, &bundle, b"1").expect("initiate");
    let (mut a2, i2) = Session::initiate(&mut rng, &alice_id, &bundle, b"2").expect("initiate");
    let (mut b1, _) = Session::respond(&mut rng, &bob_id, &mut store, &i1).expect("respond");
    let (mut b2, _) = Session::respond(&mut rng, &bob_id, &mut store, &i2).expect("respond");
    assert_eq!(
        reject(&mut b1, &a2.encrypt(b"x").expect("encrypt")),
        DecryptError::BadHeader
    );
    assert_eq!(
        reject(&mut a1, &b2.encrypt(b"y").expect("encrypt")),
        DecryptError::BadHeader
    );
    assert_eq!(reject(&mut b1, &i2.message), DecryptError::BadHeader);
    assert!(alice.decrypt(&bob.encrypt(b"ok").expect("encrypt")).is_ok());
}

#[test]
fn malformed_and_oversized_inputs_are_typed_errors() {
    let mut rng = rng(17);
    let (mut alice, mut bob) = pair(&mut rng, true);
    let too_short = reject(&mut bob, &[1u8; MESSAGE_OVERHEAD - 1]);
    assert_eq!(too_short.code(), "wire_too_short");
    assert!(matches!(
        reject(&mut bob, &[]),
        DecryptError::Wire(WireError::TooShort { .. })
    ));
    assert_eq!(
        reject(&mut bob, &[1u8; MESSAGE_OVERHEAD]),
        DecryptError::BadHeader
    );
    let huge = vec![1u8; talos_ratchet::MAX_MESSAGE_LEN + 1];
    assert!(matches!(
        reject(&mut bob, &huge),
        DecryptError::Wire(WireError::TooLong { .. })
    ));

    let before = snapshot(&alice);
    let err = alice
        .encrypt(&vec![0u8; MAX_PLAINTEXT_LEN + 1])
        .expect_err("over cap");
    assert_eq!(
        err,
        EncryptError::PlaintextTooLong {
            len: MAX_PLAINTEXT_LEN + 1,
            max: MAX_PLAINTEXT_LEN
        }
    );
    assert_eq!(snapshot(&alice), before);
    let max = alice
        .encrypt(&vec![0u8; MAX_PLAINTEXT_LEN])
        .expect("at cap");
    assert_eq!(bob.decrypt(&max).expect("at cap").len(), MAX_PLAINTEXT_LEN);
    assert_eq!(
        bob.decrypt(&alice.encrypt(b"").expect("empty"))
            .expect("empty"),
        b""
    );
}

#[test]
fn serialization_round_trip_mid_conversation() {
    let mut rng = rng(18);
    let (mut alice, mut bob) = pair(&mut rng, true);
    let early = send_many(&mut alice, 3);
    bob.decrypt(&early[2]).expect("skips two");
    let reply = bob.encrypt(b"reply").expect("encrypt");
    let in_flight = alice.encrypt(b"in flight").expect("encrypt");

    let mut alice = restart(&alice);
    let mut bob = restart(&bob);
    assert_eq!(bob.skipped_key_count(), 2);
    assert_eq!(alice.decrypt(&reply).expect("after restart"), b"reply");
    assert_eq!(
        bob.decrypt(&early[0]).expect("skipped key survived"),
        0u32.to_be_bytes()
    );
    assert_eq!(bob.decrypt(&in_flight).expect("in flight"), b"in flight");
    for round in 0..5u8 {
        let m = alice.encrypt(&[round]).expect("encrypt");
        bob = restart(&bob);
        assert_eq!(bob.decrypt(&m).expect("a to b"), [round]);
        let m = bob.encrypt(&[round, round]).expect("encrypt");
        alice = restart(&alice);
        assert_eq!(alice.decrypt(&m).expect("b to a"), [round, round]);
    }
    assert_eq!(
        bob.decrypt(&early[1]).expect("still held"),
        1u32.to_be_bytes()
    );
    assert_eq!(
        snapshot(&restart(&bob)),
        snapshot(&bob),
        "serialization is lossless"
    );
}

#[test]
fn debug_output_redacts_keys() {
    let mut rng = rng(19);
    let (alice, _) = pair(&mut rng, true);
    let state: serde_json::Value = serde_json::from_slice(&snapshot(&alice)).expect("json");
    let root: Vec<u8> = serde_json::from_value(state["root"].clone()).expect("root bytes");
    let shown = format!("{alice:?}");
    let hex: String = root.iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        !shown.contains(&hex) && !shown.contains(&format!("{root:?}")),
        "{shown}"
    );
    assert!(shown.contains("ns"));
}
