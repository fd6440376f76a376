//! [`Report::table`]: the report as an aligned plain-text table.

use std::fmt::Write as _;

use super::grid::{Align, Grid};
use super::{CounterStats, Percentiles, Report};
use crate::record::RunInfo;

/// Indentation of a section's rows under its title.
const INDENT: &str = "  ";
/// What a missing value prints as.
const MISSING: &str = "-";

impl Report {
    /// The report as a human-readable table: fixed-width columns, no colour, one section
    /// each for the run, propagation, chain, heals, traffic, memory and attackers. Missing
    /// values print as `-`.
    pub fn table(&self) -> String {
        let traffic_title = format!("TRAFFIC (honest nodes: {})", self.traffic.nodes);
        let attackers_title = format!(
            "ATTACKERS ({} of {} banned by an honest node)",
            self.attackers_banned,
            self.attackers.len()
        );
        let sections = [
            ("RUN", self.run_section()),
            ("PROPAGATION (ms)", self.propagation_section()),
            ("CHAIN", self.chain_section()),
            ("HEALS", self.heals_section()),
            (traffic_title.as_str(), self.traffic_section()),
            ("MEMORY (MiB)", self.memory_section()),
            (attackers_title.as_str(), self.attackers_section()),
        ];
        let mut out = String::new();
        for (i, (title, body)) in sections.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let _ = writeln!(out, "{title}");
            out.push_str(body);
        }
        out
    }

    fn run_section(&self) -> String {
        let RunInfo {
            scenario,
            seed,
            nodes,
            adversaries,
            link,
            duration_ms,
        } = &self.info;
        let bandwidth = match link.bandwidth_kbps {
            Some(kbps) => format!("{kbps} kbps"),
            None => "unlimited bandwidth".into(),
        };
        let mut grid = Grid::new(&[Align::Left, Align::Left]);
        grid.row(["scenario".into(), scenario.clone()])
            .row(["seed".into(), seed.to_string()])
            .row([
                "nodes".into(),
                format!("{} honest, {} adversaries", nodes, adversaries),
            ])
            .row([
                "link".into(),
                format!(
                    "{} ms latency, {} ms jitter, {bandwidth}",
                    num(link.latency_ms, 1),
                    num(link.jitter_ms, 1)
                ),
            ])
            .row([
                "duration".into(),
                format!("{} s", num(duration_ms / 1000.0, 1)),
            ]);
        grid.render(INDENT)
    }

    fn propagation_section(&self) -> String {
        let mut grid = Grid::new(&[Align::Left; 1]);
        let mut stats = Grid::new(&[
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
        ]);
        stats.row(["", "count", "min", "p50", "p90", "p99", "max"]);
        stats.row(percentile_row("complete", self.propagation.as_ref()));
        stats.row(percentile_row("per arrival", self.arrival.as_ref()));
        let bound = match &self.lower_bound {
            Some(b) => format!(
                "{} ms ({} hops x ({} ms latency + {} ms validation))",
                num(b.bound_ms, 1),
                num(b.hops, 1),
                num(b.latency_ms, 1),
                num(b.validation_ms, 1)
            ),
            None => MISSING.into(),
        };
        grid.row([
            "incomplete".into(),
            format!("{} main-chain blocks", self.propagation_incomplete),
        ])
        .row(["lower bound".into(), bound])
        .row(["p99 / bound".into(), opt(self.p99_over_bound, 2)]);
        stats.render(INDENT) + &grid.render(INDENT)
    }

    fn chain_section(&self) -> String {
        let outcome = &self.outcome;
        let mut grid = Grid::new(&[Align::Left, Align::Left]);
        grid.row([
            "blocks".into(),
            format!(
                "{} produced, {} main chain, {} stale",
                self.blocks_produced, self.blocks_main, self.stale_blocks
            ),
        ])
        .row([
            "reorgs".into(),
            format!(
                "{} (max depth {})",
                self.reorgs,
                self.max_reorg_depth
                    .map_or(MISSING.into(), |d| d.to_string())
            ),
        ])
        .row([
            "final tip".into(),
            if outcome.tip_id.is_empty() {
                MISSING.into()
            } else {
                format!(
                    "{} at height {}",
                    short(&outcome.tip_id, 16),
                    outcome.tip_height
                )
            },
        ])
        .row([
            "converged".into(),
            format!(
                "{} ({} distinct tips among {} live nodes)",
                if outcome.converged { "yes" } else { "no" },
                outcome.distinct_tips,
                outcome.live
            ),
        ])
        .row(["settle".into(), opt_ms(outcome.settle_ms)])
        .row([
            "links".into(),
            format!(
                "{} between live nodes at the end ({:.1} per node)",
                outcome.open_links,
                2.0 * outcome.open_links as f64 / outcome.live.max(1) as f64
            ),
        ])
        .row([
            "side blocks".into(),
            format!("at most {} stored by one node", outcome.max_side_blocks),
        ]);
        grid.render(INDENT)
    }

    fn heals_section(&self) -> String {
        if self.heals.is_empty() {
            return format!("{INDENT}none\n");
        }
        let mut grid = Grid::new(&[Align::Left, Align::Right, Align::Right]);
        grid.row(["", "at (s)", "converged after (ms)"]);
        for (i, heal) in self.heals.iter().enumerate() {
            grid.row([
                format!("heal {}", i + 1),
                num(heal.at_ms / 1000.0, 1),
                opt(heal.converged_after_ms, 1),
            ]);
        }
        grid.row([
            "max".into(),
            String::new(),
            opt(self.max_heal_convergence_ms, 1),
        ]);
        grid.row([
            "never converged".into(),
            String::new(),
            self.heals_unconverged.to_string(),
        ]);
        grid.render(INDENT)
    }

    fn traffic_section(&self) -> String {
        let traffic = &self.traffic;
        let counted = traffic.nodes > 0;
        // Byte counters print in KiB with one decimal, message counters as whole numbers
        // (their mean with one decimal).
        let row = |label: &str, stats: &CounterStats, in_kib: bool| {
            if !counted {
                return [
                    label.to_string(),
                    MISSING.into(),
                    MISSING.into(),
                    MISSING.into(),
                ];
            }
            let whole = |value: u64| {
                if in_kib {
                    num(value as f64 / 1024.0, 1)
                } else {
                    value.to_string()
                }
            };
            let scale = if in_kib { 1024.0 } else { 1.0 };
            [
                label.to_string(),
                num(stats.mean / scale, 1),
                whole(stats.max),
                whole(stats.total),
            ]
        };
        let mut grid = Grid::new(&[Align::Left, Align::Right, Align::Right, Align::Right]);
        grid.row(["", "mean/node", "max/node", "total"])
            .row(row("in (KiB)", &traffic.bytes_in, true))
            .row(row("out (KiB)", &traffic.bytes_out, true))
            .row(row("gossip msgs", &traffic.gossip_received, false))
            .row(row("duplicates", &traffic.gossip_duplicates, false))
            .row([
                "dup ratio".into(),
                String::new(),
                String::new(),
                opt(traffic.duplicate_ratio, 3),
            ]);
        grid.render(INDENT)
    }

    fn memory_section(&self) -> String {
        let memory = &self.memory;
        let mut grid = Grid::new(&[Align::Left, Align::Right]);
        grid.row(["baseline".into(), opt(memory.baseline_mib, 1)])
            .row(["peak".into(), opt(memory.peak_mib, 1)])
            .row(["settled".into(), opt(memory.settled_mib, 1)])
            .row(["settled nodes".into(), memory.settled_nodes.to_string()])
            .row(["per node".into(), opt(memory.per_node_mib, 2)]);
        grid.render(INDENT)
    }

    fn attackers_section(&self) -> String {
        if self.attackers.is_empty() {
            return format!("{INDENT}none\n");
        }
        let mut grid = Grid::new(&[
            Align::Right,
            Align::Left,
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Right,
        ]);
        grid.row(["node", "kind", "peer id", "sent", "contacted", "banned by"]);
        for attacker in &self.attackers {
            grid.row([
                attacker.node.to_string(),
                attacker.kind.clone(),
                short(&attacker.peer_id, 16),
                attacker.sent.to_string(),
                attacker.contacted.to_string(),
                attacker.banned_by.to_string(),
            ]);
        }
        grid.render(INDENT)
    }
}

