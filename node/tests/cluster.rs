//! Multi-process end-to-end tests: real `talos run` processes (one per node, each with its own
//! data dir and loopback ports), real libp2p TCP and QUIC transports, observed only through
//! each node's local HTTP API and `/metrics`. The launcher is `cluster_support`.
//!
//! The network spec (`e2e`) is `local` with the easiest target (`0x207fffff`, about two hashes
//! per block) as both genesis target and `pow_limit`, and a 1 ms block interval: the miner is
//! polled every 20 ms, so every block looks "slow" to the retarget, which therefore stays
//! pinned at `pow_limit`. (With a 200 ms interval the retarget hardens the target by about
//! 11 % per fast block until blocks really take ~200 ms: measured, ~100 fast blocks and then
//! ~5 blocks/s, so 500 blocks would take well over a minute instead of ~10 s.)
//! Every block then has the same work, so fork choice is decided by length, and ties keep the
//! first-seen tip: where a test needs one chain to win, one miner stops first and the other
//! mines a few more blocks alone.

mod cluster_support;

use std::time::{Duration, Instant};

use cluster_support::{
    Cluster, Id, Listen, NodeOptions, TRIVIAL_TARGET, cmp_decimal, metric_sum, spec_toml,
};

/// Network id of the test network ("TE2E").
const NETWORK_ID: u32 = 0x5445_3245;

fn spec() -> String {
    spec_toml("e2e", NETWORK_ID, TRIVIAL_TARGET, 1)
}

const SYNC: &str = "talos_blocks_imported_total{code=\"sync\"}";
const GOSSIP: &str = "talos_blocks_imported_total{code=\"gossip\"}";
const MINED: &str = "talos_blocks_imported_total{code=\"mined\"}";
const REORGS: &str = "talos_reorgs_total";

fn height(c: &Cluster, id: Id) -> u64 {
    c.node(id).height().unwrap_or(0)
}

/// Whether every node in `ids` answers with the same tip id.
fn same_tip(c: &Cluster, ids: &[Id]) -> bool {
    let tips: Option<Vec<String>> = ids
        .iter()
        .map(|&i| c.node(i).try_status().ok().map(|s| s.tip_id))
        .collect();
    tips.is_some_and(|t| t.windows(2).all(|w| w[0] == w[1]))
}

/// Whether `of` lists `peer` among its connected peers.
fn knows(c: &Cluster, of: Id, peer: Id) -> bool {
    let want = &c.node(peer).peer_id;
    c.node(of)
        .try_peers()
        .is_ok_and(|peers| peers.iter().any(|p| &p.peer_id == want))
}

/// Honest nodes never reject each other's blocks or gossip, and never ban each other (a peer
/// that reorganises between serving headers and serving blocks is not misbehaving).
fn assert_no_misbehaviour_seen(c: &Cluster, ids: &[Id]) {
    for &i in ids {
        let n = c.node(i);
        let text = n
            .try_metrics_text()
            .unwrap_or_else(|e| panic!("{}: metrics: {e}", n.name));
        let rejected = metric_sum(&text, &["talos_blocks_rejected_total"]);
        let gossip_rejected = metric_sum(&text, &["talos_gossip_validation_total", "reject"]);
        let ours: Vec<&str> = text.lines().filter(|l| l.starts_with("talos_")).collect();
        assert!(
            rejected == 0.0 && gossip_rejected == 0.0,
            "{}: {rejected} blocks rejected, {gossip_rejected} gossip messages rejected:\n{}",
            n.name,
            ours.join("\n")
        );
        let bans: Vec<&str> = ours
            .iter()
            .copied()
            .filter(|l| l.starts_with("talos_peers_banned_total"))
            .collect();
        assert!(
            bans.is_empty(),
            "{} banned an honest peer: {}",
            n.name,
            bans.join(", ")
        );
    }
}

