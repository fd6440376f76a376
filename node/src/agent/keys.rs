//! The agent's keys: its identity (the node's Ed25519 key with an X25519 identity-DH key it
//! signs) and its prekeys, kept in the node's store; the DID document and record they make;
//! and the prekey bundles the agent serves to peers that want to start a session.

use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use talos_identity::{
    DidDocument, DidRecord, Multiaddr, OneTimePrekey, PrekeyBundle, Signature, SignedPrekey,
    SigningKey, X25519PublicKey,
};
use talos_ratchet::{IdentityKeyPair, PrekeyPolicy, PrekeyStore};
use talos_storage::KvStore;

use super::store::{self, AgentStoreError, NS_AGENT, Pending};

const KEYS_KEY: &[u8] = b"keys";

/// One-time prekeys kept on hand; refilled to this when fewer than half are left.
pub(crate) const ONE_TIME_PREKEYS: usize = 100;

/// How long a published DID record is valid.
pub(crate) const RECORD_TTL_MS: u64 = 24 * 3_600_000;

/// The agent's private keys.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct AgentKeys {
    pub(crate) identity: IdentityKeyPair,
    pub(crate) prekeys: PrekeyStore,
    /// The one-time prekey handed out last (each bundle served names the next one, so peers
    /// asking at the same time get different keys).
    handed_out: u32,
}

impl AgentKeys {
    /// The stored keys of the agent whose Ed25519 key is `signing`, or fresh ones (stored in
    /// `pending`). Stored keys of another Ed25519 key (the node key was replaced) are replaced.
    pub(crate) fn load_or_create(
        kv: &dyn KvStore,
        signing: &SigningKey,
        now_s: u64,
        pending: &mut Pending,
    ) -> Result<(Self, bool), AgentStoreError> {
        let ed25519 = signing.verifying_key().to_bytes();
        if let Some(keys) = store::get::<Self>(kv, NS_AGENT, KEYS_KEY, "agent keys")?
            && keys.identity.public().ed25519 == ed25519
        {
            return Ok((keys, false));
        }
        let seed = zeroize::Zeroizing::new(signing.to_bytes());
        let identity = IdentityKeyPair::from_ed25519_seed(&mut OsRng, &seed);
        let prekeys = PrekeyStore::new(&mut OsRng, &identity, PrekeyPolicy::default(), now_s);
        let mut keys = Self {
            identity,
            prekeys,
            handed_out: 0,
        };
        keys.maintain(now_s);
        keys.persist(pending)?;
        Ok((keys, true))
    }

    pub(crate) fn persist(&self, pending: &mut Pending) -> Result<(), AgentStoreError> {
        pending.put(NS_AGENT, KEYS_KEY, &store::encode(self))
    }

    /// Rotates the signed prekey when due and refills one-time prekeys. Returns whether the
    /// signed prekey changed (the DID document must then be republished).
    pub(crate) fn maintain(&mut self, now_s: u64) -> bool {
        let rotated = self
            .prekeys
            .rotate_if_due(&mut OsRng, &self.identity, now_s)
            .unwrap_or(false);
        let have = self.prekeys.one_time_prekey_ids().len();
        if have < ONE_TIME_PREKEYS / 2 {
            let _ = self
                .prekeys
                .generate_one_time_prekeys(&mut OsRng, ONE_TIME_PREKEYS - have);
        }
        rotated
    }

    fn signed_prekey(&self, now_ms: u64) -> SignedPrekey {
        let spk = self.prekeys.signed_prekey();
        SignedPrekey {
            id: spk.id,
            public: X25519PublicKey::from_bytes(spk.key),
            created_at_ms: now_ms,
            signature: Signature::from_bytes(&spk.signature),
        }
    }

    fn identity_dh(&self) -> X25519PublicKey {
        X25519PublicKey::from_bytes(self.identity.public().dh)
    }

    /// The DID document listing `addrs`, and its signed record.
    pub(crate) fn did_record(
        &self,
        signing: &SigningKey,
        addrs: Vec<Multiaddr>,
        now_ms: u64,
    ) -> Result<DidRecord, talos_identity::RecordError> {
        let addrs = addrs
            .into_iter()
            .take(talos_identity::MAX_MULTIADDRS)
            .collect();
        let document = DidDocument::for_agent(
            signing,
            self.identity_dh(),
            self.signed_prekey(now_ms),
            addrs,
        )
        .map_err(talos_identity::RecordError::Document)?;
        DidRecord::sign(&document, now_ms, now_ms, RECORD_TTL_MS, signing)
    }

    /// A bundle to serve a peer that asks (`/msg` `Prekeys`): the signed prekey and the next
    /// one-time prekey, which stays usable until an initial message consumes it.
    pub(crate) fn served_bundle(&mut self, signing: &SigningKey, now_ms: u64) -> Vec<u8> {
        let ids = self.prekeys.one_time_prekey_ids();
        let next = ids
            .iter()
            .copied()
            .find(|id| *id > self.handed_out)
            .or_else(|| ids.first().copied());
        let one_time = next.and_then(|id| {
            self.handed_out = id;
            let bundle = self.prekeys.bundle(&self.identity, Some(id)).ok()?;
            bundle.one_time_prekey.map(|k| OneTimePrekey {
                id: k.id,
                public: X25519PublicKey::from_bytes(k.key),
            })
        });
        PrekeyBundle::new(
            signing,
            self.identity_dh(),
            self.signed_prekey(now_ms),
            one_time,
        )
        .map(|b| b.encode())
        .unwrap_or_default()
    }
}
