//! Single-item admission.

use super::*;

#[test]
fn validate_item_accepts_good_and_rejects_bad_items() {
    let spec = easy_spec();
    let k = key(9);
    let good = item(&spec, &k, 1);
    assert_eq!(validate_item(&good, &spec), Ok(()));

    let forged = SignedItem::new(good.item().clone(), *item(&spec, &k, 2).signature());
    assert_eq!(validate_item(&forged, &spec), Err(ItemError::BadSignature));

    let mut other = spec.clone();
    other.network_id ^= 1;
    assert_eq!(
        validate_item(&item(&other, &k, 3), &spec),
        Err(ItemError::BadSignature)
    );

    let mut small = spec.clone();
    small.limits.max_item_bytes = good.encoded_len() - 1;
    assert_eq!(
        validate_item(&good, &small),
        Err(ItemError::TooLarge {
            size: good.encoded_len(),
            max: good.encoded_len() - 1
        })
    );
    for (e, code, layer) in [
        (
            ItemError::TooLarge { size: 1, max: 0 },
            "item_too_large",
            ErrorLayer::Structural,
        ),
        (
            ItemError::WeakAuthorKey,
            "weak_author_key",
            ErrorLayer::Cryptographic,
        ),
        (
            ItemError::BadSignature,
            "bad_signature",
            ErrorLayer::Cryptographic,
        ),
    ] {
        assert_eq!(e.code(), code);
        assert_eq!(e.layer(), layer);
    }
}

#[test]
fn real_local_spec_blocks_validate() {
    // The real `local` target (~65k hashes): one block, to pin that nothing depends on the
    // easy test target.
    let spec = NetworkSpec::local();
    let ctx = ParentContext::for_genesis(&spec);
    let header = child_header(&spec, &ctx, &[]);
    let hasher = crate::header::NonceHasher::new(&header);
    let target = header.target.to_target().unwrap();
    let nonce = (0..u64::MAX)
        .find(|n| target.is_met_by(&hasher.hash_with_nonce(*n)))
        .unwrap();
    let block = Block {
        header: crate::header::BlockHeader { nonce, ..header },
        items: Vec::new(),
    };
    accept(&spec, &ctx, block);
}
