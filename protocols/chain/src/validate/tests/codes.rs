//! Stable codes, layers, and the median-time-past helper.

use super::*;

fn one_of_each() -> Vec<BlockError> {
    let h = Hash256::ZERO;
    let t = EASY;
    vec![
        BlockError::UnsupportedVersion { found: 0 },
        BlockError::WrongNetwork {
            expected: 0,
            found: 1,
        },
        BlockError::GenesisHeight,
        BlockError::TooManyItems { count: 0, max: 0 },
        BlockError::ItemCountMismatch {
            header: 0,
            actual: 0,
        },
        BlockError::ItemTooLarge {
            index: 0,
            size: 0,
            max: 0,
        },
        BlockError::BlockTooLarge { size: 0, max: 0 },
        BlockError::InvalidTarget {
            target: t,
            reason: TargetError::Zero,
        },
        BlockError::TargetAboveLimit {
            target: t,
            limit: t,
        },
        BlockError::InsufficientWork { id: h, target: t },
        BlockError::DuplicateItem { index: 0, id: h },
        BlockError::MerkleRootMismatch {
            header: h,
            computed: h,
        },
        BlockError::WeakAuthorKey { index: 0 },
        BlockError::BadSignature { index: None },
        BlockError::PrevHashMismatch {
            expected: h,
            found: h,
        },
        BlockError::WrongHeight {
            expected: 0,
            found: 0,
        },
        BlockError::WrongTarget {
            expected: t,
            found: t,
        },
        BlockError::TimestampNotAfterParent {
            timestamp_ms: 0,
            parent_ms: 0,
        },
        BlockError::TimestampTooFarInFuture {
            timestamp_ms: 0,
            max_ms: 0,
        },
        BlockError::ItemAlreadyInChain { index: 0, id: h },
        BlockError::NonceAlreadyUsed { index: 0, nonce: 0 },
        BlockError::DuplicateNonce { index: 0, nonce: 0 },
    ]
}

#[test]
fn codes_are_unique_snake_case_and_layers_are_ordered() {
    let all = one_of_each();
    let codes: HashSet<_> = all.iter().map(BlockError::code).collect();
    assert_eq!(codes.len(), all.len());
    for code in &codes {
        assert!(code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
    }
    let layers: Vec<ErrorLayer> = all.iter().map(BlockError::layer).collect();
    let rank = |l: &ErrorLayer| match l {
        ErrorLayer::Structural => 0,
        ErrorLayer::Cryptographic => 1,
        ErrorLayer::Consensus => 2,
        ErrorLayer::Semantic => 3,
    };
    assert!(layers.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])));
    assert_eq!(layers.first().map(ErrorLayer::as_str), Some("structural"));
    assert_eq!(layers.last().map(ErrorLayer::as_str), Some("semantic"));
    for e in &all {
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn only_header_and_ancestry_verdicts_condemn_the_block() {
    let blamed = |blame: Blame| -> Vec<&str> {
        one_of_each()
            .iter()
            .filter(|e| e.blame() == blame)
            .map(BlockError::code)
            .collect()
    };
    assert_eq!(blamed(Blame::Clock), ["timestamp_too_far_in_future"]);
    assert_eq!(
        blamed(Blame::Body),
        ["item_count_mismatch", "merkle_root_mismatch"]
    );
    assert_eq!(blamed(Blame::Block).len(), one_of_each().len() - 3);
}
