//! X3DH: bundles, signatures, prekey consumption and rotation.

mod common;

use common::{pair, responder, rng};
use talos_ratchet::{
    AD_LEN, IdentityKeyPair, PrekeyError, PrekeyPolicy, PrekeyStore, Role, Session, X3dhError,
};

#[test]
fn handshake_with_and_without_one_time_prekey() {
    for with_opk in [true, false] {
        let mut rng = rng(1);
        let (mut alice, mut bob) = pair(&mut rng, with_opk);
        assert_eq!(alice.role(), Role::Initiator);
        assert_eq!(bob.role(), Role::Responder);
        assert_eq!(alice.associated_data(), bob.associated_data());
        let reply = bob.encrypt(b"hi alice").expect("encrypt");
        assert_eq!(alice.decrypt(&reply).expect("decrypt"), b"hi alice");
        let next = alice.encrypt(b"again").expect("encrypt");
        assert_eq!(bob.decrypt(&next).expect("decrypt"), b"again");
    }
}

#[test]
fn associated_data_binds_both_identities() {
    let mut rng = rng(2);
    let (bob_id, mut store) = responder(&mut rng, 1);
    let alice_id = IdentityKeyPair::generate(&mut rng);
    let bundle = store.bundle(&bob_id, None).expect("bundle");
    let (alice, initial) = Session::initiate(&mut rng, &alice_id, &bundle, b"x").expect("initiate");
    let (bob, _) = Session::respond(&mut rng, &bob_id, &mut store, &initial).expect("respond");
    let ad = alice.associated_data();
    assert_eq!(ad.len(), AD_LEN);
    assert_eq!(ad[..32], alice_id.public().ed25519);
    assert_eq!(ad[32..64], alice_id.public().dh);
    assert_eq!(ad[64..96], bob_id.public().ed25519);
    assert_eq!(ad[96..], bob_id.public().dh);
    assert_eq!(alice.remote_identity(), bob_id.public());
    assert_eq!(bob.remote_identity(), alice_id.public());
}

#[test]
fn forged_prekey_signature_aborts() {
    let mut rng = rng(3);
    let (bob_id, store) = responder(&mut rng, 1);
    let alice_id = IdentityKeyPair::generate(&mut rng);
    let good = store.bundle(&bob_id, None).expect("bundle");

    let mut forged = good;
    forged.signed_prekey.key = IdentityKeyPair::generate(&mut rng).public().dh;
    let err = Session::initiate(&mut rng, &alice_id, &forged, b"x").expect_err("forged SPK");
    assert_eq!(err, X3dhError::BadPrekeySignature);
    assert_eq!(err.code(), "x3dh_bad_prekey_signature");

    let mut forged = good;
    forged.signed_prekey.id += 1;
    assert_eq!(
        Session::initiate(&mut rng, &alice_id, &forged, b"x").err(),
        Some(X3dhError::BadPrekeySignature)
    );

    // A signed prekey signed by someone else, presented under Bob's identity.
    let mallory = IdentityKeyPair::generate(&mut rng);
    let mallory_store = PrekeyStore::new(&mut rng, &mallory, PrekeyPolicy::default(), 0);
    let mut forged = good;
    forged.signed_prekey = mallory_store.signed_prekey();
    assert_eq!(
        Session::initiate(&mut rng, &alice_id, &forged, b"x").err(),
        Some(X3dhError::BadPrekeySignature)
    );

    let mut forged = good;
    forged.identity.dh = mallory.public().dh;
    assert_eq!(
        Session::initiate(&mut rng, &alice_id, &forged, b"x").err(),
        Some(X3dhError::BadIdentitySignature)
    );
}

#[test]
fn one_time_prekey_is_consumed_once() {
    let mut rng = rng(4);
    let (bob_id, mut store) = responder(&mut rng, 2);
    let alice_id = IdentityKeyPair::generate(&mut rng);
    let opk = store.one_time_prekey_ids()[0];
    let bundle = store.bundle(&bob_id, Some(opk)).expect("bundle");
    let (_, initial) = Session::initiate(&mut rng, &alice_id, &bundle, b"x").expect("initiate");
    Session::respond(&mut rng, &bob_id, &mut store, &initial).expect("first use");
    assert!(
        !store.one_time_prekey_ids().contains(&opk),
        "deleted after use"
    );

    let err = Session::respond(&mut rng, &bob_id, &mut store, &initial).expect_err("replay");
    assert_eq!(err, X3dhError::UnknownOneTimePrekey(opk));
    let mut unknown = common::reencode(&initial);
    unknown.one_time_prekey_id = Some(999);
    let err = Session::respond(&mut rng, &bob_id, &mut store, &unknown).expect_err("unknown id");
    assert_eq!(err, X3dhError::UnknownOneTimePrekey(999));
    assert_eq!(err.code(), "x3dh_unknown_one_time_prekey");
}

