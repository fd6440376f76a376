//! Consensus layer rejections and the retarget through contexts.

use super::*;

fn second_block_ctx(spec: &NetworkSpec) -> ParentContext {
    let g = ParentContext::for_genesis(spec);
    let valid = accept(spec, &g, child(spec, &g, Vec::new()));
    g.child_context(&valid)
}

#[test]
fn rejects_wrong_parent() {
    let spec = easy_spec();
    let ctx = second_block_ctx(&spec);
    let b = child(&spec, &ParentContext::for_genesis(&spec), items(&spec, 1));
    assert_eq!(
        validate_err(&spec, &ctx, &(), b.clone()),
        BlockError::PrevHashMismatch {
            expected: ctx.id,
            found: b.header.prev_hash
        }
    );
}

#[test]
fn rejects_wrong_height() {
    let spec = easy_spec();
    let ctx = second_block_ctx(&spec);
    let mut b = child(&spec, &ctx, items(&spec, 1));
    b.header.height = 7;
    let b = remine(b);
    assert_eq!(
        validate_err(&spec, &ctx, &(), b),
        BlockError::WrongHeight {
            expected: 2,
            found: 7
        }
    );
}

#[test]
fn rejects_wrong_target() {
    let spec = easy_spec();
    let ctx = second_block_ctx(&spec);
    let mut b = child(&spec, &ctx, items(&spec, 1));
    assert_eq!(b.header.target, EASY);
    b.header.target = CompactTarget(0x207f_fffe);
    let b = remine(b);
    assert_eq!(
        validate_err(&spec, &ctx, &(), b),
        BlockError::WrongTarget {
            expected: EASY,
            found: CompactTarget(0x207f_fffe)
        }
    );
}

#[test]
fn block_one_keeps_the_genesis_target_and_later_blocks_retarget() {
    let mut spec = easy_spec();
    spec.genesis_target = CompactTarget(0x2000_ffff);
    let g = ParentContext::for_genesis(&spec);
    assert_eq!(g.expected_target(&spec), spec.genesis_target);
    let valid = accept(&spec, &g, child(&spec, &g, Vec::new()));
    // Block 1 came exactly one interval after genesis: target unchanged.
    let ctx = g.child_context(&valid);
    assert_eq!(ctx.expected_target(&spec), spec.genesis_target);
    // A slow block 2 makes block 3 easier.
    let mut slow = child_header(&spec, &ctx, &[]);
    slow.timestamp_ms += 5 * spec.retarget.block_interval_ms;
    let slow = Block {
        header: mine(slow),
        items: Vec::new(),
    };
    let now = now_for(&slow);
    let valid2 = slow
        .check(&spec)
        .unwrap()
        .validate(&spec, &ctx, &(), now)
        .unwrap();
    let ctx3 = ctx.child_context(&valid2);
    let easier = ctx3.expected_target(&spec).to_target().unwrap();
    assert!(easier > spec.genesis_target.to_target().unwrap());
    accept(&spec, &ctx3, child(&spec, &ctx3, Vec::new()));
}

#[test]
fn rejects_timestamp_not_after_the_parents() {
    let spec = easy_spec();
    let ctx = second_block_ctx(&spec);
    let parent_ms = ctx.header.timestamp_ms;
    for timestamp_ms in [parent_ms, parent_ms - 1, ctx.header.timestamp_ms - 10_000] {
        let mut b = child(&spec, &ctx, Vec::new());
        b.header.timestamp_ms = timestamp_ms;
        let b = remine(b);
        assert_eq!(
            validate_err(&spec, &ctx, &(), b),
            BlockError::TimestampNotAfterParent {
                timestamp_ms,
                parent_ms
            }
        );
    }
    let mut b = child(&spec, &ctx, Vec::new());
    b.header.timestamp_ms = parent_ms + 1;
    accept(&spec, &ctx, remine(b));
}

#[test]
fn rejects_timestamp_too_far_in_future() {
    let spec = easy_spec();
    let ctx = second_block_ctx(&spec);
    let b = child(&spec, &ctx, Vec::new());
    let ts = b.header.timestamp_ms;
    let now = ts - spec.max_future_drift_ms - 1;
    let err = b
        .clone()
        .check(&spec)
        .unwrap()
        .validate(&spec, &ctx, &(), now)
        .unwrap_err()
        .into_invalid();
    assert_eq!(
        err,
        BlockError::TimestampTooFarInFuture {
            timestamp_ms: ts,
            max_ms: ts - 1
        }
    );
    // Exactly at the drift bound is fine.
    let now = ts - spec.max_future_drift_ms;
    assert!(
        b.check(&spec)
            .unwrap()
            .validate(&spec, &ctx, &(), now)
            .is_ok()
    );
}
