//! `did:key` for Ed25519 keys.

use talos_chain::VerifyingKey;

/// Multicodec prefix of an Ed25519 public key (`ed25519-pub`, 0xed as an unsigned varint).
pub const ED25519_PUB_MULTICODEC: [u8; 2] = [0xed, 0x01];

/// The `did:key` method prefix with the base58btc multibase code.
const PREFIX: &str = "did:key:z";

/// Longest `did:key` accepted: an Ed25519 one is 56 characters; anything far longer is not
/// decoded at all.
const MAX_DID_LEN: usize = 128;

/// Why a string is not the `did:key` of an Ed25519 key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DidError {
    /// Not `did:key:z…` (another method, or another multibase).
    #[error("not a base58btc did:key")]
    NotDidKey,
    /// Longer than any Ed25519 `did:key`.
    #[error("did:key of {len} characters, at most {MAX_DID_LEN} are accepted")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// The multibase part is not base58btc.
    #[error("the key part is not base58btc")]
    NotBase58,
    /// The key is not tagged `ed25519-pub`.
    #[error("not an Ed25519 did:key (multicodec prefix is not ed25519-pub)")]
    NotEd25519,
    /// The key bytes are not a valid Ed25519 point of 32 bytes.
    #[error("the key is not a valid Ed25519 public key")]
    BadKey,
}

impl DidError {
    /// Stable snake_case code (API errors, logs).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotDidKey => "not_did_key",
            Self::TooLong { .. } => "did_too_long",
            Self::NotBase58 => "not_base58",
            Self::NotEd25519 => "not_ed25519",
            Self::BadKey => "bad_key",
        }
    }
}

/// The `did:key` of an Ed25519 public key: `did:key:z` + base58btc(0xed 0x01 ‖ key).
pub fn did_key(key: &VerifyingKey) -> String {
    let mut bytes = Vec::with_capacity(34);
    bytes.extend_from_slice(&ED25519_PUB_MULTICODEC);
    bytes.extend_from_slice(key.as_bytes());
    format!("{PREFIX}{}", bs58::encode(bytes).into_string())
}

/// The Ed25519 key a `did:key` names.
pub fn parse_did_key(did: &str) -> Result<VerifyingKey, DidError> {
    if did.len() > MAX_DID_LEN {
        return Err(DidError::TooLong { len: did.len() });
    }
    let encoded = did.strip_prefix(PREFIX).ok_or(DidError::NotDidKey)?;
    let bytes = bs58::decode(encoded)
        .into_vec()
        .map_err(|_| DidError::NotBase58)?;
    let key = bytes
        .strip_prefix(&ED25519_PUB_MULTICODEC)
        .ok_or(DidError::NotEd25519)?;
    let key: &[u8; 32] = key.try_into().map_err(|_| DidError::BadKey)?;
    VerifyingKey::from_bytes(key).map_err(|_| DidError::BadKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_key_matches_published_vectors() {
        // did:key method spec / interop fixtures: publicKeyBase58 → did.
        for (pk58, did) in [
            (
                "B12NYF8RrR3h41TDCTJojY59usg3mbtbjnFs7Eud1Y6u",
                "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH",
            ),
            (
                "8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K",
                "did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th",
            ),
        ] {
            let raw: [u8; 32] = bs58::decode(pk58).into_vec().unwrap().try_into().unwrap();
            let key = VerifyingKey::from_bytes(&raw).unwrap();
            assert_eq!(did_key(&key), did);
            assert_eq!(parse_did_key(did), Ok(key));
        }
        // did-method-key test vector: the key of the all-zero seed.
        let key = talos_chain::SigningKey::from_bytes(&[0; 32]).verifying_key();
        assert_eq!(
            did_key(&key),
            "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
        );
    }

    #[test]
    fn malformed_dids_get_typed_errors() {
        assert_eq!(
            parse_did_key("did:web:example.com"),
            Err(DidError::NotDidKey)
        );
        assert_eq!(
            parse_did_key("did:key:zNotBase58!"),
            Err(DidError::NotBase58)
        );
        let long = format!("did:key:z{}", "1".repeat(200));
        assert_eq!(
            parse_did_key(&long),
            Err(DidError::TooLong { len: long.len() })
        );
        // A secp256k1 did:key (multicodec 0xe7): valid base58, wrong key type.
        assert_eq!(
            parse_did_key("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"),
            Err(DidError::NotEd25519)
        );
        let short = format!(
            "did:key:z{}",
            bs58::encode([0xed, 0x01, 1, 2, 3]).into_string()
        );
        assert_eq!(parse_did_key(&short), Err(DidError::BadKey));
        assert_eq!(DidError::NotBase58.code(), "not_base58");
    }
}
