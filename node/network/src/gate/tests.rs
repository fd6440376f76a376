use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use libp2p::swarm::ConnectionId;

use super::*;

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn limits(per_ip: u32, per_subnet: u32) -> InboundLimits {
    InboundLimits::new(IpLimits {
        per_ip,
        per_subnet,
        include_loopback: false,
    })
}

#[test]
fn one_address_and_one_subnet_are_capped() {
    let mut gate = limits(2, 3);
    let now = Instant::now();
    let ip = v4(10, 0, 0, 1);
    for _ in 0..2 {
        gate.admit(ip, now).unwrap();
        gate.opened(
            ConnectionId::new_unchecked(gate.open_from(&ip) as usize),
            ip,
        );
    }
    assert_eq!(gate.admit(ip, now), Err(GateDenial::PerIp { ip, limit: 2 }));
    let neighbour = v4(10, 0, 0, 2);
    gate.admit(neighbour, now).unwrap();
    gate.opened(ConnectionId::new_unchecked(10), neighbour);
    assert_eq!(
        gate.admit(v4(10, 0, 0, 3), now),
        Err(GateDenial::PerSubnet {
            ip: v4(10, 0, 0, 3),
            limit: 3
        }),
        "a /24 holds at most 3"
    );
    gate.admit(v4(10, 0, 1, 3), now).expect("another /24");
    gate.closed(ConnectionId::new_unchecked(0));
    gate.admit(ip, now).expect("a slot freed");
}

#[test]
fn ipv6_subnets_are_slash_48_and_loopback_is_exempt_by_default() {
    let mut gate = limits(1, 1);
    let now = Instant::now();
    let a: IpAddr = "2001:db8:1:1::1".parse::<Ipv6Addr>().unwrap().into();
    let b: IpAddr = "2001:db8:1:2::1".parse::<Ipv6Addr>().unwrap().into();
    gate.opened(ConnectionId::new_unchecked(1), a);
    assert!(matches!(
        gate.admit(b, now),
        Err(GateDenial::PerSubnet { .. })
    ));
    let lo = v4(127, 0, 0, 1);
    for n in 0..5 {
        gate.admit(lo, now).unwrap();
        gate.opened(ConnectionId::new_unchecked(100 + n), lo);
    }
}

#[test]
fn banned_addresses_are_refused_until_the_ban_ends() {
    let mut gate = limits(8, 8);
    let now = Instant::now();
    let ip = v4(192, 0, 2, 7);
    assert!(gate.ban(ip, now + Duration::from_secs(60)));
    assert_eq!(gate.admit(ip, now), Err(GateDenial::Banned(ip)));
    assert!(gate.admit(ip, now + Duration::from_secs(61)).is_ok());
    // Loopback is shared by every local peer: not banned unless it counts.
    let lo = v4(127, 0, 0, 1);
    assert!(!gate.ban(lo, now + Duration::from_secs(60)));
    assert!(gate.admit(lo, now).is_ok());
    let mut counting = InboundLimits::new(IpLimits {
        include_loopback: true,
        ..IpLimits::default()
    });
    assert!(counting.ban(lo, now + Duration::from_secs(60)));
    assert_eq!(counting.admit(lo, now), Err(GateDenial::Banned(lo)));
    counting.unban(&lo);
    assert!(counting.admit(lo, now).is_ok());
}
