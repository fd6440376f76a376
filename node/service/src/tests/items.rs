//! Items from the API and from gossip, the orphan pool, shutdown.

use talos_chain::MempoolError;

use super::*;

#[tokio::test]
async fn submitted_items_are_published_once() {
    let dir = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let mut h = Harness::start(dir.path(), config());
    let it = item(&spec, &key(8), 0);

    assert_eq!(h.submit(it.clone()).await.ok(), Some(it.id()));
    let published = h
        .notice(|n| match n {
            ChainNotice::PublishItem(item) => Some(item),
            _ => None,
        })
        .await;
    assert_eq!(*published, it);
    match h.events.recv().await.unwrap() {
        ChainEvent::NewItem { id } => assert_eq!(id, it.id()),
        other => panic!("unexpected event {other:?}"),
    }
    let duplicate = h.submit(it.clone()).await.unwrap_err();
    assert!(matches!(
        duplicate,
        SubmitError::Refused(MempoolError::Duplicate)
    ));
    let bad = h
        .submit(badly_signed_item(&spec, &key(8), 1))
        .await
        .unwrap_err();
    assert!(matches!(
        bad,
        SubmitError::Refused(MempoolError::BadSignature)
    ));
    assert_eq!(bad.code(), "bad_signature");
    assert!(
        h.queued_notices().is_empty(),
        "refused items are not published"
    );
    assert_eq!(h.mempool_len().await, 1);
    assert_eq!(h.mempool_item(it.id()).await, Some(it));
    assert_eq!(h.metrics.mempool_items.get(), 1);
    h.stop().await;
}

#[tokio::test]
async fn gossip_items_get_a_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let mut h = Harness::start(dir.path(), config());
    let good = item(&spec, &key(9), 0);

    assert!(matches!(
        h.gossip(badly_signed_item(&spec, &key(9), 1)).await,
        Err(SubmitError::Refused(MempoolError::BadSignature))
    ));
    assert_eq!(h.gossip(good.clone()).await.ok(), Some(good.id()));
    assert!(matches!(
        h.gossip(good.clone()).await,
        Err(SubmitError::Refused(MempoolError::Duplicate))
    ));
    // Gossip items are forwarded by gossipsub itself, never republished.
    assert!(h.queued_notices().is_empty());
    assert_eq!(h.mempool_len().await, 1);

    // Once in the chain, the item is ignored.
    let mut peer = ChainBuilder::new(&spec);
    let block = peer.child(peer.genesis(), vec![good.clone()]);
    assert_eq!(
        h.import(block, BlockSource::Gossip(7)).await,
        ImportOutcome::Imported { new_tip: true }
    );
    assert_eq!(
        h.mempool_len().await,
        0,
        "the block took it out of the pool"
    );
    assert!(matches!(
        h.gossip(good).await,
        Err(SubmitError::Refused(MempoolError::AlreadyInChain))
    ));
    h.stop().await;
}

#[tokio::test]
async fn the_service_stops_when_its_queues_close() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::start(dir.path(), config().with_mine(true));
    let Harness {
        channels, service, ..
    } = h;
    drop(channels);
    tokio::time::timeout(WAIT, service.join())
        .await
        .expect("stops in time")
        .expect("clean stop");
}

#[test]
fn the_orphan_pool_is_bounded_and_expires() {
    use std::time::Instant;

    use crate::orphans::OrphanPool;

    let spec = easy_spec();
    let mut peer = ChainBuilder::new(&spec);
    let g = peer.genesis();
    let blocks: Vec<Block> = (0..3u64)
        .map(|n| peer.child(g, vec![item(&spec, &key(13), n)]))
        .collect();
    let children: Vec<_> = blocks
        .iter()
        .map(|b| peer.child(b.id(), Vec::new()).precheck(&spec).unwrap())
        .collect();
    let ttl = Duration::from_secs(60);
    let mut pool: OrphanPool<Peer> = OrphanPool::new(2, 1 << 20, ttl);
    let start = Instant::now();
    for child in children {
        assert!(pool.insert(child, BlockSource::Mined, start));
    }
    assert_eq!(pool.len(), 2, "the oldest was evicted");
    assert!(pool.take_children(&blocks[0].id()).is_empty());
    assert_eq!(pool.take_children(&blocks[1].id()).len(), 1);
    assert_eq!(pool.len(), 1);
    pool.expire(start + ttl);
    assert_eq!(pool.len(), 0, "expired");

    let mut tiny: OrphanPool<Peer> = OrphanPool::new(8, 10, ttl);
    let big = peer.child(g, Vec::new()).precheck(&spec).unwrap();
    assert!(
        !tiny.insert(big, BlockSource::Mined, start),
        "larger than the byte cap"
    );

    // One peer gets an eighth of the pool (at least 8); the others still get in.
    let mut shared: OrphanPool<Peer> = OrphanPool::new(64, 1 << 20, ttl);
    let (flooder, honest) = (1, 2);
    let mut kept = 0;
    for n in 0..20u64 {
        let orphan = peer.child(g, vec![item(&spec, &key(14), n)]);
        let orphan = peer.child(orphan.id(), Vec::new()).precheck(&spec).unwrap();
        kept += usize::from(shared.insert(orphan, BlockSource::Gossip(flooder), start));
    }
    assert_eq!(kept, shared.per_peer());
    let other = peer
        .child(blocks[2].id(), vec![item(&spec, &key(15), 0)])
        .precheck(&spec)
        .unwrap();
    assert!(shared.insert(other, BlockSource::Gossip(honest), start));
    assert_eq!(shared.len(), 9);
}
