//! Mining on request (the simulator's block schedule) and the per-block import event.

use super::*;

#[tokio::test]
async fn a_node_that_does_not_mine_mines_one_block_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::start(dir.path(), config());
    let pending = item(&easy_spec(), &key(3), 0);
    h.submit(pending.clone()).await.expect("admitted");

    let first: Hash256 = h
        .command(|reply| ChainCommand::MineBlock { reply })
        .await
        .expect("mined");
    let tip = h.store.tip().unwrap();
    assert_eq!((tip.id, tip.height), (first, 1));
    let block = h.store.block(&first).unwrap().expect("stored");
    assert_eq!(
        block.items,
        vec![pending],
        "the pending item went into the block"
    );

    let (id, source) = h
        .event(|e| match e {
            ChainEvent::BlockImported { id, source, .. } => Some((id, source)),
            _ => None,
        })
        .await;
    assert_eq!((id, source), (first, ImportSource::Mined));

    // Exactly one block per request: nothing more is mined afterwards.
    let second: Hash256 = h
        .command(|reply| ChainCommand::MineBlock { reply })
        .await
        .expect("mined");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let tip = h.store.tip().unwrap();
    assert_eq!((tip.id, tip.height), (second, 2));
    assert_eq!(
        h.store.block(&second).unwrap().unwrap().header.prev_hash,
        first
    );
    h.stop().await;
}

#[tokio::test]
async fn a_side_branch_block_is_reported_as_imported() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::start(dir.path(), config());
    let mut peer = ChainBuilder::new(&easy_spec());
    let genesis = peer.genesis();
    let a = peer.child(genesis, Vec::new());
    let b = peer.child(genesis, vec![item(&easy_spec(), &key(4), 0)]);
    for block in [&a, &b] {
        let outcome = h.import(block.clone(), BlockSource::Gossip(7)).await;
        assert!(
            matches!(outcome, ImportOutcome::Imported { .. }),
            "{outcome:?}"
        );
    }
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let id = h
            .event(|e| match e {
                ChainEvent::BlockImported {
                    id,
                    source: ImportSource::Gossip,
                    ..
                } => Some(id),
                _ => None,
            })
            .await;
        seen.push(id);
    }
    assert_eq!(
        seen,
        vec![a.id(), b.id()],
        "the losing side block is reported too"
    );
    h.stop().await;
}
