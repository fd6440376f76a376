use crate::hash::Hash256;
use crate::state::node::{bit, shares_prefix};
use crate::state::{Node, NodeDecodeError};

use super::{flip, h};

#[test]
fn hashes_are_tagged_sha256_of_the_encoding() {
    let leaf = Node::Leaf {
        key: h(1),
        value: h(2),
    };
    let internal = Node::Internal {
        left: h(3),
        right: h(4),
    };
    assert_eq!(
        leaf.hash(),
        Hash256::sha256_parts(&[&[0], &h(1).0, &h(2).0])
    );
    assert_eq!(
        internal.hash(),
        Hash256::sha256_parts(&[&[1], &h(3).0, &h(4).0])
    );
    assert_eq!(leaf.hash(), Hash256::sha256(&leaf.encode()));
    assert_ne!(
        leaf.hash(),
        Node::Internal {
            left: h(1),
            right: h(2)
        }
        .hash()
    );
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
