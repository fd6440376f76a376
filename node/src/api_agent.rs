//! The agent's side of the local API: [`talos_api::agent`]'s JSON from the agent's answers.

use std::time::Duration;

use futures::{Stream, StreamExt};
use talos_api::BackendError;
use talos_api::agent::{
    DidPublishJson, DidRecordJson, InboxJson, InboxMessageJson, InboxQuery, SendRequest,
    SendResponse, SentJson, SessionJson, SessionsJson,
};
use talos_identity::VerifyingKey;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use crate::agent::{AgentClient, AgentError, Delivery, InboxEntry, Recipient};
use crate::handle::NodeHandle;

/// How long `"wait": true` waits for each message.
const WAIT_FOR_DELIVERY: Duration = Duration::from_secs(30);

impl From<AgentError> for BackendError {
    fn from(e: AgentError) -> Self {
        match e {
            AgentError::Stopped => Self::Unavailable,
            AgentError::Timeout => Self::Timeout,
            AgentError::BadRecipient(m) => Self::BadQuestion(m),
            AgentError::Did(talos_network::DidQueryError::NotFound) => {
                Self::NotFound("no valid DID record was found".into())
            }
            AgentError::Did(d) => Self::Refused {
                code: d.code(),
                message: d.to_string(),
            },
            AgentError::NoBundle { .. } => Self::Refused {
                code: "no_bundle",
                message: e.to_string(),
            },
            AgentError::Refused(message) => Self::Refused {
                code: "refused",
                message,
            },
            AgentError::Store(s) => Self::Refused {
                code: "agent_store",
                message: s.to_string(),
            },
        }
    }
}

pub(crate) fn agent(handle: &NodeHandle) -> Result<&AgentClient, BackendError> {
    handle.agent().ok_or(BackendError::WrongRole {
        role: handle.info().role.as_str(),
    })
}

fn did_of(key: &[u8; 32]) -> String {
    VerifyingKey::from_bytes(key).map_or_else(|_| hex::encode(key), |k| talos_identity::did_key(&k))
}

fn delivery_name(delivery: Option<Delivery>) -> String {
    match delivery {
        None => "pending".into(),
        Some(Delivery::Direct) => "direct".into(),
        Some(Delivery::Mailboxes(n)) => format!("mailboxes:{n}"),
        Some(Delivery::Refused(status)) => format!("refused:{}", status.code()),
    }
}

/// An inbox entry as JSON.
pub(crate) fn inbox_json(entry: &InboxEntry) -> InboxMessageJson {
    let text = String::from_utf8(entry.body.clone()).ok();
    InboxMessageJson {
        number: entry.number,
        from: did_of(&entry.sender),
        message_id: hex::encode(entry.message_id),
        seq: entry.seq,
        sent_ms: entry.sent_ms,
        received_ms: entry.received_ms,
        via: if entry.via_mailbox {
            "mailbox"
        } else {
            "direct"
        }
        .into(),
        hex: text.is_none().then(|| hex::encode(&entry.body)),
        text,
    }
}

pub(crate) async fn send(
    handle: &NodeHandle,
    request: SendRequest,
) -> Result<SendResponse, BackendError> {
    let agent = agent(handle)?;
    let to: Recipient = request.to.parse()?;
    let bodies = request
        .messages
        .iter()
        .map(|m| {
            if request.hex {
                hex::decode(m.trim())
                    .map_err(|e| BackendError::BadQuestion(format!("a message is not hex: {e}")))
            } else {
                Ok(m.as_bytes().to_vec())
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let sent = agent.send(to, bodies, request.wait).await?;
    let mut messages = Vec::with_capacity(sent.len());
    for message in sent {
        let delivery = match message.delivery {
            Some(rx) => delivery_name(
                tokio::time::timeout(WAIT_FOR_DELIVERY, rx)
                    .await
                    .ok()
                    .and_then(Result::ok),
            ),
            None => "queued".into(),
        };
        messages.push(SentJson {
            message_id: hex::encode(message.message_id),
            envelope_hash: hex::encode(message.envelope_hash),
            delivery,
        });
    }
    Ok(SendResponse {
        to: to.did(),
        messages,
    })
}

pub(crate) async fn inbox(
    handle: &NodeHandle,
    query: InboxQuery,
) -> Result<InboxJson, BackendError> {
    let agent = agent(handle)?;
    let limit = query.limit.unwrap_or(100).min(1000);
    let mut entries = agent.inbox(query.after, limit).await?;
    if let Some(from) = query.from {
        let key = from.parse::<Recipient>()?.0.to_bytes();
        entries.retain(|e| e.sender == key);
        entries.sort_by_key(|e| e.seq);
    }
    Ok(InboxJson {
        messages: entries.iter().map(inbox_json).collect(),
    })
}

pub(crate) fn messages(
    handle: &NodeHandle,
) -> impl Stream<Item = Result<InboxMessageJson, u64>> + Send + Unpin + use<> {
    let rx = handle.agent().map(AgentClient::subscribe);
    let stream = match rx {
        Some(rx) => BroadcastStream::new(rx).boxed(),
        None => futures::stream::empty().boxed(),
    };
    stream.map(|item| match item {
        Ok(entry) => Ok(inbox_json(&entry)),
        Err(BroadcastStreamRecvError::Lagged(missed)) => Err(missed),
    })
}

pub(crate) async fn sessions(handle: &NodeHandle) -> Result<SessionsJson, BackendError> {
    let sessions = agent(handle)?.sessions().await?;
    Ok(SessionsJson {
        sessions: sessions
            .into_iter()
            .map(|s| SessionJson {
                peer: did_of(&s.peer),
                initiator: s.initiator,
                confirmed: s.confirmed,
                previous_sessions: s.previous_sessions,
                skipped_keys: s.skipped_keys,
                outbox: s.outbox,
            })
            .collect(),
    })
}

pub(crate) async fn publish_did(handle: &NodeHandle) -> Result<DidPublishJson, BackendError> {
    let peers = agent(handle)?.publish_did().await?;
    Ok(DidPublishJson {
        did: handle.info().did.clone(),
        peers,
    })
}

pub(crate) async fn resolve_did(
    handle: &NodeHandle,
    did: String,
) -> Result<DidRecordJson, BackendError> {
    let valid = agent(handle)?.resolve_did(&did).await?;
    let record = valid.record();
    Ok(DidRecordJson {
        did: record.did().to_owned(),
        sequence: record.sequence(),
        issued_at_ms: record.issued_at_ms(),
        expires_at_ms: record.expires_at_ms(),
        document: serde_json::from_slice(record.document_bytes()).unwrap_or_default(),
    })
}
