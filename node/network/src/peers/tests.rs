use std::collections::HashSet;

use super::*;

use talos_sync::Misbehaviour;

const BAD_REQUEST: Offence = Offence::Sync(Misbehaviour::UnrequestedData);
const WRONG_BLOCKS: Offence = Offence::Sync(Misbehaviour::WrongBlocks);

fn addr(ip: &str) -> Multiaddr {
    format!("/ip4/{ip}/tcp/4001").parse().unwrap()
}

fn connect(book: &mut PeerManager, peer: PeerId, ip: &str, inbound: bool, at: Instant) {
    book.connected(peer, &addr(ip), inbound, at);
}

fn eviction(limit: usize, keep: usize, protected: &HashSet<PeerId>) -> Eviction<'_> {
    Eviction {
        limit,
        keep,
        protected,
    }
}

#[test]
fn excess_peers_spare_the_protected_and_go_worst_first() {
    let mut book = PeerManager::new(Duration::from_secs(60));
    let start = Instant::now();
    let peers: Vec<PeerId> = (0..12).map(|_| PeerId::random()).collect();
    for (i, p) in peers.iter().enumerate() {
        let at = start + Duration::from_secs(i as u64);
        connect(&mut book, *p, &format!("10.0.{i}.1"), true, at);
    }
    book.penalize(&peers[8], &BAD_REQUEST);
    let protected: HashSet<PeerId> = [peers[5], peers[6]].into();
    let score = |p: &PeerId| if *p == peers[10] { -1.0 } else { 0.0 };
    assert!(
        book.excess(&eviction(12, 2, &protected), score).is_empty(),
        "not above the limit"
    );
    // Peers 0-3 are the oldest (protected for age), 5 and 6 by the caller.
    let out = book.excess(&eviction(10, 9, &protected), score);
    assert_eq!(
        out,
        vec![peers[8], peers[10], peers[11]],
        "worst local score, then lowest gossip score, then the newest"
    );
}

#[test]
fn eviction_protects_by_deeds_and_takes_inbound_before_outbound() {
    let mut book = PeerManager::new(Duration::from_secs(60));
    let start = Instant::now();
    // 20 inbound peers and 4 outbound ones, connected one second apart.
    let inbound: Vec<PeerId> = (0..20).map(|_| PeerId::random()).collect();
    let outbound: Vec<PeerId> = (0..4).map(|_| PeerId::random()).collect();
    for (i, p) in inbound.iter().chain(&outbound).enumerate() {
        let at = start + Duration::from_secs(i as u64);
        connect(&mut book, *p, &format!("10.0.{i}.1"), i < 20, at);
    }
    // Deeds: deliveries, low latency; the first four inbound peers are the oldest.
    for _ in 0..3 {
        book.credit_delivery(&inbound[10]);
    }
    book.credit_delivery(&inbound[11]);
    book.record_rtt(&inbound[12], Duration::from_millis(5));
    let none = HashSet::new();
    let out: HashSet<PeerId> = book
        .excess(&eviction(10, 11, &none), |_| 0.0)
        .into_iter()
        .collect();
    assert_eq!(out.len(), 13);
    for kept in [
        inbound[0],
        inbound[3],
        inbound[10],
        inbound[11],
        inbound[12],
    ] {
        assert!(!out.contains(&kept), "a peer that did something is kept");
    }
    assert!(
        outbound.iter().all(|p| !out.contains(p)),
        "inbound peers go before the peers we chose"
    );
}

#[test]
fn offences_accumulate_to_a_ban() {
    let mut book = PeerManager::new(Duration::from_secs(60));
    let now = Instant::now();
    let p = PeerId::random();
    connect(&mut book, p, "10.0.0.1", true, now);
    let invalid_block = Offence::InvalidBlock(talos_chain_service::Rejection::InvalidAncestor);
    assert!(!book.penalize(&p, &invalid_block));
    assert!(book.penalize(&p, &WRONG_BLOCKS));
    assert!(book.penalize(&PeerId::random(), &Offence::WrongNetwork));
    // Unknown peers are judged on the one offence and not remembered.
    let gone = PeerId::random();
    assert!(!book.penalize(&gone, &invalid_block));
    assert!(book.get(&gone).is_none() && book.departed_score(&gone).is_none());
    // An offence that is nobody's fault costs nothing.
    let ahead = Offence::InvalidBlock(talos_chain_service::Rejection::Rule(
        talos_chain::BlockError::TimestampTooFarInFuture {
            timestamp_ms: 2,
            max_ms: 1,
        },
    ));
    let q = PeerId::random();
    connect(&mut book, q, "10.0.0.2", true, now);
    assert!(!book.penalize(&q, &ahead));
    assert_eq!(book.get(&q).unwrap().score, 0);
}

