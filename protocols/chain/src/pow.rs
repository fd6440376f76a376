//! Proof of work: compact targets, work, and the per-block retarget.
//!
//! A header meets its target when SHA-256 of its canonical encoding, read as a big-endian
//! 256-bit integer, is at most the target. Targets travel in Bitcoin's compact form (one
//! exponent byte, a 3-byte mantissa). Work is the expected number of hashes,
//! `2^256 / (target + 1)`. All arithmetic is integer and deterministic.

use std::fmt;

use ruint::aliases::U256;
use serde::{Deserialize, Serialize};

use crate::hash::Hash256;

/// A target in compact form: `mantissa * 256^(exponent - 3)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CompactTarget(pub u32);

impl fmt::Debug for CompactTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CompactTarget({:#010x})", self.0)
    }
}

impl fmt::Display for CompactTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}", self.0)
    }
}

/// Why a compact target is not a usable target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The sign bit (0x0080_0000) is set.
    #[error("compact target is negative")]
    Negative,
    /// The mantissa is zero: no hash could meet it.
    #[error("compact target is zero")]
    Zero,
    /// The value does not fit 256 bits.
    #[error("compact target overflows 256 bits")]
    Overflow,
    /// Not the unique compact form of its value.
    #[error("compact target is not in normal form")]
    NotNormalized,
}

impl CompactTarget {
    /// Expands to the full 256-bit target; rejects negative, zero, overflowing and
    /// non-normalized encodings, so every valid target has exactly one compact form.
    pub fn to_target(self) -> Result<Target, TargetError> {
        let exponent = self.0 >> 24;
        let mantissa = self.0 & 0x007f_ffff;
        if self.0 & 0x0080_0000 != 0 {
            return Err(TargetError::Negative);
        }
        if mantissa == 0 {
            return Err(TargetError::Zero);
        }
        let value = if exponent <= 3 {
            U256::from(mantissa >> (8 * (3 - exponent)))
        } else {
            let shift = 8 * (exponent as usize - 3);
            let m = U256::from(mantissa);
            if shift >= 256 || (m.bit_len() + shift) > 256 {
                return Err(TargetError::Overflow);
            }
            m << shift
        };
        if value.is_zero() {
            return Err(TargetError::Zero);
        }
        let target = Target(value);
        if target.to_compact() != self {
            return Err(TargetError::NotNormalized);
        }
        Ok(target)
    }
}

/// A full 256-bit proof-of-work target.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Target(U256);

impl Target {
    /// The target as a 256-bit integer.
    pub fn value(&self) -> U256 {
        self.0
    }

    /// Builds a target from a 256-bit integer, `None` for zero.
    pub fn from_value(value: U256) -> Option<Self> {
        (!value.is_zero()).then_some(Self(value))
    }

    /// The compact form, rounding the value down to 3 significant bytes.
    pub fn to_compact(self) -> CompactTarget {
        let bytes = self.0.byte_len();
        let (mantissa, exponent) = if bytes <= 3 {
            let m = self.0.as_limbs()[0] as u32;
            (m << (8 * (3 - bytes)), bytes)
        } else {
            let m = (self.0 >> (8 * (bytes - 3))).as_limbs()[0] as u32;
            (m, bytes)
        };
        // Keep the sign bit clear by moving one byte into the exponent.
        let (mantissa, exponent) = if mantissa & 0x0080_0000 != 0 {
            (mantissa >> 8, exponent + 1)
        } else {
            (mantissa, exponent)
        };
        CompactTarget(((exponent as u32) << 24) | mantissa)
    }

    /// Whether `hash`, read big-endian, is at most this target.
    pub fn is_met_by(&self, hash: &Hash256) -> bool {
        U256::from_be_bytes(hash.0) <= self.0
    }

    /// Expected number of hashes to meet this target: `2^256 / (target + 1)`.
    pub fn work(&self) -> Work {
        // 2^256 / (t + 1) == (!t / (t + 1)) + 1 for t < 2^256 - 1; for t == MAX it is 1.
        let t = self.0;
        if t == U256::MAX {
            return Work(U256::from(1u8));
        }
        Work((!t / (t + U256::from(1u8))) + U256::from(1u8))
    }
}

/// Cumulative or per-block proof of work.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Work(U256);

impl Work {
    /// No work.
    pub const ZERO: Self = Self(U256::ZERO);

    /// `self + other`, saturating (cumulative work cannot realistically reach 2^256).
    #[must_use]
    pub fn saturating_add(self, other: Self) -> Self {
        Self(self.0.saturating_add(other.0))
    }

    /// `self - other`, saturating at zero.
    #[must_use]
    pub fn saturating_sub(self, other: Self) -> Self {
        Self(self.0.saturating_sub(other.0))
    }

    /// Big-endian bytes without leading zeros (empty for zero); the wire and storage form.
    pub fn to_be_bytes_trimmed(&self) -> Vec<u8> {
        let bytes: [u8; 32] = self.0.to_be_bytes();
        let first = bytes.iter().position(|b| *b != 0).unwrap_or(32);
        bytes[first..].to_vec()
    }

