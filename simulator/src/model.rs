//! The network model shared by every simulated node: link parameters, memory ports, partitions,
//! per-node traffic counters and the registry of open connections (so a partition can cut
//! them). Pure state, no I/O: [`crate::link`] applies the link to bytes and
//! [`crate::transport`] plugs the model into libp2p.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::time::Duration;

use futures::task::AtomicWaker;
use libp2p::Multiaddr;
use libp2p::multiaddr::Protocol;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};

/// First memory port handed out; far above anything a test picks by hand.
const FIRST_PORT: u64 = 1 << 40;

/// Process-global port counter, so several models in one process never collide.
static NEXT_PORT: AtomicU64 = AtomicU64::new(FIRST_PORT);

/// The link between any two simulated nodes, applied to each direction separately.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct LinkParams {
    /// One-way delay added to every byte.
    pub latency: Duration,
    /// Extra delay drawn uniformly from `[0, jitter)` for each chunk of bytes (the stream stays
    /// in order: a chunk is never delivered before the one ahead of it).
    pub jitter: Duration,
    /// Serialization rate of each link direction; `None` (or `Some(0)`) is unlimited.
    pub bandwidth_bytes_per_s: Option<u64>,
}

impl LinkParams {
    /// Whether the link adds no delay at all (no latency, no jitter, no bandwidth cap).
    pub fn is_instant(&self) -> bool {
        self.latency.is_zero() && self.jitter.is_zero() && self.bandwidth().is_none()
    }

    /// The bandwidth cap, if there is a usable one (`Some(0)` counts as none).
    pub fn bandwidth(&self) -> Option<u64> {
        self.bandwidth_bytes_per_s.filter(|&bw| bw > 0)
    }
}

/// Bytes a node moved over all its links so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkTraffic {
    /// Bytes the node received (handed to its own code).
    pub bytes_in: u64,
    /// Bytes the node sent.
    pub bytes_out: u64,
    /// Connections (incoming and outgoing) established with this node as one end.
    pub connections_opened: u64,
}

/// One node's traffic counters, updated by its link streams without locks.
#[derive(Debug, Default)]
pub struct NodeCounters {
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    connections_opened: AtomicU64,
}

impl NodeCounters {
    /// Counts `n` bytes received.
    pub fn add_in(&self, n: usize) {
        self.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Counts `n` bytes sent.
    pub fn add_out(&self, n: usize) {
        self.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
    }

    fn snapshot(&self) -> LinkTraffic {
        LinkTraffic {
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
            connections_opened: self.connections_opened.load(Ordering::Relaxed),
        }
    }
}

/// The state one end of a connection shares with the model: who it connects, and whether a
/// partition cut it.
#[derive(Debug)]
pub struct ConnShared {
    local: usize,
    remote: usize,
    killed: AtomicBool,
    read_waker: AtomicWaker,
    write_waker: AtomicWaker,
}

impl ConnShared {
    /// The node this end belongs to.
    pub fn local(&self) -> usize {
        self.local
    }

    /// The node at the other end.
    pub fn remote(&self) -> usize {
        self.remote
    }

    /// Whether a partition cut the connection.
    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    /// Registers the task to wake when the connection is cut while it waits to read.
    pub fn register_reader(&self, waker: &std::task::Waker) {
        self.read_waker.register(waker);
    }

    /// Registers the task to wake when the connection is cut while it waits to write.
    pub fn register_writer(&self, waker: &std::task::Waker) {
        self.write_waker.register(waker);
    }

    fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.read_waker.wake();
        self.write_waker.wake();
    }
}

/// One end of an open connection, as registered in the model. Dropping it unregisters the
/// connection (it no longer counts in [`NetModel::open_links`]).
#[derive(Debug)]
pub struct ConnHandle {
    id: u64,
    shared: Arc<ConnShared>,
    counters: Arc<NodeCounters>,
    params: LinkParams,
    seed: u64,
    model: Weak<Inner>,
}

impl ConnHandle {
    /// Shared state (kill flag, wakers, the pair).
    pub fn shared(&self) -> &ConnShared {
        &self.shared
    }

    /// The local node's counters.
    pub fn counters(&self) -> &NodeCounters {
        &self.counters
    }

    /// The link this end applies to what it reads.
    pub fn params(&self) -> LinkParams {
        self.params
    }

    /// Seed of this end's jitter generator (drawn from the model's seeded RNG).
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

impl Drop for ConnHandle {
    fn drop(&mut self) {
        if let Some(inner) = self.model.upgrade() {
            lock(&inner.conns).live.remove(&self.id);
        }
    }
}

/// Which group each partitioned node is in; nodes absent from the map share one extra group.
#[derive(Debug, Default)]
struct Groups {
    of: HashMap<usize, usize>,
    extra: usize,
}

impl Groups {
    fn group(&self, node: usize) -> usize {
        self.of.get(&node).copied().unwrap_or(self.extra)
    }

