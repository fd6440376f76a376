//! Unit tests of the small pieces: config, fork probes, header shape, codes.

use std::collections::HashSet;
use std::time::Duration;

use crate::limits::{MAX_BLOCKS_PER_RESPONSE, MAX_HEADERS_PER_RESPONSE};
use crate::machine::headers::{HeaderShapeError, check_header_chain, probe_anchor};
use crate::machine::{DisconnectReason, Misbehaviour, SyncConfig};
use crate::testkit::TestChain;

#[test]
fn config_builder_and_normalization() {
    let config = SyncConfig::default()
        .with_blocks_per_request(1_000)
        .with_headers_per_request(0)
        .with_max_in_flight_per_peer(0)
        .with_max_in_flight_total(0)
        .with_request_timeout(Duration::from_secs(3))
        .with_max_retries(2)
        .with_max_orphans(0)
        .with_max_orphan_fetches(0)
        .with_window(1)
        .with_max_headers_ahead(0)
        .with_import_timeout(Duration::from_secs(9))
        .with_status_interval(Duration::from_secs(7))
        .with_max_queued_actions(0)
        .normalized();
    assert_eq!(config.blocks_per_request, MAX_BLOCKS_PER_RESPONSE);
    assert_eq!(config.headers_per_request, 1);
    assert_eq!(config.max_in_flight_per_peer, 1);
    assert_eq!(config.max_in_flight_total, 1);
    assert_eq!(config.request_timeout, Duration::from_secs(3));
    assert_eq!(config.max_retries, 2);
    assert_eq!(config.max_orphans, 1);
    assert_eq!(config.max_orphan_fetches, 1);
    assert_eq!(config.window, u64::from(MAX_BLOCKS_PER_RESPONSE));
    assert_eq!(config.max_headers_ahead, config.window);
    assert_eq!(config.import_timeout, Duration::from_secs(9));
    assert_eq!(config.status_interval, Duration::from_secs(7));
    assert_eq!(config.max_queued_actions, 1);

    let default = SyncConfig::default();
    assert_eq!(
        default.clone().normalized(),
        default,
        "defaults are in range"
    );
    assert!(default.blocks_per_request <= MAX_BLOCKS_PER_RESPONSE);
    assert!(default.headers_per_request <= MAX_HEADERS_PER_RESPONSE);
}

#[test]
fn fork_probes_step_back_exponentially_to_genesis() {
    let anchors: Vec<u64> = (0..10).map(|k| probe_anchor(100, 500, k)).collect();
    assert_eq!(anchors, vec![100, 99, 98, 96, 92, 84, 68, 36, 0, 0]);
    // A peer below our height is probed below its own tip.
    assert_eq!(probe_anchor(100, 40, 0), 39);
    assert_eq!(probe_anchor(0, 10, 0), 0);
    assert_eq!(probe_anchor(5, 10, u32::MAX), 0, "no overflow");
}

#[test]
fn header_chain_shape_checks() {
    let mut chain = TestChain::new();
    chain.extend(5, 0);
    let headers: Vec<_> = (1..=5)
        .map(|h| chain.block_at(h).expect("block").header)
        .collect();
    let genesis = chain.block_at(0).expect("genesis").id();
    let net = chain.spec.network_id;
    assert_eq!(check_header_chain(&headers, 1, Some(genesis), net), Ok(()));
    assert_eq!(check_header_chain(&headers, 1, None, net), Ok(()));
    assert_eq!(check_header_chain(&[], 1, None, net), Ok(()));
    assert_eq!(
        check_header_chain(&headers, 2, None, net),
        Err(HeaderShapeError::WrongHeight)
    );
    assert_eq!(
        check_header_chain(&headers, 1, Some(headers[2].id()), net),
        Err(HeaderShapeError::Unlinked)
    );
    let mut gapped = headers.clone();
    gapped.remove(2);
    assert_eq!(
        check_header_chain(&gapped, 1, None, net),
        Err(HeaderShapeError::WrongHeight)
    );
    let mut relinked = headers.clone();
    relinked[3].prev_hash = relinked[0].id();
    assert!(check_header_chain(&relinked, 1, None, net).is_err());
    assert_eq!(
        check_header_chain(&headers, 1, None, net ^ 1),
        Err(HeaderShapeError::WrongNetwork)
    );
    let mut unmined = headers.clone();
    while unmined[4].meets_own_target() {
        unmined[4].nonce += 1;
    }
    assert_eq!(
        check_header_chain(&unmined, 1, None, net),
        Err(HeaderShapeError::NoWork)
    );
}

#[test]
fn misbehaviour_codes_are_stable_and_unique() {
    let all = [
        Misbehaviour::EmptyResponse,
        Misbehaviour::WrongHeaders,
        Misbehaviour::WrongBlocks,
        Misbehaviour::MismatchedBody,
        Misbehaviour::UnrequestedData,
        Misbehaviour::TooManyItems,
        Misbehaviour::Timeout,
        Misbehaviour::Stalled,
        Misbehaviour::UnbackedClaim,
        Misbehaviour::InvalidBlock,
        Misbehaviour::WrongNetwork,
        Misbehaviour::MalformedMessage,
    ];
    let codes: HashSet<&str> = all.iter().map(Misbehaviour::code).collect();
    assert_eq!(codes.len(), all.len());
    assert_eq!(Misbehaviour::WrongHeaders.to_string(), "wrong_headers");
    assert_eq!(DisconnectReason::WrongNetwork.code(), "wrong_network");
}

#[test]
fn status_requests_are_answered_with_ours_or_refused_for_another_network() {
    use crate::machine::{Action, SyncMachine};
    use crate::messages::{ErrorCode, SyncResponse};

    let mut local = TestChain::new();
    local.extend(3, 0);
    let now = std::time::Instant::now();
    let mut m = SyncMachine::new(SyncConfig::default(), local.status());
    m.on_peer_connected(1u8, now);
    m.on_peer_connected(2u8, now);
    let mut ahead = local.clone();
    ahead.extend(2, 0);
    let answer = m.on_status_request(1u8, ahead.status(), &local, now);
    assert_eq!(answer, SyncResponse::Status(local.status()));
    assert_eq!(m.peer_status(&1), Some(ahead.status()));

    let mut other = ahead.status();
    other.genesis_hash = talos_chain::Hash256([7; 32]);
    let answer = m.on_status_request(2u8, other, &local, now);
    assert!(matches!(
        answer,
        SyncResponse::Error {
            code: ErrorCode::WrongNetwork,
            ..
        }
    ));
    assert_eq!(m.peer_status(&2), None);
    let actions: Vec<_> = std::iter::from_fn(|| m.poll_action()).collect();
    assert!(actions.contains(&Action::Disconnect {
        peer: 2,
        reason: DisconnectReason::WrongNetwork
    }));
}
