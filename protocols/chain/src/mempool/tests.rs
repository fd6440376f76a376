use ed25519_dalek::SigningKey;

use super::*;
use crate::merkle;
use crate::validate::MemoryItemIndex;
use crate::validate::testutil::{self, key};

/// Encoded size of `sized(.., label_len)`.
const BASE_ITEM_BYTES: usize = 149;

fn spec() -> NetworkSpec {
    NetworkSpec::local()
}

fn limits(max_items: usize, max_bytes: usize, per_author: usize) -> Limits {
    Limits {
        max_block_bytes: 1 << 20,
        max_item_bytes: 1024,
        max_items_per_block: 1000,
        mempool_max_items: max_items,
        mempool_max_bytes: max_bytes,
        mempool_max_per_author: per_author,
    }
}

/// An anchor by `key` with `nonce` on the local network.
fn item(key: &SigningKey, nonce: u64) -> SignedItem {
    testutil::item(&spec(), key, nonce)
}

/// An anchor whose label has `label_len` bytes: `BASE_ITEM_BYTES + label_len` encoded.
fn sized(key: &SigningKey, nonce: u64, label_len: usize) -> SignedItem {
    testutil::labelled_item(&spec(), key, nonce, &"x".repeat(label_len))
}

fn block_of(items: Vec<SignedItem>) -> Block {
    block_at(1, items)
}

fn block_at(height: u64, items: Vec<SignedItem>) -> Block {
    let mut header = spec().genesis().header;
    header.height = height;
    header.item_count = items.len() as u32;
    header.merkle_root = merkle::root(&items.iter().map(SignedItem::id).collect::<Vec<_>>());
    Block { header, items }
}

/// Checks every internal index against the entries and the bounds.
fn check_invariants(pool: &Mempool) {
    let l = pool.limits;
    assert!(pool.len() <= l.mempool_max_items);
    assert!(pool.bytes() <= l.mempool_max_bytes);
    assert_eq!(pool.by_seq.len(), pool.entries.len());
    assert_eq!(pool.by_nonce.len(), pool.entries.len());
    let bytes: usize = pool.entries.values().map(|e| e.item.encoded_len()).sum();
    assert_eq!(bytes, pool.bytes);
    let mut per_author: HashMap<AuthorKey, (usize, usize)> = HashMap::new();
    for (id, e) in &pool.entries {
        assert_eq!(pool.by_seq.get(&e.seq), Some(id));
        let a = e.item.author().to_bytes();
        assert_eq!(pool.by_nonce.get(&(a, e.item.nonce())), Some(id));
        let u = per_author.entry(a).or_default();
        u.0 += 1;
        u.1 += e.item.encoded_len();
    }
    assert_eq!(per_author.len(), pool.authors.len());
    for (a, usage) in per_author {
        assert_eq!(pool.authors.usage(&a), usage);
        assert!(usage.0 <= l.mempool_max_per_author);
    }
}

#[test]
fn insert_then_query() {
    let mut pool = Mempool::new(spec().limits);
    let chain = MemoryItemIndex::new();
    let it = item(&key(1), 0);
    let inserted = pool.insert(it.clone(), &chain, &spec()).unwrap();
    assert_eq!(inserted.id, it.id());
    assert!(inserted.evicted.is_empty());
    assert!(pool.contains(&it.id()));
    assert_eq!(pool.get(&it.id()), Some(&it));
    assert_eq!((pool.len(), pool.bytes()), (1, it.encoded_len()));
    assert!(pool.nonce_pending(it.author(), 0));
    assert_eq!(pool.items_of(it.author()), 1);
    assert_eq!(pool.remove(&it.id()), Some(it.clone()));
    assert!(pool.is_empty());
    assert_eq!(pool.bytes(), 0);
    check_invariants(&pool);
}

