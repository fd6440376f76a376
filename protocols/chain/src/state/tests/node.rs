use crate::hash::Hash256;
use crate::state::node::{SHA256_IV, State, bit, compress, midstate, shares_prefix};
use crate::state::{INTERNAL_HASH_DOMAIN, LEAF_HASH_DOMAIN, Node, NodeDecodeError};

use super::{flip, h};

/// `state`'s words as 32 big-endian bytes.
fn bytes(state: State) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (bytes, word) in out.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[test]
fn compression_from_the_iv_is_sha256() {
    // SHA-256("abc"): one block, the message, 0x80, zeros and the bit length 24.
    let mut block = [0u8; 64];
    block[..3].copy_from_slice(b"abc");
    block[3] = 0x80;
    block[63] = 24;
    assert_eq!(
        Hash256(bytes(compress(SHA256_IV, &block))),
        Hash256::sha256(b"abc")
    );
}

#[test]
fn midstates_are_the_domain_blocks_compressed() {
    // Computed by an independent implementation of SHA-256's compression function.
    let leaf = [
        0x6ed1_665a,
        0xb180_702b,
        0x263c_b1ba,
        0x19ce_f524,
        0xd278_ed03,
        0xa8e1_c31a,
        0x8dc2_ad93,
        0x90c7_ca5f,
    ];
    let internal = [
        0x62b0_de53,
        0x95e1_92b5,
        0x969e_e39f,
        0x5025_52f3,
        0xeb1e_8627,
        0xa14a_40d9,
        0xd829_0745,
        0xf838_fa0d,
    ];
    assert_eq!(midstate(LEAF_HASH_DOMAIN), leaf);
    assert_eq!(midstate(INTERNAL_HASH_DOMAIN), internal);
    let mut block = [0u8; 64];
    block[..LEAF_HASH_DOMAIN.len()].copy_from_slice(LEAF_HASH_DOMAIN);
    assert_eq!(compress(SHA256_IV, &block), leaf);
}

#[test]
fn hashes_are_one_compression_from_the_midstates() {
    let leaf = Node::Leaf {
        key: h(1),
        value: h(2),
    };
    let internal = Node::Internal {
        left: h(3),
        right: h(4),
    };
    // Known answers, from an independent implementation.
    let known = |hex: &str| hex.parse::<Hash256>().unwrap();
    assert_eq!(
        leaf.hash(),
        known("77fb5e953b782c24f5b25a8b635cde9ec2667445747843005e28084730a33ada")
    );
    assert_eq!(
        internal.hash(),
        known("fb33596b2afafcf53fefe953be4e3207d3d991baa45ad28aede7666356bf6a46")
    );
    let zero = Hash256::ZERO;
    let zero_leaf = Node::Leaf {
        key: zero,
        value: zero,
    };
    let zero_internal = Node::Internal {
        left: zero,
        right: zero,
    };
    assert_eq!(
        zero_leaf.hash(),
        known("d43d4d85d99910c48b34ed873044b0e51b31352be6c7f35820a5925666c60fc4")
    );
    assert_eq!(
        zero_internal.hash(),
        known("c598f86174ebdf42f44ff494860fa82958a723dd5f7dc2aea93a7f222ee700a9")
    );
    // The same fields hash apart as a leaf and as an internal node.
    let mut payload = [0u8; 64];
    payload[..32].copy_from_slice(&h(1).0);
    payload[32..].copy_from_slice(&h(2).0);
    assert_eq!(
        leaf.hash().0,
        bytes(compress(midstate(LEAF_HASH_DOMAIN), &payload))
    );
    assert_eq!(
        Node::Internal {
            left: h(1),
            right: h(2)
        }
        .hash()
        .0,
        bytes(compress(midstate(INTERNAL_HASH_DOMAIN), &payload))
    );
    assert_ne!(
        leaf.hash(),
        Node::Internal {
            left: h(1),
            right: h(2)
        }
        .hash()
    );
    // Not SHA-256 of the encoding, which is for storage and the wire only.
    assert_ne!(leaf.hash(), Hash256::sha256(&leaf.encode()));
}

#[test]
fn encoding_round_trips() {
    for node in [
        Node::Leaf {
            key: h(1),
            value: h(2),
        },
        Node::Internal {
            left: h(3),
            right: Hash256::ZERO,
        },
    ] {
        let bytes = node.encode();
        assert_eq!(bytes.len(), Node::ENCODED_LEN);
        assert_eq!(Node::decode(&bytes), Ok(node));
    }
}

#[test]
fn decode_errors_are_typed() {
    let bytes = Node::Leaf {
        key: h(1),
        value: h(2),
    }
    .encode();
    assert_eq!(
        Node::decode(&bytes[..64]),
        Err(NodeDecodeError::WrongLength { len: 64 })
    );
    assert_eq!(
        Node::decode(&[0; 66]),
        Err(NodeDecodeError::WrongLength { len: 66 })
    );
    assert_eq!(
        Node::decode(&[]),
        Err(NodeDecodeError::WrongLength { len: 0 })
    );
    let mut bad = bytes;
    bad[0] = 2;
    assert_eq!(
        Node::decode(&bad),
        Err(NodeDecodeError::UnknownTag { tag: 2 })
    );
    assert_eq!(
        NodeDecodeError::UnknownTag { tag: 0xff }.to_string(),
        "unknown node tag 0xff"
    );
    assert_eq!(
        NodeDecodeError::WrongLength { len: 3 }.to_string(),
        "an encoded node is 65 bytes, got 3"
    );
}

#[test]
fn bits_are_msb_first_and_prefixes_compare_bitwise() {
    let mut key = Hash256::ZERO;
    key.0[0] = 0b1000_0001;
    key.0[31] = 1;
    assert!(bit(&key, 0));
    assert!(!bit(&key, 1));
    assert!(bit(&key, 7));
    assert!(bit(&key, 255));
    assert!(!bit(&key, 254));
    for i in [0, 5, 8, 100, 255] {
        let other = flip(&key, i);
        assert!(shares_prefix(&key, &other, i));
        assert!(!shares_prefix(&key, &other, i + 1));
    }
    assert!(shares_prefix(&key, &key, 256));
    assert!(shares_prefix(&h(1), &h(2), 0));
}
