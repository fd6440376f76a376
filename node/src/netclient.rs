//! [`NetClient`]: the network task's command queue with typed calls, shared by the full node's
//! and the light client's handles.

use libp2p::{Multiaddr, PeerId};
use std::time::Duration;

use talos_network::queries::QueryFailure;
use talos_network::{NetCommand, PeerInfo};
use talos_sync::{SyncRequest, SyncResponse, SyncStatus};
use tokio::sync::mpsc;

use crate::handle::{HandleError, call, call_within};

/// Why a peer's answer did not come.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    /// The node (its network task) did not answer.
    #[error(transparent)]
    Node(HandleError),
    /// The peer gave no usable answer.
    #[error(transparent)]
    Peer(QueryFailure),
}

/// Typed calls to the network task.
#[derive(Clone, Debug)]
pub struct NetClient {
    tx: mpsc::Sender<NetCommand>,
}

impl NetClient {
    /// A client of the task reading `tx`'s queue.
    pub(crate) fn new(tx: mpsc::Sender<NetCommand>) -> Self {
        Self { tx }
    }

    /// Connected peers.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, HandleError> {
        call(&self.tx, |reply| NetCommand::Peers { reply }).await
    }

    /// Peers banned now (misbehaviour, another network).
    pub async fn banned(&self) -> Result<Vec<PeerId>, HandleError> {
        call(&self.tx, |reply| NetCommand::Banned { reply }).await
    }

    /// Listen addresses.
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, HandleError> {
        call(&self.tx, |reply| NetCommand::ListenAddrs { reply }).await
    }

    /// What sync is doing.
    pub async fn sync_state(&self) -> Result<SyncStatus, HandleError> {
        call(&self.tx, |reply| NetCommand::SyncState { reply }).await
    }

    /// Sends `request` to one connected peer and waits up to `within` for its answer (of the
    /// kind asked for, not verified: see [`NetCommand::Ask`]).
    pub async fn ask(
        &self,
        peer: PeerId,
        request: SyncRequest,
        within: Duration,
    ) -> Result<SyncResponse, AskError> {
        let answer = call_within(&self.tx, within, |reply| NetCommand::Ask {
            peer,
            request,
            reply,
        })
        .await
        .map_err(AskError::Node)?;
        answer.map_err(AskError::Peer)
    }

    /// Reports a full node that lied to our light client (the network penalizes it).
    pub async fn report_lie(&self, peer: PeerId, lie: talos_light::LieKind) {
        let _ = self.tx.send(NetCommand::ReportLie { peer, lie }).await;
    }

    /// Dials an address.
    pub async fn dial(&self, addr: Multiaddr) -> Result<(), HandleError> {
        self.tx
            .send(NetCommand::Dial { addr })
            .await
            .map_err(|_| HandleError::Stopped)
    }
}