#[test]
fn a_score_survives_a_reconnect() {
    let mut book = PeerManager::new(Duration::from_secs(60));
    let now = Instant::now();
    let p = PeerId::random();
    connect(&mut book, p, "10.0.0.1", true, now);
    book.penalize(&p, &WRONG_BLOCKS);
    book.penalize(&p, &BAD_REQUEST);
    assert_eq!(book.get(&p).unwrap().score, -80);
    book.disconnected(&p, 0);
    assert_eq!(book.departed_score(&p), Some(-80));
    connect(&mut book, p, "10.0.0.9", true, now);
    assert_eq!(
        book.get(&p).unwrap().score,
        -80,
        "reconnecting resets nothing"
    );
    assert!(book.penalize(&p, &BAD_REQUEST), "the next offence bans");
    // An offence reported while it is away counts too.
    let q = PeerId::random();
    connect(&mut book, q, "10.0.0.2", true, now);
    book.penalize(&q, &WRONG_BLOCKS);
    book.disconnected(&q, 0);
    book.penalize(&q, &WRONG_BLOCKS);
    assert_eq!(book.departed_score(&q), Some(-100));
}

#[test]
fn departed_scores_are_bounded_and_decay() {
    let mut book = PeerManager::new(Duration::from_secs(60));
    let now = Instant::now();
    let first = PeerId::random();
    for n in 0..=MAX_DEPARTED {
        let p = if n == 0 { first } else { PeerId::random() };
        connect(&mut book, p, "10.0.0.1", true, now);
        book.penalize(&p, &BAD_REQUEST);
        book.disconnected(&p, 0);
    }
    assert_eq!(
        book.departed_score(&first),
        None,
        "the oldest is forgotten first"
    );
    let p = PeerId::random();
    connect(&mut book, p, "10.0.0.1", true, now);
    book.penalize(&p, &BAD_REQUEST);
    book.disconnected(&p, 0);
    for _ in 0..100 {
        book.decay();
    }
    assert_eq!(book.departed_score(&p), None, "recovered, then forgotten");
}

#[test]
fn bans_expire_and_are_bounded() {
    let mut book = PeerManager::new(Duration::from_secs(60));
    let p = PeerId::random();
    let now = Instant::now();
    assert!(book.ban(p, now).0);
    assert!(!book.ban(p, now).0);
    assert!(book.is_banned(&p, now + Duration::from_secs(59)));
    assert!(book.expire_bans(now + Duration::from_secs(30)).0.is_empty());
    assert_eq!(book.expire_bans(now + Duration::from_secs(61)).0, vec![p]);
    assert!(!book.is_banned(&p, now + Duration::from_secs(61)));
    for n in 0..MAX_BANS + 10 {
        book.ban(PeerId::random(), now + Duration::from_millis(n as u64));
    }
    assert_eq!(book.banned(now).len(), MAX_BANS);
}

#[test]
fn an_address_whose_peers_keep_getting_banned_is_banned() {
    let mut book = PeerManager::new(Duration::from_secs(60));
    let now = Instant::now();
    let ip: IpAddr = "203.0.113.5".parse().unwrap();
    for n in 1..=IP_BAN_STRIKES {
        let p = PeerId::random();
        connect(&mut book, p, "203.0.113.5", true, now);
        let (fresh, ips) = book.ban(p, now);
        assert!(fresh);
        if n < IP_BAN_STRIKES {
            assert!(ips.is_empty(), "strike {n} is not enough");
        } else {
            assert_eq!(ips, vec![ip], "a fresh identity does not help");
        }
    }
    let elsewhere = PeerId::random();
    connect(&mut book, elsewhere, "198.51.100.1", true, now);
    assert!(book.ban(elsewhere, now).1.is_empty());
    let (_, expired) = book.expire_bans(now + Duration::from_secs(61));
    assert_eq!(expired, vec![ip]);
}

#[test]
fn scores_recover() {
    let mut book = PeerManager::new(Duration::from_secs(60));
    let p = PeerId::random();
    connect(&mut book, p, "10.0.0.1", true, Instant::now());
    book.penalize(
        &p,
        &Offence::InvalidBlock(talos_chain_service::Rejection::InvalidAncestor),
    );
    for _ in 0..100 {
        book.decay();
    }
    assert_eq!(book.get(&p).unwrap().score, 0);
}

#[test]
fn entries_live_while_connected() {
    let mut book = PeerManager::new(Duration::from_secs(60));
    let now = Instant::now();
    let p = PeerId::random();
    connect(&mut book, p, "10.0.0.1", true, now);
    connect(&mut book, p, "10.0.0.2", false, now);
    assert_eq!(book.get(&p).unwrap().ips.len(), 2);
    book.disconnected(&p, 1);
    assert_eq!(book.get(&p).unwrap().connections, 1);
    book.disconnected(&p, 0);
    assert!(book.get(&p).is_none());
    assert_eq!(
        book.departed_score(&p),
        None,
        "a clean peer is not remembered"
    );
    let mut e = PeerEntry::new(true, now);
    for i in 0..20u16 {
        e.add_addr(format!("/ip4/127.0.0.1/tcp/{i}").parse().unwrap());
    }
    assert_eq!(e.addrs.len(), MAX_ADDRS);
}
