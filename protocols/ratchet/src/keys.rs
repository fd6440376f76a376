//! Key material wrappers: secrets that zeroize on drop and never print, X25519 key pairs, and
//! serde helpers for byte arrays longer than serde's built-in 32.

use core::fmt;

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::montgomery::MontgomeryPoint;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Length of every symmetric key, chain key and X25519 key in this crate.
pub const KEY_LEN: usize = 32;

/// A 32-byte secret (root, chain, message or header key, or an X25519 private key).
///
/// Zeroized on drop; `Debug` prints `Secret32(<redacted>)`.
#[derive(Clone, Eq, Zeroize, ZeroizeOnDrop)]
pub(crate) struct Secret32(pub(crate) [u8; KEY_LEN]);

impl Secret32 {
    /// A fresh secret from `rng`.
    pub(crate) fn random<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut bytes = [0u8; KEY_LEN];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Takes a secret out of `bytes`, wiping the source.
    pub(crate) fn take(bytes: &mut [u8; KEY_LEN]) -> Self {
        let secret = Self(*bytes);
        bytes.zeroize();
        secret
    }

    /// The secret bytes.
    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl PartialEq for Secret32 {
    /// Constant time.
    fn eq(&self, other: &Self) -> bool {
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl fmt::Debug for Secret32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret32(<redacted>)")
    }
}

impl Serialize for Secret32 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Secret32 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut bytes = <[u8; KEY_LEN]>::deserialize(deserializer)?;
        Ok(Self::take(&mut bytes))
    }
}

/// X25519 Diffie-Hellman output, `None` if it is all zero (a low-order peer key): callers
/// reject non-contributory results.
pub(crate) fn x25519(secret: &Secret32, public: &[u8; KEY_LEN]) -> Option<Secret32> {
    PeerKey::new(public).dh(secret)
}

/// A peer's X25519 public key prepared for one or more DH operations.
///
/// X25519 is `u(clamp(k) · P)`. For a `u` on the curve (every honestly generated key) the
/// point is decompressed to Edwards form once and multiplied with curve25519-dalek's
/// Edwards scalar multiplication, which uses its AVX2 backend where the CPU has one and is
/// faster here than the Montgomery ladder; the clamped scalar is not reduced (`mul_clamped`),
/// so torsion components give the same result as the ladder. A `u` on the quadratic twist
/// has no Edwards point and goes through x25519-dalek's ladder. Both paths are constant time
/// in the secret. Unit tests check the two agree, torsion and low-order points included.
pub(crate) enum PeerKey {
    Edwards(EdwardsPoint),
    Twist([u8; KEY_LEN]),
}

impl PeerKey {
    pub(crate) fn new(public: &[u8; KEY_LEN]) -> Self {
        match MontgomeryPoint(*public).to_edwards(0) {
            Some(point) => Self::Edwards(point),
            None => Self::Twist(*public),
        }
    }

    /// `X25519(secret, self)`, `None` if all zero.
    pub(crate) fn dh(&self, secret: &Secret32) -> Option<Secret32> {
        let out = match self {
            Self::Edwards(point) => {
                let mut shared = point.mul_clamped(secret.0);
                let mut u = shared.to_montgomery();
                shared.zeroize();
                let bytes = u.to_bytes();
                u.zeroize();
                Secret32(bytes)
            }
            Self::Twist(public) => {
                let shared = StaticSecret::from(secret.0).diffie_hellman(&PublicKey::from(*public));
                Secret32(shared.to_bytes())
            }
        };
        // Constant-time all-zero check, as x25519-dalek's `was_contributory`.
        let any = out.0.iter().fold(0u8, |acc, b| acc | b);
        (any != 0).then_some(out)
    }
}

/// An X25519 key pair; the private half zeroizes on drop.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DhKeyPair {
    pub(crate) secret: Secret32,
    pub(crate) public: [u8; KEY_LEN],
}

impl DhKeyPair {
    /// A fresh key pair.
    pub(crate) fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let secret = Secret32::random(rng);
        Self::from_secret(secret)
    }

    /// The key pair of `secret`.
    pub(crate) fn from_secret(secret: Secret32) -> Self {
        let public = PublicKey::from(&StaticSecret::from(secret.0)).to_bytes();
        Self { secret, public }
    }
}

