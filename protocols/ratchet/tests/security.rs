//! Forward secrecy and post-compromise recovery, with an attacker holding stolen states.

mod common;

use common::{pair, reject, restart, rng};
use talos_ratchet::{DecryptError, Session};

/// Alternating conversation: returns every message Alice sent, in order.
fn converse(alice: &mut Session, bob: &mut Session, rounds: u8) -> Vec<Vec<u8>> {
    let mut sent_by_alice = Vec::new();
    for round in 0..rounds {
        for k in 0..3u8 {
            let m = alice.encrypt(&[round, k]).expect("encrypt");
            assert_eq!(bob.decrypt(&m).expect("decrypt"), [round, k]);
            sent_by_alice.push(m);
        }
        let reply = bob.encrypt(&[round]).expect("encrypt");
        alice.decrypt(&reply).expect("decrypt");
    }
    sent_by_alice
}

#[test]
fn used_message_keys_are_deleted() {
    let mut rng = rng(30);
    let (mut alice, mut bob) = pair(&mut rng, true);
    let old = converse(&mut alice, &mut bob, 3);
    // The receiver's own current state cannot open what it already opened.
    for m in &old {
        let err = reject(&mut bob, m);
        assert!(
            matches!(
                err,
                DecryptError::DuplicateOrExpired { .. } | DecryptError::BadHeader
            ),
            "{err:?}"
        );
    }
}

#[test]
fn stolen_current_state_cannot_decrypt_earlier_messages() {
    let mut rng = rng(31);
    let (mut alice, mut bob) = pair(&mut rng, true);
    let mut old = converse(&mut alice, &mut bob, 3);
    // Include a message of the current chain, received in order just before the theft.
    let m = alice.encrypt(b"last before theft").expect("encrypt");
    bob.decrypt(&m).expect("decrypt");
    old.push(m);

    let stolen = restart(&bob);
    for (i, m) in old.iter().enumerate() {
        let mut attacker = restart(&stolen);
        let err = attacker
            .decrypt(m)
            .expect_err("earlier message must stay secret");
        assert!(
            matches!(
                err,
                DecryptError::DuplicateOrExpired { .. } | DecryptError::BadHeader
            ),
            "{i}: {err:?}"
        );
    }
    // The stolen state does open what is sent after the theft, until the victim ratchets.
    let next = alice.encrypt(b"after theft").expect("encrypt");
    assert_eq!(
        restart(&stolen).decrypt(&next).expect("same chain"),
        b"after theft"
    );
    bob.decrypt(&next).expect("victim too");
}

#[test]
fn stolen_state_is_locked_out_after_the_victim_ratchets() {
    let mut rng = rng(32);
    let (mut alice, mut bob) = pair(&mut rng, true);
    converse(&mut alice, &mut bob, 2);
    let stolen = restart(&bob);

    // Bob (the victim) sends with a fresh ratchet key once Alice's next chain reaches him;
    // from Alice's following chain on, the stolen state is behind.
    let a1 = alice.encrypt(b"a1").expect("encrypt");
    bob.decrypt(&a1).expect("Bob ratchets, new key pair");
    let b1 = bob.encrypt(b"b1").expect("encrypt");
    alice
        .decrypt(&b1)
        .expect("Alice ratchets onto Bob's new key");
    let a2 = alice.encrypt(b"a2 secret").expect("encrypt");
    let a3 = alice.encrypt(b"a3 secret").expect("encrypt");

    let mut attacker = restart(&stolen);
    assert_eq!(attacker.decrypt(&a2), Err(DecryptError::BadHeader));
    // Even replaying the traffic it saw, its own ratchet key pair differs from Bob's.
    // Header keys lag message keys by one step (the header key of a chain comes from the DH
    // output of the step before): the attacker may open a2's header, never its body.
    let mut attacker = restart(&stolen);
    attacker
        .decrypt(&a1)
        .expect("a1 was still under the stolen keys");
    assert_eq!(reject(&mut attacker, &a2), DecryptError::BadCiphertext);
    assert_eq!(reject(&mut attacker, &a3), DecryptError::BadCiphertext);
    assert_eq!(bob.decrypt(&a3).expect("victim"), b"a3 secret");
    assert_eq!(bob.decrypt(&a2).expect("victim, reordered"), b"a2 secret");
    // One more round trip and the headers are out of reach too.
    alice
        .decrypt(&bob.encrypt(b"b2").expect("encrypt"))
        .expect("b2");
    let a4 = alice.encrypt(b"a4 secret").expect("encrypt");
    assert_eq!(reject(&mut attacker, &a4), DecryptError::BadHeader);
    assert_eq!(bob.decrypt(&a4).expect("victim"), b"a4 secret");

    // The attacker cannot impersonate Alice to Bob any more either: Bob's chain moved on.
    let mut old_alice_view = restart(&stolen);
    let forged = old_alice_view.encrypt(b"forged").expect("encrypt");
    let err = reject(&mut alice, &forged);
    assert!(
        matches!(
            err,
            DecryptError::BadHeader | DecryptError::DuplicateOrExpired { .. }
        ),
        "{err:?}"
    );
}
