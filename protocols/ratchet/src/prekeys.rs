//! Prekeys: the published [`PrekeyBundle`] and the owner's [`PrekeyStore`] (current signed
//! prekey, the previous one for a grace period, one-time prekeys consumed once).

use core::fmt;
use std::collections::BTreeMap;

use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::error::{PrekeyError, X3dhError};
use crate::identity::{IdentityKeyPair, IdentityPublic, SIGNATURE_LEN, signed_prekey_message};
use crate::keys::{DhKeyPair, Hex, KEY_LEN, Secret32, byte_array};

/// A signed prekey as published: id, X25519 public key and the identity's signature.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedPrekeyPublic {
    /// Owner-chosen id, named in initial messages.
    pub id: u32,
    /// The X25519 public key (`SPK`).
    pub key: [u8; KEY_LEN],
    /// Ed25519 signature over `"talos/signed-prekey/v1" ‖ IK.dh ‖ id ‖ key`
    /// ([`talos_identity::SignedPrekey::message`]).
    #[serde(with = "byte_array")]
    pub signature: [u8; SIGNATURE_LEN],
}

impl fmt::Debug for SignedPrekeyPublic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedPrekeyPublic")
            .field("id", &self.id)
            .field("key", &Hex(&self.key))
            .finish_non_exhaustive()
    }
}

impl SignedPrekeyPublic {
    /// Checks the signature under `identity`.
    pub fn verify(&self, identity: &IdentityPublic) -> Result<(), X3dhError> {
        let message = signed_prekey_message(&identity.dh, self.id, &self.key);
        if identity.verify_signed(&message, &self.signature) {
            Ok(())
        } else {
            Err(X3dhError::BadPrekeySignature)
        }
    }
}

/// A one-time prekey as published.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimePrekeyPublic {
    /// Owner-chosen id, named in initial messages.
    pub id: u32,
    /// The X25519 public key (`OPK`).
    pub key: [u8; KEY_LEN],
}

impl fmt::Debug for OneTimePrekeyPublic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OneTimePrekeyPublic({}, {:?})", self.id, Hex(&self.key))
    }
}

/// What an initiator fetches to start a session with an offline responder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrekeyBundle {
    /// The responder's identity (`IK_B`).
    pub identity: IdentityPublic,
    /// The responder's current signed prekey.
    pub signed_prekey: SignedPrekeyPublic,
    /// One one-time prekey, if the responder has any left.
    pub one_time_prekey: Option<OneTimePrekeyPublic>,
}

/// When to rotate the signed prekey and how long to keep the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrekeyPolicy {
    /// Age after which [`PrekeyStore::rotate_if_due`] replaces the signed prekey.
    pub rotation_interval_secs: u64,
    /// How long the previous signed prekey still answers late initial messages.
    pub grace_period_secs: u64,
    /// Cap on stored one-time prekeys.
    pub max_one_time_prekeys: usize,
}

impl Default for PrekeyPolicy {
    /// Weekly rotation, two weeks of grace, 200 one-time prekeys.
    fn default() -> Self {
        Self {
            rotation_interval_secs: 7 * 24 * 3600,
            grace_period_secs: 14 * 24 * 3600,
            max_one_time_prekeys: 200,
        }
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct StoredSignedPrekey {
    public: SignedPrekeyPublic,
    pair: DhKeyPair,
    /// Creation time for the current key, retirement time for the previous one.
    since: u64,
}

impl StoredSignedPrekey {
    fn generate<R: RngCore + CryptoRng>(
        rng: &mut R,
        identity: &IdentityKeyPair,
        id: u32,
        now: u64,
    ) -> Self {
        let pair = DhKeyPair::generate(rng);
        let signature = identity.sign(&signed_prekey_message(
            &identity.public().dh,
            id,
            &pair.public,
        ));
        let public = SignedPrekeyPublic {
            id,
            key: pair.public,
            signature,
        };
        Self {
            public,
            pair,
            since: now,
        }
    }
}

/// The owner's prekey state. Time is passed in (seconds, any epoch): the store reads no clock.
///
/// Secrets zeroize on drop and are redacted from `Debug`; serializable for persistence.
#[derive(Clone, Serialize, Deserialize)]
pub struct PrekeyStore {
    policy: PrekeyPolicy,
    current: StoredSignedPrekey,
    previous: Option<StoredSignedPrekey>,
    one_time: BTreeMap<u32, Secret32>,
    next_signed_id: u32,
    next_one_time_id: u32,
}

impl fmt::Debug for PrekeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrekeyStore")
            .field("current", &self.current.public.id)
            .field("previous", &self.previous.as_ref().map(|p| p.public.id))
            .field("one_time_prekeys", &self.one_time.len())
            .finish_non_exhaustive()
    }
}

impl PrekeyStore {
    /// A store with a first signed prekey (id 1) and no one-time prekeys.
    pub fn new<R: RngCore + CryptoRng>(
        rng: &mut R,
        identity: &IdentityKeyPair,
        policy: PrekeyPolicy,
        now: u64,
    ) -> Self {
        Self {
            policy,
            current: StoredSignedPrekey::generate(rng, identity, 1, now),
            previous: None,
            one_time: BTreeMap::new(),
            next_signed_id: 2,
            next_one_time_id: 1,
        }
    }

    /// The current signed prekey, to publish.
    pub fn signed_prekey(&self) -> SignedPrekeyPublic {
        self.current.public
    }

