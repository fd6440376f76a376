//! Sync answers: the lies and junk a hostile peer sends, and the plain answers it gives to
//! look like a node.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use talos_chain::header::HEADER_VERSION;
use talos_chain::{BlockHeader, ChainStatus, Hash256, NetworkSpec, Work};
use talos_sync::{ErrorCode, SyncRequest, SyncResponse, encode_request, encode_response};

/// Height a junk-sync adversary claims its tip is above genesis.
pub(crate) const CLAIMED_HEIGHT: u64 = 1_000_000;

/// Bytes of an over-long protobuf varint: no decoder accepts a frame starting with them.
const BAD_VARINT: [u8; 11] = [0xff; 11];

/// Random bytes appended to a junk frame (so no two look alike).
const JUNK_TAIL: usize = 48;

/// What the adversary answers and claims over sync.
#[derive(Debug)]
pub(crate) struct SyncLies {
    network_id: u32,
    genesis: Hash256,
    rng: StdRng,
}

impl SyncLies {
    /// Lies about `spec`'s chain, deterministic in `seed`.
    pub(crate) fn new(spec: &NetworkSpec, seed: u64) -> Self {
        Self {
            network_id: spec.network_id,
            genesis: spec.genesis_hash(),
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// A status on the right network and genesis at genesis height with no work: what a fresh
    /// node says (the flood and silent adversaries use it to look harmless).
    pub(crate) fn genesis_status(&self) -> ChainStatus {
        ChainStatus {
            network_id: self.network_id,
            genesis_hash: self.genesis,
            tip_hash: self.genesis,
            tip_height: 0,
            cumulative_work: Work::ZERO,
        }
    }

    /// A status claiming a far heavier chain, with a fresh tip each time (a node does not
    /// follow a tip it found hollow again, but a new one it does).
    pub(crate) fn heavy_status(&mut self) -> ChainStatus {
        ChainStatus {
            network_id: self.network_id,
            genesis_hash: self.genesis,
            tip_hash: Hash256(self.rng.r#gen()),
            tip_height: CLAIMED_HEIGHT + self.rng.gen_range(0..1_000),
            cumulative_work: Work::from_be_slice(&[0x7f; 24]).unwrap_or(Work::ZERO),
        }
    }

    /// An encoded status request carrying `status`.
    pub(crate) fn status_request(status: ChainStatus) -> Vec<u8> {
        encode_request(&SyncRequest::Status(status))
    }

    /// An encoded plain answer: `status` to a status request, `busy` to anything else.
    pub(crate) fn plain_answer(request: &[u8], status: ChainStatus) -> Vec<u8> {
        let response = match talos_sync::decode_request(request) {
            Ok(SyncRequest::Status(_)) => SyncResponse::Status(status),
            _ => SyncResponse::Error {
                code: ErrorCode::Busy,
                message: "busy".to_owned(),
            },
        };
        encode_response(&response)
    }

    /// The hostile answer to `request`, and whether it is junk (a status request gets the
    /// heavy lie, which is not counted as junk).
    pub(crate) fn hostile_answer(&mut self, request: &[u8]) -> (Vec<u8>, bool) {
        match talos_sync::decode_request(request) {
            Ok(SyncRequest::Status(_)) => {
                let status = self.heavy_status();
                (encode_response(&SyncResponse::Status(status)), false)
            }
            Ok(SyncRequest::HeadersByRange { start_height, .. }) if self.rng.gen_bool(0.5) => {
                (self.wrong_headers(start_height), true)
            }
            _ => (self.undecodable(), true),
        }
    }

    /// The answer of a peer that claims the most work and backs none of it: its heavy claim
    /// to a status request, no headers to a header request, `busy` to anything else; and
    /// whether the answer is one of those hollow ones (not the claim itself).
    pub(crate) fn hollow_answer(&mut self, request: &[u8]) -> (Vec<u8>, bool) {
        match talos_sync::decode_request(request) {
            Ok(SyncRequest::Status(_)) => {
                let status = self.heavy_status();
                (encode_response(&SyncResponse::Status(status)), false)
            }
            Ok(SyncRequest::HeadersByRange { .. }) => {
                (encode_response(&SyncResponse::Headers(Vec::new())), true)
            }
            _ => (Self::plain_answer(request, self.genesis_status()), true),
        }
    }

    /// The `n`th request of a flood, in a cycle of six: four status requests (the kind with
    /// the smallest quota), a header range and a block range from genesis (the costliest
    /// answers a node gives).
    pub(crate) fn flood_request(&self, n: u64) -> Vec<u8> {
        let request = match n % 6 {
            0..=3 => SyncRequest::Status(self.genesis_status()),
            4 => SyncRequest::HeadersByRange {
                start_height: 1,
                count: talos_sync::limits::MAX_HEADERS_PER_RESPONSE,
            },
            _ => SyncRequest::BlocksByRange {
                start_height: 1,
                count: talos_sync::limits::MAX_BLOCKS_PER_RESPONSE,
            },
        };
        encode_request(&request)
    }

    /// A frame no sync decoder accepts.
    pub(crate) fn undecodable(&mut self) -> Vec<u8> {
        let mut bytes = BAD_VARINT.to_vec();
        bytes.extend((0..JUNK_TAIL).map(|_| self.rng.r#gen::<u8>()));
        bytes
    }

    /// A well-formed headers answer whose one header is not at the height asked for.
    fn wrong_headers(&mut self, start_height: u64) -> Vec<u8> {
        let header = BlockHeader {
            version: HEADER_VERSION,
            network_id: self.network_id,
            height: start_height.wrapping_add(7),
            prev_hash: Hash256(self.rng.r#gen()),
            merkle_root: Hash256(self.rng.r#gen()),
            state_root: Hash256::ZERO,
            item_count: 0,
            timestamp_ms: self.rng.r#gen::<u32>().into(),
            target: talos_chain::CompactTarget(0x207f_ffff),
            nonce: self.rng.r#gen(),
        };
        encode_response(&SyncResponse::Headers(vec![header]))
    }
}

#[cfg(test)]
mod tests {
    use talos_sync::decode_response;

    use super::*;

    fn request(r: SyncRequest) -> Vec<u8> {
        encode_request(&r)
    }

    #[test]
    fn junk_never_decodes_and_lies_do() {
        let spec = NetworkSpec::local();
        let mut lies = SyncLies::new(&spec, 5);
        for _ in 0..20 {
            assert!(decode_response(&lies.undecodable(), &spec.limits).is_err());
        }
        let heavy = lies.heavy_status();
        assert!(heavy.same_network(&lies.genesis_status()));
        assert!(heavy.cumulative_work > Work::ZERO);
        assert_ne!(heavy.tip_hash, lies.heavy_status().tip_hash);

        let status = request(SyncRequest::Status(lies.genesis_status()));
        let (answer, junk) = lies.hostile_answer(&status);
        assert!(!junk);
        assert!(matches!(
            decode_response(&answer, &spec.limits),
            Ok(SyncResponse::Status(s)) if s.tip_height >= CLAIMED_HEIGHT
        ));
        let headers = request(SyncRequest::HeadersByRange {
            start_height: 1,
            count: 512,
        });
        for _ in 0..20 {
            let (answer, junk) = lies.hostile_answer(&headers);
            assert!(junk);
            if let Ok(decoded) = decode_response(&answer, &spec.limits) {
                let SyncResponse::Headers(h) = decoded else {
                    panic!("headers expected");
                };
                assert_ne!(h[0].height, 1);
            }
        }
        let (_, junk) = lies.hostile_answer(b"\xff\xff");
        assert!(junk);
    }

    #[test]
    fn hollow_answers_back_no_claim_and_floods_cycle_the_costly_requests() {
        let spec = NetworkSpec::local();
        let mut lies = SyncLies::new(&spec, 2);
        let headers = request(SyncRequest::HeadersByRange {
            start_height: 1,
            count: 64,
        });
        let (answer, hollow) = lies.hollow_answer(&headers);
        assert!(hollow);
        assert_eq!(
            decode_response(&answer, &spec.limits).unwrap(),
            SyncResponse::Headers(Vec::new())
        );
        let status = request(SyncRequest::Status(lies.genesis_status()));
        let (answer, hollow) = lies.hollow_answer(&status);
        assert!(!hollow);
        assert!(matches!(
            decode_response(&answer, &spec.limits),
            Ok(SyncResponse::Status(s)) if s.tip_height >= CLAIMED_HEIGHT
        ));
        let kinds: Vec<&str> = (0..6)
            .map(|n| {
                talos_sync::decode_request(&lies.flood_request(n))
                    .unwrap()
                    .kind_name()
            })
            .collect();
        assert_eq!(kinds.iter().filter(|k| **k == "status").count(), 4);
        assert!(kinds.contains(&"headers_by_range") && kinds.contains(&"blocks_by_range"));
    }

    #[test]
    fn plain_answers_look_like_a_fresh_node() {
        let spec = NetworkSpec::local();
        let lies = SyncLies::new(&spec, 1);
        let genesis = lies.genesis_status();
        let answer = SyncLies::plain_answer(&SyncLies::status_request(genesis), genesis);
        assert_eq!(
            decode_response(&answer, &spec.limits).unwrap(),
            SyncResponse::Status(genesis)
        );
        let busy = SyncLies::plain_answer(b"junk", genesis);
        assert!(matches!(
            decode_response(&busy, &spec.limits),
            Ok(SyncResponse::Error {
                code: ErrorCode::Busy,
                ..
            })
        ));
    }
}
