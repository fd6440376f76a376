//! The libp2p protocol names of a Talos network, formatted in one place for the node and for
//! anything else that speaks to Talos nodes (the simulator's adversaries, tests).
//!
//! The network name lives in the Kademlia, sync, msg and mailbox protocol ids and in
//! identify's protocol version; identify, ping and gossipsub keep libp2p's standard ids (`/ipfs/id/1.0.0`,
//! `/ipfs/ping/1.0.0`, `/meshsub/*`) so other implementations interoperate. Gossip topics are
//! `talos-gossip`'s [`talos_gossip::Topics`].

use libp2p::StreamProtocol;

use crate::error::BehaviourError;

/// The protocol names of one network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolNames {
    /// Kademlia: `/talos/<network>/kad/1.0.0`.
    pub kad: StreamProtocol,
    /// Chain sync: `/talos/<network>/sync/1.0.0` ([`talos_sync::protocol_id`]).
    pub sync: StreamProtocol,
    /// Agent messaging, direct delivery and prekeys: `/talos/<network>/msg/1.0.0`.
    pub msg: StreamProtocol,
    /// Store-and-forward mailboxes: `/talos/<network>/mailbox/1.0.0`.
    pub mailbox: StreamProtocol,
    /// identify's protocol version: `/talos/<network>/1.0.0`.
    pub identify: String,
}

fn protocol(name: String) -> Result<StreamProtocol, BehaviourError> {
    StreamProtocol::try_from_owned(name.clone())
        .map_err(|source| BehaviourError::ProtocolName { name, source })
}

impl ProtocolNames {
    /// The names on `network`.
    pub fn for_network(network: &str) -> Result<Self, BehaviourError> {
        Ok(Self {
            kad: protocol(format!("/talos/{network}/kad/1.0.0"))?,
            sync: protocol(talos_sync::protocol_id(network))?,
            msg: protocol(format!("/talos/{network}/msg/1.0.0"))?,
            mailbox: protocol(format!("/talos/{network}/mailbox/1.0.0"))?,
            identify: format!("/talos/{network}/1.0.0"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_network() {
        let names = ProtocolNames::for_network("testnet").unwrap();
        assert_eq!(names.kad.as_ref(), "/talos/testnet/kad/1.0.0");
        assert_eq!(names.sync.as_ref(), "/talos/testnet/sync/1.0.0");
        assert_eq!(names.msg.as_ref(), "/talos/testnet/msg/1.0.0");
        assert_eq!(names.mailbox.as_ref(), "/talos/testnet/mailbox/1.0.0");
        assert_eq!(names.identify, "/talos/testnet/1.0.0");
    }
}
