//! Multikey spellings: multibase base58btc (`z…`) of a multicodec-tagged public key, as DID
//! documents' `publicKeyMultibase` holds them (`z6Mk…` for `ed25519-pub`, `z6LS…` for
//! `x25519-pub`), and multibase base58btc signatures.

use talos_chain::{Signature, VerifyingKey};

use crate::ED25519_PUB_MULTICODEC;
use crate::agreement::X25519PublicKey;

/// Multicodec prefix of an X25519 public key (`x25519-pub`, 0xec as an unsigned varint).
pub const X25519_PUB_MULTICODEC: [u8; 2] = [0xec, 0x01];

/// Multibase code of base58btc.
const BASE58BTC: char = 'z';

/// Longest multibase string decoded: a 64-byte signature is at most 88 base58 characters.
const MAX_MULTIBASE_LEN: usize = 100;

/// Why a multibase string is not the expected key or signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Longer than any key or signature.
    #[error("multibase string of {len} characters, at most {MAX_MULTIBASE_LEN} are accepted")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// Does not start with `z` (base58btc).
    #[error("not a base58btc multibase string")]
    NotMultibase,
    /// Not base58 after the `z`.
    #[error("not base58")]
    NotBase58,
    /// Tagged with another multicodec than expected.
    #[error("wrong multicodec, expected {expected}")]
    WrongCodec {
        /// The codec's name.
        expected: &'static str,
    },
    /// The key or signature has the wrong number of bytes.
    #[error("{len} bytes, expected {expected}")]
    BadLength {
        /// Bytes found.
        len: usize,
        /// Bytes expected.
        expected: usize,
    },
    /// Not a valid Ed25519 point.
    #[error("not a valid Ed25519 public key")]
    BadPoint,
}

impl KeyError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLong { .. } => "key_too_long",
            Self::NotMultibase => "key_not_multibase",
            Self::NotBase58 => "key_not_base58",
            Self::WrongCodec { .. } => "key_wrong_codec",
            Self::BadLength { .. } => "key_bad_length",
            Self::BadPoint => "key_bad_point",
        }
    }
}

fn encode(codec: &[u8], bytes: &[u8]) -> String {
    let mut tagged = Vec::with_capacity(codec.len() + bytes.len());
    tagged.extend_from_slice(codec);
    tagged.extend_from_slice(bytes);
    format!("{BASE58BTC}{}", bs58::encode(tagged).into_string())
}

fn decode(text: &str) -> Result<Vec<u8>, KeyError> {
    if text.len() > MAX_MULTIBASE_LEN {
        return Err(KeyError::TooLong { len: text.len() });
    }
    let encoded = text.strip_prefix(BASE58BTC).ok_or(KeyError::NotMultibase)?;
    bs58::decode(encoded)
        .into_vec()
        .map_err(|_| KeyError::NotBase58)
}

fn decode_tagged<const N: usize>(
    text: &str,
    codec: &[u8],
    name: &'static str,
) -> Result<[u8; N], KeyError> {
    let bytes = decode(text)?;
    let key = bytes
        .strip_prefix(codec)
        .ok_or(KeyError::WrongCodec { expected: name })?;
    key.try_into().map_err(|_| KeyError::BadLength {
        len: key.len(),
        expected: N,
    })
}

/// The Multikey of an Ed25519 key: `z` + base58btc(0xed 0x01 ‖ key), i.e. `z6Mk…`.
pub fn ed25519_multikey(key: &VerifyingKey) -> String {
    encode(&ED25519_PUB_MULTICODEC, key.as_bytes())
}

/// The Ed25519 key of a `z6Mk…` Multikey.
pub fn parse_ed25519_multikey(text: &str) -> Result<VerifyingKey, KeyError> {
    let bytes = decode_tagged::<32>(text, &ED25519_PUB_MULTICODEC, "ed25519-pub")?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::BadPoint)
}

/// The Multikey of an X25519 key: `z` + base58btc(0xec 0x01 ‖ key), i.e. `z6LS…`.
pub fn x25519_multikey(key: &X25519PublicKey) -> String {
    encode(&X25519_PUB_MULTICODEC, key.as_bytes())
}

