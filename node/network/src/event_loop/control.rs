//! Chain notices, node commands and gossip verdicts.

use std::time::Instant;

use libp2p::PeerId;
use libp2p::gossipsub::{self, PublishError};
use talos_chain_service::ChainNotice;
use talos_gossip::{Acceptance, TopicKind};
use tracing::{debug, info, warn};

use super::{Backend, NetLoop};
use crate::commands::{NetCommand, PeerInfo};
use crate::gossip::{GossipVerdict, to_gossipsub};
use crate::messaging::Outgoing;
use crate::policy::Offence;

impl NetLoop {
    pub(super) fn on_notice(&mut self, notice: ChainNotice<PeerId>) {
        match notice {
            ChainNotice::NewTip {
                tip,
                reorg_depth,
                announce,
            } => {
                debug!(height = tip.height, hash = %tip.id, reorg_depth, "new local tip");
                if let Some(block) = announce {
                    self.publish(TopicKind::Blocks, talos_gossip::encode_block(&block));
                }
                self.sync.local_tip_changed(Instant::now(), reorg_depth > 0);
            }
            ChainNotice::PublishItem(item) => {
                self.publish(TopicKind::Items, talos_gossip::encode_item(&item));
            }
            ChainNotice::BadBlock { peer, rejection } => {
                info!(%peer, code = rejection.code(), "peer sent an invalid block");
                self.penalize(peer, Offence::InvalidBlock(rejection));
            }
            ChainNotice::MissingParent {
                peer,
                parent,
                parent_height,
            } => {
                self.sync
                    .missing_parent(peer, parent, parent_height, Instant::now());
            }
        }
    }

    fn publish(&mut self, kind: TopicKind, data: Vec<u8>) {
        let topic = gossipsub::IdentTopic::new(self.settings.topics.name(kind));
        match self.swarm.behaviour_mut().gossipsub.publish(topic, data) {
            Ok(id) => debug!(topic = %kind, id = %id, "published"),
            Err(PublishError::Duplicate) => debug!(topic = %kind, "already published"),
            Err(PublishError::NoPeersSubscribedToTopic) => {
                debug!(topic = %kind, "no peer subscribed yet; not published");
            }
            Err(e) => warn!(topic = %kind, error = %e, "publish failed"),
        }
    }

    pub(super) fn on_command(&mut self, command: NetCommand) {
        match command {
            NetCommand::Peers { reply } => {
                let gossipsub = &self.swarm.behaviour().gossipsub;
                let peers = self
                    .peers
                    .iter()
                    .map(|(peer, entry)| PeerInfo {
                        peer_id: *peer,
                        addrs: entry.addrs.clone(),
                        agent: entry.agent.clone(),
                        gossip_score: gossipsub.peer_score(peer),
                        tip_height: entry.tip_height,
                    })
                    .collect();
                let _ = reply.send(peers);
            }
            NetCommand::ListenAddrs { reply } => {
                let _ = reply.send(self.listen_addrs.clone());
            }
            NetCommand::Banned { reply } => {
                let _ = reply.send(self.peers.banned(Instant::now()));
            }
            NetCommand::SyncState { reply } => {
                let _ = reply.send(self.sync.status());
            }
            NetCommand::Dial { addr } => {
                if let Err(e) = self.swarm.dial(addr.clone()) {
                    warn!(%addr, error = %e, "dial failed");
                }
            }
            NetCommand::ReportLie { peer, lie } => {
                self.penalize(peer, crate::policy::Offence::LightLie(lie));
            }
            NetCommand::PublishDid { did, record, reply } => self.publish_did(&did, record, reply),
            NetCommand::ResolveDid { did, reply } => self.resolve_did(&did, reply),
            NetCommand::Ask {
                peer,
                request,
                reply,
            } => self.ask(peer, request, reply),
            NetCommand::SendMsg {
                peer,
                addrs,
                request,
                reply,
            } => self.send_messaging(peer, addrs, Outgoing::Msg(request, reply)),
            NetCommand::SendMailbox {
                peer,
                addrs,
                request,
                reply,
            } => self.send_messaging(peer, addrs, Outgoing::Mailbox(request, reply)),
            NetCommand::ClosestPeers { key, count, reply } => {
                self.closest_peers(key, count, reply);
            }
        }
    }

    pub(super) fn on_verdict(&mut self, verdict: GossipVerdict) {
        let GossipVerdict {
            message_id,
            source,
            kind,
            acceptance,
            offence,
        } = verdict;
        if let Backend::Full { validator, .. } = &mut self.backend {
            validator.finished(&source);
        }
        if acceptance == Acceptance::Reject {
            debug!(peer = %source, topic = %kind, "gossip rejected");
        }
        if kind == TopicKind::Blocks && acceptance == Acceptance::Accept {
            self.peers.credit_delivery(&source);
        }
        // Invalid blocks are penalized through the chain's BadBlock notice.
        if let Some(offence) = offence {
            self.penalize(source, offence);
        }
        self.report_validation(Some(kind), &message_id, &source, acceptance);
    }

    /// Reports a validation result to gossipsub and counts it.
    pub(super) fn report_validation(
        &mut self,
        kind: Option<TopicKind>,
        message_id: &gossipsub::MessageId,
        source: &PeerId,
        acceptance: Acceptance,
    ) {
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(message_id, source, to_gossipsub(acceptance));
        self.metrics.gossip_result(kind, acceptance);
    }
}
