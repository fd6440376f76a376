//! Cryptographic layer rejections.

use super::*;

#[test]
fn rejects_insufficient_work() {
    let spec = easy_spec();
    let mut b = good_block(&spec);
    b.header = unmine(b.header);
    let id = b.id();
    assert_eq!(
        check_err(&spec, b),
        BlockError::InsufficientWork { id, target: EASY }
    );
}

#[test]
fn proof_of_work_comes_before_merkle_and_signatures() {
    let spec = easy_spec();
    let mut b = good_block(&spec);
    b.header.merkle_root = Hash256::ZERO;
    b.items[0] = SignedItem::new(b.items[0].item().clone(), *b.items[1].signature());
    b.header = unmine(b.header);
    assert_eq!(check_err(&spec, b).code(), "insufficient_work");
}

#[test]
fn rejects_duplicate_item() {
    let spec = easy_spec();
    let one = item(&spec, &key(3), 1);
    let b = child(
        &spec,
        &ParentContext::for_genesis(&spec),
        vec![one.clone(), item(&spec, &key(3), 2), one.clone()],
    );
    assert_eq!(
        check_err(&spec, b),
        BlockError::DuplicateItem {
            index: 2,
            id: one.id()
        }
    );
}

#[test]
fn rejects_merkle_root_mismatch() {
    let spec = easy_spec();
    let mut b = good_block(&spec);
    let computed = b.header.merkle_root;
    b.header.merkle_root = Hash256::sha256(b"wrong");
    let b = remine(b);
    assert_eq!(
        check_err(&spec, b),
        BlockError::MerkleRootMismatch {
            header: Hash256::sha256(b"wrong"),
            computed
        }
    );
}

#[test]
fn rejects_reordered_items_by_merkle_root() {
    let spec = easy_spec();
    let mut b = good_block(&spec);
    b.items.swap(0, 2);
    assert_eq!(check_err(&spec, b).code(), "merkle_root_mismatch");
}

#[test]
fn rejects_weak_author_key() {
    let spec = easy_spec();
    let weak = SignedItem::new(
        UnsignedItem {
            author: weak_key(),
            nonce: 0,
            timestamp_ms: 0,
            kind: ItemKind::Anchor(Anchor {
                content_hash: Hash256::ZERO,
                label: String::new(),
            }),
        },
        Signature::from_bytes(&[0; 64]),
    );
    let mut all = items(&spec, 2);
    all.push(weak.clone());
    let b = child(&spec, &ParentContext::for_genesis(&spec), all);
    assert_eq!(check_err(&spec, b), BlockError::WeakAuthorKey { index: 2 });
    assert_eq!(validate_item(&weak, &spec), Err(ItemError::WeakAuthorKey));
}

#[test]
fn rejects_bad_signature_and_names_the_item() {
    let spec = easy_spec();
    let mut all = items(&spec, 5);
    all[3] = SignedItem::new(all[3].item().clone(), *all[1].signature());
    let b = child(&spec, &ParentContext::for_genesis(&spec), all);
    assert_eq!(
        check_err(&spec, b),
        BlockError::BadSignature { index: Some(3) }
    );
}

#[test]
fn rejects_items_signed_for_another_network() {
    let spec = easy_spec();
    let mut other = spec.clone();
    other.network_id ^= 0xff;
    let k = key(4);
    let b = child(
        &spec,
        &ParentContext::for_genesis(&spec),
        vec![item(&spec, &k, 0), item(&other, &k, 1)],
    );
    assert_eq!(
        check_err(&spec, b),
        BlockError::BadSignature { index: Some(1) }
    );
}