/// The X25519 key of a `z6LS…` Multikey.
pub fn parse_x25519_multikey(text: &str) -> Result<X25519PublicKey, KeyError> {
    decode_tagged::<32>(text, &X25519_PUB_MULTICODEC, "x25519-pub").map(X25519PublicKey::from_bytes)
}

/// A signature as multibase base58btc of its 64 bytes (no multicodec tag).
pub(crate) fn signature_multibase(signature: &Signature) -> String {
    encode(&[], &signature.to_bytes())
}

/// The signature of [`signature_multibase`]'s spelling.
pub(crate) fn parse_signature_multibase(text: &str) -> Result<Signature, KeyError> {
    let bytes = decode_tagged::<64>(text, &[], "none")?;
    Ok(Signature::from_bytes(&bytes))
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::Signer;
    use talos_chain::SigningKey;

    use super::*;

    #[test]
    fn multikeys_round_trip_with_their_prefixes() {
        let key = SigningKey::from_bytes(&[0; 32]).verifying_key();
        let text = ed25519_multikey(&key);
        // The did:key test vector of the all-zero seed, without `did:key:`.
        assert_eq!(text, "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp");
        assert_eq!(parse_ed25519_multikey(&text), Ok(key));

        // did:key interop fixture of an X25519 key: publicKeyBase58 → Multikey.
        let raw: [u8; 32] = bs58::decode("4Dy8E9UaZscuPUf2GLxV44RCNL7oxmEXXkgWXaug1WKV")
            .into_vec()
            .unwrap()
            .try_into()
            .unwrap();
        let fixture = X25519PublicKey::from_bytes(raw);
        let text = "z6LSeu9HkTHSfLLeUs2nnzUSNedgDUevfNQgQjQC23ZCit6F";
        assert_eq!(x25519_multikey(&fixture), text);
        assert_eq!(parse_x25519_multikey(text), Ok(fixture));

        let dh = X25519PublicKey::from_bytes([9; 32]);
        let text = x25519_multikey(&dh);
        assert!(text.starts_with("z6LS"), "{text}");
        assert_eq!(parse_x25519_multikey(&text), Ok(dh));
        assert_eq!(
            parse_ed25519_multikey(&text),
            Err(KeyError::WrongCodec {
                expected: "ed25519-pub"
            })
        );
        assert_eq!(
            parse_x25519_multikey(&ed25519_multikey(&key)).map_err(|e| e.code()),
            Err("key_wrong_codec")
        );

        let sig = SigningKey::from_bytes(&[1; 32]).sign(b"test");
        assert_eq!(
            parse_signature_multibase(&signature_multibase(&sig)),
            Ok(sig)
        );
    }

    #[test]
    fn malformed_multibase_gets_typed_errors() {
        assert_eq!(parse_x25519_multikey("m6LS"), Err(KeyError::NotMultibase));
        assert_eq!(parse_x25519_multikey("z0OIl"), Err(KeyError::NotBase58));
        let long = format!("z{}", "1".repeat(MAX_MULTIBASE_LEN));
        assert_eq!(
            parse_x25519_multikey(&long),
            Err(KeyError::TooLong { len: long.len() })
        );
        let short = encode(&X25519_PUB_MULTICODEC, &[1; 31]);
        assert_eq!(
            parse_x25519_multikey(&short),
            Err(KeyError::BadLength {
                len: 31,
                expected: 32
            })
        );
        assert_eq!(
            parse_signature_multibase(&encode(&[], &[1; 63])).map_err(|e| e.code()),
            Err("key_bad_length")
        );
        // Some small y is not the y-coordinate of any Ed25519 point.
        let not_a_point = (2u8..)
            .map(|y| {
                let mut bytes = [0u8; 32];
                bytes[0] = y;
                bytes
            })
            .find(|bytes| VerifyingKey::from_bytes(bytes).is_err())
            .expect("about half of all y are not on the curve");
        assert_eq!(
            parse_ed25519_multikey(&encode(&ED25519_PUB_MULTICODEC, &not_a_point)),
            Err(KeyError::BadPoint)
        );
    }
}
