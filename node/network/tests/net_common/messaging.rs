//! Agent messaging helpers of the network tests: envelopes, a small agent answering a node's
//! inbound requests, and the messaging commands.

use libp2p::{Multiaddr, PeerId};
use talos_identity::SigningKey;
use talos_messaging::{
    Ack, AckStatus, DepositStatus, Envelope, MailboxRequest, MailboxResponse, MessageId,
    MsgRequest, MsgResponse, Page, SealedParts,
};
use talos_network::{ClosePeer, InboundMessaging, MailboxResult, MsgResult, NetCommand};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{Node, WAIT};

/// An envelope from agent 1 to agent 2 with id `n`: a 69-byte header, 32 bytes of ciphertext.
pub(crate) fn envelope(n: u64) -> Envelope {
    let mut id = [0; 16];
    id[..8].copy_from_slice(&n.to_be_bytes());
    Envelope::seal(
        &SigningKey::from_bytes(&[1; 32]),
        SigningKey::from_bytes(&[2; 32]).verifying_key(),
        MessageId(id),
        1_700_000_000_000 + n,
        SealedParts {
            header: vec![7; 69],
            ciphertext: vec![9; 32],
            handshake: None,
        },
    )
    .expect("sealed")
}

/// The agent of a node: prekeys are `[1, 2, 3]`, every delivery is accepted, deposits are kept
/// and served back by fetches.
pub(crate) fn agent(node: &mut Node) -> JoinHandle<()> {
    let mut inbound: mpsc::Receiver<InboundMessaging> =
        node.messaging.take().expect("the inbound queue");
    tokio::spawn(async move {
        let mut mailbox: Vec<Envelope> = Vec::new();
        while let Some(request) = inbound.recv().await {
            match request {
                InboundMessaging::Msg {
                    request, respond, ..
                } => {
                    let _ = respond.send(match request {
                        MsgRequest::Prekeys => MsgResponse::Prekeys(vec![1, 2, 3]),
                        MsgRequest::Deliver(envelopes) => MsgResponse::Acks(
                            envelopes
                                .iter()
                                .map(|e| Ack {
                                    message_id: e.message_id(),
                                    status: AckStatus::Accepted,
                                })
                                .collect(),
                        ),
                    });
                }
                InboundMessaging::Mailbox {
                    request, respond, ..
                } => {
                    let _ = respond.send(keep(&mut mailbox, request));
                }
            }
        }
    })
}

fn keep(mailbox: &mut Vec<Envelope>, request: MailboxRequest) -> MailboxResponse {
    match request {
        MailboxRequest::Deposit(envelope) => {
            let message_id = envelope.message_id();
            mailbox.push(*envelope);
            MailboxResponse::Deposit {
                message_id,
                status: DepositStatus::Stored,
            }
        }
        MailboxRequest::Fetch { cursor, limit } => {
            let start = usize::try_from(cursor)
                .unwrap_or(usize::MAX)
                .min(mailbox.len());
            let envelopes: Vec<Envelope> = mailbox[start..]
                .iter()
                .take(limit as usize)
                .cloned()
                .collect();
            let next = start + envelopes.len();
            MailboxResponse::Page(Page {
                envelopes,
                next_cursor: next as u64,
                more: next < mailbox.len(),
            })
        }
        MailboxRequest::Acknowledge(acked) => MailboxResponse::Acknowledged(acked.len() as u32),
    }
}

pub(crate) async fn send_msg(
    node: &Node,
    peer: PeerId,
    addrs: Vec<Multiaddr>,
    request: MsgRequest,
) -> MsgResult {
    let (reply, rx) = oneshot::channel();
    node.commands
        .send(NetCommand::SendMsg {
            peer,
            addrs,
            request,
            reply,
        })
        .await
        .expect("net alive");
    tokio::time::timeout(WAIT, rx)
        .await
        .expect("answered in time")
        .expect("reply")
}

pub(crate) async fn send_mailbox(
    node: &Node,
    peer: PeerId,
    request: MailboxRequest,
) -> MailboxResult {
    let (reply, rx) = oneshot::channel();
    node.commands
        .send(NetCommand::SendMailbox {
            peer,
            addrs: Vec::new(),
            request,
            reply,
        })
        .await
        .expect("net alive");
    rx.await.expect("reply")
}

pub(crate) async fn closest(node: &Node, key: &[u8], count: usize) -> Vec<ClosePeer> {
    let (reply, rx) = oneshot::channel();
    node.commands
        .send(NetCommand::ClosestPeers {
            key: key.to_vec(),
            count,
            reply,
        })
        .await
        .expect("net alive");
    rx.await.expect("reply")
}