    /// Parses big-endian bytes of at most 32 bytes.
    pub fn from_be_slice(bytes: &[u8]) -> Option<Self> {
        if bytes.len() > 32 {
            return None;
        }
        let mut buf = [0u8; 32];
        buf[32 - bytes.len()..].copy_from_slice(bytes);
        Some(Self(U256::from_be_bytes(buf)))
    }

    /// The work as a 256-bit integer.
    pub fn value(&self) -> U256 {
        self.0
    }

    /// Work from a 256-bit integer.
    pub fn from_value(value: U256) -> Self {
        Self(value)
    }
}

impl fmt::Display for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Parameters of the per-block retarget, from the network spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetargetParams {
    /// Target block interval in milliseconds.
    pub block_interval_ms: u64,
    /// Damping: each block moves the target by `1/damping` of the observed error.
    pub damping: u64,
    /// The observed interval is clamped to `max_interval_factor × block_interval_ms`.
    pub max_interval_factor: u64,
    /// The easiest allowed target (upper bound for every retarget).
    pub pow_limit: CompactTarget,
}

/// The target the next block must carry, given its parent's target and the parent's solve
/// time (parent timestamp minus grandparent timestamp; `None` for the block after genesis,
/// which keeps the genesis target).
///
/// `new = old × ((damping − 1)·T + clamp(solve, 0, max·T)) / (damping·T)`, clamped to
/// `[1, pow_limit]` and rounded to compact form. With damping `d` and factor `m`, one block
/// moves the target by a factor in `[(d−1)/d, (d−1+m)/d]`.
pub fn next_target(
    params: &RetargetParams,
    parent: CompactTarget,
    solve_time_ms: Option<u64>,
) -> CompactTarget {
    let Some(solve) = solve_time_ms else {
        return parent;
    };
    let (Ok(old), Ok(limit)) = (parent.to_target(), params.pow_limit.to_target()) else {
        return params.pow_limit;
    };
    let t = params.block_interval_ms.max(1);
    let d = params.damping.max(1);
    let clamped = solve.min(params.max_interval_factor.saturating_mul(t));
    let numerator = U256::from(d - 1) * U256::from(t) + U256::from(clamped);
    let denominator = U256::from(d) * U256::from(t);
    // old < 2^256 and numerator < 2^128: compute in 512 bits to avoid overflow.
    let wide = ruint::aliases::U512::from(old.value()) * ruint::aliases::U512::from(numerator)
        / ruint::aliases::U512::from(denominator);
    let value = if wide > ruint::aliases::U512::from(limit.value()) {
        limit.value()
    } else {
        U256::from(wide)
    };
    let value = value.max(U256::from(1u8));
    Target(value).to_compact()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_round_trips_known_values() {
        for c in [
            0x1d00_ffffu32,
            0x207f_ffff,
            0x1f00_ffff,
            0x0312_3456,
            0x0134_0000,
        ] {
            let t = CompactTarget(c).to_target().unwrap();
            assert_eq!(t.to_compact(), CompactTarget(c), "{c:#x}");
        }
    }

    #[test]
    fn compact_rejects_bad_forms() {
        assert_eq!(
            CompactTarget(0x1d80_0000).to_target(),
            Err(TargetError::Negative)
        );
        assert_eq!(
            CompactTarget(0x1d00_0000).to_target(),
            Err(TargetError::Zero)
        );
        assert_eq!(
            CompactTarget(0x2200_ffff).to_target(),
            Err(TargetError::Overflow)
        );
        assert_eq!(
            CompactTarget(0x1e00_00ff).to_target(),
            Err(TargetError::NotNormalized)
        );
        assert_eq!(
            CompactTarget(0x0100_0001).to_target(),
            Err(TargetError::Zero)
        );
    }

    #[test]
    fn work_of_known_targets() {
        // Bitcoin's difficulty-1 target has work 0x1_0001_0001.
        let t = CompactTarget(0x1d00_ffff).to_target().unwrap();
        assert_eq!(t.work().value(), U256::from(0x1_0001_0001u64));
        let max = Target::from_value(U256::MAX).unwrap();
        assert_eq!(max.work().value(), U256::from(1u8));
    }

    #[test]
    fn hash_meets_target_inclusive() {
        let t = Target::from_value(U256::from(5u8)).unwrap();
        let mut h = [0u8; 32];
        h[31] = 5;
        assert!(t.is_met_by(&Hash256(h)));
        h[31] = 6;
        assert!(!t.is_met_by(&Hash256(h)));
    }

    fn params() -> RetargetParams {
        RetargetParams {
            block_interval_ms: 1000,
            damping: 8,
            max_interval_factor: 8,
            pow_limit: CompactTarget(0x207f_ffff),
        }
    }

    #[test]
    fn retarget_direction() {
        let p = params();
        let start = CompactTarget(0x1f00_ffff);
        let v = |c: CompactTarget| c.to_target().unwrap().value();
        assert_eq!(next_target(&p, start, None), start);
        assert_eq!(v(next_target(&p, start, Some(1000))), v(start));
        assert!(
            v(next_target(&p, start, Some(100))) < v(start),
            "fast blocks make it harder"
        );
        assert!(
            v(next_target(&p, start, Some(5000))) > v(start),
            "slow blocks make it easier"
        );
        assert_eq!(next_target(&p, p.pow_limit, Some(u64::MAX)), p.pow_limit);
    }
}
