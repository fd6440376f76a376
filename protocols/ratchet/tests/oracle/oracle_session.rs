//! The oracle's session type, the RNG it takes, and its wire encoding of a message.

use double_ratchet::{DoubleRatchet, Header};
use rand::RngCore;
use rand::rngs::StdRng;

use crate::provider::{OraclePublic, SignalProvider};

/// Associated data of the oracle sessions (ours binds the X3DH identities instead).
pub(crate) const ORACLE_AD: &[u8] = b"talos-ratchet oracle test AD";
/// Length of the oracle's plain header on the wire: `DH ‖ N ‖ PN`.
pub(crate) const ORACLE_HEADER_LEN: usize = 32 + 4 + 4;

/// The oracle's session type.
pub(crate) type Oracle = DoubleRatchet<SignalProvider>;

/// A seeded `StdRng` behind the `rand_core` 0.4 traits the oracle takes.
pub(crate) struct Rng04(pub(crate) StdRng);

impl rand_core_04::RngCore for Rng04 {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core_04::Error> {
        self.0.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core_04::CryptoRng for Rng04 {}

/// The oracle's wire encoding of a message: `DH ‖ N ‖ PN ‖ ciphertext`.
pub(crate) fn oracle_encode(header: &Header<OraclePublic>, ciphertext: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ORACLE_HEADER_LEN + ciphertext.len());
    out.extend_from_slice(&header.dh.0);
    out.extend_from_slice(&header.n.to_be_bytes());
    out.extend_from_slice(&header.pn.to_be_bytes());
    out.extend_from_slice(ciphertext);
    out
}

/// Decodes [`oracle_encode`]'s output and decrypts it with `oracle`.
pub(crate) fn oracle_decrypt(
    oracle: &mut Oracle,
    bytes: &[u8],
) -> Result<Vec<u8>, double_ratchet::DecryptError> {
    if bytes.len() < ORACLE_HEADER_LEN {
        return Err(double_ratchet::DecryptError::DecryptFailure);
    }
    let word =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let mut dh = [0u8; 32];
    dh.copy_from_slice(&bytes[..32]);
    let header = Header {
        dh: OraclePublic(dh),
        n: word(32),
        pn: word(36),
    };
    oracle.ratchet_decrypt(&header, &bytes[ORACLE_HEADER_LEN..], ORACLE_AD)
}
