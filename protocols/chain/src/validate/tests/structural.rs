//! Structural layer rejections.

use super::*;

#[test]
fn rejects_unsupported_version() {
    let spec = easy_spec();
    let mut b = good_block(&spec);
    b.header.version = 2;
    assert_eq!(
        check_err(&spec, b),
        BlockError::UnsupportedVersion { found: 2 }
    );
}

#[test]
fn rejects_wrong_network() {
    let spec = easy_spec();
    let mut b = good_block(&spec);
    b.header.network_id ^= 1;
    assert!(matches!(
        check_err(&spec, b),
        BlockError::WrongNetwork { expected, .. } if expected == spec.network_id
    ));
}

#[test]
fn rejects_height_zero() {
    let spec = easy_spec();
    let mut b = good_block(&spec);
    b.header.height = 0;
    assert_eq!(check_err(&spec, b), BlockError::GenesisHeight);
    assert_eq!(
        check_err(&spec, spec.genesis()),
        BlockError::GenesisHeight,
        "genesis itself is never validated"
    );
}

#[test]
fn rejects_too_many_items() {
    let mut spec = easy_spec();
    let b = child(&spec, &ParentContext::for_genesis(&spec), items(&spec, 3));
    spec.limits.max_items_per_block = 2;
    assert_eq!(
        check_err(&spec, b),
        BlockError::TooManyItems { count: 3, max: 2 }
    );
}

#[test]
fn rejects_item_count_mismatch() {
    let spec = easy_spec();
    let mut b = good_block(&spec);
    b.items.pop();
    assert_eq!(
        check_err(&spec, b),
        BlockError::ItemCountMismatch {
            header: 3,
            actual: 2
        }
    );
}

#[test]
fn rejects_item_too_large() {
    let mut spec = easy_spec();
    let k = key(2);
    let big = labelled_item(&spec, &k, 9, &"x".repeat(500));
    let size = big.encoded_len();
    let ctx = ParentContext::for_genesis(&spec);
    let b = child(&spec, &ctx, vec![item(&spec, &k, 1), big]);
    spec.limits.max_item_bytes = 400;
    assert_eq!(
        check_err(&spec, b),
        BlockError::ItemTooLarge {
            index: 1,
            size,
            max: 400
        }
    );
}

#[test]
fn rejects_block_too_large() {
    let mut spec = easy_spec();
    let b = good_block(&spec);
    let total = b.encoded_len();
    spec.limits.max_block_bytes = total - 1;
    assert!(matches!(
        check_err(&spec, b),
        BlockError::BlockTooLarge { size, max } if size == total && max == total - 1
    ));
}

#[test]
fn rejects_invalid_target() {
    let spec = easy_spec();
    let mut b = good_block(&spec);
    b.header.target = CompactTarget(0x1d80_0000);
    assert_eq!(
        check_err(&spec, b),
        BlockError::InvalidTarget {
            target: CompactTarget(0x1d80_0000),
            reason: TargetError::Negative
        }
    );
}

#[test]
fn rejects_target_above_limit() {
    let mut spec = easy_spec();
    let b = good_block(&spec);
    spec.retarget.pow_limit = CompactTarget(0x1f00_ffff);
    assert_eq!(
        check_err(&spec, b),
        BlockError::TargetAboveLimit {
            target: EASY,
            limit: CompactTarget(0x1f00_ffff)
        }
    );
}

#[test]
fn structural_checks_come_before_proof_of_work() {
    let spec = easy_spec();
    let mut b = good_block(&spec);
    b.header.version = 9;
    b.header = unmine(b.header);
    assert_eq!(check_err(&spec, b).layer(), ErrorLayer::Structural);
}
