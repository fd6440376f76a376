//! The shipped scenarios, run in full by `cargo test`: 20–50 real nodes each over the
//! simulated network. They run one at a time (a shared lock) so that each gets the machine.

use std::path::Path;
use std::sync::{Mutex, PoisonError};

use talos_simulator::adversary::AdversaryKind;
use talos_simulator::expect::unmet;
use talos_simulator::record::RunRecord;
use talos_simulator::report::Report;
use talos_simulator::runner;
use talos_simulator::scenario::{
    Action, AdversarySpec, Expectations, LinkSpec, Scenario, StorageKind,
};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn run(scenario: &Scenario) -> RunRecord {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let record = runtime
        .block_on(runner::run(scenario))
        .expect("scenario runs");
    // The table is what a failing run is read from.
    println!("{}", Report::from_record(&record).table());
    record
}

fn shipped(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.toml"));
    Scenario::from_file(&path).expect("scenario file")
}

/// Every live node is on one tip and that tip has the most work of all of theirs.
fn assert_one_most_work_tip(record: &RunRecord) {
    let o = &record.outcome;
    assert!(o.live > 0);
    assert!(
        o.converged,
        "{} tips among {} live nodes",
        o.distinct_tips, o.live
    );
    assert_eq!(o.distinct_tips, 1);
    assert!(o.tip_height > 0, "the chain grew");
}

