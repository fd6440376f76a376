//! The session: X3DH to start, then the Double Ratchet with header encryption. The state is
//! plain data (serde) so the node can persist it; decryption lives in `ratchet.rs`.

use core::fmt;

use rand_core::{CryptoRng, OsRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::aead;
use crate::error::{DecryptError, EncryptError, X3dhError};
use crate::header::Header;
use crate::identity::{IdentityKeyPair, IdentityPublic};
use crate::kdf;
use crate::keys::{DhKeyPair, KEY_LEN, Secret32, byte_array, x25519};
use crate::prekeys::{PrekeyBundle, PrekeyStore};
use crate::skipped::SkippedKeys;
use crate::wire::{
    ENCRYPTED_HEADER_LEN, InitialMessage, MAX_PLAINTEXT_LEN, MESSAGE_OVERHEAD, WIRE_VERSION,
};
use crate::x3dh::{self, AD_LEN};

/// Which side of the X3DH handshake a session was created on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Fetched the bundle and sent the initial message (Alice).
    Initiator,
    /// Published the bundle and received the initial message (Bob).
    Responder,
}

/// An end-to-end encrypted session with one peer.
///
/// Every key in it zeroizes on drop; `Debug` shows counters only. Serialize it after every
/// `encrypt` and `decrypt` (before sending or acting on the result): restoring an older state
/// would reuse message keys.
#[derive(Clone, Serialize, Deserialize)]
pub struct Session {
    pub(crate) role: Role,
    #[serde(with = "byte_array")]
    pub(crate) ad: [u8; AD_LEN],
    pub(crate) remote: IdentityPublic,
    /// `DHs`, our current ratchet key pair.
    pub(crate) dh_self: DhKeyPair,
    /// `DHr`, the peer's current ratchet public key.
    pub(crate) dh_remote: Option<[u8; KEY_LEN]>,
    /// `RK`.
    pub(crate) root: Secret32,
    /// `CKs`.
    pub(crate) send: Option<Secret32>,
    /// `CKr`.
    pub(crate) recv: Option<Secret32>,
    /// `Ns`, `Nr`, `PN`.
    pub(crate) ns: u32,
    pub(crate) nr: u32,
    pub(crate) pn: u32,
    /// `HKs`, `HKr`, `NHKs`, `NHKr`.
    pub(crate) hk_send: Option<Secret32>,
    pub(crate) hk_recv: Option<Secret32>,
    pub(crate) nhk_send: Secret32,
    pub(crate) nhk_recv: Secret32,
    /// Sequence number of the current receiving chain, naming chains in `skipped`.
    pub(crate) recv_chain: u64,
    /// `MKSKIPPED`.
    pub(crate) skipped: SkippedKeys,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("role", &self.role)
            .field("remote", &self.remote)
            .field("ns", &self.ns)
            .field("nr", &self.nr)
            .field("pn", &self.pn)
            .field("recv_chain", &self.recv_chain)
            .field("skipped_keys", &self.skipped.len())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Starts a session with the owner of `bundle` (X3DH as initiator, then
    /// `RatchetInitAliceHE`) and encrypts `first_plaintext` into the initial message.
    ///
    /// Fails with [`X3dhError::BadPrekeySignature`] or [`X3dhError::BadIdentitySignature`]
    /// if the bundle is forged. The caller checks that `bundle.identity.ed25519` is the peer
    /// it means (for example the Ed25519 key behind its libp2p `PeerId`).
    pub fn initiate<R: RngCore + CryptoRng>(
        rng: &mut R,
        identity: &IdentityKeyPair,
        bundle: &PrekeyBundle,
        first_plaintext: &[u8],
    ) -> Result<(Self, InitialMessage), X3dhError> {
        let x = x3dh::initiate(rng, identity, bundle)?;
        let spk = bundle.signed_prekey.key;
        let dh_self = DhKeyPair::generate(rng);
        let dh_out = x25519(&dh_self.secret, &spk).ok_or(X3dhError::NonContributory)?;
        let (root, send, nhk_send) = kdf::root(&x.keys.sk, &dh_out);
        let mut session = Self {
            role: Role::Initiator,
            ad: x.ad,
            remote: bundle.identity,
            dh_self,
            dh_remote: Some(spk),
            root,
            send: Some(send),
            recv: None,
            ns: 0,
            nr: 0,
            pn: 0,
            hk_send: Some(x.keys.hka.clone()),
            hk_recv: None,
            nhk_send,
            nhk_recv: x.keys.nhkb.clone(),
            recv_chain: 0,
            skipped: SkippedKeys::default(),
        };
        let message = session.encrypt(first_plaintext)?;
        let initial = InitialMessage {
            identity: *identity.public(),
            ephemeral: x.ephemeral,
            signed_prekey_id: bundle.signed_prekey.id,
            one_time_prekey_id: bundle.one_time_prekey.map(|k| k.id),
            message,
        };
        Ok((session, initial))
    }

    /// Accepts an initial message (X3DH as responder, then `RatchetInitBobHE` and the first
    /// decryption) and returns the session with the first plaintext.
    ///
    /// Unknown or consumed one-time prekey ids fail with [`X3dhError::UnknownOneTimePrekey`];
    /// on success the one-time prekey is deleted from `store`, on any failure `store` is
    /// unchanged. With no one-time prekey, a replayed initial message yields a second
    /// session with the same keys (see the crate docs).
    pub fn respond<R: RngCore + CryptoRng>(
        rng: &mut R,
        identity: &IdentityKeyPair,
        store: &mut PrekeyStore,
        initial: &InitialMessage,
    ) -> Result<(Self, Vec<u8>), X3dhError> {
        let x = x3dh::respond(identity, store, initial)?;
        let mut session = Self {
            role: Role::Responder,
            ad: x.ad,
            remote: initial.identity,
            dh_self: x.signed_prekey,
            dh_remote: None,
            root: x.keys.sk.clone(),
            send: None,
            recv: None,
            ns: 0,
            nr: 0,
            pn: 0,
            hk_send: None,
            hk_recv: None,
            nhk_send: x.keys.nhkb.clone(),
            nhk_recv: x.keys.hka.clone(),
            recv_chain: 0,
            skipped: SkippedKeys::default(),
        };
        let plaintext = session.decrypt_with_rng(rng, &initial.message)?;
        if let Some(id) = initial.one_time_prekey_id {
            store.consume_one_time(id);
        }
        Ok((session, plaintext))
    }

    /// `RatchetEncryptHE`: encrypts `plaintext` into a wire message.
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, EncryptError> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(EncryptError::PlaintextTooLong {
                len: plaintext.len(),
                max: MAX_PLAINTEXT_LEN,
            });
        }
        let (Some(ck), Some(hk)) = (&self.send, &self.hk_send) else {
            return Err(EncryptError::NoSendingChain);
        };
        let next_ns = self.ns.checked_add(1).ok_or(EncryptError::ChainExhausted)?;
        let (step, nonce) = kdf::chain_with_nonce(ck);
        let header = Header {
            dh: self.dh_self.public,
            pn: self.pn,
            n: self.ns,
        };

