//! Prekey bundles: round trips and every rejection.

use super::{document, identity_dh, key, signed_prekey};
use crate::{
    BundleError, MAX_BUNDLE_BYTES, OneTimePrekey, PrekeyBundle, X25519PublicKey, did_key,
    sign_identity_dh, validate_bundle,
};

const ONE_TIME: OneTimePrekey = OneTimePrekey {
    id: 3,
    public: X25519PublicKey::from_bytes([33; 32]),
};

fn bundle(one_time: Option<OneTimePrekey>) -> PrekeyBundle {
    PrekeyBundle::new(&key(1), identity_dh(1), signed_prekey(1), one_time).unwrap()
}

/// The canonical bytes of agent 1's bundle without a one-time prekey, after `edit` changed its
/// byte fields (identity key, identity-DH key, its signature, signed prekey, its signature).
fn edited(edit: impl FnOnce(&mut Vec<Vec<u8>>)) -> Vec<u8> {
    let b = bundle(Some(ONE_TIME));
    let mut fields = vec![
        b.identity_key().as_bytes().to_vec(),
        b.identity_dh().as_bytes().to_vec(),
        b.identity_dh_signature().to_bytes().to_vec(),
        b.signed_prekey().public.as_bytes().to_vec(),
        b.signed_prekey().signature.to_bytes().to_vec(),
    ];
    edit(&mut fields);
    let mut out = vec![0x08, 0x01];
    for (tag, value) in [2u8, 3, 4].into_iter().zip(&fields[..3]) {
        push_bytes(&mut out, tag, value);
    }
    out.extend_from_slice(&[0x28, 7]);
    push_bytes(&mut out, 6, &fields[3]);
    out.push(0x38);
    push_varint(&mut out, b.signed_prekey().created_at_ms);
    push_bytes(&mut out, 8, &fields[4]);
    out
}

fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn push_bytes(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    out.push(tag << 3 | 2);
    push_varint(out, value.len() as u64);
    out.extend_from_slice(value);
}

#[test]
fn bundles_round_trip() {
    for one_time in [None, Some(ONE_TIME)] {
        let b = bundle(one_time);
        let bytes = b.encode();
        assert!(bytes.len() <= MAX_BUNDLE_BYTES);
        assert_eq!(PrekeyBundle::decode(&bytes), Ok(b.clone()));
        assert_eq!(
            validate_bundle(&bytes, &key(1).verifying_key()),
            Ok(b.clone())
        );
        assert_eq!(b.one_time_prekey(), one_time.as_ref());
    }
    let b = bundle(None);
    assert_eq!(b.did(), did_key(&key(1).verifying_key()));
    assert_eq!(b.peer_id(), document(1).peer_id());
    assert_eq!(b.signed_prekey(), &signed_prekey(1));
    // The document's keys make the same bundle.
    assert_eq!(PrekeyBundle::from_document(&document(1), None), b);
    // `edited` writes the canonical encoding (it leaves out the one-time prekey).
    assert_eq!(edited(|_| {}), b.encode());
}

#[test]
fn building_checks_the_signed_prekey() {
    let other = PrekeyBundle::new(&key(1), identity_dh(1), signed_prekey(2), None);
    assert_eq!(other, Err(BundleError::SignedPrekeySignature));
}

#[test]
fn malformed_oversized_and_non_canonical_bundles_are_rejected() {
    let bytes = bundle(Some(ONE_TIME)).encode();
    // The one-time prekey is the last field: cut off whole, what is left is a bundle without.
    let without = bundle(None).encode();
    for len in 0..bytes.len() {
        if let Ok(b) = PrekeyBundle::decode(&bytes[..len]) {
            assert!(len == without.len() && b == bundle(None), "prefix of {len}");
        }
    }
    let big = vec![0; MAX_BUNDLE_BYTES + 1];
    assert_eq!(
        PrekeyBundle::decode(&big),
        Err(BundleError::TooLarge {
            len: MAX_BUNDLE_BYTES + 1,
            max: MAX_BUNDLE_BYTES
        })
    );
    assert_eq!(
        PrekeyBundle::decode(&[0xff; 8]).map_err(|e| e.code()),
        Err("bundle_malformed")
    );
    let mut unknown = bytes.clone();
    unknown.extend_from_slice(&[0x78, 0x01]);
    assert_eq!(
        PrekeyBundle::decode(&unknown),
        Err(BundleError::NotCanonical)
    );
    let mut v2 = bytes;
    v2[1] = 2;
    assert_eq!(
        PrekeyBundle::decode(&v2),
        Err(BundleError::UnsupportedVersion { version: 2 })
    );
}

#[test]
fn sizes_keys_and_signatures_are_checked() {
    let short = edited(|f| {
        f[1].pop();
    });
    assert_eq!(
        PrekeyBundle::decode(&short),
        Err(BundleError::BadLength {
            field: "identity_dh",
            len: 31,
            expected: 32
        })
    );
    let long_sig = edited(|f| f[4].push(0));
    assert_eq!(
        PrekeyBundle::decode(&long_sig).map_err(|e| e.code()),
        Err("bundle_bad_length")
    );
    let not_a_point = edited(|f| {
        f[0] = (2u8..)
            .map(|y| [y].into_iter().chain([0; 31]).collect::<Vec<u8>>())
            .find(|b| crate::VerifyingKey::from_bytes(b[..].try_into().unwrap()).is_err())
            .unwrap()
    });
    assert_eq!(
        PrekeyBundle::decode(&not_a_point),
        Err(BundleError::BadIdentityKey)
    );
    let by_other = sign_identity_dh(&key(2), &identity_dh(1))
        .to_bytes()
        .to_vec();
    let dh_sig = edited(|f| f[2] = by_other);
    assert_eq!(
        PrekeyBundle::decode(&dh_sig),
        Err(BundleError::IdentityDhSignature)
    );
    let other_dh = edited(|f| f[1] = vec![42; 32]);
    assert_eq!(
        PrekeyBundle::decode(&other_dh),
        Err(BundleError::IdentityDhSignature)
    );
    let spk = edited(|f| f[3][0] ^= 1);
    assert_eq!(
        PrekeyBundle::decode(&spk),
        Err(BundleError::SignedPrekeySignature)
    );
    // Another agent's whole bundle, under agent 2's key.
    let theirs = bundle(None).encode();
    assert_eq!(
        validate_bundle(&theirs, &key(2).verifying_key()),
        Err(BundleError::WrongIdentity)
    );
}
