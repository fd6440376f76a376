//! DID documents: construction, the W3C shape, round trips and every rejection.

use std::str::FromStr;

use serde_json::{Value, json};

use super::{NOW, document, identity_dh, key, multiaddrs, signed_prekey};
use crate::multikey::signature_multibase;
use crate::{
    DidDocument, DidError, DocumentError, KeyError, MAX_DOCUMENT_BYTES, MAX_MULTIADDR_LEN,
    MAX_MULTIADDRS, Multiaddr, SignedPrekey, X25519PublicKey, did_key, ed25519_multikey, peer_id,
    sign_identity_dh, x25519_multikey,
};

/// Parses agent 1's document after `edit` changed its JSON.
fn edited(edit: impl FnOnce(&mut Value)) -> Result<DidDocument, DocumentError> {
    let mut value: Value = serde_json::from_slice(&document(1).to_json()).unwrap();
    edit(&mut value);
    DidDocument::from_json(&serde_json::to_vec(&value).unwrap())
}

#[test]
fn documents_round_trip_and_expose_their_parts() {
    let doc = document(1);
    assert_eq!(DidDocument::from_json(&doc.to_json()), Ok(doc.clone()));
    // Whitespace and field order are not part of the document.
    assert_eq!(
        DidDocument::from_json(doc.to_json_pretty().as_bytes()),
        Ok(doc.clone())
    );
    let identity = key(1).verifying_key();
    assert_eq!(doc.did(), did_key(&identity));
    assert_eq!(doc.identity_key(), &identity);
    assert_eq!(doc.peer_id(), peer_id(&identity));
    assert_eq!(doc.multiaddrs(), multiaddrs(1).as_slice());
    assert_eq!(doc.key_agreement(), &identity_dh(1));
    assert_eq!(doc.signed_prekey(), &signed_prekey(1));
    assert!(crate::verify_identity_dh(
        &identity,
        &identity_dh(1),
        doc.identity_dh_signature()
    ));
    // An agent without addresses has an empty `service`.
    let bare =
        DidDocument::for_agent(&key(2), identity_dh(2), signed_prekey(2), Vec::new()).unwrap();
    assert!(bare.multiaddrs().is_empty());
    assert_eq!(DidDocument::from_json(&bare.to_json()), Ok(bare));
}

#[test]
fn the_json_has_the_w3c_did_core_fields() {
    let doc = document(1);
    let value: Value = serde_json::from_slice(&doc.to_json()).unwrap();
    let did = doc.did();
    assert!(did.starts_with("did:key:z6Mk"));
    let ed = ed25519_multikey(doc.identity_key());
    let x = x25519_multikey(doc.key_agreement());
    assert!(x.starts_with("z6LS"), "{x}");
    let ed_id = format!("{did}#{ed}");
    let x_id = format!("{did}#{x}");
    assert_eq!(value["@context"][0], "https://www.w3.org/ns/did/v1");
    assert_eq!(
        value["@context"][1],
        "https://w3id.org/security/multikey/v1"
    );
    assert_eq!(value["id"], did);
    assert_eq!(
        value["verificationMethod"],
        json!([
            { "id": ed_id, "type": "Multikey", "controller": did, "publicKeyMultibase": ed },
            { "id": x_id, "type": "Multikey", "controller": did, "publicKeyMultibase": x },
        ])
    );
    for relation in [
        "authentication",
        "assertionMethod",
        "capabilityInvocation",
        "capabilityDelegation",
    ] {
        assert_eq!(value[relation], json!([ed_id]), "{relation}");
    }
    assert_eq!(value["keyAgreement"], json!([x_id]));
    let endpoints: Vec<String> = multiaddrs(1).iter().map(|a| a.to_string()).collect();
    assert_eq!(
        value["service"],
        json!([{
            "id": format!("{did}#talos-messaging"),
            "type": "TalosMessaging",
            "serviceEndpoint": endpoints,
        }])
    );
    let spk = &value["talosX3dh"]["signedPrekey"];
    assert_eq!(spk["id"], 7);
    assert_eq!(spk["createdAtMs"], NOW - 60_000);
    assert!(
        spk["publicKeyMultibase"]
            .as_str()
            .unwrap()
            .starts_with("z6LS")
    );
    assert!(spk["signature"].as_str().unwrap().starts_with('z'));
    assert!(value["talosX3dh"]["identityDhSignature"].is_string());
}