#[test]
fn rejections_have_stable_codes() {
    let spec = spec();
    let mut pool = Mempool::new(limits(100, 1 << 20, 2));
    let mut chain = MemoryItemIndex::new();
    let k = key(1);
    let first = item(&k, 0);
    pool.insert(first.clone(), &chain, &spec).unwrap();

    let err = pool
        .insert(first.clone(), &chain, &spec)
        .unwrap_err()
        .into_refusal();
    assert_eq!((err, err.code()), (MempoolError::Duplicate, "duplicate"));

    let same_nonce = sized(&k, 0, 3);
    let err = pool
        .insert(same_nonce, &chain, &spec)
        .unwrap_err()
        .into_refusal();
    assert_eq!(
        (err, err.code()),
        (MempoolError::NonceReused, "nonce_reused")
    );

    let mined = item(&key(2), 0);
    chain.add_item(&mined);
    let err = pool
        .insert(mined, &chain, &spec)
        .unwrap_err()
        .into_refusal();
    assert_eq!(
        (err, err.code()),
        (MempoolError::AlreadyInChain, "already_in_chain")
    );
    // Another item with an (author, nonce) the chain used is refused too.
    let err = pool
        .insert(sized(&key(2), 0, 9), &chain, &spec)
        .unwrap_err()
        .into_refusal();
    assert_eq!(err, MempoolError::AlreadyInChain);

    let mut other_network = spec.clone();
    other_network.network_id ^= 1;
    let wrong_network = testutil::item(&other_network, &k, 1);
    let err = pool
        .insert(wrong_network, &chain, &spec)
        .unwrap_err()
        .into_refusal();
    assert_eq!(
        (err, err.code()),
        (MempoolError::BadSignature, "bad_signature")
    );
    assert!(err.is_invalid_item());

    pool.insert(item(&k, 1), &chain, &spec).unwrap();
    let err = pool
        .insert(item(&k, 2), &chain, &spec)
        .unwrap_err()
        .into_refusal();
    assert_eq!(
        (err, err.code()),
        (MempoolError::AuthorCap { max: 2 }, "author_cap")
    );
    assert!(!err.is_invalid_item());
    assert_eq!(MempoolError::Full.code(), "full");
    check_invariants(&pool);
}

#[test]
fn size_is_checked_before_the_signature() {
    let spec = spec();
    let mut pool = Mempool::new(limits(100, 1 << 20, 10));
    let k = key(1);
    let big = sized(&k, 0, 1024);
    // A forged signature: only the size can reject it, since that is checked first.
    let forged = SignedItem::new(big.item().clone(), *item(&k, 9).signature());
    let err = pool
        .insert(forged, &MemoryItemIndex::new(), &spec)
        .unwrap_err()
        .into_refusal();
    assert_eq!(
        err,
        MempoolError::TooLarge {
            size: BASE_ITEM_BYTES + 1024,
            max: 1024
        }
    );
    assert_eq!(err.code(), "too_large");
    assert!(pool.is_empty());
}

#[test]
fn newcomers_evict_the_heaviest_author_oldest_first() {
    let spec = spec();
    let chain = MemoryItemIndex::new();
    let mut pool = Mempool::new(limits(10, 1 << 20, 10));
    let flooder = key(1);
    let flood: Vec<_> = (0..10).map(|n| item(&flooder, n)).collect();
    for it in &flood {
        pool.insert(it.clone(), &chain, &spec).unwrap();
    }
    // Each newcomer pushes out the flooder's oldest item.
    for (i, seed) in (2..7).enumerate() {
        let got = pool.insert(item(&key(seed), 0), &chain, &spec).unwrap();
        assert_eq!(got.evicted, vec![flood[i].id()]);
        check_invariants(&pool);
    }
    assert_eq!(pool.items_of(&flooder.verifying_key()), 5);
    // The flooder, still the heaviest, only rotates its own items.
    let got = pool.insert(item(&flooder, 10), &chain, &spec).unwrap();
    assert_eq!(got.evicted, vec![flood[5].id()]);
    assert_eq!(pool.len(), 10);
    check_invariants(&pool);
}

#[test]
fn an_even_pool_keeps_its_items() {
    let spec = spec();
    let chain = MemoryItemIndex::new();
    let mut pool = Mempool::new(limits(4, 1 << 20, 4));
    for seed in 1..=4 {
        pool.insert(item(&key(seed), 0), &chain, &spec).unwrap();
    }
    let before: Vec<_> = pool.iter().map(SignedItem::id).collect();
    let err = pool
        .insert(item(&key(9), 0), &chain, &spec)
        .unwrap_err()
        .into_refusal();
    assert_eq!(err, MempoolError::Full);
    let after: Vec<_> = pool.iter().map(SignedItem::id).collect();
    assert_eq!(before, after, "a refused item costs nothing");
    // An author already in the pool replaces its own oldest item.
    let got = pool.insert(item(&key(1), 1), &chain, &spec).unwrap();
    assert_eq!(got.evicted, vec![before[0]]);
    check_invariants(&pool);
}

