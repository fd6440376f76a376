//! [`InboundLimits`]: how many inbound connections one address and one subnet may hold, and
//! which addresses are banned. Pure bookkeeping; the [`super::Gate`] behaviour feeds it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

use libp2p::swarm::ConnectionId;

/// Why an inbound connection was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GateDenial {
    /// The address is banned (its peers kept getting banned).
    #[error("address {0} is banned")]
    Banned(IpAddr),
    /// The address holds as many inbound connections as one address may.
    #[error("address {ip} already holds {limit} inbound connections")]
    PerIp {
        /// The address.
        ip: IpAddr,
        /// The limit.
        limit: u32,
    },
    /// The address's subnet (/24 for IPv4, /48 for IPv6) holds as many inbound connections as
    /// one subnet may.
    #[error("the subnet of {ip} already holds {limit} inbound connections")]
    PerSubnet {
        /// The address.
        ip: IpAddr,
        /// The limit.
        limit: u32,
    },
}

/// The inbound limits of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpLimits {
    /// Most inbound connections from one address.
    pub per_ip: u32,
    /// Most inbound connections from one subnet (/24, /48).
    pub per_subnet: u32,
    /// Whether loopback addresses count (off by default: local tools and test clusters share
    /// 127.0.0.1; no remote peer can use it).
    pub include_loopback: bool,
}

impl Default for IpLimits {
    fn default() -> Self {
        Self {
            per_ip: 4,
            per_subnet: 16,
            include_loopback: false,
        }
    }
}

/// The subnet an address counts against.
fn subnet(ip: IpAddr) -> (bool, [u8; 6]) {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            (false, [a, b, c, 0, 0, 0])
        }
        IpAddr::V6(v6) => {
            let o = v6.octets();
            (true, [o[0], o[1], o[2], o[3], o[4], o[5]])
        }
    }
}

/// Open inbound connections by address and subnet, and address bans.
#[derive(Debug, Default)]
pub struct InboundLimits {
    limits: IpLimits,
    open: HashMap<ConnectionId, IpAddr>,
    per_ip: HashMap<IpAddr, u32>,
    per_subnet: HashMap<(bool, [u8; 6]), u32>,
    banned: HashMap<IpAddr, Instant>,
}

impl InboundLimits {
    /// No connections yet.
    pub fn new(limits: IpLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Whether a connection from `ip` may be opened (or kept) at `now`.
    pub fn admit(&self, ip: IpAddr, now: Instant) -> Result<(), GateDenial> {
        if self.banned.get(&ip).is_some_and(|until| *until > now) {
            return Err(GateDenial::Banned(ip));
        }
        if ip.is_loopback() && !self.limits.include_loopback {
            return Ok(());
        }
        let limit = self.limits.per_ip;
        if self.per_ip.get(&ip).copied().unwrap_or(0) >= limit {
            return Err(GateDenial::PerIp { ip, limit });
        }
        let limit = self.limits.per_subnet;
        if self.per_subnet.get(&subnet(ip)).copied().unwrap_or(0) >= limit {
            return Err(GateDenial::PerSubnet { ip, limit });
        }
        Ok(())
    }

    /// An inbound connection from `ip` opened.
    pub fn opened(&mut self, connection: ConnectionId, ip: IpAddr) {
        if self.open.insert(connection, ip).is_none() {
            *self.per_ip.entry(ip).or_default() += 1;
            *self.per_subnet.entry(subnet(ip)).or_default() += 1;
        }
    }

    /// A connection closed (inbound or not).
    pub fn closed(&mut self, connection: ConnectionId) {
        let Some(ip) = self.open.remove(&connection) else {
            return;
        };
        decrement(&mut self.per_ip, &ip);
        decrement(&mut self.per_subnet, &subnet(ip));
    }

    /// Bans `ip` until `until` (the peer manager bounds how many); false, and nothing done,
    /// for a loopback address unless loopback counts ([`IpLimits::include_loopback`]): every
    /// local peer shares it, so banning it would cut off the honest ones with the offender
    /// (whose PeerId ban still holds).
    pub fn ban(&mut self, ip: IpAddr, until: Instant) -> bool {
        if ip.is_loopback() && !self.limits.include_loopback {
            return false;
        }
        self.banned.insert(ip, until);
        true
    }

    /// Lifts the ban of `ip`.
    pub fn unban(&mut self, ip: &IpAddr) {
        self.banned.remove(ip);
    }

    /// Whether `ip` is banned at `now`.
    pub fn is_banned(&self, ip: &IpAddr, now: Instant) -> bool {
        self.banned.get(ip).is_some_and(|until| *until > now)
    }

    /// Inbound connections open from `ip`.
    pub fn open_from(&self, ip: &IpAddr) -> u32 {
        self.per_ip.get(ip).copied().unwrap_or(0)
    }
}

fn decrement<K: std::hash::Hash + Eq>(map: &mut HashMap<K, u32>, key: &K) {
    if let Some(n) = map.get_mut(key) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            map.remove(key);
        }
    }
}