#[test]
fn building_checks_prekey_and_addresses() {
    let build = |spk: SignedPrekey, addrs: Vec<Multiaddr>| {
        DidDocument::for_agent(&key(1), identity_dh(1), spk, addrs)
    };
    // Signed by another key, or for another identity-DH key.
    assert_eq!(
        build(signed_prekey(2), multiaddrs(1)),
        Err(DocumentError::SignedPrekeySignature)
    );
    let other_dh = SignedPrekey::sign(&key(1), &identity_dh(2), 7, [1; 32].into(), NOW);
    assert_eq!(
        build(other_dh, Vec::new()).map_err(|e| e.code()),
        Err("document_signed_prekey_signature")
    );
    let foreign = format!(
        "/ip4/192.0.2.1/tcp/1/p2p/{}",
        peer_id(&key(2).verifying_key())
    );
    let addrs = vec![Multiaddr::from_str(&foreign).unwrap()];
    assert_eq!(
        build(signed_prekey(1), addrs),
        Err(DocumentError::ForeignPeer { index: 0 })
    );
    let mut addrs = multiaddrs(1);
    addrs.push(addrs[1].clone());
    assert_eq!(
        build(signed_prekey(1), addrs),
        Err(DocumentError::DuplicateMultiaddr { index: 3 })
    );
    let many: Vec<Multiaddr> = (0..=MAX_MULTIADDRS)
        .map(|i| Multiaddr::from_str(&format!("/ip4/192.0.2.1/tcp/{}", 1000 + i)).unwrap())
        .collect();
    assert_eq!(
        build(signed_prekey(1), many),
        Err(DocumentError::TooManyMultiaddrs {
            count: MAX_MULTIADDRS + 1,
            max: MAX_MULTIADDRS
        })
    );
    let long = format!("/dns4/{}.invalid/tcp/1", "a".repeat(MAX_MULTIADDR_LEN));
    assert_eq!(
        build(signed_prekey(1), vec![Multiaddr::from_str(&long).unwrap()]).map_err(|e| e.code()),
        Err("document_multiaddr_too_long")
    );
    // Within every per-address bound, but JSON escapes make the document too large.
    let escaped: Vec<Multiaddr> = (0..MAX_MULTIADDRS)
        .map(|i| Multiaddr::from_str(&format!("/dns/{i}{}", "\u{1}".repeat(240))).unwrap())
        .collect();
    assert_eq!(
        build(signed_prekey(1), escaped).map_err(|e| e.code()),
        Err("document_too_large")
    );
}

#[test]
fn malformed_and_oversized_json_is_rejected() {
    let too_big = vec![b' '; MAX_DOCUMENT_BYTES + 1];
    assert_eq!(
        DidDocument::from_json(&too_big),
        Err(DocumentError::TooLarge {
            len: MAX_DOCUMENT_BYTES + 1,
            max: MAX_DOCUMENT_BYTES
        })
    );
    let json = document(1).to_json();
    for bad in [&b"not json"[..], &json[..json.len() - 1], b"{}", b"[]"] {
        assert_eq!(
            DidDocument::from_json(bad).map_err(|e| e.code()),
            Err("document_json")
        );
    }
    let unknown = edited(|v| v["alsoKnownAs"] = json!(["did:web:example.invalid"]));
    assert_eq!(unknown.map_err(|e| e.code()), Err("document_json"));
    let wrong_type = edited(|v| v["talosX3dh"]["signedPrekey"]["id"] = json!("7"));
    assert_eq!(wrong_type.map_err(|e| e.code()), Err("document_json"));
}

#[test]
fn ids_and_keys_must_match() {
    let web = edited(|v| v["id"] = json!("did:web:example.invalid"));
    assert_eq!(web, Err(DocumentError::Did(DidError::NotDidKey)));
    let other = ed25519_multikey(&key(2).verifying_key());
    let mismatch = edited(|v| v["verificationMethod"][0]["publicKeyMultibase"] = json!(other));
    assert_eq!(mismatch, Err(DocumentError::KeyMismatch));
    // The document of agent 2 under agent 1's id: its keys are not the DID's.
    let swapped = edited(|v| v["id"] = json!(document(2).did()));
    assert_eq!(swapped, Err(DocumentError::KeyMismatch));
    let ed_as_x = ed25519_multikey(&key(1).verifying_key());
    let agreement = edited(|v| v["verificationMethod"][1]["publicKeyMultibase"] = json!(ed_as_x));
    assert_eq!(
        agreement,
        Err(DocumentError::KeyAgreement(KeyError::WrongCodec {
            expected: "x25519-pub"
        }))
    );
    let spk_key = edited(|v| v["talosX3dh"]["signedPrekey"]["publicKeyMultibase"] = json!("z1"));
    assert_eq!(
        spk_key.map_err(|e| e.code()),
        Err("document_bad_signed_prekey_key")
    );
    let one_method = edited(|v| {
        v["verificationMethod"].as_array_mut().unwrap().pop();
    });
    assert_eq!(
        one_method,
        Err(DocumentError::Shape {
            field: "verificationMethod"
        })
    );
}

