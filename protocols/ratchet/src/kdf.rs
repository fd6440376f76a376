//! The key derivation functions: the X3DH KDF, the root KDF (`KDF_RK_HE`) and the chain KDF
//! (`KDF_CK`), with their labels.

use hkdf::Hkdf;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroize;

use crate::keys::{KEY_LEN, Secret32};

/// HKDF `info` of the X3DH KDF.
pub const X3DH_INFO: &[u8] = b"Talos X3DH v1";
/// HKDF `info` of the root KDF.
pub const ROOT_INFO: &[u8] = b"Talos DR root v1";
/// HMAC input deriving a message key from a chain key.
pub const MESSAGE_KEY_CONSTANT: u8 = 0x01;
/// HMAC input deriving the next chain key.
pub const CHAIN_KEY_CONSTANT: u8 = 0x02;
/// HMAC input deriving the header nonce of a message (a Talos addition, see the crate docs).
pub const HEADER_NONCE_CONSTANT: u8 = 0x03;
/// Length of an AES-GCM nonce.
pub const NONCE_LEN: usize = 12;

/// The X3DH outputs: the shared secret and the two initial header keys.
pub(crate) struct X3dhKeys {
    /// `SK`, the Double Ratchet's first root key.
    pub(crate) sk: Secret32,
    /// The initiator's first sending header key (`shared_hka`).
    pub(crate) hka: Secret32,
    /// The responder's first next-header key (`shared_nhkb`).
    pub(crate) nhkb: Secret32,
}

/// Splits 96 bytes of HKDF output into three secrets, wiping the buffer.
fn split3(okm: &mut [u8; 3 * KEY_LEN]) -> (Secret32, Secret32, Secret32) {
    let take = |i: usize| {
        let mut part = [0u8; KEY_LEN];
        part.copy_from_slice(&okm[i * KEY_LEN..(i + 1) * KEY_LEN]);
        Secret32::take(&mut part)
    };
    let out = (take(0), take(1), take(2));
    okm.zeroize();
    out
}

/// `KDF(KM)` of X3DH: HKDF-SHA256 over `F ‖ KM` with `F` = 32 bytes 0xFF, a zero salt of hash
/// length and info [`X3DH_INFO`], 96 bytes out: `SK ‖ HKA ‖ NHKB`.
pub(crate) fn x3dh(dh_outputs: &[&Secret32]) -> X3dhKeys {
    let mut ikm = [0u8; KEY_LEN * 5];
    ikm[..KEY_LEN].fill(0xFF);
    for (i, dh) in dh_outputs.iter().enumerate() {
        ikm[KEY_LEN * (i + 1)..KEY_LEN * (i + 2)].copy_from_slice(dh.bytes());
    }
    let used = KEY_LEN * (dh_outputs.len() + 1);
    let hk = Hkdf::<Sha256>::new(Some(&[0u8; KEY_LEN]), &ikm[..used]);
    ikm.zeroize();
    let mut okm = [0u8; 3 * KEY_LEN];
    // 96 bytes is far below HKDF's 255 * 32 limit; the error arm is unreachable.
    let _ = hk.expand(X3DH_INFO, &mut okm);
    let (sk, hka, nhkb) = split3(&mut okm);
    X3dhKeys { sk, hka, nhkb }
}

/// `KDF_RK_HE(rk, dh_out)`: HKDF-SHA256 with salt `rk`, input `dh_out`, info [`ROOT_INFO`];
/// returns (new root key, chain key, next header key).
pub(crate) fn root(rk: &Secret32, dh_out: &Secret32) -> (Secret32, Secret32, Secret32) {
    let hk = Hkdf::<Sha256>::new(Some(rk.bytes()), dh_out.bytes());
    let mut okm = [0u8; 3 * KEY_LEN];
    let _ = hk.expand(ROOT_INFO, &mut okm);
    split3(&mut okm)
}

/// One step of a KDF chain. The HMAC key schedule is done once and reused for each output.
pub(crate) struct ChainStep {
    /// The next chain key.
    pub(crate) next: Secret32,
    /// This step's message key.
    pub(crate) message_key: Secret32,
}

fn hmac_output(mac: &Hmac<Sha256>, constant: u8) -> [u8; KEY_LEN] {
    let mut mac = mac.clone();
    mac.update(&[constant]);
    mac.finalize().into_bytes().into()
}

fn keyed(ck: &Secret32) -> Hmac<Sha256> {
    // HMAC zero-pads a key shorter than the hash block, so keying with `ck ‖ 0^32` through the
    // infallible fixed-size constructor is HMAC keyed with `ck`.
    let mut block = [0u8; 2 * KEY_LEN];
    block[..KEY_LEN].copy_from_slice(ck.bytes());
    let mac = <Hmac<Sha256> as KeyInit>::new(&block.into());
    block.zeroize();
    mac
}

/// `KDF_CK(ck)`: message key `HMAC(ck, 0x01)`, next chain key `HMAC(ck, 0x02)`.
pub(crate) fn chain(ck: &Secret32) -> ChainStep {
    let mac = keyed(ck);
    let mut mk = hmac_output(&mac, MESSAGE_KEY_CONSTANT);
    let mut next = hmac_output(&mac, CHAIN_KEY_CONSTANT);
    ChainStep {
        next: Secret32::take(&mut next),
        message_key: Secret32::take(&mut mk),
    }
}

/// [`chain`] plus the sender's header nonce, the first 12 bytes of `HMAC(ck, 0x03)`.
pub(crate) fn chain_with_nonce(ck: &Secret32) -> (ChainStep, [u8; NONCE_LEN]) {
    let mac = keyed(ck);
    let mut mk = hmac_output(&mac, MESSAGE_KEY_CONSTANT);
    let mut next = hmac_output(&mac, CHAIN_KEY_CONSTANT);
    let full = hmac_output(&mac, HEADER_NONCE_CONSTANT);
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&full[..NONCE_LEN]);
    let step = ChainStep {
        next: Secret32::take(&mut next),
        message_key: Secret32::take(&mut mk),
    };
    (step, nonce)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_outputs_are_distinct_and_deterministic() {
        let ck = Secret32([5; KEY_LEN]);
        let a = chain(&ck);
        let (b, nonce) = chain_with_nonce(&ck);
        assert_eq!(a.next, b.next);
        assert_eq!(a.message_key, b.message_key);
        assert_ne!(a.next, a.message_key);
        assert_ne!(&a.message_key.bytes()[..NONCE_LEN], &nonce[..]);
    }

    #[test]
    fn padded_key_is_plain_hmac() {
        let ck = Secret32([0x42; KEY_LEN]);
        let mut reference = <Hmac<Sha256> as Mac>::new_from_slice(ck.bytes()).expect("any length");
        reference.update(&[MESSAGE_KEY_CONSTANT]);
        let expected: [u8; KEY_LEN] = reference.finalize().into_bytes().into();
        assert_eq!(chain(&ck).message_key.bytes(), &expected);
    }

    #[test]
    fn x3dh_depends_on_every_input() {
        let dh = [
            Secret32([1; KEY_LEN]),
            Secret32([2; KEY_LEN]),
            Secret32([3; KEY_LEN]),
        ];
        let three = x3dh(&[&dh[0], &dh[1], &dh[2]]);
        let four = x3dh(&[&dh[0], &dh[1], &dh[2], &dh[0]]);
        assert_ne!(three.sk, four.sk);
        assert_ne!(three.sk, three.hka);
        assert_ne!(three.hka, three.nhkb);
        let (rk, ck, nhk) = root(&three.sk, &dh[0]);
        assert!(rk != ck && ck != nhk && rk != three.sk);
    }
}