/// Stops miner `first`, lets miner `last` extend the chain by 3 blocks alone (so one tip has
/// strictly the most work), then stops it too.
fn finish_with_one_miner(c: &mut Cluster, all: &[Id], first: Id, last: Id) {
    c.stop(first);
    let h = all.iter().map(|&i| height(c, i)).max().unwrap_or(0);
    let name = c.node(last).name.clone();
    c.wait_until(
        &format!("{name} mines 3 blocks alone"),
        Duration::from_secs(30),
        |c| height(c, last) >= h + 3,
    );
    c.stop(last);
}

/// Waits until every node in `all` reports `tip_id` as its tip.
fn wait_all_on_tip(c: &mut Cluster, all: &[Id], tip_id: &str, what: &str) {
    c.wait_until(what, Duration::from_secs(45), |c| {
        all.iter()
            .all(|&i| c.node(i).try_status().is_ok_and(|s| s.tip_id == tip_id))
    });
}

/// No node published a block it had received (gossipsub warns about each such duplicate).
fn assert_no_republished_gossip(c: &Cluster, ids: &[Id]) {
    for &i in ids {
        assert!(
            !c.node(i).log_contains("already been published"),
            "{} republished blocks it had received",
            c.node(i).name
        );
    }
}

/// One bootstrap node and four full nodes (two mining; one listening on TCP only, one on QUIC
/// only); the full nodes know only the bootstrap node and must find each other through
/// Kademlia, then agree on one chain.
#[test]
fn five_nodes_discover_via_kademlia_and_agree() {
    let mut c = Cluster::new(&spec());
    let boot = c.start("boot", NodeOptions::bootstrap());
    let (boot_tcp, boot_quic) = (c.node(boot).tcp_addr(), c.node(boot).quic_addr());
    let m_tcp = c.start(
        "miner-tcp",
        NodeOptions::full()
            .mining(true)
            .listening(Listen::Tcp)
            .bootnode(&boot_tcp),
    );
    let m_quic = c.start(
        "miner-quic",
        NodeOptions::full()
            .mining(true)
            .listening(Listen::Quic)
            .bootnode(&boot_quic),
    );
    let f3 = c.start("full-3", NodeOptions::full().bootnode(&boot_tcp));
    let f4 = c.start("full-4", NodeOptions::full().bootnode(&boot_quic));
    let full = [m_tcp, m_quic, f3, f4];
    let all = [boot, m_tcp, m_quic, f3, f4];
    assert_eq!(c.node(boot).status().role, "bootstrap");
    assert_eq!(c.node(f3).status().role, "full");

    c.wait_until(
        "every full node is connected to every other full node",
        Duration::from_secs(45),
        |c| {
            full.iter()
                .all(|&i| full.iter().filter(|&&j| j != i).all(|&j| knows(c, i, j)))
        },
    );
    // Both transports carried connections (per libp2p's own metrics, labelled with the
    // remote address's protocol stack). The TCP-only miner is reachable over TCP only and the
    // QUIC-only one over QUIC only, and they are connected to each other.
    let established = |c: &Cluster, transport: &str| -> f64 {
        all.iter()
            .map(|&i| {
                c.node(i)
                    .metric_sum(&["libp2p_swarm_connections_established", transport])
            })
            .sum()
    };
    let (tcp, quic) = (established(&c, "/tcp"), established(&c, "/quic-v1"));
    c.note(format!(
        "connections established: {tcp} over TCP, {quic} over QUIC"
    ));
    assert!(tcp >= 1.0, "no connection over TCP");
    assert!(quic >= 1.0, "no connection over QUIC");
    // Every peer entry of the QUIC-only miner elsewhere carries QUIC addresses only.
    let quic_id = c.node(m_quic).peer_id.clone();
    for &i in &all {
        for p in c.node(i).peers() {
            if p.peer_id == quic_id {
                assert!(
                    p.addrs.iter().all(|a| a.contains("/quic-v1")),
                    "{}: miner-quic known by non-QUIC addresses {:?}",
                    c.node(i).name,
                    p.addrs
                );
            }
        }
    }

    c.wait_until(
        "all five nodes reach height 20",
        Duration::from_secs(45),
        |c| all.iter().all(|&i| height(c, i) >= 20),
    );
    // Both miners produced blocks that the others imported from gossip.
    assert!(
        c.node(m_tcp).metric(MINED) >= 1.0,
        "miner-tcp mined nothing"
    );
    assert!(
        c.node(m_quic).metric(MINED) >= 1.0,
        "miner-quic mined nothing"
    );
    assert!(
        c.node(f3).metric(GOSSIP) >= 1.0,
        "full-3 got no gossip block"
    );
    assert_no_misbehaviour_seen(&c, &all);

    // Stop one miner, let the other extend the chain alone (so one tip has strictly the most
    // work), then stop it too and bring both back as plain full nodes.
    finish_with_one_miner(&mut c, &all, m_quic, m_tcp);
    c.restart(m_tcp, |o| o.mine = false);
    c.restart(m_quic, |o| o.mine = false);
    let best = c.node(m_tcp).status();
    wait_all_on_tip(
        &mut c,
        &all,
        &best.tip_id,
        "all five nodes agree on miner-tcp's tip",
    );
    assert!(best.tip_height >= 20);
    for &i in &all {
        let s = c.node(i).status();
        assert_eq!(
            s.cumulative_work,
            best.cumulative_work,
            "{}",
            c.node(i).name
        );
        assert_eq!(s.tip_height, best.tip_height, "{}", c.node(i).name);
    }
    assert_no_republished_gossip(&c, &all);
}