#[test]
fn signatures_must_verify() {
    // The identity-DH key signed by another key.
    let by_other = signature_multibase(&sign_identity_dh(&key(2), &identity_dh(1)));
    let dh_sig = edited(|v| v["talosX3dh"]["identityDhSignature"] = json!(by_other));
    assert_eq!(dh_sig, Err(DocumentError::IdentityDhSignature));
    // Another key agreement key than the one signed, everywhere the document names it.
    let signed = x25519_multikey(&identity_dh(1));
    let replaced = x25519_multikey(&X25519PublicKey::from_bytes([42; 32]));
    let json = String::from_utf8(document(1).to_json()).unwrap();
    let dh_key = DidDocument::from_json(json.replace(&signed, &replaced).as_bytes());
    assert_eq!(dh_key, Err(DocumentError::IdentityDhSignature));
    // Only in `publicKeyMultibase`: the method's id no longer matches its key.
    let dh_key = edited(|v| v["verificationMethod"][1]["publicKeyMultibase"] = json!(replaced));
    assert_eq!(
        dh_key,
        Err(DocumentError::Shape {
            field: "verificationMethod"
        })
    );
    let spk_id = edited(|v| v["talosX3dh"]["signedPrekey"]["id"] = json!(8));
    assert_eq!(spk_id, Err(DocumentError::SignedPrekeySignature));
    let garbage = edited(|v| v["talosX3dh"]["signedPrekey"]["signature"] = json!("zzz"));
    assert_eq!(
        garbage.map_err(|e| e.code()),
        Err("document_bad_signature_encoding")
    );
}

/// An edit of a document's JSON.
type Edit = fn(&mut Value);

#[test]
fn every_field_must_be_the_expected_one() {
    let cases: [(&str, Edit); 8] = [
        ("@context", |v| {
            v["@context"] = json!(["https://www.w3.org/ns/did/v1"])
        }),
        ("verificationMethod", |v| {
            v["verificationMethod"][0]["controller"] = json!("did:key:z6Mkother")
        }),
        ("verificationMethod", |v| {
            v["verificationMethod"][1]["type"] = json!("X25519KeyAgreementKey2020")
        }),
        ("authentication", |v| v["authentication"] = json!([])),
        ("assertionMethod", |v| {
            v["assertionMethod"] = v["keyAgreement"].clone();
        }),
        ("keyAgreement", |v| {
            v["keyAgreement"] = v["authentication"].clone();
        }),
        ("service", |v| {
            v["service"][0]["type"] = json!("LinkedDomains")
        }),
        ("service", |v| {
            v["service"][0]["serviceEndpoint"] = json!([])
        }),
    ];
    for (field, edit) in cases {
        assert_eq!(edited(edit), Err(DocumentError::Shape { field }), "{field}");
    }
    // A non-canonical multiaddr spelling is a different string than the document's.
    let spelled = edited(|v| {
        v["service"][0]["serviceEndpoint"][1] = json!("/ip6/2001:0db8::1/udp/4001/quic-v1")
    });
    assert_eq!(spelled, Err(DocumentError::Shape { field: "service" }));
    let two = edited(|v| {
        let service = v["service"][0].clone();
        v["service"].as_array_mut().unwrap().push(service);
    });
    assert_eq!(two, Err(DocumentError::Shape { field: "service" }));
}

#[test]
fn addresses_must_be_bounded_multiaddrs() {
    let bad = edited(|v| v["service"][0]["serviceEndpoint"][1] = json!("/ip4/999.0.0.1"));
    assert_eq!(bad, Err(DocumentError::BadMultiaddr { index: 1 }));
    let long = edited(|v| {
        v["service"][0]["serviceEndpoint"][0] = json!("/".repeat(MAX_MULTIADDR_LEN + 1))
    });
    assert_eq!(
        long,
        Err(DocumentError::MultiaddrTooLong {
            index: 0,
            len: MAX_MULTIADDR_LEN + 1
        })
    );
    let many =
        edited(|v| v["service"][0]["serviceEndpoint"] = json!(vec!["/"; MAX_MULTIADDRS + 1]));
    assert_eq!(
        many.map_err(|e| e.code()),
        Err("document_too_many_multiaddrs")
    );
    let relay = peer_id(&key(250).verifying_key());
    let foreign = edited(|v| {
        v["service"][0]["serviceEndpoint"][0] = json!(format!("/ip4/192.0.2.1/tcp/1/p2p/{relay}"))
    });
    assert_eq!(foreign, Err(DocumentError::ForeignPeer { index: 0 }));
}