    /// Id of the previous signed prekey still accepted, if any.
    pub fn previous_signed_prekey_id(&self) -> Option<u32> {
        self.previous.as_ref().map(|p| p.public.id)
    }

    /// Replaces the signed prekey now; the old one is kept for the grace period.
    pub fn rotate<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        identity: &IdentityKeyPair,
        now: u64,
    ) -> Result<(), PrekeyError> {
        let id = self.next_signed_id;
        let next = id.checked_add(1).ok_or(PrekeyError::IdsExhausted)?;
        let mut retired = core::mem::replace(
            &mut self.current,
            StoredSignedPrekey::generate(rng, identity, id, now),
        );
        retired.since = now;
        self.previous = Some(retired);
        self.next_signed_id = next;
        Ok(())
    }

    /// Rotates if the signed prekey is older than the policy's interval, and drops a previous
    /// key whose grace period is over. Returns whether it rotated.
    pub fn rotate_if_due<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        identity: &IdentityKeyPair,
        now: u64,
    ) -> Result<bool, PrekeyError> {
        self.prune(now);
        if now.saturating_sub(self.current.since) < self.policy.rotation_interval_secs {
            return Ok(false);
        }
        self.rotate(rng, identity, now)?;
        Ok(true)
    }

    /// Drops the previous signed prekey once its grace period is over.
    pub fn prune(&mut self, now: u64) {
        if self
            .previous
            .as_ref()
            .is_some_and(|p| now.saturating_sub(p.since) >= self.policy.grace_period_secs)
        {
            self.previous = None;
        }
    }

    /// Generates `count` one-time prekeys and returns their public halves to publish.
    pub fn generate_one_time_prekeys<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        count: usize,
    ) -> Result<Vec<OneTimePrekeyPublic>, PrekeyError> {
        let have = self.one_time.len();
        let max = self.policy.max_one_time_prekeys;
        if have.checked_add(count).is_none_or(|total| total > max) {
            return Err(PrekeyError::TooManyOneTimePrekeys {
                requested: count,
                have,
                max,
            });
        }
        let last = u32::try_from(count)
            .ok()
            .and_then(|c| self.next_one_time_id.checked_add(c))
            .ok_or(PrekeyError::IdsExhausted)?;
        let mut published = Vec::with_capacity(count);
        for id in self.next_one_time_id..last {
            let pair = DhKeyPair::generate(rng);
            published.push(OneTimePrekeyPublic {
                id,
                key: pair.public,
            });
            self.one_time.insert(id, pair.secret.clone());
        }
        self.next_one_time_id = last;
        Ok(published)
    }

    /// Ids of the one-time prekeys not yet consumed, ascending.
    pub fn one_time_prekey_ids(&self) -> Vec<u32> {
        self.one_time.keys().copied().collect()
    }

    /// A bundle with the current signed prekey and, if `one_time_id` is given, that one-time
    /// prekey (which stays stored until an initial message consumes it).
    pub fn bundle(
        &self,
        identity: &IdentityKeyPair,
        one_time_id: Option<u32>,
    ) -> Result<PrekeyBundle, PrekeyError> {
        let one_time_prekey = match one_time_id {
            None => None,
            Some(id) => {
                let secret = self
                    .one_time
                    .get(&id)
                    .ok_or(PrekeyError::UnknownOneTimePrekey(id))?;
                Some(OneTimePrekeyPublic {
                    id,
                    key: DhKeyPair::from_secret(secret.clone()).public,
                })
            }
        };
        Ok(PrekeyBundle {
            identity: *identity.public(),
            signed_prekey: self.current.public,
            one_time_prekey,
        })
    }

    /// The private signed prekey with this id (current or previous).
    pub(crate) fn signed_secret(&self, id: u32) -> Result<&DhKeyPair, X3dhError> {
        if self.current.public.id == id {
            return Ok(&self.current.pair);
        }
        match &self.previous {
            Some(p) if p.public.id == id => Ok(&p.pair),
            _ => Err(X3dhError::UnknownSignedPrekey(id)),
        }
    }

    /// The private one-time prekey with this id, without consuming it.
    pub(crate) fn one_time_secret(&self, id: u32) -> Result<&Secret32, X3dhError> {
        self.one_time
            .get(&id)
            .ok_or(X3dhError::UnknownOneTimePrekey(id))
    }

    /// Deletes a one-time prekey after its use.
    pub(crate) fn consume_one_time(&mut self, id: u32) {
        self.one_time.remove(&id);
    }
}

/// The X3DH bundle of a prekey bundle `talos-identity` decoded and checked (the one a DID
/// document or an online agent serves): both crates sign the same messages, so the
/// signatures carry over as they are and [`Session::initiate`](crate::Session::initiate)
/// checks them again.
impl From<&talos_identity::PrekeyBundle> for PrekeyBundle {
    fn from(bundle: &talos_identity::PrekeyBundle) -> Self {
        let spk = bundle.signed_prekey();
        Self {
            identity: IdentityPublic {
                ed25519: bundle.identity_key().to_bytes(),
                dh: bundle.identity_dh().to_bytes(),
                dh_signature: bundle.identity_dh_signature().to_bytes(),
            },
            signed_prekey: SignedPrekeyPublic {
                id: spk.id,
                key: spk.public.to_bytes(),
                signature: spk.signature.to_bytes(),
            },
            one_time_prekey: bundle.one_time_prekey().map(|otk| OneTimePrekeyPublic {
                id: otk.id,
                key: otk.public.to_bytes(),
            }),
        }
    }
}
