//! Asking full nodes a light client's question: every connected full node (up to
//! [`MAX_ASKED`]) at once, each proof judged against the local header chain, the answers
//! cross-checked ([`talos_light::crosscheck`]), the nodes that lied reported to the network
//! task (which penalizes them), and the verdict as the API's JSON.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use libp2p::PeerId;
use talos_api::BackendError;
use talos_api::light::{LightAnswerJson, LightQuestion};
use talos_chain::chain_state::StateAnswer;
use talos_chain::{Hash256, ItemProof};
use talos_light::crosscheck::{Answer, cross_check_inclusion, cross_check_state};
use talos_light::saved::SavedProof;
use talos_light::{
    BlockAt, InclusionVerdict, StateQuestion, StateVerdict, judge_inclusion, judge_state,
};
use talos_network::light::LightHeaders;
use talos_storage::HeaderStore;
use talos_sync::{SyncRequest, SyncResponse};

use super::LightHandle;
use super::answer::{crosscheck_fields, inclusion_fields, state_fields};

/// Most full nodes asked one question.
pub(crate) const MAX_ASKED: usize = 4;

/// How long each node has to answer.
pub(crate) const ASK_TIMEOUT: Duration = Duration::from_secs(5);

/// How long to wait before asking again about a proof whose block is not in our best chain
/// (header sync may be about to bring it, or the asked nodes may move to our chain).
const RETRY_AFTER: Duration = Duration::from_secs(2);

/// The full nodes to ask: connected peers that advertised a tip, highest first.
async fn full_nodes(handle: &LightHandle) -> Result<Vec<(PeerId, Option<u64>)>, BackendError> {
    let mut peers: Vec<(PeerId, Option<u64>)> = handle
        .net()
        .peers()
        .await?
        .into_iter()
        .filter(|p| p.tip_height.is_some())
        .map(|p| (p.peer_id, p.tip_height))
        .collect();
    peers.sort_by_key(|(_, h)| std::cmp::Reverse(*h));
    peers.truncate(MAX_ASKED);
    Ok(peers)
}

/// Sends `request` to every peer at once; `None` for a peer that gave no answer in time.
async fn ask_all(
    handle: &LightHandle,
    peers: &[(PeerId, Option<u64>)],
    request: &SyncRequest,
) -> Vec<Option<SyncResponse>> {
    join_all(peers.iter().map(|(peer, _)| {
        let net = handle.net().clone();
        let request = request.clone();
        let peer = *peer;
        async move { net.ask(peer, request, ASK_TIMEOUT).await.ok() }
    }))
    .await
}

/// Runs store reads on the blocking pool.
async fn on_store<T: Send + 'static>(
    headers: &Arc<dyn HeaderStore>,
    f: impl FnOnce(&LightHeaders<'_>) -> Result<T, talos_storage::StorageError> + Send + 'static,
) -> Result<T, BackendError> {
    let headers = headers.clone();
    tokio::task::spawn_blocking(move || f(&LightHeaders(&*headers)))
        .await
        .map_err(|_| BackendError::Unavailable)?
        .map_err(BackendError::Storage)
}

/// Answers a light client's question.
pub(crate) async fn answer(
    handle: &LightHandle,
    question: LightQuestion,
) -> Result<LightAnswerJson, BackendError> {
    match question {
        LightQuestion::Item {
            id,
            min_confirmations,
        } => {
            let first = item_round(handle, id, min_confirmations).await?;
            if matches!(first.outcome.as_str(), "off_best_chain" | "ahead_of_tip") {
                tokio::time::sleep(RETRY_AFTER).await;
                return item_round(handle, id, min_confirmations).await;
            }
            Ok(first)
        }
        LightQuestion::Revoked { capability_id } => {
            state_round(handle, StateQuestion::Revoked { capability_id }).await
        }
        LightQuestion::Did { did } => {
            let controller = talos_identity::parse_did_key(&did)
                .map_err(|e| BackendError::BadQuestion(format!("{did}: {e}")))?;
            state_round(handle, StateQuestion::Did { controller, did }).await
        }
    }
}