/// A row of the propagation statistics.
fn percentile_row(label: &str, p: Option<&Percentiles>) -> [String; 7] {
    match p {
        Some(p) => [
            label.into(),
            p.count.to_string(),
            num(p.min, 1),
            num(p.p50, 1),
            num(p.p90, 1),
            num(p.p99, 1),
            num(p.max, 1),
        ],
        None => {
            let mut row: [String; 7] = std::array::from_fn(|_| MISSING.to_string());
            row[0] = label.into();
            row[1] = "0".into();
            row
        }
    }
}

/// `value` with `decimals` decimals; NaN and infinities print as `-`.
fn num(value: f64, decimals: usize) -> String {
    if value.is_finite() {
        format!("{value:.decimals$}")
    } else {
        MISSING.into()
    }
}

/// An optional value, `-` when absent.
fn opt(value: Option<f64>, decimals: usize) -> String {
    value.map_or(MISSING.into(), |v| num(v, decimals))
}

/// An optional duration in ms, `-` when absent.
fn opt_ms(value: Option<f64>) -> String {
    value.map_or(MISSING.into(), |v| format!("{} ms", num(v, 1)))
}

/// `text` cut to at most `max` characters, keeping its start and end around `..`.
fn short(text: &str, max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max || max < 4 {
        return text.into();
    }
    let keep = max - 2;
    let head = keep.div_ceil(2);
    let tail = keep - head;
    let mut out: String = chars[..head].iter().collect();
    out.push_str("..");
    out.extend(&chars[chars.len() - tail..]);
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::sample_record;
    use super::*;
    use crate::record::RunRecord;

    /// The line of `table` that starts (after indentation) with `label`.
    fn line<'a>(table: &'a str, label: &str) -> &'a str {
        table
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no line {label:?} in\n{table}"))
    }

    fn cells(line: &str) -> Vec<&str> {
        line.split_whitespace().collect()
    }

    #[test]
    fn has_every_section() {
        let table = Report::from_record(&sample_record()).table();
        for title in [
            "RUN",
            "PROPAGATION (ms)",
            "CHAIN",
            "HEALS",
            "TRAFFIC",
            "MEMORY",
            "ATTACKERS",
        ] {
            assert!(
                table.lines().any(|l| l.starts_with(title)),
                "{title} missing in\n{table}"
            );
        }
    }

    #[test]
    fn run_and_propagation_values() {
        let table = Report::from_record(&sample_record()).table();
        assert_eq!(cells(line(&table, "scenario")), ["scenario", "fixture"]);
        assert_eq!(cells(line(&table, "seed")), ["seed", "42"]);
        assert!(line(&table, "link").contains("50.0 ms latency, 10.0 ms jitter, 1000 kbps"));
        assert!(line(&table, "duration").ends_with("30.0 s"));
        assert_eq!(
            cells(line(&table, "complete")),
            ["complete", "2", "100.0", "100.0", "300.0", "300.0", "300.0"]
        );
        assert_eq!(
            cells(line(&table, "per arrival")),
            [
                "per", "arrival", "5", "40.0", "100.0", "300.0", "300.0", "300.0"
            ]
        );
        assert!(line(&table, "incomplete").contains("1 main-chain blocks"));
        assert!(line(&table, "lower bound").contains("150.0 ms"));
        assert!(line(&table, "p99 / bound").ends_with("2.00"));
    }

    #[test]
    fn chain_heals_traffic_memory_attackers() {
        let table = Report::from_record(&sample_record()).table();
        assert!(line(&table, "blocks").contains("5 produced, 3 main chain, 2 stale"));
        assert!(line(&table, "reorgs").contains("3 (max depth 4)"));
        assert!(line(&table, "final tip").contains("at height 3"));
        assert!(line(&table, "converged").contains("yes"));
        assert!(line(&table, "settle").ends_with("750.0 ms"));
        assert_eq!(
            cells(line(&table, "heal 1")),
            ["heal", "1", "10.0", "2500.0"]
        );
        assert_eq!(cells(line(&table, "heal 2")), ["heal", "2", "20.0", "-"]);
        assert!(line(&table, "TRAFFIC").contains("honest nodes: 3"));
        assert_eq!(
            cells(line(&table, "in (KiB)")),
            ["in", "(KiB)", "2.0", "3.0", "6.0"]
        );
        assert_eq!(
            cells(line(&table, "gossip msgs")),
            ["gossip", "msgs", "20.0", "30", "60"]
        );
        assert_eq!(
            cells(line(&table, "duplicates")),
            ["duplicates", "5.0", "5", "15"]
        );
        assert_eq!(cells(line(&table, "dup ratio")), ["dup", "ratio", "0.250"]);
        assert_eq!(cells(line(&table, "peak")), ["peak", "64.0"]);
        assert_eq!(cells(line(&table, "per node")), ["per", "node", "8.00"]);
        assert!(line(&table, "ATTACKERS").contains("1 of 2 banned"));
        let junk = cells(line(&table, "3  junk-sync"));
        assert_eq!(
            junk,
            ["3", "junk-sync", "12D3Koo..ntifier", "120", "3", "2"]
        );
    }

    #[test]
    fn columns_are_aligned() {
        let table = Report::from_record(&sample_record()).table();
        let header = line(&table, "count");
        let complete = line(&table, "complete");
        // Right-aligned numeric columns end at the same offset.
        assert_eq!(header.len(), complete.len());
        assert_eq!(header.find("max").map(|i| i + 3), Some(header.len()));
    }

    #[test]
    fn missing_values_print_as_dash() {
        let table = Report::from_record(&RunRecord::default()).table();
        assert_eq!(
            cells(line(&table, "complete")),
            ["complete", "0", "-", "-", "-", "-", "-"]
        );
        assert_eq!(cells(line(&table, "lower bound")), ["lower", "bound", "-"]);
        assert_eq!(
            cells(line(&table, "p99 / bound")),
            ["p99", "/", "bound", "-"]
        );
        assert_eq!(cells(line(&table, "peak")), ["peak", "-"]);
        assert_eq!(
            cells(line(&table, "in (KiB)")),
            ["in", "(KiB)", "-", "-", "-"]
        );
        assert!(line(&table, "reorgs").contains("max depth -"));
        assert_eq!(cells(line(&table, "final tip")), ["final", "tip", "-"]);
    }

    #[test]
    fn short_keeps_both_ends() {
        assert_eq!(short("abcdef", 16), "abcdef");
        assert_eq!(short("0123456789abcdefghij", 10), "0123..ghij");
        assert_eq!(short("0123456789", 9), "0123..789");
    }
}
