use std::convert::Infallible;

use crate::hash::Hash256;
use crate::state::{
    EMPTY_ROOT, MemoryNodes, Node, SmtError, StateWrite, Terminal, WriteKind, apply_updates,
    apply_writes, get, prove,
};

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

#[test]
fn inserts_fill_only_keys_without_a_value() {
    let (a, b, c, d) = (h(1), h(2), h(3), h(4));
    let (mut store, root) = tree_of(&[(a, h(10)), (b, h(20))]);
    let write = |key, value, kind| StateWrite { key, value, kind };
    let writes = [
        write(a, h(11), WriteKind::Insert),
        write(c, h(30), WriteKind::Insert),
        write(b, h(21), WriteKind::Set),
        write(c, h(31), WriteKind::Insert),
        write(d, h(40), WriteKind::Insert),
        write(d, h(41), WriteKind::Set),
    ];
    let outcome = apply_writes(&store, root, &writes).unwrap();
    // a keeps its value, c its first insert, b and d their (last) set.
    let expected = [(a, h(10)), (b, h(21)), (c, h(30)), (d, h(41))];
    assert_eq!(outcome.delta.root, reference_root(&expected, 0));
    assert_eq!(outcome.already_set, vec![a]);
    store.extend(&outcome.delta);
    for (key, value) in expected {
        assert_eq!(get(&store, outcome.delta.root, &key), Ok(Some(value)));
    }

    // An insert of a key with a value changes nothing and creates nothing.
    let kept = apply_writes(&store, root, &[write(b, h(1), WriteKind::Insert)]).unwrap();
    assert_eq!((kept.delta.root, kept.delta.nodes.len()), (root, 0));
    assert_eq!(kept.already_set, vec![b]);
    // With sets only, the same as `apply_updates`.
    let sets = [
        write(c, h(5), WriteKind::Set),
        write(a, h(6), WriteKind::Set),
    ];
    let updates = [(c, h(5)), (a, h(6))];
    assert_eq!(
        apply_writes(&store, root, &sets).unwrap().delta,
        apply_updates(&store, root, &updates).unwrap()
    );
}

#[test]
fn an_insert_beside_its_leaf_moves_it_down_unchanged() {
    // b shares 255 bits with a: inserting b and a again pushes a's leaf to depth 256.
    let a = h(7);
    let b = flip(&a, 255);
    let (store, root) = tree_of(&[(a, h(1))]);
    let writes = [
        StateWrite {
            key: a,
            value: h(9),
            kind: WriteKind::Insert,
        },
        StateWrite {
            key: b,
            value: h(2),
            kind: WriteKind::Insert,
        },
    ];
    let outcome = apply_writes(&store, root, &writes).unwrap();
    assert_eq!(
        outcome.delta.root,
        reference_root(&[(a, h(1)), (b, h(2))], 0)
    );
    assert_eq!(outcome.already_set, vec![a]);
    // b's leaf and the 256 internal nodes above the pair; a's leaf is not emitted again.
    assert_eq!(outcome.delta.nodes.len(), 1 + 256);
}