impl fmt::Debug for DhKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DhKeyPair")
            .field("public", &Hex(&self.public))
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Lower-case hex for `Debug` output of public values.
pub(crate) struct Hex<'a>(pub(crate) &'a [u8]);

impl fmt::Debug for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

/// Serde for `[u8; N]` of any length, as a byte string (or a sequence, for formats such as
/// JSON that hand back sequences).
pub(crate) mod byte_array {
    use core::fmt;

    use serde::de::{Error, SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(bytes)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<[u8; N], D::Error> {
        deserializer.deserialize_bytes(ArrayVisitor::<N>)
    }

    struct ArrayVisitor<const N: usize>;

    impl<'de, const N: usize> Visitor<'de> for ArrayVisitor<N> {
        type Value = [u8; N];

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{N} bytes")
        }

        fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<[u8; N], E> {
            v.try_into().map_err(|_| E::invalid_length(v.len(), &self))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<[u8; N], A::Error> {
            let mut out = [0u8; N];
            for (i, slot) in out.iter_mut().enumerate() {
                *slot = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(i, &self))?;
            }
            if seq.next_element::<u8>()?.is_some() {
                return Err(A::Error::invalid_length(N + 1, &self));
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug() {
        let secret = Secret32([0xAB; KEY_LEN]);
        let shown = format!("{secret:?}");
        assert!(!shown.contains("ab") && !shown.contains("171"), "{shown}");
        let pair = DhKeyPair::from_secret(Secret32([7; KEY_LEN]));
        let shown = format!("{pair:?}");
        assert!(
            shown.contains("<redacted>") && !shown.contains("0707"),
            "{shown}"
        );
    }

    fn ladder(secret: &Secret32, public: &[u8; KEY_LEN]) -> [u8; KEY_LEN] {
        StaticSecret::from(secret.0)
            .diffie_hellman(&PublicKey::from(*public))
            .to_bytes()
    }

    #[test]
    fn edwards_path_matches_the_ladder() {
        use curve25519_dalek::constants::EIGHT_TORSION;
        use rand_core::OsRng;
        let mut twist_seen = false;
        for i in 0..200u32 {
            let secret = Secret32::random(&mut OsRng);
            let peer = DhKeyPair::generate(&mut OsRng);
            // Honest keys, keys with a torsion component, and arbitrary u (some on the twist).
            let honest = peer.public;
            let edwards = MontgomeryPoint(honest).to_edwards(0).expect("on curve");
            let torsion = (edwards + EIGHT_TORSION[(i % 8) as usize])
                .to_montgomery()
                .to_bytes();
            let mut arbitrary = [0u8; KEY_LEN];
            arbitrary[..4].copy_from_slice(&i.to_le_bytes());
            if i % 3 == 1 {
                // High bit set and values >= p: both paths must mask and reduce alike.
                arbitrary[4..].fill(0xFF);
                arbitrary[31] = if i % 2 == 0 { 0x7F } else { 0xFF };
            }
            twist_seen |= matches!(PeerKey::new(&arbitrary), PeerKey::Twist(_));
            for public in [honest, torsion, arbitrary] {
                let expected = ladder(&secret, &public);
                let got = x25519(&secret, &public);
                if expected == [0; KEY_LEN] {
                    assert!(got.is_none(), "{public:?}");
                } else {
                    assert_eq!(got.map(|s| s.0), Some(expected), "{public:?}");
                }
            }
        }
        assert!(twist_seen, "the ladder fallback was exercised");
    }

    #[test]
    fn low_order_peer_key_is_rejected() {
        let secret = Secret32([9; KEY_LEN]);
        assert!(x25519(&secret, &[0; KEY_LEN]).is_none());
        let mut one = [0u8; KEY_LEN];
        one[0] = 1;
        assert!(
            x25519(&secret, &one).is_none(),
            "u = 1 is a low-order point"
        );
        for torsion in curve25519_dalek::constants::EIGHT_TORSION {
            assert!(x25519(&secret, &torsion.to_montgomery().to_bytes()).is_none());
        }
        let other = DhKeyPair::from_secret(Secret32([3; KEY_LEN]));
        assert!(x25519(&secret, &other.public).is_some());
    }
}
