//! Checking a run against its scenario's [`Expectations`].

use crate::adversary::AdversaryKind;
use crate::record::RunRecord;
use crate::scenario::Expectations;

/// What the run failed to show, one line per unmet expectation (empty: all met).
pub fn unmet(expect: &Expectations, record: &RunRecord) -> Vec<String> {
    let mut failures = Vec::new();
    if expect.converged && !record.outcome.converged {
        failures.push(format!(
            "not converged: {} live nodes on {} tips",
            record.outcome.live, record.outcome.distinct_tips
        ));
    }
    if let Some(limit_s) = expect.heal_within_s {
        for heal in &record.heals {
            match heal.converged_after_ms {
                Some(ms) if ms <= limit_s * 1000.0 => {}
                Some(ms) => failures.push(format!(
                    "heal at {:.1} s converged after {:.1} s (limit {limit_s} s)",
                    heal.at_ms / 1000.0,
                    ms / 1000.0
                )),
                None => failures.push(format!(
                    "heal at {:.1} s never converged",
                    heal.at_ms / 1000.0
                )),
            }
        }
    }
    if expect.attackers_banned {
        // Silent peers and slot fillers break no rule a node can see (they only withhold or
        // occupy): not banning them is right, and the other expectations show the network
        // routes around them. Proof liars lie only to light clients, which the simulator does
        // not run: to full nodes they are relays of honest answers.
        let breaks_rules = |kind: &str| {
            kind.parse::<AdversaryKind>()
                .map_or(true, |k| k.caught_by_full_nodes())
        };
        for attacker in record.attackers.iter().filter(|a| breaks_rules(&a.kind)) {
            if attacker.contacted > 0 && attacker.banned_by == 0 {
                failures.push(format!(
                    "{} adversary {} met {} nodes and was banned by none",
                    attacker.kind, attacker.peer_id, attacker.contacted
                ));
            }
        }
        if record.attackers.iter().all(|a| a.contacted == 0) && !record.attackers.is_empty() {
            failures.push("no adversary ever reached an honest node".to_owned());
        }
    }
    if let Some(limit) = expect.side_blocks_at_most
        && record.outcome.max_side_blocks > limit
    {
        failures.push(format!(
            "a node stores {} side-branch blocks (limit {limit})",
            record.outcome.max_side_blocks
        ));
    }
    if expect.all_blocks_propagated {
        let missing: Vec<&str> = record
            .blocks
            .iter()
            .filter(|b| b.main_chain && b.complete_ms.is_none())
            .map(|b| b.id.as_str())
            .collect();
        if !missing.is_empty() {
            failures.push(format!(
                "{} main-chain blocks did not reach every live node (first: {})",
                missing.len(),
                missing[0]
            ));
        }
        if !record.blocks.iter().any(|b| b.main_chain) {
            failures.push("no block reached the main chain".to_owned());
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{AttackerRecord, BlockRecord, FinalState, HealRecord};

    fn good() -> RunRecord {
        RunRecord {
            outcome: FinalState {
                live: 3,
                distinct_tips: 1,
                converged: true,
                ..FinalState::default()
            },
            heals: vec![HealRecord {
                at_ms: 10_000.0,
                converged_after_ms: Some(2_000.0),
            }],
            attackers: vec![AttackerRecord {
                contacted: 3,
                banned_by: 2,
                ..AttackerRecord::default()
            }],
            blocks: vec![BlockRecord {
                main_chain: true,
                complete_ms: Some(40.0),
                ..BlockRecord::default()
            }],
            ..RunRecord::default()
        }
    }

    fn all() -> Expectations {
        Expectations {
            converged: true,
            heal_within_s: Some(5.0),
            attackers_banned: true,
            all_blocks_propagated: true,
            side_blocks_at_most: Some(10),
        }
    }

    #[test]
    fn a_good_run_meets_everything() {
        assert!(unmet(&all(), &good()).is_empty());
    }

    #[test]
    fn each_shortfall_is_reported() {
        let mut r = good();
        r.outcome.converged = false;
        r.heals[0].converged_after_ms = Some(6_000.0);
        r.attackers[0].banned_by = 0;
        r.blocks[0].complete_ms = None;
        r.outcome.max_side_blocks = 11;
        let failures = unmet(&all(), &r);
        assert_eq!(failures.len(), 5, "{failures:?}");
        assert!(
            unmet(&Expectations::default(), &r).is_empty(),
            "nothing expected"
        );
    }
}