#[test]
fn byte_bound_counts_large_items() {
    let spec = spec();
    let chain = MemoryItemIndex::new();
    let big = BASE_ITEM_BYTES + 851; // 1000 bytes
    let mut pool = Mempool::new(limits(100, 3000, 100));
    // One author with three large items fills the byte bound with few items.
    let whale = key(1);
    let whale_items: Vec<_> = (0..3)
        .map(|n| sized(&whale, n, big - BASE_ITEM_BYTES))
        .collect();
    for it in &whale_items {
        pool.insert(it.clone(), &chain, &spec).unwrap();
    }
    assert_eq!(pool.bytes(), 3000);
    // A small item from someone else evicts one large item: the whale uses the largest share.
    let got = pool.insert(item(&key(2), 0), &chain, &spec).unwrap();
    assert_eq!(got.evicted, vec![whale_items[0].id()]);
    assert!(pool.bytes() <= 3000);
    check_invariants(&pool);
}

#[test]
fn bounds_hold_under_random_load() {
    use rand::{Rng, SeedableRng};
    let chain = MemoryItemIndex::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    // One flooder sending 40% of the items, 59 others sharing the rest.
    let authors: Vec<_> = (1..=60).map(|n| key(n).verifying_key()).collect();
    let mut pool = Mempool::new(limits(40, 12_000, 8));
    let mut nonces = [0u64; 60];
    // Unsigned items and no signature check: this test is about the bounds, and debug-build
    // Ed25519 would make it slow.
    let unsigned = crate::Signature::from_bytes(&[0; 64]);
    let mut outcomes: HashMap<&'static str, usize> = HashMap::new();
    for _ in 0..3_000 {
        let a = if rng.gen_bool(0.4) {
            0
        } else {
            rng.gen_range(1..authors.len())
        };
        let label = rng.gen_range(0..800);
        let content = crate::item::UnsignedItem {
            author: authors[a],
            nonce: nonces[a],
            timestamp_ms: 0,
            kind: crate::item::ItemKind::Anchor(crate::item::Anchor {
                content_hash: Hash256::ZERO,
                label: "x".repeat(label),
            }),
        };
        let it = SignedItem::new(content, unsigned);
        nonces[a] += 1;
        let len_before = pool.len();
        match pool
            .insert_with(it.clone(), &chain, |_| Ok(()))
            .map_err(AdmitError::into_refusal)
        {
            Ok(got) => {
                assert!(pool.contains(&it.id()));
                assert!(got.evicted.iter().all(|id| !pool.contains(id)));
                assert_eq!(pool.len(), len_before + 1 - got.evicted.len());
                let outcome = if got.evicted.is_empty() {
                    "fit"
                } else {
                    "evicted"
                };
                *outcomes.entry(outcome).or_default() += 1;
            }
            Err(e) => {
                assert!(matches!(
                    e,
                    MempoolError::AuthorCap { .. } | MempoolError::Full
                ));
                assert_eq!(pool.len(), len_before);
                *outcomes.entry(e.code()).or_default() += 1;
            }
        }
        if rng.gen_bool(0.05) {
            let picked = pool.select(5_000, 10);
            pool.remove_included(&block_of(picked));
        }
        check_invariants(&pool);
    }
    for outcome in ["fit", "evicted", "author_cap", "full"] {
        assert!(outcomes.get(outcome) > Some(&10), "{outcomes:?}");
    }
}

#[test]
fn select_is_fifo_within_bounds() {
    let spec = spec();
    let chain = MemoryItemIndex::new();
    let mut pool = Mempool::new(limits(100, 1 << 20, 100));
    let k = key(1);
    let small = |n| sized(&k, n, 51); // 200 bytes
    let items = vec![
        small(0),
        sized(&k, 1, 651), // 800 bytes
        small(2),
        small(3),
        small(4),
    ];
    for it in &items {
        pool.insert(it.clone(), &chain, &spec).unwrap();
    }
    let ids = |v: Vec<SignedItem>| v.iter().map(SignedItem::id).collect::<Vec<_>>();
    let all = ids(items.clone());
    assert_eq!(ids(pool.select(usize::MAX, usize::MAX)), all);
    assert_eq!(ids(pool.select(usize::MAX, 2)), all[..2].to_vec());
    // The 800-byte item does not fit after the first; smaller later ones still do.
    assert_eq!(ids(pool.select(600, 10)), vec![all[0], all[2], all[3]]);
    assert!(pool.select(100, 10).is_empty());
    assert!(pool.select(1000, 0).is_empty());
}