#[test]
fn failed_initial_message_consumes_nothing() {
    let mut rng = rng(5);
    let (bob_id, mut store) = responder(&mut rng, 1);
    let alice_id = IdentityKeyPair::generate(&mut rng);
    let opk = store.one_time_prekey_ids()[0];
    let bundle = store.bundle(&bob_id, Some(opk)).expect("bundle");
    let (_, initial) = Session::initiate(&mut rng, &alice_id, &bundle, b"x").expect("initiate");

    let mut tampered = initial.clone();
    let last = tampered.message.len() - 1;
    tampered.message[last] ^= 1;
    let err = Session::respond(&mut rng, &bob_id, &mut store, &tampered).expect_err("tampered");
    assert!(matches!(err, X3dhError::Decrypt(_)), "{err:?}");
    // An impostor claiming another identity: IK_A feeds DH1 and AD, so nothing decrypts.
    let mut impostor = initial.clone();
    impostor.identity = *IdentityKeyPair::generate(&mut rng).public();
    assert!(matches!(
        Session::respond(&mut rng, &bob_id, &mut store, &impostor),
        Err(X3dhError::Decrypt(_))
    ));
    let mut forged = initial.clone();
    forged.identity.dh[0] ^= 1;
    assert_eq!(
        Session::respond(&mut rng, &bob_id, &mut store, &forged).err(),
        Some(X3dhError::BadIdentitySignature)
    );
    let mut low_order = initial.clone();
    low_order.ephemeral = [0; 32];
    assert_eq!(
        Session::respond(&mut rng, &bob_id, &mut store, &low_order).err(),
        Some(X3dhError::NonContributory)
    );

    assert_eq!(store.one_time_prekey_ids(), vec![opk], "nothing consumed");
    Session::respond(&mut rng, &bob_id, &mut store, &initial)
        .expect("the genuine message still works");
}

#[test]
fn signed_prekey_rotation_and_grace_period() {
    let mut rng = rng(6);
    let bob_id = IdentityKeyPair::generate(&mut rng);
    let policy = PrekeyPolicy {
        rotation_interval_secs: 100,
        grace_period_secs: 50,
        max_one_time_prekeys: 4,
    };
    let mut store = PrekeyStore::new(&mut rng, &bob_id, policy, 0);
    let alice_id = IdentityKeyPair::generate(&mut rng);
    let old_bundle = store.bundle(&bob_id, None).expect("bundle");
    let (_, late) = Session::initiate(&mut rng, &alice_id, &old_bundle, b"late").expect("initiate");

    assert_eq!(store.rotate_if_due(&mut rng, &bob_id, 99), Ok(false));
    assert_eq!(store.rotate_if_due(&mut rng, &bob_id, 100), Ok(true));
    assert_ne!(store.signed_prekey().id, old_bundle.signed_prekey.id);
    assert_eq!(
        store.previous_signed_prekey_id(),
        Some(old_bundle.signed_prekey.id)
    );
    let new_bundle = store.bundle(&bob_id, None).expect("bundle");
    new_bundle
        .signed_prekey
        .verify(bob_id.public())
        .expect("new SPK is signed");

    // Within the grace period the previous signed prekey still answers.
    store.prune(149);
    let (_, text) = Session::respond(&mut rng, &bob_id, &mut store, &late).expect("grace");
    assert_eq!(text, b"late");
    store.prune(150);
    assert_eq!(store.previous_signed_prekey_id(), None);
    let err = Session::respond(&mut rng, &bob_id, &mut store, &late).expect_err("rotated out");
    assert_eq!(
        err,
        X3dhError::UnknownSignedPrekey(old_bundle.signed_prekey.id)
    );
}

#[test]
fn one_time_prekey_cap_and_ids() {
    let mut rng = rng(7);
    let bob_id = IdentityKeyPair::generate(&mut rng);
    let policy = PrekeyPolicy {
        max_one_time_prekeys: 3,
        ..PrekeyPolicy::default()
    };
    let mut store = PrekeyStore::new(&mut rng, &bob_id, policy, 0);
    let published = store
        .generate_one_time_prekeys(&mut rng, 2)
        .expect("within cap");
    assert_eq!(
        published.iter().map(|k| k.id).collect::<Vec<_>>(),
        vec![1, 2]
    );
    let err = store
        .generate_one_time_prekeys(&mut rng, 2)
        .expect_err("over cap");
    assert_eq!(
        err,
        PrekeyError::TooManyOneTimePrekeys {
            requested: 2,
            have: 2,
            max: 3
        }
    );
    assert_eq!(
        store.bundle(&bob_id, Some(9)).err(),
        Some(PrekeyError::UnknownOneTimePrekey(9))
    );
    let bundle = store.bundle(&bob_id, Some(2)).expect("bundle");
    assert_eq!(
        bundle.one_time_prekey.map(|k| k.key),
        Some(published[1].key)
    );
    assert!(!format!("{store:?}").contains("secret"));
    let restored: PrekeyStore =
        serde_json::from_slice(&serde_json::to_vec(&store).expect("ser")).expect("de");
    assert_eq!(restored.one_time_prekey_ids(), vec![1, 2]);
}