/// A miner builds 500 blocks; a node that joins afterwards, while the miner keeps mining,
/// downloads them through the sync protocol, follows the new blocks, and ends on the miner's
/// tip. It does not push the synced blocks back into the gossip mesh.
#[test]
fn late_joiner_syncs_500_blocks() {
    let mut c = Cluster::new(&spec());
    let miner = c.start("miner", NodeOptions::full().mining(true));
    let took = c.wait_until(
        "the miner reaches height 500",
        Duration::from_secs(120),
        |c| height(c, miner) >= 500,
    );
    c.note(format!(
        "mining rate: {:.0} blocks/s",
        500.0 / took.as_secs_f64().max(0.001)
    ));

    let t = Instant::now();
    let joiner = c.start("joiner", NodeOptions::full().bootnode(c.node(miner).addr()));
    let target = height(&c, miner);
    c.wait_until(
        "the joiner catches up with the mining miner",
        Duration::from_secs(60),
        |c| height(c, joiner) >= target,
    );
    c.note(format!(
        "joiner synced {target} blocks in {:.2}s",
        t.elapsed().as_secs_f64()
    ));
    // The miner was sent no block by gossip: the joiner does not republish synced blocks.
    let echoed = c
        .node(miner)
        .metric_sum(&["talos_gossip_validation_total", "topic=\"blocks\""]);
    assert_eq!(echoed, 0.0, "blocks gossiped to the miner by the joiner");

    // A fixed tip: stop mining (a clean stop and a restart from the data dir).
    c.stop(miner);
    c.restart(miner, |o| o.mine = false);
    let tip = c.node(miner).status();
    assert!(
        tip.tip_height >= 500,
        "the restarted miner lost blocks: {tip:?}"
    );
    c.wait_until(
        "the joiner reaches the miner's final tip",
        Duration::from_secs(60),
        |c| {
            c.node(joiner)
                .try_status()
                .is_ok_and(|s| s.tip_id == tip.tip_id)
        },
    );
    // Every block was imported once: the 500 that existed before it joined through sync, the
    // rest through sync or gossip. (The counters are bumped just after the commit the tip
    // check saw.)
    let n = tip.tip_height as f64;
    c.wait_until("the import counters settle", Duration::from_secs(5), |c| {
        let j = c.node(joiner);
        j.try_metric(SYNC).unwrap_or(0.0) + j.try_metric(GOSSIP).unwrap_or(0.0) >= n
    });
    let j = c.node(joiner);
    let (sync, gossip) = (j.metric(SYNC), j.metric(GOSSIP));
    c.note(format!(
        "joiner imported {sync} blocks through sync, {gossip} through gossip"
    ));
    assert!(sync >= 500.0, "only {sync} blocks came through sync");
    assert_eq!(
        sync + gossip,
        n,
        "blocks imported (sync + gossip) vs height"
    );
    assert_eq!(j.metric("talos_height"), n);
    assert_eq!(j.head().id, tip.tip_id);
}

