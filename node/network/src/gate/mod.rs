//! The connection gate: a [`NetworkBehaviour`] that refuses inbound connections over the
//! per-address and per-subnet limits, and every connection to or from a banned address. It
//! runs right after the peer block list, before any other behaviour spends state on the
//! connection; the pending-inbound check refuses before the security handshake.
//!
//! The decisions are [`InboundLimits`]'s; this module only translates swarm callbacks.

mod limits;
#[cfg(test)]
mod tests;

use std::convert::Infallible;
use std::task::{Context, Poll};
use std::time::Instant;

use libp2p::core::transport::PortUse;
use libp2p::core::{ConnectedPoint, Endpoint};
use libp2p::swarm::{
    ConnectionClosed, ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler,
    THandlerInEvent, THandlerOutEvent, ToSwarm, dummy,
};
use libp2p::{Multiaddr, PeerId};

pub use limits::{GateDenial, InboundLimits, IpLimits};

use crate::peers::ip_of;

/// The connection gate behaviour.
#[derive(Debug)]
pub struct Gate {
    limits: InboundLimits,
}

impl Gate {
    /// A gate with `limits`.
    pub fn new(limits: IpLimits) -> Self {
        Self {
            limits: InboundLimits::new(limits),
        }
    }

    /// The bookkeeping (to ban and unban addresses).
    pub fn limits_mut(&mut self) -> &mut InboundLimits {
        &mut self.limits
    }

    /// The bookkeeping.
    pub fn limits(&self) -> &InboundLimits {
        &self.limits
    }

    fn check(&self, remote: &Multiaddr) -> Result<(), ConnectionDenied> {
        match ip_of(remote) {
            Some(ip) => self
                .limits
                .admit(ip, Instant::now())
                .map_err(ConnectionDenied::new),
            None => Ok(()),
        }
    }

    fn check_banned(&self, remote: &Multiaddr) -> Result<(), ConnectionDenied> {
        match ip_of(remote) {
            Some(ip) if self.limits.is_banned(&ip, Instant::now()) => {
                Err(ConnectionDenied::new(GateDenial::Banned(ip)))
            }
            _ => Ok(()),
        }
    }
}

impl NetworkBehaviour for Gate {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Infallible;

    fn handle_pending_inbound_connection(
        &mut self,
        _connection_id: ConnectionId,
        _local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        self.check(remote_addr)
    }

    fn handle_established_inbound_connection(
        &mut self,
        _connection_id: ConnectionId,
        _peer: PeerId,
        _local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        // Checked again: several handshakes from one address may have been pending at once.
        self.check(remote_addr)?;
        Ok(dummy::ConnectionHandler)
    }

    fn handle_established_outbound_connection(
        &mut self,
        _connection_id: ConnectionId,
        _peer: PeerId,
        addr: &Multiaddr,
        _role_override: Endpoint,
        _port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.check_banned(addr)?;
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm<'_>) {
        match event {
            FromSwarm::ConnectionClosed(ConnectionClosed { connection_id, .. }) => {
                self.limits.closed(connection_id);
            }
            // Counted only once established (a connection another behaviour denies never is).
            FromSwarm::ConnectionEstablished(established) => {
                if let ConnectedPoint::Listener { send_back_addr, .. } = established.endpoint
                    && let Some(ip) = ip_of(send_back_addr)
                {
                    self.limits.opened(established.connection_id, ip);
                }
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _peer: PeerId,
        _connection: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, _cx: &mut Context<'_>) -> Poll<ToSwarm<Infallible, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}
