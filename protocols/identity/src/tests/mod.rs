//! Tests of documents, records and bundles, with shared fixtures.

mod document;
mod prekey;
mod props;
mod record;

use std::str::FromStr;

use crate::{DidDocument, Multiaddr, SignedPrekey, SigningKey, X25519PublicKey, peer_id};

/// A fixed "now": 2023-11-14T22:13:20Z.
const NOW: u64 = 1_700_000_000_000;

/// Identity key number `n`.
fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

/// Agent `n`'s identity-DH key.
fn identity_dh(n: u8) -> X25519PublicKey {
    X25519PublicKey::from_bytes([n.wrapping_add(100); 32])
}

/// Agent `n`'s signed prekey.
fn signed_prekey(n: u8) -> SignedPrekey {
    SignedPrekey::sign(
        &key(n),
        &identity_dh(n),
        7,
        X25519PublicKey::from_bytes([n.wrapping_add(200); 32]),
        NOW - 60_000,
    )
}

/// Agent `n`'s addresses: a direct one with its PeerId, a QUIC one, a relayed one.
fn multiaddrs(n: u8) -> Vec<Multiaddr> {
    let me = peer_id(&key(n).verifying_key());
    let relay = peer_id(&key(250).verifying_key());
    [
        format!("/ip4/192.0.2.{n}/tcp/4001/p2p/{me}"),
        "/ip6/2001:db8::1/udp/4001/quic-v1".to_owned(),
        format!("/dns4/relay.example.invalid/tcp/443/p2p/{relay}/p2p-circuit/p2p/{me}"),
    ]
    .iter()
    .map(|a| Multiaddr::from_str(a).expect("test multiaddr"))
    .collect()
}

/// Agent `n`'s document.
fn document(n: u8) -> DidDocument {
    DidDocument::for_agent(&key(n), identity_dh(n), signed_prekey(n), multiaddrs(n))
        .expect("a valid document")
}
