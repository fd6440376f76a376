//! The two crates agree: a prekey bundle built and checked by `talos-identity` (what a DID
//! document and an online agent serve) from a ratchet prekey store starts an X3DH session, and
//! the ratchet's own signatures are the ones `talos-identity` verifies.

mod common;

use common::rng;
use ed25519_dalek::{Signature, SigningKey};
use talos_identity::{OneTimePrekey, SignedPrekey, X25519PublicKey, validate_bundle};
use talos_ratchet::{IdentityKeyPair, PrekeyBundle, PrekeyPolicy, PrekeyStore, Session};

#[test]
fn an_identity_bundle_of_a_ratchet_store_starts_a_session() {
    let mut rng = rng(40);
    let seed = [0x42; 32];
    let signing = SigningKey::from_bytes(&seed);
    let bob = IdentityKeyPair::from_ed25519_seed(&mut rng, &seed);
    let mut store = PrekeyStore::new(&mut rng, &bob, PrekeyPolicy::default(), 0);
    let one_time = store.generate_one_time_prekeys(&mut rng, 1).expect("room");
    let ours = store.bundle(&bob, Some(one_time[0].id)).expect("a bundle");
    let dh = X25519PublicKey::from_bytes(bob.public().dh);

    // The ratchet's signatures verify under talos-identity's messages.
    let spk = SignedPrekey {
        id: ours.signed_prekey.id,
        public: X25519PublicKey::from_bytes(ours.signed_prekey.key),
        created_at_ms: 0,
        signature: Signature::from_bytes(&ours.signed_prekey.signature),
    };
    assert!(spk.verify(&signing.verifying_key(), &dh));
    let dh_signature = Signature::from_bytes(&bob.public().dh_signature);
    assert!(talos_identity::verify_identity_dh(
        &signing.verifying_key(),
        &dh,
        &dh_signature
    ));

    // A bundle talos-identity built, encoded and checked converts and starts a session.
    let otk = ours.one_time_prekey.map(|k| OneTimePrekey {
        id: k.id,
        public: X25519PublicKey::from_bytes(k.key),
    });
    let bundle = talos_identity::PrekeyBundle::new(&signing, dh, spk, otk).expect("valid");
    let checked = validate_bundle(&bundle.encode(), &signing.verifying_key()).expect("checked");
    let converted = PrekeyBundle::from(&checked);
    assert_eq!(converted, ours);
    let alice = IdentityKeyPair::generate(&mut rng);
    let (mut a, initial) =
        Session::initiate(&mut rng, &alice, &converted, b"hello bob").expect("x3dh");
    let (mut b, first) = Session::respond(&mut rng, &bob, &mut store, &initial).expect("x3dh");
    assert_eq!(first, b"hello bob");
    let reply = b.encrypt(b"hello alice").expect("encrypts");
    assert_eq!(a.decrypt(&reply).expect("decrypts"), b"hello alice");
}