/// One round of "is item `id` in the chain?".
async fn item_round(
    handle: &LightHandle,
    id: Hash256,
    min_confirmations: u64,
) -> Result<LightAnswerJson, BackendError> {
    let peers = full_nodes(handle).await?;
    let responses = ask_all(handle, &peers, &SyncRequest::Proof(id)).await;
    let proofs: Vec<Option<ItemProof>> = responses
        .iter()
        .map(|r| match r {
            Some(SyncResponse::Proof(Some(p))) => Some((**p).clone()),
            _ => None,
        })
        .collect();
    let network_id = handle.spec().network_id;
    let judged_proofs = proofs.clone();
    let verdicts = on_store(handle.headers(), move |source| {
        judged_proofs
            .iter()
            .map(|p| {
                p.as_ref()
                    .map(|p| judge_inclusion(source, network_id, &id, p, min_confirmations))
                    .transpose()
            })
            .collect::<Result<Vec<Option<InclusionVerdict>>, _>>()
    })
    .await?;
    let answers = tally(&peers, &responses, &verdicts, |r| {
        matches!(r, SyncResponse::Proof(None))
    });
    let check = cross_check_inclusion(&answers);
    report_liars(handle, &check.liars).await;
    let mut out = LightAnswerJson {
        min_confirmations: Some(min_confirmations.max(1)),
        ..LightAnswerJson::default()
    };
    let asked: Vec<PeerId> = peers.iter().map(|(p, _)| *p).collect();
    if let Some((peer, verdict)) = &check.verdict {
        inclusion_fields(verdict, &mut out);
        out.proof = peers
            .iter()
            .position(|(p, _)| p == peer)
            .and_then(|i| proofs[i].as_ref())
            .map(SavedProof::inclusion);
    }
    crosscheck_fields(&check, &asked, &mut out);
    Ok(out)
}

/// One round of a state question, asked at our best tip.
async fn state_round(
    handle: &LightHandle,
    question: StateQuestion,
) -> Result<LightAnswerJson, BackendError> {
    let tip = handle.tip().map_err(|e| match e {
        crate::handle::HandleError::Storage(e) => BackendError::Storage(e),
        _ => BackendError::Unavailable,
    })?;
    let block = BlockAt {
        id: tip.id,
        height: tip.height,
    };
    let peers = full_nodes(handle).await?;
    let request = SyncRequest::StateProof {
        block: block.id,
        key: question.key(),
    };
    let responses = ask_all(handle, &peers, &request).await;
    let answers_in: Vec<Option<StateAnswer>> = responses
        .iter()
        .map(|r| match r {
            Some(SyncResponse::StateProof(Some(a))) => Some((**a).clone()),
            _ => None,
        })
        .collect();
    let judged_in = answers_in.clone();
    let judged_question = question.clone();
    let verdicts = on_store(handle.headers(), move |source| {
        judged_in
            .iter()
            .map(|a| {
                a.as_ref()
                    .map(|a| judge_state(source, &judged_question, block, a))
                    .transpose()
            })
            .collect::<Result<Vec<Option<StateVerdict>>, _>>()
    })
    .await?;
    let answers = tally(&peers, &responses, &verdicts, |r| {
        matches!(r, SyncResponse::StateProof(None))
    });
    let check = cross_check_state(&answers);
    report_liars(handle, &check.liars).await;
    let mut out = LightAnswerJson::default();
    let revoked = matches!(question, StateQuestion::Revoked { .. });
    if let Some((peer, verdict)) = &check.verdict {
        state_fields(verdict, revoked, &mut out);
        out.proof = peers
            .iter()
            .position(|(p, _)| p == peer)
            .and_then(|i| answers_in[i].as_ref())
            .map(|a| SavedProof::state(&question, block, a));
    }
    let asked: Vec<PeerId> = peers.iter().map(|(p, _)| *p).collect();
    crosscheck_fields(&check, &asked, &mut out);
    Ok(out)
}

/// Each node's answer: its judged proof, "not found" (`denies` says which response is one),
/// or nothing usable.
fn tally<V: Copy>(
    peers: &[(PeerId, Option<u64>)],
    responses: &[Option<SyncResponse>],
    verdicts: &[Option<V>],
    denies: impl Fn(&SyncResponse) -> bool,
) -> Vec<(PeerId, Answer<V>)> {
    peers
        .iter()
        .zip(responses.iter().zip(verdicts))
        .map(|((peer, height), (response, verdict))| {
            let answer = match (response, verdict) {
                (_, Some(v)) => Answer::Judged(*v),
                (Some(r), None) if denies(r) => Answer::NotFound {
                    peer_height: *height,
                },
                _ => Answer::Unavailable,
            };
            (*peer, answer)
        })
        .collect()
}

async fn report_liars(handle: &LightHandle, liars: &[talos_light::Liar<PeerId>]) {
    for liar in liars {
        tracing::warn!(peer = %liar.peer, lie = liar.kind.code(), "full node lied to the light client");
        handle.net().report_lie(liar.peer, liar.kind).await;
    }
}
