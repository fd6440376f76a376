//! Property tests of the per-block retarget.

use proptest::prelude::*;
use ruint::aliases::{U256, U512};
use talos_chain::pow::{RetargetParams, next_target};
use talos_chain::{CompactTarget, Target};

/// A valid target in `[1, limit]` from random bits and a random shift.
fn target_below(limit: &Target, bits: [u8; 32], shift: usize) -> Target {
    let v = (U256::from_be_bytes(bits) >> shift).max(U256::from(1u8));
    let v = if v > limit.value() { limit.value() } else { v };
    // Round to compact form (down), staying >= 1.
    let t = Target::from_value(v)
        .unwrap()
        .to_compact()
        .to_target()
        .unwrap();
    assert!(t.value() >= U256::from(1u8) && t <= *limit);
    t
}

fn limit_strategy() -> impl Strategy<Value = CompactTarget> {
    prop_oneof![
        Just(CompactTarget(0x207f_ffff)),
        Just(CompactTarget(0x1f00_ffff)),
        Just(CompactTarget(0x1d00_ffff)),
        (any::<[u8; 32]>(), 0usize..250).prop_map(|(b, s)| {
            let max = CompactTarget(0x207f_ffff).to_target().unwrap();
            target_below(&max, b, s).to_compact()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn next_target_stays_in_range_and_within_factor_bounds(
        block_interval_ms in 1u64..1_000_000,
        damping in 1u64..64,
        max_interval_factor in 1u64..64,
        pow_limit in limit_strategy(),
        bits in any::<[u8; 32]>(),
        shift in 0usize..256,
        solve in prop_oneof![Just(None), any::<u64>().prop_map(Some), (0u64..5_000_000).prop_map(Some)],
    ) {
        let params = RetargetParams { block_interval_ms, damping, max_interval_factor, pow_limit };
        let limit = pow_limit.to_target().unwrap();
        let old = target_below(&limit, bits, shift);
        let new_c = next_target(&params, old.to_compact(), solve);
        let new = new_c.to_target().expect("valid compact output");
        prop_assert!(new.value() >= U256::from(1u8));
        prop_assert!(new <= limit);

        let Some(solve) = solve else {
            prop_assert_eq!(new, old);
            return Ok(());
        };
        // Documented factor bounds: new/old in [(d-1)/d, (d-1+m)/d], before the clamp to
        // [1, pow_limit] and the rounding down to three significant bytes (< 2^-15 relative).
        let (d, m, t) = (damping, max_interval_factor, block_interval_ms);
        let o = U512::from(old.value());
        let lo = o * U512::from(d - 1) / U512::from(d);
        let hi = o * U512::from(d - 1 + m) / U512::from(d);
        let lim = U512::from(limit.value());
        let n = U512::from(new.value());
        let lo_clamped = lo.min(lim);
        let rounding = lo_clamped >> 15;
        prop_assert!(n + rounding + U512::from(1u8) >= lo_clamped, "below the lower factor bound");
        prop_assert!(n <= hi.min(lim).max(U512::from(1u8)), "above the upper factor bound");
        // Direction: faster than the interval never eases, slower never hardens.
        if solve < t {
            prop_assert!(new <= old);
        }
        if solve > t {
            prop_assert!(new >= old);
        }
    }
}
