use std::convert::Infallible;

use crate::hash::Hash256;
use crate::state::{EMPTY_ROOT, MemoryNodes, Node, SmtError, Terminal, apply_updates, get, prove};

use super::{flip, h, key_starting, reference_root, tree_of};

#[test]
fn empty_tree() {
    let store = MemoryNodes::new();
    assert!(store.is_empty());
    assert_eq!(get(&store, EMPTY_ROOT, &h(1)), Ok(None));
    let proof = prove(&store, EMPTY_ROOT, &h(1)).unwrap();
    assert!(proof.siblings.is_empty());
    assert_eq!(proof.terminal, Terminal::Empty);
    let delta = apply_updates(&store, EMPTY_ROOT, &[]).unwrap();
    assert_eq!(delta.root, EMPTY_ROOT);
    assert!(delta.nodes.is_empty());
    assert_eq!(reference_root(&[], 0), EMPTY_ROOT);
}

#[test]
fn single_key_is_a_leaf_at_the_root() {
    let (key, value) = (h(1), h(2));
    let (store, root) = tree_of(&[(key, value)]);
    assert_eq!(root, Node::Leaf { key, value }.hash());
    assert_eq!(store.len(), 1);
    assert_eq!(get(&store, root, &key), Ok(Some(value)));
    assert_eq!(get(&store, root, &h(3)), Ok(None));
    let proof = prove(&store, root, &h(3)).unwrap();
    assert!(proof.siblings.is_empty());
    assert_eq!(proof.terminal, Terminal::Leaf { key, value });
}

#[test]
fn keys_diverging_at_bit_0() {
    let (a, b) = (key_starting(0x00), key_starting(0x80));
    let entries = [(b, h(2)), (a, h(1))];
    let (store, root) = tree_of(&entries);
    let leaf_a = Node::Leaf {
        key: a,
        value: h(1),
    }
    .hash();
    let leaf_b = Node::Leaf {
        key: b,
        value: h(2),
    }
    .hash();
    let expected = Node::Internal {
        left: leaf_a,
        right: leaf_b,
    };
    assert_eq!(root, expected.hash());
    assert_eq!(root, reference_root(&entries, 0));
    assert_eq!(store.len(), 3);
    assert_eq!(prove(&store, root, &a).unwrap().siblings, vec![leaf_b]);
    assert_eq!(prove(&store, root, &b).unwrap().siblings, vec![leaf_a]);
    assert_eq!(get(&store, root, &b), Ok(Some(h(2))));
}

#[test]
fn keys_diverging_at_bit_255() {
    let a = h(7);
    let b = flip(&a, 255);
    let entries = [(a, h(1)), (b, h(2))];
    let (store, root) = tree_of(&entries);
    assert_eq!(root, reference_root(&entries, 0));
    // Two leaves at depth 256 and an internal node at every depth above.
    assert_eq!(store.len(), 2 + 256);
    let proof = prove(&store, root, &a).unwrap();
    assert_eq!(proof.siblings.len(), 256);
    assert!(proof.siblings[..255].iter().all(|s| *s == EMPTY_ROOT));
    assert_eq!(
        proof.siblings[255],
        Node::Leaf {
            key: b,
            value: h(2)
        }
        .hash()
    );
    assert_eq!(get(&store, root, &a), Ok(Some(h(1))));
    assert_eq!(get(&store, root, &b), Ok(Some(h(2))));
    // Inserted one at a time, the same shape.
    let mut one_by_one = MemoryNodes::new();
    let first = apply_updates(&one_by_one, EMPTY_ROOT, &entries[..1]).unwrap();
    one_by_one.extend(&first);
    let second = apply_updates(&one_by_one, first.root, &entries[1..]).unwrap();
    assert_eq!(second.root, root);
    assert_eq!(second.nodes.len(), 1 + 256);
}

#[test]
fn overwriting_replaces_the_value() {
    let (mut store, root) = tree_of(&[(h(1), h(10)), (h(2), h(20))]);
    let delta = apply_updates(&store, root, &[(h(1), h(11))]).unwrap();
    store.extend(&delta);
    assert_eq!(delta.root, tree_of(&[(h(1), h(11)), (h(2), h(20))]).1);
    assert_eq!(get(&store, delta.root, &h(1)), Ok(Some(h(11))));
    assert_eq!(get(&store, root, &h(1)), Ok(Some(h(10))));

    // Within one batch the last update wins and the superseded leaf is not returned.
    let batch = [(h(3), h(30)), (h(1), h(12)), (h(3), h(31))];
    let delta = apply_updates(&store, root, &batch).unwrap();
    let expected = [(h(1), h(12)), (h(2), h(20)), (h(3), h(31))];
    assert_eq!(delta.root, reference_root(&expected, 0));
    let stale = Node::Leaf {
        key: h(3),
        value: h(30),
    };
    assert!(!delta.nodes.contains(&stale));

    // Rewriting a value with itself changes nothing and creates nothing.
    let same = apply_updates(&store, root, &[(h(2), h(20))]).unwrap();
    assert_eq!(same.root, root);
    assert!(same.nodes.is_empty());
}

#[test]
fn a_missing_node_is_reported() {
    let entries: Vec<_> = (0..8).map(|n| (h(n), h(n + 100))).collect();
    let delta = apply_updates(&MemoryNodes::new(), EMPTY_ROOT, &entries).unwrap();
    let leaf = Node::Leaf {
        key: h(3),
        value: h(103),
    };
    let mut partial = MemoryNodes::new();
    for node in delta.nodes.iter().filter(|n| **n != leaf) {
        partial.insert(*node);
    }
    let missing = SmtError::<Infallible>::MissingNode(leaf.hash());
    assert_eq!(get(&partial, delta.root, &h(3)), Err(missing.clone()));
    assert_eq!(prove(&partial, delta.root, &h(3)), Err(missing.clone()));
    assert_eq!(
        apply_updates(&partial, delta.root, &[(h(3), h(1))]),
        Err(missing)
    );
    assert_eq!(get(&partial, delta.root, &h(4)), Ok(Some(h(104))));
    let unknown_root = h(99);
    assert_eq!(
        get(&MemoryNodes::new(), unknown_root, &h(1)),
        Err(SmtError::MissingNode(unknown_root))
    );
}

#[test]
fn a_leaf_off_its_path_is_corrupt() {
    let stray = Node::Leaf {
        key: key_starting(0x80),
        value: h(1),
    };
    let mut store = MemoryNodes::new();
    let stray_hash = store.insert(stray);
    let root = store.insert(Node::Internal {
        left: stray_hash,
        right: EMPTY_ROOT,
    });
    let left_key = key_starting(0x01);
    let corrupt = SmtError::<Infallible>::Corrupt(stray_hash);
    assert_eq!(get(&store, root, &left_key), Err(corrupt.clone()));
    assert_eq!(prove(&store, root, &left_key), Err(corrupt.clone()));
    assert_eq!(
        apply_updates(&store, root, &[(left_key, h(2))]),
        Err(corrupt)
    );
    assert_eq!(
        SmtError::<Infallible>::MissingNode(Hash256::ZERO).to_string(),
        format!(
            "state node {} is missing from the node source",
            Hash256::ZERO
        )
    );
}
