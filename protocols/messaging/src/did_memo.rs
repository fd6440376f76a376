//! A small per-thread memo of `did:key` ⇄ Ed25519 key: the same few agents' DIDs appear in
//! every envelope, and each spelling costs a base58 conversion and, parsing, a point
//! decompression. The conversions are pure, so a remembered answer is the answer; only
//! successful parses are remembered, at most [`MEMO_ENTRIES`] per thread, oldest out first.

use std::cell::RefCell;
use std::collections::VecDeque;

use ed25519_dalek::VerifyingKey;
use talos_identity::DidError;

/// Entries remembered per thread.
const MEMO_ENTRIES: usize = 32;

thread_local! {
    static MEMO: RefCell<VecDeque<(String, VerifyingKey)>> =
        const { RefCell::new(VecDeque::new()) };
}

fn remember(did: &str, key: VerifyingKey) {
    MEMO.with_borrow_mut(|memo| {
        if memo.len() >= MEMO_ENTRIES {
            memo.pop_front();
        }
        memo.push_back((did.to_owned(), key));
    });
}

/// The `did:key` of `key`.
pub(crate) fn did_of(key: &VerifyingKey) -> String {
    let known = MEMO.with_borrow(|memo| {
        memo.iter()
            .find(|(_, k)| k.as_bytes() == key.as_bytes())
            .map(|(did, _)| did.clone())
    });
    known.unwrap_or_else(|| {
        let did = talos_identity::did_key(key);
        remember(&did, *key);
        did
    })
}

/// The key a `did:key` names ([`talos_identity::parse_did_key`]).
pub(crate) fn key_of(did: &str) -> Result<VerifyingKey, DidError> {
    if let Some(key) = MEMO.with_borrow(|memo| memo.iter().find(|(d, _)| d == did).map(|(_, k)| *k))
    {
        return Ok(key);
    }
    let key = talos_identity::parse_did_key(did)?;
    remember(did, key);
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_answers_are_the_answers() {
        for seed in 0u8..40 {
            let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]).verifying_key();
            let did = did_of(&key);
            assert_eq!(did, talos_identity::did_key(&key));
            assert_eq!(key_of(&did).unwrap(), key);
            assert_eq!(key_of(&did).unwrap(), key, "from the memo");
        }
        assert!(key_of("did:key:z6Mknot-a-key").is_err());
        assert!(
            key_of("did:key:z6Mknot-a-key").is_err(),
            "failures are not remembered"
        );
    }
}
