//! Verdicts as the API's [`LightAnswerJson`].

use std::fmt::Display;

use talos_api::BackendError;
use talos_api::light::{LiarJson, LightAnswerJson};
use talos_chain::NetworkSpec;
use talos_chain::chain_state::{StateFinding, StateRecord};
use talos_light::HeaderSource;
use talos_light::crosscheck::{CrossCheck, LieKind};
use talos_light::saved::{SavedProof, SavedQuestion, verify_saved};
use talos_light::{InclusionVerdict, SavedVerdict, StateVerdict};
use talos_storage::StorageError;

/// The fields an inclusion verdict fills.
pub(crate) fn inclusion_fields(verdict: &InclusionVerdict, out: &mut LightAnswerJson) {
    out.outcome = verdict.code().to_owned();
    match *verdict {
        InclusionVerdict::Verified {
            block,
            height,
            confirmations,
        }
        | InclusionVerdict::Pending {
            block,
            height,
            confirmations,
            ..
        } => {
            out.block = Some(block.to_hex());
            out.height = Some(height);
            out.confirmations = Some(confirmations);
        }
        InclusionVerdict::OffBestChain { block, height }
        | InclusionVerdict::AheadOfTip { block, height } => {
            out.block = Some(block.to_hex());
            out.height = Some(height);
        }
        InclusionVerdict::Invalid(reason) => out.reason = Some(reason.code().to_owned()),
    }
}

/// The fields a state verdict fills; `revoked` says which question it answers.
pub(crate) fn state_fields(verdict: &StateVerdict, revoked: bool, out: &mut LightAnswerJson) {
    match *verdict {
        StateVerdict::Proven {
            block,
            height,
            finding,
        } => {
            out.block = Some(block.to_hex());
            out.height = Some(height);
            out.outcome = match (finding, revoked) {
                (StateFinding::Present(_), true) => "revoked",
                (StateFinding::Absent, true) => "not_revoked",
                (StateFinding::Present(_), false) => "current",
                (StateFinding::Absent, false) => "unknown",
            }
            .to_owned();
            if let StateFinding::Present(record) = finding {
                out.record_item = Some(record.item_id().to_hex());
                if let StateRecord::Did(d) = record {
                    out.document_hash = Some(d.document_hash.to_hex());
                }
            }
        }
        StateVerdict::OffBestChain { block } => {
            out.outcome = "off_best_chain".to_owned();
            out.block = Some(block.to_hex());
        }
        StateVerdict::Invalid(reason) => {
            out.outcome = "invalid".to_owned();
            out.reason = Some(reason.code().to_owned());
        }
    }
}

/// Checks a saved proof against `source` (blocking reads) and gives its verdict.
pub(crate) fn judge_saved<S: HeaderSource<Error = StorageError>>(
    source: &S,
    proof: &SavedProof,
    spec: &NetworkSpec,
    min_confirmations: u64,
) -> Result<LightAnswerJson, BackendError> {
    let verdict = verify_saved(
        source,
        proof,
        spec.network_id,
        &spec.limits,
        min_confirmations,
    )?
    .map_err(|e| BackendError::BadQuestion(e.to_string()))?;
    let revoked = matches!(
        proof,
        SavedProof::State {
            question: SavedQuestion::Revoked { .. },
            ..
        }
    );
    let mut out = LightAnswerJson::default();
    match verdict {
        SavedVerdict::Inclusion(v) => inclusion_fields(&v, &mut out),
        SavedVerdict::State(v) => state_fields(&v, revoked, &mut out),
    }
    Ok(out)
}

/// The cross-check's tallies, settling node and liars.
pub(crate) fn crosscheck_fields<P: Display + Copy, V>(
    check: &CrossCheck<P, V>,
    asked: &[P],
    out: &mut LightAnswerJson,
) {
    out.asked = asked.iter().map(ToString::to_string).collect();
    out.not_found = check.not_found;
    out.unavailable = check.unavailable;
    out.proven_by = check.verdict.as_ref().map(|(p, _)| p.to_string());
    out.liars = check
        .liars
        .iter()
        .map(|l| LiarJson {
            peer_id: l.peer.to_string(),
            lie: l.kind.code().to_owned(),
            reason: match l.kind {
                LieKind::InvalidProof(reason) => Some(reason.to_owned()),
                LieKind::DeniedProvenItem => None,
            },
        })
        .collect();
    if check.verdict.is_none() {
        out.outcome = if check.not_found > 0 {
            "not_found"
        } else {
            "no_answer"
        }
        .to_owned();
        if check.not_found == 0 {
            out.reason = Some(format!(
                "none of the {} full nodes asked answered",
                asked.len()
            ));
        }
    }
}
