//! Answers from a test chain, the byte budget, and bounded error messages.

use std::convert::Infallible;

use talos_chain::item::{Anchor, ItemKind};
use talos_chain::{Signature, SignedItem, UnsignedItem};

use super::*;
use crate::codec::{decode_response, encode_response};
use crate::testkit::TestChain;

#[test]
fn answers_status_headers_blocks_and_proofs_from_the_chain() {
    let mut chain = TestChain::new();
    let blocks = chain.extend(5, 0);
    let limits = chain.spec.limits;
    let status = answer(&chain, &limits, &SyncRequest::Status(chain.status())).unwrap();
    assert_eq!(status, SyncResponse::Status(chain.status()));
    let headers = answer(
        &chain,
        &limits,
        &SyncRequest::HeadersByRange {
            start_height: 2,
            count: 10,
        },
    )
    .unwrap();
    let want: Vec<_> = blocks[1..].iter().map(|b| b.header).collect();
    assert_eq!(headers, SyncResponse::Headers(want));
    let range = answer(
        &chain,
        &limits,
        &SyncRequest::BlocksByRange {
            start_height: 4,
            count: 10,
        },
    )
    .unwrap();
    assert_eq!(
        range,
        SyncResponse::Blocks(blocks[3..].to_vec()),
        "ends at the tip"
    );
    let by_hash = answer(
        &chain,
        &limits,
        &SyncRequest::BlocksByHash(vec![Hash256([9; 32]), blocks[0].id()]),
    )
    .unwrap();
    assert_eq!(
        by_hash,
        SyncResponse::Blocks(vec![blocks[0].clone()]),
        "unknown ids skipped"
    );
    let proof = answer(&chain, &limits, &SyncRequest::Proof(Hash256([1; 32]))).unwrap();
    assert_eq!(proof, SyncResponse::Proof(None));
}

/// Serves the same large block at every height and for every id.
struct LargeBlocks {
    block: Block,
}

impl ServeChain for LargeBlocks {
    type Error = Infallible;

    fn status(&self) -> Result<ChainStatus, Infallible> {
        unreachable!("not asked")
    }

    fn best_headers(&self, _start: u64, _max: usize) -> Result<Vec<BlockHeader>, Infallible> {
        Ok(Vec::new())
    }

    fn best_block_at(&self, _height: u64) -> Result<Option<Block>, Infallible> {
        Ok(Some(self.block.clone()))
    }

    fn block(&self, _id: &Hash256) -> Result<Option<Block>, Infallible> {
        Ok(Some(self.block.clone()))
    }

    fn item_proof(&self, _id: &Hash256) -> Result<Option<ItemProof>, Infallible> {
        Ok(None)
    }

    fn state_proof(
        &self,
        _block: &Hash256,
        _key: &Hash256,
    ) -> Result<Option<talos_chain::chain_state::StateAnswer>, Infallible> {
        Ok(None)
    }
}

/// A block of about `limits.max_block_bytes` (items are not signed: serving checks nothing).
fn large_block(limits: &Limits) -> Block {
    let chain = TestChain::new();
    let genesis = chain.spec.genesis();
    let key = talos_chain::testkit::key(3);
    let label_len = limits.max_item_bytes - 512;
    let items: Vec<SignedItem> = (0..(limits.max_block_bytes / limits.max_item_bytes) as u64)
        .map(|nonce| {
            let unsigned = UnsignedItem {
                author: key.verifying_key(),
                nonce,
                timestamp_ms: 0,
                kind: ItemKind::Anchor(Anchor {
                    content_hash: Hash256::ZERO,
                    label: "x".repeat(label_len),
                }),
            };
            SignedItem::new(unsigned, Signature::from_bytes(&[0; 64]))
        })
        .collect();
    let mut header = genesis.header;
    header.height = 1;
    header.item_count = u32::try_from(items.len()).unwrap();
    Block { header, items }
}

#[test]
fn block_answers_stay_within_the_response_cap() {
    let limits = TestChain::new().spec.limits;
    let server = LargeBlocks {
        block: large_block(&limits),
    };
    let cap = max_response_bytes(&limits);
    for request in [
        SyncRequest::BlocksByRange {
            start_height: 1,
            count: MAX_BLOCKS_PER_RESPONSE,
        },
        SyncRequest::BlocksByHash(vec![Hash256::ZERO; MAX_BLOCKS_PER_RESPONSE as usize]),
    ] {
        let response = answer(&server, &limits, &request).unwrap();
        let SyncResponse::Blocks(blocks) = &response else {
            panic!("blocks expected");
        };
        assert!(blocks.len() > 1, "many large blocks fit");
        assert!(
            blocks.len() < MAX_BLOCKS_PER_RESPONSE as usize,
            "the budget cut it"
        );
        let bytes = encode_response(&response);
        assert!(bytes.len() <= cap, "{} > {cap}", bytes.len());
        assert_eq!(decode_response(&bytes, &limits), Ok(response.clone()));
    }
}