        let mut prefix = [0u8; 1 + ENCRYPTED_HEADER_LEN];
        prefix[0] = WIRE_VERSION;
        let mut sealed = [0u8; ENCRYPTED_HEADER_LEN];
        header.seal(hk, &nonce, &self.header_aad(), &mut sealed);
        prefix[1..].copy_from_slice(&sealed);
        let mut out = Vec::with_capacity(MESSAGE_OVERHEAD + plaintext.len());
        out.extend_from_slice(&prefix);
        out.extend_from_slice(plaintext);
        let tag = aead::seal_body(
            &step.message_key,
            &self.body_aad(&prefix),
            &mut out[prefix.len()..],
        );
        out.extend_from_slice(&tag);

        self.send = Some(step.next);
        self.ns = next_ns;
        Ok(out)
    }

    /// `RatchetDecryptHE` with the operating system's RNG for the DH ratchet step.
    pub fn decrypt(&mut self, message: &[u8]) -> Result<Vec<u8>, DecryptError> {
        self.decrypt_with_rng(&mut OsRng, message)
    }

    /// Which side of the handshake this session is.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The peer's identity, as verified during X3DH.
    pub fn remote_identity(&self) -> &IdentityPublic {
        &self.remote
    }

    /// `AD`, binding both identities (see [`AD_LEN`]).
    pub fn associated_data(&self) -> &[u8; AD_LEN] {
        &self.ad
    }

    /// Number of skipped message keys held for late messages.
    pub fn skipped_key_count(&self) -> usize {
        self.skipped.len()
    }

    /// Header AEAD associated data: `AD ‖ version`.
    pub(crate) fn header_aad(&self) -> [u8; AD_LEN + 1] {
        let mut aad = [0u8; AD_LEN + 1];
        aad[..AD_LEN].copy_from_slice(&self.ad);
        aad[AD_LEN] = WIRE_VERSION;
        aad
    }

    /// Body AEAD associated data: `AD ‖ version ‖ encrypted header`.
    pub(crate) fn body_aad(
        &self,
        prefix: &[u8; 1 + ENCRYPTED_HEADER_LEN],
    ) -> [u8; AD_LEN + 1 + ENCRYPTED_HEADER_LEN] {
        let mut aad = [0u8; AD_LEN + 1 + ENCRYPTED_HEADER_LEN];
        aad[..AD_LEN].copy_from_slice(&self.ad);
        aad[AD_LEN..].copy_from_slice(prefix);
        aad
    }
}
