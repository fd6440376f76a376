//! The time warp: can a miner steer the retarget with timestamps instead of work?
//!
//! Headers are checked with [`check_header_context`] only (no proof of work is needed to ask
//! what the rules would let a header carry), on the `local` network: 1 s blocks, damping 8,
//! a factor-8 clamp, 15 s of future drift.

use talos_chain::{
    BlockError, BlockHeader, CompactTarget, NetworkSpec, ParentContext, check_header_context,
};

/// A header on `ctx` with the target the rules expect and time `timestamp_ms`.
fn header_on(spec: &NetworkSpec, ctx: &ParentContext, timestamp_ms: u64) -> BlockHeader {
    BlockHeader {
        height: ctx.header.height + 1,
        prev_hash: ctx.id,
        timestamp_ms,
        target: ctx.expected_target(spec),
        ..ctx.header
    }
}

fn value(target: CompactTarget) -> ruint::aliases::U256 {
    target.to_target().expect("valid target").value()
}

#[test]
fn alternating_timestamps_are_refused() {
    // The old attack: one block far ahead (a slow solve time eases the target), the next
    // back near the median (a negative solve time counted as 0). Now a time must follow its
    // parent's, so the step back is refused outright.
    let spec = NetworkSpec::local();
    let now = spec.genesis_timestamp_ms + 1_000;
    let g = ParentContext::for_genesis(&spec);
    let ahead = header_on(&spec, &g, g.header.timestamp_ms + 8_000);
    check_header_context(&ahead, &spec, &g, now).expect("8 s ahead is within the drift");
    let ctx = g.child_of_header(&ahead);
    let back = header_on(&spec, &ctx, g.header.timestamp_ms + 1);
    assert_eq!(
        check_header_context(&back, &spec, &ctx, now),
        Err(BlockError::TimestampNotAfterParent {
            timestamp_ms: back.timestamp_ms,
            parent_ms: ahead.timestamp_ms,
        })
    );
}

#[test]
fn timestamp_games_ease_the_target_no_more_than_the_drift_allows() {
    // A miner that builds 70 headers within one real second, each time taking the retarget's
    // clamp (8 intervals) when the drift still leaves room for the rest, else the earliest
    // time the rules allow. Under
    // the old rules the same budget took a branch to the pow limit; now the easiest target it
    // ever reaches is bounded by two clamped solve times (16 s of drift and real time):
    // (15/8)² ≈ 3.5 times the start, and the branch then gets harder with every block.
    let spec = NetworkSpec::local();
    let now = spec.genesis_timestamp_ms + 1_000;
    let latest = now + spec.max_future_drift_ms;
    let clamp = spec.retarget.max_interval_factor * spec.retarget.block_interval_ms;
    let start = value(spec.genesis_target);
    let mut ctx = ParentContext::for_genesis(&spec);
    let mut easiest = start;
    for left in (0..70u64).rev() {
        let slow = ctx.header.timestamp_ms + clamp;
        let timestamp_ms = if slow + left <= latest {
            slow
        } else {
            ctx.earliest_child_time()
        };
        let header = header_on(&spec, &ctx, timestamp_ms);
        check_header_context(&header, &spec, &ctx, now).expect("within the rules");
        easiest = easiest.max(value(header.target));
        ctx = ctx.child_of_header(&header);
    }
    assert!(
        easiest <= start * ruint::aliases::U256::from(4u8),
        "the target eased {}x",
        easiest / start
    );
    assert!(
        value(ctx.header.target) < start,
        "and ends harder than it started"
    );
    assert!(easiest < value(spec.retarget.pow_limit) / ruint::aliases::U256::from(1_000u32));
}
