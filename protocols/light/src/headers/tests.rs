use talos_chain::testkit::{ChainBuilder, easy_spec, item, key};
use talos_chain::{BlockHeader, Hash256};

use super::*;
use crate::memory::MemoryHeaders as Memory;

const FAR_FUTURE: u64 = u64::MAX / 2;

/// `n` headers on `parent`, the first carrying an item so forks differ from the main chain.
fn fork(builder: &mut ChainBuilder, parent: Hash256, n: usize, salt: u64) -> Vec<BlockHeader> {
    let spec = builder.spec().clone();
    let first = builder.child(parent, vec![item(&spec, &key(9), salt)]);
    let mut out = vec![first.header];
    out.extend(headers(builder, first.id(), n - 1));
    out
}

fn headers(builder: &mut ChainBuilder, parent: Hash256, n: usize) -> Vec<BlockHeader> {
    builder
        .extend(parent, n)
        .into_iter()
        .map(|b| b.header)
        .collect()
}

#[test]
fn headers_extend_then_a_heavier_fork_reorgs() {
    let spec = easy_spec();
    let mut store = Memory::new(&spec);
    let mut builder = ChainBuilder::new(&spec);
    let genesis = builder.genesis();
    let main = headers(&mut builder, genesis, 5);
    let plan = plan_headers(&store, &main, &spec, FAR_FUTURE, 100, Lighter::Refuse).unwrap();
    assert_eq!((plan.store.len(), plan.reorg_depth()), (5, 0));
    store.apply(&plan);
    // A fork from height 2 that ends one block heavier.
    let fork = fork(&mut builder, main[1].id(), 4, 1);
    let plan = plan_headers(&store, &fork, &spec, FAR_FUTURE, 100, Lighter::Refuse).unwrap();
    assert_eq!(
        plan.disconnect,
        vec![main[4].id(), main[3].id(), main[2].id()]
    );
    assert_eq!(
        plan.connect,
        fork.iter().map(BlockHeader::id).collect::<Vec<_>>()
    );
    store.apply(&plan);
    assert_eq!(store.tip().unwrap().id(), fork[3].id());
}

#[test]
fn a_chain_with_no_more_work_is_not_stored() {
    let spec = easy_spec();
    let mut store = Memory::new(&spec);
    let mut builder = ChainBuilder::new(&spec);
    let genesis = builder.genesis();
    let main = headers(&mut builder, genesis, 4);
    store.apply(&plan_headers(&store, &main, &spec, FAR_FUTURE, 100, Lighter::Refuse).unwrap());
    let fork = fork(&mut builder, main[1].id(), 2, 2);
    assert_eq!(
        plan_headers(&store, &fork, &spec, FAR_FUTURE, 100, Lighter::Refuse),
        Err(HeaderRejection::NotHeavier)
    );
    assert_eq!(
        plan_headers(&store, &main, &spec, FAR_FUTURE, 100, Lighter::Refuse),
        Err(HeaderRejection::NothingNew)
    );
}

#[test]
fn a_header_breaking_a_rule_or_a_checkpoint_is_the_peers_fault() {
    let mut spec = easy_spec();
    let store = Memory::new(&spec);
    let mut builder = ChainBuilder::new(&spec);
    let genesis = builder.genesis();
    let main = headers(&mut builder, genesis, 3);

    let mut wrong = main.clone();
    wrong[1].target = talos_chain::CompactTarget(0x1f00_ffff);
    let err = plan_headers(&store, &wrong, &spec, FAR_FUTURE, 100, Lighter::Refuse).unwrap_err();
    assert!(
        matches!(err, HeaderRejection::Rule { index: 1, .. }),
        "{err:?}"
    );
    assert!(err.is_peer_fault());

    let unlinked = &main[1..];
    let err = plan_headers(&store, unlinked, &spec, FAR_FUTURE, 100, Lighter::Refuse).unwrap_err();
    assert_eq!(err, HeaderRejection::UnknownParent(main[0].id()));

    spec.checkpoints.push(talos_chain::spec::Checkpoint {
        height: 2,
        hash: Hash256::sha256(b"the real block 2"),
    });
    let err = plan_headers(&store, &main, &spec, FAR_FUTURE, 100, Lighter::Refuse).unwrap_err();
    assert_eq!(err.code(), "checkpoint_mismatch");
    assert!(err.is_peer_fault());
}

#[test]
fn a_header_from_the_future_is_not_the_peers_fault() {
    let spec = easy_spec();
    let store = Memory::new(&spec);
    let mut builder = ChainBuilder::new(&spec);
    let genesis = builder.genesis();
    let main = headers(&mut builder, genesis, 2);
    let err = plan_headers(
        &store,
        &main,
        &spec,
        spec.genesis_timestamp_ms - 60_000,
        100,
        Lighter::Refuse,
    )
    .unwrap_err();
    assert_eq!(err.code(), "timestamp_too_far_in_future");
    assert!(!err.is_peer_fault());
}

#[test]
fn a_reorg_deeper_than_the_limit_is_refused() {
    let spec = easy_spec();
    let mut store = Memory::new(&spec);
    let mut builder = ChainBuilder::new(&spec);
    let genesis = builder.genesis();
    let main = headers(&mut builder, genesis, 6);
    store.apply(&plan_headers(&store, &main, &spec, FAR_FUTURE, 100, Lighter::Refuse).unwrap());
    let fork = fork(&mut builder, genesis, 8, 3);
    let err = plan_headers(&store, &fork, &spec, FAR_FUTURE, 3, Lighter::Refuse).unwrap_err();
    assert_eq!(err, HeaderRejection::TooDeep { depth: 6, max: 3 });
}

#[test]
fn a_heavier_fork_handed_over_in_chunks_is_kept_then_adopted() {
    let spec = easy_spec();
    let mut store = Memory::new(&spec);
    let mut builder = ChainBuilder::new(&spec);
    let genesis = builder.genesis();
    let main = headers(&mut builder, genesis, 6);
    store.apply(&plan_headers(&store, &main, &spec, FAR_FUTURE, 100, Lighter::Refuse).unwrap());
    let fork = fork(&mut builder, main[0].id(), 8, 4);
    // Its first chunk alone is lighter than the best chain: kept off it, the tip unchanged.
    let first = plan_headers(&store, &fork[..4], &spec, FAR_FUTURE, 100, Lighter::Keep).unwrap();
    assert_eq!((first.store.len(), first.connect.len()), (4, 0));
    assert_eq!(first.new_tip.id(), main[5].id());
    store.apply(&first);
    assert_eq!(store.tip().unwrap().id(), main[5].id());
    // The rest makes it heavier: the kept headers join the best chain with the new ones.
    let rest = plan_headers(&store, &fork[4..], &spec, FAR_FUTURE, 100, Lighter::Keep).unwrap();
    assert_eq!(rest.disconnect.len(), 5);
    assert_eq!(
        rest.connect,
        fork.iter().map(BlockHeader::id).collect::<Vec<_>>()
    );
    store.apply(&rest);
    assert_eq!(store.tip().unwrap().id(), fork[7].id());
}
