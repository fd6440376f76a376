//! The oracle's crypto provider: [`SignalProvider`] and its key types, with the Signal
//! specification's primitives (see the crate docs).

use std::fmt;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit};
use double_ratchet::{CryptoProvider, KeyPair};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};

/// HKDF `info` of the oracle's root KDF.
const ORACLE_ROOT_INFO: &[u8] = b"oracle DR root";
/// HKDF `info` expanding a message key into the oracle's AEAD key and nonce.
const ORACLE_MESSAGE_INFO: &[u8] = b"oracle DR message";

/// [`CryptoProvider`] with the Signal specification's primitives (see the crate docs).
pub(crate) struct SignalProvider;

/// An X25519 public key. `Debug` prints it in hex (it is public): the state comparison reads
/// the oracle's `DHr` from its `Debug` output.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct OraclePublic(pub(crate) [u8; 32]);

impl AsRef<[u8]> for OraclePublic {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for OraclePublic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pk(")?;
        for byte in &self.0 {
            write!(f, "{byte:02x}")?;
        }
        f.write_str(")")
    }
}

/// An X25519 key pair. `Debug` prints the public half only.
pub(crate) struct OracleKeyPair {
    pub(crate) secret: StaticSecret,
    pub(crate) public: OraclePublic,
}

impl fmt::Debug for OracleKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kp({:?})", self.public)
    }
}

impl KeyPair for OracleKeyPair {
    type PublicKey = OraclePublic;

    fn new<R: rand_core_04::CryptoRng + rand_core_04::RngCore>(rng: &mut R) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        let secret = StaticSecret::from(bytes);
        let public = OraclePublic(PublicKey::from(&secret).to_bytes());
        Self { secret, public }
    }

    fn public(&self) -> &OraclePublic {
        &self.public
    }
}

/// Declares a 32-byte secret type whose `Debug` prints only its name, so that the oracle's
/// `Debug` output shows which keys it holds and never their bytes.
macro_rules! secret32 {
    ($(#[$doc:meta])* $name:ident, $shown:literal) => {
        $(#[$doc])*
        pub(crate) struct $name(pub(crate) [u8; 32]);

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str($shown)
            }
        }
    };
}

secret32!(
    /// A DH output.
    SharedSecret,
    "Ss"
);
secret32!(
    /// A root key.
    RootKey,
    "Rk"
);
secret32!(
    /// A chain key.
    ChainKey,
    "Ck"
);
secret32!(
    /// A message key. Its `Debug` text `Mk` is counted to get the oracle's skipped-key count.
    MessageKey,
    "Mk"
);

/// `HMAC-SHA256(key, [input])`.
fn hmac_sha256(key: &[u8; 32], input: u8) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(&[input]);
    mac.finalize().into_bytes().into()
}

/// The oracle's AEAD key and nonce for one message key: HKDF-SHA256 with a zero salt.
fn oracle_cipher(key: &MessageKey) -> (Aes256Gcm, [u8; 12]) {
    let mut okm = [0u8; 44];
    Hkdf::<Sha256>::new(Some(&[0u8; 32]), &key.0)
        .expand(ORACLE_MESSAGE_INFO, &mut okm)
        .expect("44 bytes is within HKDF's output limit");
    let cipher = Aes256Gcm::new_from_slice(&okm[..32]).expect("a 32-byte key");
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&okm[32..]);
    (cipher, nonce)
}

impl CryptoProvider for SignalProvider {
    type PublicKey = OraclePublic;
    type KeyPair = OracleKeyPair;
    type SharedSecret = SharedSecret;
    type RootKey = RootKey;
    type ChainKey = ChainKey;
    type MessageKey = MessageKey;

    fn diffie_hellman(us: &OracleKeyPair, them: &OraclePublic) -> SharedSecret {
        SharedSecret(
            us.secret
                .diffie_hellman(&PublicKey::from(them.0))
                .to_bytes(),
        )
    }

    fn kdf_rk(root_key: &RootKey, shared_secret: &SharedSecret) -> (RootKey, ChainKey) {
        let mut okm = [0u8; 64];
        Hkdf::<Sha256>::new(Some(&root_key.0), &shared_secret.0)
            .expand(ORACLE_ROOT_INFO, &mut okm)
            .expect("64 bytes is within HKDF's output limit");
        let mut root = [0u8; 32];
        let mut chain = [0u8; 32];
        root.copy_from_slice(&okm[..32]);
        chain.copy_from_slice(&okm[32..]);
        (RootKey(root), ChainKey(chain))
    }

    fn kdf_ck(chain_key: &ChainKey) -> (ChainKey, MessageKey) {
        (
            ChainKey(hmac_sha256(&chain_key.0, 0x02)),
            MessageKey(hmac_sha256(&chain_key.0, 0x01)),
        )
    }

    fn encrypt(key: &MessageKey, plaintext: &[u8], associated_data: &[u8]) -> Vec<u8> {
        let (cipher, nonce) = oracle_cipher(key);
        let payload = Payload {
            msg: plaintext,
            aad: associated_data,
        };
        cipher
            .encrypt(&nonce.into(), payload)
            .expect("test plaintexts are far below AES-GCM's length limit")
    }

    fn decrypt(
        key: &MessageKey,
        ciphertext: &[u8],
        associated_data: &[u8],
    ) -> Result<Vec<u8>, double_ratchet::DecryptError> {
        let (cipher, nonce) = oracle_cipher(key);
        let payload = Payload {
            msg: ciphertext,
            aad: associated_data,
        };
        cipher
            .decrypt(&nonce.into(), payload)
            .map_err(|_| double_ratchet::DecryptError::DecryptFailure)
    }
}
