use std::collections::HashSet;

use crate::state::{
    EMPTY_ROOT, MAX_PROOF_DEPTH, StateLookup, StateProof, StateProofError, Terminal, prove,
};

use super::{h, key_starting, tree_of};

#[test]
fn membership_and_both_kinds_of_absence_verify() {
    // 0x00… and 0x40… share bit 0; 0x80… is alone on the right.
    let (a, b, c) = (key_starting(0x00), key_starting(0x40), key_starting(0x80));
    let (store, root) = tree_of(&[(a, h(1)), (b, h(2)), (c, h(3))]);
    for (key, value) in [(a, h(1)), (b, h(2)), (c, h(3))] {
        let proof = prove(&store, root, &key).unwrap();
        assert_eq!(proof.verify(&root, &key), Ok(StateLookup::Present(value)));
    }
    // 0xc0… shares bit 0 with c, alone on the right: its path ends at c's leaf.
    let beside_c = key_starting(0xc0);
    let proof = prove(&store, root, &beside_c).unwrap();
    assert!(matches!(proof.terminal, Terminal::Leaf { key, .. } if key == c));
    assert_eq!(proof.verify(&root, &beside_c), Ok(StateLookup::Absent));

    // With only a and b, the right of the root is empty.
    let (store, root) = tree_of(&[(a, h(1)), (b, h(2))]);
    let proof = prove(&store, root, &c).unwrap();
    assert_eq!(proof.terminal, Terminal::Empty);
    assert_eq!(proof.siblings.len(), 1);
    assert_eq!(proof.verify(&root, &c), Ok(StateLookup::Absent));
    // The empty tree proves every absence with nothing.
    let empty = StateProof {
        siblings: Vec::new(),
        terminal: Terminal::Empty,
    };
    assert_eq!(empty.verify(&EMPTY_ROOT, &a), Ok(StateLookup::Absent));
    assert_eq!(empty.verify(&root, &a), Err(StateProofError::RootMismatch));
}

#[test]
fn tampered_proofs_fail_with_the_right_error() {
    let entries: Vec<_> = (0..50).map(|n| (h(n), h(n + 1000))).collect();
    let (store, root) = tree_of(&entries);
    let key = h(17);
    let good = prove(&store, root, &key).unwrap();
    assert!(!good.siblings.is_empty());

    let mut wrong_sibling = good.clone();
    wrong_sibling.siblings[0].0[5] ^= 1;
    assert_eq!(
        wrong_sibling.verify(&root, &key),
        Err(StateProofError::RootMismatch)
    );

    let mut wrong_value = good.clone();
    wrong_value.terminal = Terminal::Leaf { key, value: h(1) };
    assert_eq!(
        wrong_value.verify(&root, &key),
        Err(StateProofError::RootMismatch)
    );

    let mut off_path = good.clone();
    let mut stray = key;
    stray.0[0] ^= 0x80;
    off_path.terminal = Terminal::Leaf {
        key: stray,
        value: h(1017),
    };
    assert_eq!(
        off_path.verify(&root, &key),
        Err(StateProofError::LeafOffPath)
    );

    let too_deep = StateProof {
        siblings: vec![h(1); MAX_PROOF_DEPTH + 1],
        terminal: good.terminal,
    };
    assert_eq!(
        too_deep.verify(&root, &key),
        Err(StateProofError::TooDeep { depth: 257 })
    );
    assert_eq!(good.verify(&h(5), &key), Err(StateProofError::RootMismatch));
    assert_eq!(good.verify(&root, &key), Ok(StateLookup::Present(h(1017))));
}

#[test]
fn terminals_beside_an_empty_sibling_are_not_canonical() {
    let (key, value) = (h(1), h(2));
    let (store, root) = tree_of(&[(key, value)]);
    let mut lowered = prove(&store, root, &key).unwrap();
    lowered.siblings.push(EMPTY_ROOT);
    assert_eq!(
        lowered.verify(&root, &key),
        Err(StateProofError::NotCanonical)
    );
    let hollow = StateProof {
        siblings: vec![EMPTY_ROOT],
        terminal: Terminal::Empty,
    };
    assert_eq!(
        hollow.verify(&root, &key),
        Err(StateProofError::NotCanonical)
    );
}

#[test]
fn codes_are_unique_snake_case() {
    let all = [
        StateProofError::TooDeep { depth: 300 },
        StateProofError::LeafOffPath,
        StateProofError::NotCanonical,
        StateProofError::RootMismatch,
    ];
    let codes: HashSet<&str> = all.iter().map(StateProofError::code).collect();
    assert_eq!(codes.len(), all.len());
    for code in codes {
        assert!(
            code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{code}"
        );
    }
    assert_eq!(
        StateProofError::TooDeep { depth: 300 }.to_string(),
        "proof has 300 siblings, more than 256"
    );
}