/// A synced node stopped (SIGTERM) while the chain grows resumes from its data dir with its
/// old tip and downloads only the new blocks; after a SIGKILL it still has every block its API
/// reported.
#[test]
fn restarted_node_resumes_without_redownloading() {
    let mut c = Cluster::new(&spec());
    let miner = c.start("miner", NodeOptions::full().mining(true));
    c.wait_until(
        "the miner reaches height 100",
        Duration::from_secs(60),
        |c| height(c, miner) >= 100,
    );
    let node = c.start("node", NodeOptions::full().bootnode(c.node(miner).addr()));
    c.wait_until(
        "the node syncs to height 100",
        Duration::from_secs(60),
        |c| height(c, node) >= 100,
    );
    let before = c.node(node).status();
    c.stop(node);
    let h = before.tip_height;
    let target = height(&c, miner) + 40;
    c.wait_until(
        "the miner adds 40 blocks while the node is down",
        Duration::from_secs(30),
        |c| height(c, miner) >= target,
    );

    c.restart(node, |_| {});
    let first = c.node(node).status();
    assert!(
        first.tip_height >= h,
        "restarted at height {} below the {h} it had",
        first.tip_height
    );
    let miner_now = height(&c, miner);
    c.wait_until(
        "the restarted node catches up with the miner",
        Duration::from_secs(30),
        |c| height(c, node) >= miner_now,
    );
    // Counters restart with the process: they count only what was imported since.
    let n = c.node(node);
    let imported = n.metric(SYNC) + n.metric(GOSSIP);
    let new_blocks = n.status().tip_height - h;
    c.note(format!(
        "after restart: {imported} blocks imported for {new_blocks} new ones (had {h})"
    ));
    assert!(imported >= 1.0, "nothing imported after the restart");
    assert!(
        imported <= new_blocks as f64 + 5.0,
        "imported {imported} blocks for {new_blocks} new ones: the chain was downloaded again"
    );

    // A SIGKILL in the middle of a sync loses nothing the API reported (every import is
    // flushed before the tip moves), and the next start resumes from there.
    c.stop(node);
    let target = height(&c, miner) + 150;
    c.wait_until(
        "the miner adds 150 blocks while the node is down",
        Duration::from_secs(30),
        |c| height(c, miner) >= target,
    );
    c.restart(node, |_| {});
    let start_height = c.node(node).status().tip_height;
    // Catch it syncing: poll fast until its tip has moved, then kill it at once.
    let deadline = Instant::now() + Duration::from_secs(10);
    let reported = loop {
        let s = c.node(node).status();
        if s.tip_height > start_height || Instant::now() > deadline {
            break s;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    c.kill(node);
    let mid_sync = reported.tip_height < target;
    c.note(format!(
        "killed at reported height {} (restarted at {start_height}, miner at {target}+){}",
        reported.tip_height,
        if mid_sync {
            ", mid-sync"
        } else {
            ", after the sync had finished"
        }
    ));
    c.restart(node, |_| {});
    let after = c.node(node).status();
    assert!(
        after.tip_height >= reported.tip_height,
        "after SIGKILL: height {} below the reported {}",
        after.tip_height,
        reported.tip_height
    );
    let miner_now = height(&c, miner);
    c.wait_until(
        "the killed node catches up again",
        Duration::from_secs(30),
        |c| height(c, node) >= miner_now,
    );
    // Its store held at least the reported tip when it started again (it may already have
    // imported more by the time its API first answered).
    let n = c.node(node);
    let imported = n.metric(SYNC) + n.metric(GOSSIP);
    let new_blocks = n.status().tip_height - reported.tip_height;
    assert!(
        imported <= new_blocks as f64 + 5.0,
        "after SIGKILL: imported {imported} blocks for {new_blocks} new ones"
    );
}

/// Two miners connected to each other race on the trivial target, so both often find a
/// block at the same height; forks resolve by reorg, and once mining stops every node is on
/// the chain with the most cumulative work.
#[test]
fn racing_miners_converge_on_most_work_chain() {
    let mut c = Cluster::new(&spec());
    let a = c.start("miner-a", NodeOptions::full().mining(true));
    let b = c.start(
        "miner-b",
        NodeOptions::full().mining(true).bootnode(c.node(a).addr()),
    );
    let o = c.start(
        "observer",
        NodeOptions::full()
            .bootnode(c.node(a).addr())
            .bootnode(c.node(b).addr()),
    );
    let all = [a, b, o];
    c.wait_until("the miners are connected", Duration::from_secs(20), |c| {
        knows(c, a, b) && knows(c, b, a)
    });
    let reorgs = |c: &Cluster| -> f64 {
        all.iter()
            .map(|&i| c.node(i).try_metric(REORGS).unwrap_or(0.0))
            .sum()
    };
    c.wait_until(
        "3 reorgs happened and every node is past height 100",
        Duration::from_secs(60),
        |c| reorgs(c) >= 3.0 && all.iter().all(|&i| height(c, i) >= 100),
    );
    let per_node: Vec<String> = all
        .iter()
        .map(|&i| {
            let n = c.node(i);
            format!(
                "{}: {} reorgs, mined {}, gossip {}, sync {}",
                n.name,
                n.metric(REORGS),
                n.metric(MINED),
                n.metric(GOSSIP),
                n.metric(SYNC)
            )
        })
        .collect();
    c.note(per_node.join("; "));
    // Both miners' blocks made it into someone's chain history (there was a race).
    assert!(c.node(a).metric(MINED) >= 1.0 && c.node(b).metric(MINED) >= 1.0);
    assert_no_misbehaviour_seen(&c, &all);

    // B stops; A mines on alone so that one chain has strictly the most work; then A stops.
    finish_with_one_miner(&mut c, &all, b, a);
    let o_addr = c.node(o).addr();
    c.restart(a, |opt| {
        opt.mine = false;
        opt.bootnodes = vec![o_addr.clone()];
    });
    c.restart(b, |opt| opt.mine = false);
    // Each node's own best tip, before they exchange anything new: no block exists beyond
    // these, so the most-work tip of the whole network is the best of them.
    let tips: Vec<_> = all.iter().map(|&i| c.node(i).status()).collect();
    let best = tips
        .iter()
        .max_by(|x, y| cmp_decimal(&x.cumulative_work, &y.cumulative_work))
        .cloned()
        .expect("three nodes");
    assert_eq!(
        best.tip_id, tips[0].tip_id,
        "miner-a, which mined last, should hold the most-work tip"
    );
    wait_all_on_tip(
        &mut c,
        &all,
        &best.tip_id,
        "all nodes agree on the most-work tip",
    );
    for &i in &all {
        let s = c.node(i).status();
        assert_eq!(
            s.cumulative_work,
            best.cumulative_work,
            "{}",
            c.node(i).name
        );
    }
    assert!(same_tip(&c, &all));
    assert_no_republished_gossip(&c, &all);
}
