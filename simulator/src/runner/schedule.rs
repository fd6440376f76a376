//! The scenario's timetable, drawn up front from the seed (no I/O): Poisson block times and
//! miners, churn departures, timed actions and adversary starts.

use rand::Rng;
use rand::seq::SliceRandom;

use crate::scenario::{Action, Scenario};

/// Something to do at a time.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Step {
    /// Miner `node` produces a block.
    Mine {
        /// Node index.
        node: usize,
    },
    /// A scenario action.
    Act(Action),
    /// A random eligible node leaves (chosen when it happens, among the nodes up then).
    ChurnLeave,
    /// Adversary group `group` starts.
    StartAdversaries {
        /// Index into `Scenario::adversaries`.
        group: usize,
    },
}

/// `(seconds since start, step)`, sorted by time (ties keep the order they were drawn in).
pub(crate) fn timetable(scenario: &Scenario, rng: &mut impl Rng) -> Vec<(f64, Step)> {
    let mut steps = Vec::new();
    let miners: Vec<usize> = (scenario.bootnodes..scenario.bootnodes + scenario.miners).collect();
    // The first block waits a little: the nodes are still finding each other.
    let mean_s = scenario.block_interval_ms as f64 / 1000.0;
    let mut t = 0.0;
    loop {
        t += exponential(rng, mean_s);
        if t >= scenario.duration_s {
            break;
        }
        if let Some(&node) = miners.choose(rng) {
            steps.push((t, Step::Mine { node }));
        }
    }
    for event in &scenario.events {
        steps.push((event.at_s, Step::Act(event.action.clone())));
    }
    if let Some(churn) = &scenario.churn {
        let mean_s = 60.0 / churn.leaves_per_min;
        let mut t = churn.start_s;
        loop {
            t += exponential(rng, mean_s);
            if t >= churn.stop_s.min(scenario.duration_s) {
                break;
            }
            steps.push((t, Step::ChurnLeave));
        }
    }
    for (group, spec) in scenario.adversaries.iter().enumerate() {
        steps.push((spec.start_s, Step::StartAdversaries { group }));
    }
    steps.sort_by(|a, b| a.0.total_cmp(&b.0));
    steps
}

/// An exponentially distributed interval with the given mean.
pub(crate) fn exponential(rng: &mut impl Rng, mean: f64) -> f64 {
    // 1 - U is in (0, 1], so the logarithm is finite.
    let u: f64 = rng.r#gen();
    -(1.0 - u).ln() * mean
}

/// Partition groups of the honest nodes `0..nodes`: node `i` in group `i % groups`.
pub(crate) fn partition_groups(nodes: usize, groups: usize) -> Vec<Vec<usize>> {
    let groups = groups.max(1);
    let mut out = vec![Vec::new(); groups];
    for node in 0..nodes {
        out[node % groups].push(node);
    }
    out
}

/// Up to `count` distinct picks from `from`.
pub(crate) fn sample(rng: &mut impl Rng, from: &[usize], count: usize) -> Vec<usize> {
    from.choose_multiple(rng, count).copied().collect()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::scenario::Churn;

    #[test]
    fn the_same_seed_draws_the_same_timetable() {
        let s = Scenario::new("t", 10, 60.0).with_churn(Churn {
            start_s: 5.0,
            stop_s: 50.0,
            leaves_per_min: 12.0,
            downtime_s: 3.0,
        });
        let a = timetable(&s, &mut StdRng::seed_from_u64(1));
        let b = timetable(&s, &mut StdRng::seed_from_u64(1));
        let c = timetable(&s, &mut StdRng::seed_from_u64(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.windows(2).all(|w| w[0].0 <= w[1].0), "sorted");
    }

    #[test]
    fn blocks_follow_the_mean_interval_and_only_miners_mine() {
        let s = Scenario::new("t", 10, 2_000.0).with_roles(2, 3);
        let steps = timetable(&s, &mut StdRng::seed_from_u64(7));
        let mut blocks = 0;
        for (_, step) in &steps {
            if let Step::Mine { node } = step {
                assert!((2..5).contains(node));
                blocks += 1;
            }
        }
        // 2,000 s at a 1 s mean: 2,000 expected, sd ≈ 45.
        assert!((1_800..2_200).contains(&blocks), "{blocks}");
    }

    #[test]
    fn exponential_has_the_requested_mean() {
        let mut rng = StdRng::seed_from_u64(3);
        let n = 20_000;
        let mean = (0..n).map(|_| exponential(&mut rng, 2.0)).sum::<f64>() / f64::from(n);
        assert!((mean - 2.0).abs() < 0.1, "{mean}");
    }

    #[test]
    fn partition_groups_are_round_robin() {
        assert_eq!(partition_groups(5, 2), vec![vec![0, 2, 4], vec![1, 3]]);
    }
}
