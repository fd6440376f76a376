//! The policy table, checked case by case.

use talos_chain::{CompactTarget, Hash256};
use talos_gossip::TopicKind;

use super::*;

fn rule(e: BlockError) -> Rejection {
    Rejection::Rule(e)
}

#[test]
fn block_outcomes_map_to_gossip_results() {
    assert_eq!(
        block_acceptance(&ImportOutcome::Imported { new_tip: false }),
        Acceptance::Accept
    );
    for quiet in [
        ImportOutcome::AlreadyKnown,
        ImportOutcome::Orphan {
            parent: Hash256::ZERO,
        },
        ImportOutcome::Dropped,
    ] {
        assert_eq!(block_acceptance(&quiet), Acceptance::Ignore, "{quiet:?}");
    }
    let invalid = [
        rule(BlockError::BadSignature { index: None }),
        rule(BlockError::InsufficientWork {
            id: Hash256::ZERO,
            target: CompactTarget(1),
        }),
        rule(BlockError::WrongNetwork {
            expected: 1,
            found: 2,
        }),
        rule(BlockError::MerkleRootMismatch {
            header: Hash256::ZERO,
            computed: Hash256::ZERO,
        }),
        Rejection::InvalidAncestor,
    ];
    for rejection in invalid {
        assert_eq!(
            block_acceptance(&ImportOutcome::Invalid(rejection.clone())),
            Acceptance::Reject,
            "{rejection:?}"
        );
        assert_eq!(block_penalty(&rejection), Penalty::Score(INVALID_BLOCK));
    }
    let ahead = rule(BlockError::TimestampTooFarInFuture {
        timestamp_ms: 2,
        max_ms: 1,
    });
    assert_eq!(
        block_acceptance(&ImportOutcome::Invalid(ahead.clone())),
        Acceptance::Ignore,
        "clocks differ: no fault"
    );
    assert_eq!(block_penalty(&ahead), Penalty::None);
}

#[test]
fn only_invalid_items_cost_the_sender() {
    for invalid in [
        MempoolError::BadSignature,
        MempoolError::WeakAuthorKey,
        MempoolError::TooLarge { size: 2, max: 1 },
    ] {
        assert_eq!(
            item_acceptance(&Err(SubmitError::Refused(invalid))),
            Acceptance::Reject
        );
        assert_eq!(
            Offence::InvalidItem(invalid).penalty(),
            Penalty::Score(INVALID_GOSSIP)
        );
    }
    for redundant in [
        MempoolError::Duplicate,
        MempoolError::NonceReused,
        MempoolError::AlreadyInChain,
        MempoolError::AuthorCap { max: 1 },
        MempoolError::Full,
    ] {
        assert_eq!(
            item_acceptance(&Err(SubmitError::Refused(redundant))),
            Acceptance::Ignore
        );
        assert_eq!(item_penalty(&redundant), Penalty::None);
    }
    assert_eq!(item_acceptance(&Ok(Hash256::ZERO)), Acceptance::Accept);
}

#[test]
fn undecodable_bytes_always_cost_the_sender() {
    let limits = talos_chain::NetworkSpec::local().limits;
    let gossip = talos_gossip::decode_payload(TopicKind::Blocks, &[0xff; 8], &limits).unwrap_err();
    assert_eq!(
        Offence::UndecodableGossip(gossip.clone()).penalty(),
        Penalty::Score(INVALID_GOSSIP)
    );
    assert_eq!(Offence::UndecodableGossip(gossip).code(), "invalid_gossip");
    let request = talos_sync::decode_request(&[0xff; 8]).unwrap_err();
    assert_eq!(
        Offence::BadSyncRequest(request.clone()).penalty(),
        Penalty::Score(BAD_REQUEST)
    );
    assert_eq!(
        Offence::BadSyncResponse(request).penalty(),
        Penalty::Score(BAD_FRAME)
    );
    assert_eq!(
        Offence::OversizedFrame(FrameTooLarge { len: 9, max: 1 }).code(),
        "bad_frame"
    );
    let record =
        SyncDecodeError::BadStateRecord(talos_chain::chain_state::RecordDecodeError { len: 3 });
    assert_eq!(
        Offence::BadSyncResponse(record).penalty(),
        Penalty::Score(BAD_FRAME)
    );
}

#[test]
fn sync_penalties_grow_with_what_a_peer_can_prove() {
    let points = |m| match sync_penalty(m) {
        Penalty::Score(p) => p,
        other => panic!("{m:?}: {other:?}"),
    };
    assert!(points(Misbehaviour::Timeout) < points(Misbehaviour::EmptyResponse));
    assert!(points(Misbehaviour::EmptyResponse) < points(Misbehaviour::UnrequestedData));
    assert!(points(Misbehaviour::UnrequestedData) < points(Misbehaviour::WrongHeaders));
    assert!(points(Misbehaviour::WrongBlocks) < points(Misbehaviour::InvalidBlock));
    assert_eq!(
        points(Misbehaviour::InvalidHeader),
        points(Misbehaviour::InvalidBlock),
        "a header the light client's store refuses is as bad as an invalid block"
    );
    assert_eq!(
        Offence::Sync(Misbehaviour::InvalidHeader).code(),
        "invalid_header"
    );
    assert_eq!(sync_penalty(Misbehaviour::WrongNetwork), Penalty::Ban);
    assert_eq!(Offence::WrongNetwork.penalty(), Penalty::Ban);
    assert_eq!(Offence::GossipScore.penalty(), Penalty::Ban);
    assert_eq!(Offence::Sync(Misbehaviour::Timeout).code(), "timeout");
}
