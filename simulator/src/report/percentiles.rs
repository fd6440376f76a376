//! Nearest-rank percentiles of a sample.

use serde::{Deserialize, Serialize};

/// Summary statistics of a sample: count, extremes and nearest-rank percentiles.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Percentiles {
    /// Values summarised (NaNs excluded).
    pub count: usize,
    /// Smallest value.
    pub min: f64,
    /// Median (nearest rank).
    pub p50: f64,
    /// 90th percentile (nearest rank).
    pub p90: f64,
    /// 99th percentile (nearest rank).
    pub p99: f64,
    /// Largest value.
    pub max: f64,
}

impl Percentiles {
    /// Summarises `values`, ignoring NaNs; `None` if no value is left.
    ///
    /// Percentiles use the nearest-rank method: the p-th percentile is the smallest value
    /// with at least p % of the sample at or below it, so every reported value was observed.
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        Some(Self {
            count: sorted.len(),
            min: sorted[0],
            p50: nearest_rank(&sorted, 50),
            p90: nearest_rank(&sorted, 90),
            p99: nearest_rank(&sorted, 99),
            max: sorted[sorted.len() - 1],
        })
    }
}

/// The `percent`-th nearest-rank percentile of a non-empty, ascending slice.
fn nearest_rank(sorted: &[f64], percent: usize) -> f64 {
    // rank = ceil(percent / 100 × n), 1-based, at least 1.
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_to_hundred() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = Percentiles::of(&values).expect("non-empty");
        assert_eq!(p.count, 100);
        assert_eq!(p.min, 1.0);
        assert_eq!(p.p50, 50.0);
        assert_eq!(p.p90, 90.0);
        assert_eq!(p.p99, 99.0);
        assert_eq!(p.max, 100.0);
    }

    #[test]
    fn order_does_not_matter() {
        let mut values: Vec<f64> = (1..=100).map(f64::from).collect();
        values.reverse();
        values.swap(3, 70);
        let p = Percentiles::of(&values).expect("non-empty");
        assert_eq!(
            (p.min, p.p50, p.p90, p.p99, p.max),
            (1.0, 50.0, 90.0, 99.0, 100.0)
        );
    }

    #[test]
    fn single_value() {
        let p = Percentiles::of(&[7.5]).expect("non-empty");
        assert_eq!(
            p,
            Percentiles {
                count: 1,
                min: 7.5,
                p50: 7.5,
                p90: 7.5,
                p99: 7.5,
                max: 7.5
            }
        );
    }

    #[test]
    fn small_sample_uses_nearest_rank() {
        // n = 4: p50 → rank 2, p90 → rank 4, p99 → rank 4.
        let p = Percentiles::of(&[40.0, 10.0, 30.0, 20.0]).expect("non-empty");
        assert_eq!(
            (p.min, p.p50, p.p90, p.p99, p.max),
            (10.0, 20.0, 40.0, 40.0, 40.0)
        );
    }

    #[test]
    fn empty_is_none() {
        assert_eq!(Percentiles::of(&[]), None);
        assert_eq!(Percentiles::of(&[f64::NAN, f64::NAN]), None);
    }

    #[test]
    fn nans_are_ignored() {
        let p = Percentiles::of(&[f64::NAN, 3.0, 1.0, f64::NAN, 2.0]).expect("non-empty");
        assert_eq!(p.count, 3);
        assert_eq!((p.min, p.p50, p.max), (1.0, 2.0, 3.0));
        assert!(!p.p99.is_nan());
    }
}