#[test]
fn error_messages_are_bounded_at_a_char_boundary() {
    let long = error_response(ErrorCode::BadRequest, "x".repeat(10_000));
    assert!(matches!(long, SyncResponse::Error { message, .. } if message.len() == 256));
    let multibyte = error_response(ErrorCode::BadRequest, "é".repeat(200));
    assert!(
        matches!(multibyte, SyncResponse::Error { message, .. } if message.len() <= 256 && message.chars().all(|c| c == 'é'))
    );
    assert!(matches!(
        busy(),
        SyncResponse::Error {
            code: ErrorCode::Busy,
            ..
        }
    ));
    assert!(matches!(
        internal_error(),
        SyncResponse::Error {
            code: ErrorCode::Internal,
            ..
        }
    ));
}

mod quotas {
    use std::time::{Duration, Instant};

    use super::super::{Quota, QuotaExceeded, QuotaKind, Quotas, RateLimiter};
    use crate::messages::SyncRequest;

    fn blocks(count: u32) -> SyncRequest {
        SyncRequest::BlocksByRange {
            start_height: 1,
            count,
        }
    }

    fn limiter() -> RateLimiter<u8> {
        let quota = |capacity| Quota {
            capacity,
            period: Duration::from_secs(10),
        };
        RateLimiter::new(Quotas {
            status: quota(2),
            headers: quota(1_000),
            blocks: quota(100),
            proofs: quota(5),
        })
    }

    #[test]
    fn a_peer_pays_for_what_it_asks_and_refills_over_time() {
        let mut limits = limiter();
        let now = Instant::now();
        for _ in 0..3 {
            limits.check(1, &blocks(32), now).unwrap();
        }
        assert_eq!(
            limits.check(1, &blocks(32), now),
            Err(QuotaExceeded {
                kind: QuotaKind::Blocks,
                cost: 32,
                available: 4
            })
        );
        assert!(
            limits.check(1, &blocks(4), now).is_ok(),
            "a refusal costs nothing"
        );
        // 100 blocks per 10 s: 3.2 s later, 32 more.
        assert!(
            limits
                .check(1, &blocks(32), now + Duration::from_millis(3_100))
                .is_err()
        );
        assert!(
            limits
                .check(1, &blocks(32), now + Duration::from_millis(3_300))
                .is_ok()
        );
        // Another peer and another kind have buckets of their own.
        assert!(limits.check(2, &blocks(100), now).is_ok());
        assert!(
            limits
                .check(1, &SyncRequest::Proof(talos_chain::Hash256::ZERO), now)
                .is_ok()
        );
        assert!(
            limits.check(3, &blocks(101), now).is_err(),
            "over the capacity: never"
        );
    }

    #[test]
    fn item_and_state_proofs_share_the_proof_bucket() {
        let mut limits = limiter();
        let now = Instant::now();
        let zero = talos_chain::Hash256::ZERO;
        let state = SyncRequest::StateProof {
            block: zero,
            key: zero,
        };
        assert_eq!(QuotaKind::of(&state), (QuotaKind::Proof, 1));
        for _ in 0..3 {
            limits.check(1, &state, now).unwrap();
        }
        limits.check(1, &SyncRequest::Proof(zero), now).unwrap();
        limits.check(1, &SyncRequest::Proof(zero), now).unwrap();
        assert_eq!(
            limits.check(1, &state, now),
            Err(QuotaExceeded {
                kind: QuotaKind::Proof,
                cost: 1,
                available: 0
            })
        );
    }

    #[test]
    fn status_requests_are_limited_too_and_buckets_go_with_their_peer() {
        let mut limits = limiter();
        let now = Instant::now();
        let status = SyncRequest::Status(crate::testkit::TestChain::new().status());
        assert!(limits.check(1, &status, now).is_ok());
        assert!(limits.check(1, &status, now).is_ok());
        assert!(limits.check(1, &status, now).is_err());
        assert_eq!(limits.tracked(), 1);
        limits.forget(&1);
        assert_eq!(limits.tracked(), 0);
    }
}