#[test]
fn remove_included_drops_ids_and_used_nonces() {
    let spec = spec();
    let chain = MemoryItemIndex::new();
    let mut pool = Mempool::new(limits(100, 1 << 20, 100));
    let (a, b) = (key(1), key(2));
    let a0 = item(&a, 0);
    let a1 = item(&a, 1);
    let b0 = item(&b, 0);
    for it in [&a0, &a1, &b0] {
        pool.insert(it.clone(), &chain, &spec).unwrap();
    }
    // The block has a0 itself and another item by b with nonce 0.
    let b0_other = sized(&b, 0, 7);
    let removed = pool.remove_included(&block_of(vec![a0.clone(), b0_other]));
    assert_eq!(removed, vec![a0.id(), b0.id()]);
    assert_eq!(pool.iter().cloned().collect::<Vec<_>>(), vec![a1]);
    check_invariants(&pool);
}

#[test]
fn disconnected_items_come_back_first_in_chain_order() {
    let spec = spec();
    let mut chain = MemoryItemIndex::new();
    let mut pool = Mempool::new(limits(100, 1 << 20, 100));
    let (a, b, c) = (key(1), key(2), key(3));
    let waiting = item(&c, 0);
    pool.insert(waiting.clone(), &chain, &spec).unwrap();

    let old1 = block_at(5, vec![item(&a, 0), item(&a, 1)]);
    let old2 = block_at(6, vec![item(&b, 0), item(&a, 2)]);
    // The new chain re-included a1 and used b's nonce 0 for another item.
    let mut new_chain_block = block_of(vec![old1.items[1].clone(), sized(&b, 0, 5)]);
    new_chain_block.header.nonce = 1;
    chain.add_block(&new_chain_block);
    // A forged signature comes back too: disconnected items are not verified again.
    let forged = SignedItem::new(item(&c, 5).item().clone(), *waiting.signature());
    let old3 = block_at(7, vec![forged.clone()]);

    // Old tip first, as fork choice lists them; they come back in chain order.
    let back = pool
        .return_disconnected(&[old3, old2.clone(), old1.clone()], &chain)
        .unwrap();
    let expected = vec![old1.items[0].id(), old2.items[1].id(), forged.id()];
    assert_eq!(back.readded, expected);
    assert_eq!(back.skipped, 2);
    assert!(back.evicted.is_empty());
    let order: Vec<_> = pool.iter().map(SignedItem::id).collect();
    assert_eq!(order, [expected, vec![waiting.id()]].concat());
    // Returning again changes nothing.
    let again = pool.return_disconnected(&[old1], &chain).unwrap();
    assert!(again.readded.is_empty());
    assert_eq!(again.skipped, 2);
    check_invariants(&pool);
}

#[test]
fn disconnected_items_respect_the_bounds() {
    let spec = spec();
    let chain = MemoryItemIndex::new();
    let mut pool = Mempool::new(limits(3, 1 << 20, 3));
    let k = key(1);
    let pending: Vec<_> = (10..13).map(|n| item(&k, n)).collect();
    for it in &pending {
        pool.insert(it.clone(), &chain, &spec).unwrap();
    }
    let old = block_of((0..2).map(|n| item(&k, n)).collect());
    let back = pool.return_disconnected(&[old], &chain).unwrap();
    // The author is at its cap: nothing comes back.
    assert!(back.readded.is_empty());
    assert_eq!(back.skipped, 2);

    let other = block_of(vec![item(&key(2), 0)]);
    let back = pool
        .return_disconnected(std::slice::from_ref(&other), &chain)
        .unwrap();
    assert_eq!(back.readded, vec![other.items[0].id()]);
    assert_eq!(back.evicted, vec![pending[0].id()]);
    assert_eq!(pool.len(), 3);
    check_invariants(&pool);
}
