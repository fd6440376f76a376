//! The points the plots draw, computed without drawing anything.

use crate::record::TipSample;

/// Points of the empirical CDF of `values` (NaNs ignored), as a step line: for each value
/// in ascending order, a vertical step at the value up to the fraction of values at or below
/// it, then a horizontal run to the next value. Empty for an empty sample.
pub fn cdf_points(values: &[f64]) -> Vec<(f64, f64)> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let mut points = Vec::with_capacity(sorted.len() * 2);
    for (i, &value) in sorted.iter().enumerate() {
        points.push((value, i as f64 / n));
        points.push((value, (i + 1) as f64 / n));
    }
    points
}

/// `(min, max)` of the finite values; `None` if there is no finite value.
pub fn extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// An axis range from 0 (or below, for negative values) to a little past the largest value,
/// at least `0..min_span`.
pub fn axis_range(values: impl IntoIterator<Item = f64>, min_span: f64) -> (f64, f64) {
    match extent(values) {
        None => (0.0, min_span),
        Some((lo, hi)) => {
            let lo = lo.min(0.0);
            let hi = (hi * 1.05).max(lo + min_span);
            (lo, hi)
        }
    }
}

/// The timeline's lines, x in seconds since the start.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimelineSeries {
    /// Distinct tips among the live nodes.
    pub distinct_tips: Vec<(f64, f64)>,
    /// Live honest nodes.
    pub live: Vec<(f64, f64)>,
    /// Live nodes on the most-work tip.
    pub on_best: Vec<(f64, f64)>,
}

impl TimelineSeries {
    /// The lines of `samples`, in time order.
    pub fn of(samples: &[TipSample]) -> Self {
        let mut sorted: Vec<&TipSample> = samples.iter().collect();
        sorted.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
        let mut series = Self::default();
        for sample in sorted {
            let t = sample.t_ms / 1000.0;
            series.distinct_tips.push((t, sample.distinct_tips as f64));
            series.live.push((t, sample.live as f64));
            series.on_best.push((t, sample.on_best as f64));
        }
        series
    }

    /// The largest node count (live or on the best tip), 0 if none.
    pub fn max_nodes(&self) -> f64 {
        max_y(self.live.iter().chain(&self.on_best))
    }

    /// The largest number of distinct tips, 0 if none.
    pub fn max_tips(&self) -> f64 {
        max_y(&self.distinct_tips)
    }
}

/// The largest y of `points`, 0 if none.
fn max_y<'a>(points: impl IntoIterator<Item = &'a (f64, f64)>) -> f64 {
    points.into_iter().map(|&(_, y)| y).fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_steps_through_sorted_values() {
        let points = cdf_points(&[30.0, 10.0, f64::NAN, 20.0, 40.0]);
        assert_eq!(
            points,
            vec![
                (10.0, 0.0),
                (10.0, 0.25),
                (20.0, 0.25),
                (20.0, 0.5),
                (30.0, 0.5),
                (30.0, 0.75),
                (40.0, 0.75),
                (40.0, 1.0),
            ]
        );
    }

    #[test]
    fn cdf_of_nothing_is_empty() {
        assert!(cdf_points(&[]).is_empty());
        assert!(cdf_points(&[f64::NAN]).is_empty());
    }

    #[test]
    fn extent_and_axis_range() {
        assert_eq!(
            extent([3.0, f64::NAN, -1.0, f64::INFINITY, 2.0]),
            Some((-1.0, 3.0))
        );
        assert_eq!(extent([]), None);
        assert_eq!(axis_range([], 1.0), (0.0, 1.0));
        assert_eq!(axis_range([100.0, 200.0], 1.0), (0.0, 210.0));
        assert_eq!(axis_range([0.0], 1.0), (0.0, 1.0));
        assert_eq!(axis_range([-10.0, 10.0], 1.0), (-10.0, 10.5));
    }

    #[test]
    fn timeline_in_seconds_and_time_order() {
        let sample = |t_ms: f64, live: usize, distinct_tips: usize, on_best: usize| TipSample {
            t_ms,
            live,
            distinct_tips,
            on_best,
            best_height: 0,
        };
        let series = TimelineSeries::of(&[
            sample(2000.0, 4, 2, 3),
            sample(0.0, 4, 1, 4),
            sample(3000.0, 0, 0, 0),
        ]);
        assert_eq!(
            series.distinct_tips,
            vec![(0.0, 1.0), (2.0, 2.0), (3.0, 0.0)]
        );
        assert_eq!(series.live, vec![(0.0, 4.0), (2.0, 4.0), (3.0, 0.0)]);
        assert_eq!(series.on_best, vec![(0.0, 4.0), (2.0, 3.0), (3.0, 0.0)]);
        assert_eq!(series.max_nodes(), 4.0);
        assert_eq!(series.max_tips(), 2.0);
        let empty = TimelineSeries::of(&[]);
        assert_eq!((empty.max_nodes(), empty.max_tips()), (0.0, 0.0));
    }
}