    fn same(&self, a: usize, b: usize) -> bool {
        self.group(a) == self.group(b)
    }
}

#[derive(Debug, Default)]
struct Registry {
    next_id: u64,
    live: HashMap<u64, Arc<ConnShared>>,
}

#[derive(Debug, Default)]
struct Ports {
    by_node: HashMap<usize, u64>,
    by_port: HashMap<u64, usize>,
}

#[derive(Debug)]
struct Inner {
    link: LinkParams,
    rng: Mutex<StdRng>,
    ports: Mutex<Ports>,
    /// `None` while the network is whole.
    groups: RwLock<Option<Groups>>,
    counters: Mutex<HashMap<usize, Arc<NodeCounters>>>,
    conns: Mutex<Registry>,
}

/// The simulated network: cheap to clone, every clone is the same network.
#[derive(Clone, Debug)]
pub struct NetModel {
    inner: Arc<Inner>,
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it (every update here
/// leaves the state consistent).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl NetModel {
    /// A whole network whose links all follow `link`; jitter is drawn from `seed`.
    pub fn new(seed: u64, link: LinkParams) -> Self {
        Self {
            inner: Arc::new(Inner {
                link,
                rng: Mutex::new(StdRng::seed_from_u64(seed)),
                ports: Mutex::new(Ports::default()),
                groups: RwLock::new(None),
                counters: Mutex::new(HashMap::new()),
                conns: Mutex::new(Registry::default()),
            }),
        }
    }

    /// The link every connection follows.
    pub fn link(&self) -> LinkParams {
        self.inner.link
    }

    /// Process-unique memory port of `node`, allocated on first call and stable afterwards (a
    /// restarted node listens on the same port).
    pub fn port(&self, node: usize) -> u64 {
        let mut ports = lock(&self.inner.ports);
        if let Some(&port) = ports.by_node.get(&node) {
            return port;
        }
        let port = NEXT_PORT.fetch_add(1, Ordering::Relaxed);
        ports.by_node.insert(node, port);
        ports.by_port.insert(port, node);
        port
    }

    /// The node a memory port belongs to, if [`Self::port`] handed it out.
    pub fn node_of_port(&self, port: u64) -> Option<usize> {
        lock(&self.inner.ports).by_port.get(&port).copied()
    }

    /// `/memory/<port>` of `node`.
    pub fn listen_addr(&self, node: usize) -> Multiaddr {
        Multiaddr::empty().with(Protocol::Memory(self.port(node)))
    }

    /// Splits the nodes into groups: nodes in different groups cannot connect. Open
    /// connections between them are cut at once (their reads and writes fail with
    /// `ConnectionReset`), and new dials between them fail. Nodes listed in no group form one
    /// extra group together. Replaces any previous partition.
    pub fn partition(&self, groups: &[Vec<usize>]) {
        let mut of = HashMap::new();
        for (g, nodes) in groups.iter().enumerate() {
            for &n in nodes {
                of.insert(n, g);
            }
        }
        let groups = Groups {
            of,
            extra: groups.len(),
        };
        // The registry lock is held across the update so that no connection registers
        // between the new groups and the cut.
        let conns = lock(&self.inner.conns);
        for conn in conns.live.values() {
            if !groups.same(conn.local, conn.remote) {
                conn.kill();
            }
        }
        *self.write_groups() = Some(groups);
        drop(conns);
    }

    /// Makes the network whole again (connections cut by a partition stay cut).
    pub fn heal(&self) {
        let _conns = lock(&self.inner.conns);
        *self.write_groups() = None;
    }

    /// Whether `a` and `b` may connect now.
    pub fn can_reach(&self, a: usize, b: usize) -> bool {
        let groups = self.inner.groups.read().unwrap_or_else(|e| e.into_inner());
        groups.as_ref().is_none_or(|g| g.same(a, b))
    }

    /// Bytes `node` sent and received over all its links so far (all connections, both as
    /// dialer and listener).
    pub fn traffic(&self, node: usize) -> LinkTraffic {
        lock(&self.inner.counters)
            .get(&node)
            .map(|c| c.snapshot())
            .unwrap_or_default()
    }

    /// Pairs `(a, b)`, `a < b`, with at least one open connection now, sorted.
    pub fn open_links(&self) -> Vec<(usize, usize)> {
        let conns = lock(&self.inner.conns);
        let pairs: BTreeSet<(usize, usize)> = conns
            .live
            .values()
            .filter(|c| !c.is_killed() && c.local != c.remote)
            .map(|c| (c.local.min(c.remote), c.local.max(c.remote)))
            .collect();
        pairs.into_iter().collect()
    }

    /// Open connection ends now (each connection has two), for leak checks.
    pub fn open_connection_ends(&self) -> usize {
        lock(&self.inner.conns).live.len()
    }

    /// Registers one end of a new connection from `local` to `remote`, and counts it as
    /// opened for `local`. `None` if the two cannot reach each other now (the check and the
    /// registration are atomic with respect to [`Self::partition`]).
    pub fn open_conn(&self, local: usize, remote: usize) -> Option<ConnHandle> {
        let seed = lock(&self.inner.rng).next_u64();
        let counters = self.counters(local);
        let mut conns = lock(&self.inner.conns);
        if !self.can_reach(local, remote) {
            return None;
        }
        let id = conns.next_id;
        conns.next_id += 1;
        let shared = Arc::new(ConnShared {
            local,
            remote,
            killed: AtomicBool::new(false),
            read_waker: AtomicWaker::new(),
            write_waker: AtomicWaker::new(),
        });
        conns.live.insert(id, Arc::clone(&shared));
        drop(conns);
        counters.connections_opened.fetch_add(1, Ordering::Relaxed);
        Some(ConnHandle {
            id,
            shared,
            counters,
            params: self.inner.link,
            seed,
            model: Arc::downgrade(&self.inner),
        })
    }

    fn counters(&self, node: usize) -> Arc<NodeCounters> {
        Arc::clone(lock(&self.inner.counters).entry(node).or_default())
    }

    fn write_groups(&self) -> std::sync::RwLockWriteGuard<'_, Option<Groups>> {
        self.inner.groups.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_stable_and_unique_across_models() {
        let a = NetModel::new(1, LinkParams::default());
        let b = NetModel::new(1, LinkParams::default());
        let pa = a.port(0);
        assert_eq!(a.port(0), pa);
        assert_ne!(a.port(1), pa);
        assert_ne!(b.port(0), pa);
        assert_ne!(b.port(0), a.port(1));
        assert_eq!(a.node_of_port(pa), Some(0));
        assert_eq!(a.node_of_port(b.port(0)), None);
        assert_eq!(
            a.listen_addr(1).to_string(),
            format!("/memory/{}", a.port(1))
        );
    }

    #[test]
    fn partition_groups_and_the_extra_group() {
        let m = NetModel::new(0, LinkParams::default());
        assert!(m.can_reach(0, 5));
        m.partition(&[vec![0, 1], vec![2]]);
        assert!(m.can_reach(0, 1));
        assert!(!m.can_reach(0, 2));
        assert!(!m.can_reach(2, 1));
        // 3 and 4 are in no group: together, apart from everyone else.
        assert!(m.can_reach(3, 4));
        assert!(!m.can_reach(3, 0));
        assert!(!m.can_reach(4, 2));
        m.heal();
        assert!(m.can_reach(0, 2));
        assert!(m.can_reach(3, 1));
    }

    #[test]
    fn partition_kills_only_cross_group_connections_and_refuses_new_ones() {
        let m = NetModel::new(0, LinkParams::default());
        let ab = m.open_conn(0, 1).unwrap();
        let ac = m.open_conn(0, 2).unwrap();
        assert_eq!(m.open_links(), vec![(0, 1), (0, 2)]);
        m.partition(&[vec![0, 1], vec![2]]);
        assert!(!ab.shared().is_killed());
        assert!(ac.shared().is_killed());
        assert_eq!(m.open_links(), vec![(0, 1)]);
        assert!(m.open_conn(2, 0).is_none());
        m.heal();
        assert!(ac.shared().is_killed(), "a cut connection stays cut");
        let ca = m.open_conn(2, 0).unwrap();
        assert_eq!(ca.shared().local(), 2);
        assert_eq!(ca.shared().remote(), 0);
        assert_eq!(m.open_links(), vec![(0, 1), (0, 2)]);
    }

    #[test]
    fn dropped_connections_leave_the_registry() {
        let m = NetModel::new(0, LinkParams::default());
        let handles: Vec<_> = (0..10).map(|i| m.open_conn(i, i + 1).unwrap()).collect();
        assert_eq!(m.open_connection_ends(), 10);
        drop(handles);
        assert_eq!(m.open_connection_ends(), 0);
        assert!(m.open_links().is_empty());
        assert_eq!(m.traffic(3).connections_opened, 1);
        assert_eq!(m.traffic(99), LinkTraffic::default());
    }

    #[test]
    fn counters_accumulate_per_node() {
        let m = NetModel::new(0, LinkParams::default());
        let h = m.open_conn(4, 5).unwrap();
        h.counters().add_in(10);
        h.counters().add_out(3);
        let h2 = m.open_conn(4, 6).unwrap();
        h2.counters().add_in(1);
        assert_eq!(
            m.traffic(4),
            LinkTraffic {
                bytes_in: 11,
                bytes_out: 3,
                connections_opened: 2
            }
        );
        assert_eq!(m.traffic(5), LinkTraffic::default());
    }

    #[test]
    fn link_params_flags() {
        assert!(LinkParams::default().is_instant());
        let p = LinkParams {
            bandwidth_bytes_per_s: Some(0),
            ..LinkParams::default()
        };
        assert!(p.is_instant());
        assert_eq!(p.bandwidth(), None);
        let p = LinkParams {
            latency: Duration::from_millis(1),
            ..LinkParams::default()
        };
        assert!(!p.is_instant());
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<LinkParams>(&json).unwrap(), p);
    }
}