fn assert_expectations(scenario: &Scenario, record: &RunRecord) {
    let failures = unmet(&scenario.expect, record);
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn steady_state_every_block_reaches_every_node() {
    let scenario = shipped("steady-state");
    let record = run(&scenario);
    assert_one_most_work_tip(&record);
    assert_expectations(&scenario, &record);
    let main: Vec<_> = record.blocks.iter().filter(|b| b.main_chain).collect();
    assert!(main.len() >= 10, "{} main-chain blocks", main.len());
    for block in &main {
        let complete = block.complete_ms.expect("reached every node");
        // Never faster than one link.
        assert!(complete >= 20.0, "{complete} ms");
        assert_eq!(
            block.arrivals_ms.len(),
            scenario.nodes,
            "imported by every node"
        );
    }
    assert!(
        record
            .traffic
            .iter()
            .all(|t| t.bytes_in > 0 && t.bytes_out > 0)
    );
    // Scenarios share this test process, so the RSS before this one (the baseline) holds
    // what earlier ones left to the allocator: only the samples themselves are checked.
    let memory = &record.memory;
    assert!(memory.settled_bytes > 0 && memory.peak_bytes >= memory.settled_bytes);
}

#[test]
fn partitioned_halves_fork_then_converge_after_the_heal() {
    let scenario = shipped("partition-and-heal");
    let record = run(&scenario);
    assert_one_most_work_tip(&record);
    assert_expectations(&scenario, &record);
    let heal = &record.heals[0];
    let after = heal.converged_after_ms.expect("converged after the heal");
    assert!(after <= 12_000.0, "{after} ms");
    // While split, both halves mined: the losing half's blocks are stale and its nodes reorg.
    let stale = record.blocks.iter().filter(|b| !b.main_chain).count();
    assert!(stale > 0, "the halves forked");
    assert!(
        record.reorgs.iter().any(|r| r.t_ms >= heal.at_ms),
        "a side reorganised"
    );
    assert!(
        record.timeline.iter().any(|s| s.distinct_tips >= 2),
        "two tips while split"
    );
}

#[test]
fn late_joiners_sync_the_chain_from_genesis() {
    let scenario = shipped("late-joiner");
    let record = run(&scenario);
    assert_one_most_work_tip(&record);
    assert_expectations(&scenario, &record);
    let joiners: Vec<_> = record.traffic.iter().filter(|t| t.node >= 20).collect();
    assert_eq!(joiners.len(), 5);
    for joiner in joiners {
        assert!(joiner.blocks_sync > 0, "node {} synced", joiner.node);
    }
}

#[test]
fn churn_and_restarts_keep_stores_and_converge() {
    let scenario = shipped("churn");
    let record = run(&scenario);
    assert_one_most_work_tip(&record);
    assert_expectations(&scenario, &record);
    let leaves = record
        .marks
        .iter()
        .filter(|m| m.label.starts_with("leave"))
        .count();
    assert!(leaves >= 2, "{leaves} departures");
    assert!(record.marks.iter().any(|m| m.label == "kill"));
    assert!(record.marks.iter().any(|m| m.label == "restart"));
}

#[test]
fn attackers_are_banned_while_honest_blocks_still_propagate() {
    let scenario = shipped("invalid-block-flood");
    let record = run(&scenario);
    assert_one_most_work_tip(&record);
    assert_expectations(&scenario, &record);
    for attacker in &record.attackers {
        match attacker.kind.as_str() {
            "invalid-block-flood" | "junk-sync" => {
                assert!(attacker.contacted > 0, "{attacker:?}");
                assert!(attacker.banned_by > 0, "{attacker:?}");
            }
            _ => assert_eq!(attacker.sent, 0, "silent peers send nothing hostile"),
        }
    }
    let flood: u64 = record
        .attackers
        .iter()
        .filter(|a| a.kind == "invalid-block-flood")
        .map(|a| a.sent)
        .sum();
    assert!(flood > 0, "invalid blocks were sent");
    let main = record.blocks.iter().filter(|b| b.main_chain).count();
    assert!(main >= 10, "{main} honest blocks made it");
}

#[test]
fn every_hardening_adversary_at_once_is_banned_or_routed_around() {
    let scenario = shipped("attacks");
    assert!(scenario.nodes >= 30);
    let record = run(&scenario);
    assert_one_most_work_tip(&record);
    assert_expectations(&scenario, &record);
    let kinds: Vec<AdversaryKind> = scenario.adversaries.iter().map(|a| a.kind).collect();
    for kind in [
        AdversaryKind::MutatedBody,
        AdversaryKind::WorkLiar,
        AdversaryKind::TimeWarp,
        AdversaryKind::SlotFiller,
        AdversaryKind::RequestFlooder,
    ] {
        assert!(kinds.contains(&kind), "{kind} is in the scenario");
    }
    for attacker in &record.attackers {
        let kind: AdversaryKind = attacker.kind.parse().expect("a kind");
        assert!(attacker.contacted > 0, "{attacker:?}");
        // A proof liar would be caught only by light clients, which scenarios do not run.
        if kind.caught_by_full_nodes() {
            assert!(attacker.sent > 0, "{attacker:?} attacked");
            assert!(attacker.banned_by > 0, "{attacker:?} was banned");
        }
    }
    // Side branches: of the time warper's blocks only one per honest tip is valid (and
    // competes at the tip's height); the rest are refused, so far fewer than it sent are kept.
    let warp_sent: u64 = record
        .attackers
        .iter()
        .filter(|a| a.kind == "time-warp")
        .map(|a| a.sent)
        .sum();
    assert!(
        record.outcome.max_side_blocks * 4 < warp_sent,
        "{} side blocks stored, {warp_sent} warp blocks sent",
        record.outcome.max_side_blocks
    );
    let main = record.blocks.iter().filter(|b| b.main_chain).count();
    assert!(main >= 20, "{main} honest blocks made it");
}

#[test]
fn the_rust_api_builds_and_runs_a_scenario() {
    let scenario = Scenario::new("api", 20, 15.0)
        .with_seed(11)
        .with_roles(2, 3)
        .with_link(LinkSpec {
            latency_ms: 10,
            jitter_ms: 2,
            bandwidth_kbps: Some(20_000),
        })
        // Real sled stores in temporary directories: node 7 restarts on its own.
        .with_storage(StorageKind::Sled)
        .at(5.0, Action::Kill { nodes: vec![7] })
        .at(9.0, Action::Restart { nodes: vec![7] })
        .with_adversaries(AdversarySpec {
            kind: AdversaryKind::Silent,
            count: 1,
            start_s: 1.0,
            rate_per_s: 1.0,
            targets: 4,
        })
        .expecting(Expectations {
            converged: true,
            ..Expectations::default()
        });
    let record = run(&scenario);
    assert_one_most_work_tip(&record);
    assert_eq!(record.info.seed, 11);
    assert_eq!(record.info.link.bandwidth_kbps, Some(20_000));
    assert_eq!(record.info.adversaries, 1);
    // Node 7 was down for 4 s and caught up after its restart (it is on the one tip).
    let node7 = record.traffic.iter().find(|t| t.node == 7).expect("node 7");
    assert!(node7.bytes_in > 0);
    assert!(record.marks.iter().any(|m| m.label == "restart"));
}
