//! The session manager for one peer: which ratchet session to send on, which to try when a
//! message arrives, and when the X3DH handshake may stop riding along.
//!
//! A [`Conversation`] holds the *current* session and up to [`MAX_PREVIOUS_SESSIONS`] older
//! ones (Signal keeps archived sessions the same way). Two agents that start sessions with each
//! other at the same moment end up with one session each way; whichever session a message
//! from the peer decrypts under becomes current, so both sides converge on the one the peer
//! uses. A session the initiator created stays *unconfirmed* until a message from the peer
//! decrypts under it; until then every envelope sent on it carries the handshake, so the first
//! envelope to arrive, in whatever order and by whatever path, starts the session at the
//! responder.
//!
//! A handshake never replaces a session it already made: a slot remembers the initiator's
//! ephemeral key (`EK_A`) of the X3DH that created it, and an envelope whose handshake names
//! a known `EK_A` is decrypted by that slot. (Byte-for-byte replays of an envelope are caught
//! earlier, by its (sender, message id), which the node keeps for the envelope's lifetime.)
//!
//! Everything here is plain data, `serde`-serializable: the node persists a conversation after
//! every seal and open, before it sends or acts on the result.

use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use talos_ratchet::{
    DecryptError, ENCRYPTED_HEADER_LEN, EncryptError, IdentityKeyPair, InitialMessage,
    PrekeyBundle, PrekeyStore, Session, WireError, X3dhError,
};

use crate::envelope::SealedParts;
use crate::payload::Payload;

/// Older sessions kept per peer besides the current one.
pub const MAX_PREVIOUS_SESSIONS: usize = 3;

/// Bytes of the envelope's `header` field: the ratchet message's version byte and encrypted
/// header.
pub const RATCHET_PREFIX_LEN: usize = 1 + ENCRYPTED_HEADER_LEN;

/// Why a message could not be opened. The conversation is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// No session of this conversation decrypts it (and it carries no handshake).
    #[error("no session decrypts the message: {0}")]
    Decrypt(DecryptError),
    /// The handshake is malformed.
    #[error("malformed handshake: {0}")]
    Handshake(WireError),
    /// The X3DH handshake failed (unknown or consumed prekey, forged identity, …).
    #[error("handshake refused: {0}")]
    X3dh(X3dhError),
    /// The handshake names another identity than the envelope's signer.
    #[error("the handshake's identity is not the envelope's sender")]
    ForeignHandshake,
    /// The plaintext is not a payload.
    #[error("decrypted plaintext is not a payload")]
    BadPayload,
}

impl OpenError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Decrypt(e) => e.code(),
            Self::Handshake(e) => e.code(),
            Self::X3dh(e) => e.code(),
            Self::ForeignHandshake => "foreign_handshake",
            Self::BadPayload => "bad_payload",
        }
    }
}

/// Why a message could not be sealed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The peer's bundle is forged or unusable.
    #[error("prekey bundle refused: {0}")]
    X3dh(#[from] X3dhError),
    /// The ratchet refused the plaintext.
    #[error("encryption failed: {0}")]
    Encrypt(#[from] EncryptError),
}

impl SealError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::X3dh(e) => e.code(),
            Self::Encrypt(e) => e.code(),
        }
    }
}

/// One ratchet session and what the conversation knows about it.
#[derive(Clone, Serialize, Deserialize)]
struct Slot {
    session: Session,
    /// `EK_A` of the X3DH that made the session.
    ephemeral: [u8; 32],
    /// The handshake to attach while the peer has not answered on this session (initiator
    /// side only).
    handshake: Option<Vec<u8>>,
}

/// Everything this agent keeps about its sessions with one peer.
#[derive(Clone, Serialize, Deserialize)]
pub struct Conversation {
    current: Slot,
    previous: Vec<Slot>,
    /// Sequence number of the next payload sent.
    next_seq: u64,
}

impl std::fmt::Debug for Conversation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conversation")
            .field("current", &self.current.session)
            .field("confirmed", &self.is_confirmed())
            .field("previous", &self.previous.len())
            .field("next_seq", &self.next_seq)
            .finish()
    }
}

/// A message opened: its payload and whether it started a session here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The decrypted payload.
    pub payload: Payload,
    /// Whether this message's handshake created a new session.
    pub new_session: bool,
}

/// Splits an encoded ratchet message into the envelope's header and ciphertext fields.
fn split_message(mut message: Vec<u8>) -> (Vec<u8>, Vec<u8>) {
    let ciphertext = message.split_off(RATCHET_PREFIX_LEN.min(message.len()));
    (message, ciphertext)
}

/// The ratchet message of an envelope's header and ciphertext fields.
fn join_message(parts: &SealedParts) -> Vec<u8> {
    [parts.header.as_slice(), parts.ciphertext.as_slice()].concat()
}

impl Conversation {
    /// Starts a conversation with the owner of `bundle` (X3DH as initiator) and seals the
    /// first payload. `first_seq` numbers it (the node uses its clock in microseconds, so a
    /// conversation restarted after lost state never reuses a sequence number).
    pub fn start<R: RngCore + CryptoRng>(
        rng: &mut R,
        identity: &IdentityKeyPair,
        bundle: &PrekeyBundle,
        first_seq: u64,
        body: &[u8],
    ) -> Result<(Self, SealedParts), SealError> {
        let payload = Payload {
            seq: first_seq,
            body: body.to_vec(),
        };
        let (session, initial) = Session::initiate(rng, identity, bundle, &payload.encode())?;
        let encoded = initial.encode();
        let handshake = encoded[..encoded.len() - initial.message.len()].to_vec();
        let (header, ciphertext) = split_message(initial.message);
        let conversation = Self {
            current: Slot {
                session,
                ephemeral: initial.ephemeral,
                handshake: Some(handshake.clone()),
            },
            previous: Vec::new(),
            next_seq: first_seq.saturating_add(1),
        };
        let parts = SealedParts {
            header,
            ciphertext,
            handshake: Some(handshake),
        };
        Ok((conversation, parts))
    }

    /// Accepts an envelope that opens a new conversation (X3DH as responder). `sender` is the
    /// envelope's verified signer; the handshake must name it.
    pub fn accept<R: RngCore + CryptoRng>(
        rng: &mut R,
        identity: &IdentityKeyPair,
        prekeys: &mut PrekeyStore,
        sender: &[u8; 32],
        parts: &SealedParts,
    ) -> Result<(Self, Opened), OpenError> {
        let initial = initial_message(sender, parts)?;
        let (session, plaintext) =
            Session::respond(rng, identity, prekeys, &initial).map_err(OpenError::X3dh)?;
        let payload = Payload::decode(&plaintext).ok_or(OpenError::BadPayload)?;
        let conversation = Self {
            current: Slot {
                session,
                ephemeral: initial.ephemeral,
                handshake: None,
            },
            previous: Vec::new(),
            next_seq: 0,
        };
        Ok((
            conversation,
            Opened {
                payload,
                new_session: true,
            },
        ))
    }

    /// Seals the next payload on the current session (with the handshake while unconfirmed).
    /// `min_seq` is the least sequence number to use (the node's clock in microseconds): a
    /// conversation begun by the peer starts numbering from it.
    pub fn seal(&mut self, min_seq: u64, body: &[u8]) -> Result<SealedParts, SealError> {
        let seq = self.next_seq.max(min_seq);
        let payload = Payload {
            seq,
            body: body.to_vec(),
        };
        let message = self.current.session.encrypt(&payload.encode())?;
        self.next_seq = seq.saturating_add(1);
        let (header, ciphertext) = split_message(message);
        Ok(SealedParts {
            header,
            ciphertext,
            handshake: self.current.handshake.clone(),
        })
    }

    /// Opens an envelope's parts from `sender` (the envelope's verified signer): a handshake
    /// for a session this conversation has goes to that session; a new handshake makes a new
    /// current session (the old one is kept among the previous); without a handshake, the
    /// current session and then the previous ones are tried, and the one that decrypts
    /// becomes current. On any error the conversation and `prekeys` are unchanged.
    pub fn open<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        identity: &IdentityKeyPair,
        prekeys: &mut PrekeyStore,
        sender: &[u8; 32],
        parts: &SealedParts,
    ) -> Result<Opened, OpenError> {
        if parts.handshake.is_some() {
            let initial = initial_message(sender, parts)?;
            if self.slot_index(&initial.ephemeral).is_none() {
                let (fresh, opened) = Self::accept(rng, identity, prekeys, sender, parts)?;
                let old = std::mem::replace(&mut self.current, fresh.current);
                self.archive(old);
                return Ok(opened);
            }
        }
        let message = join_message(parts);
        let mut first_error = None;
        for index in 0..=self.previous.len() {
            let slot = if index == 0 {
                &mut self.current
            } else {
                &mut self.previous[index - 1]
            };
            match slot.session.decrypt_with_rng(rng, &message) {
                Ok(plaintext) => {
                    let payload = Payload::decode(&plaintext).ok_or(OpenError::BadPayload)?;
                    // The peer answered on this session: it has it, stop sending the handshake.
                    if slot.session.role() == talos_ratchet::Role::Initiator {
                        slot.handshake = None;
                    }
                    if index > 0 {
                        let promoted = self.previous.remove(index - 1);
                        let old = std::mem::replace(&mut self.current, promoted);
                        self.archive(old);
                    }
                    return Ok(Opened {
                        payload,
                        new_session: false,
                    });
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(OpenError::Decrypt(
            first_error.unwrap_or(DecryptError::BadHeader),
        ))
    }

    fn slot_index(&self, ephemeral: &[u8; 32]) -> Option<usize> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .position(|slot| &slot.ephemeral == ephemeral)
    }

    fn archive(&mut self, slot: Slot) {
        self.previous.insert(0, slot);
        self.previous.truncate(MAX_PREVIOUS_SESSIONS);
    }

    /// Whether the peer has answered on the current session (a responder's always has).
    pub fn is_confirmed(&self) -> bool {
        self.current.handshake.is_none()
    }

    /// The current session (counters, role, peer identity).
    pub fn session(&self) -> &Session {
        &self.current.session
    }

    /// Sessions kept besides the current one.
    pub fn previous_sessions(&self) -> usize {
        self.previous.len()
    }

    /// Sequence number of the next payload sealed (before `min_seq` is applied).
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }
}

/// The X3DH initial message an envelope's handshake and first ratchet message make, checked to
/// name `sender`.
fn initial_message(sender: &[u8; 32], parts: &SealedParts) -> Result<InitialMessage, OpenError> {
    let handshake = parts.handshake.as_deref().unwrap_or_default();
    let bytes = [handshake, &parts.header, &parts.ciphertext].concat();
    let initial = InitialMessage::decode(&bytes).map_err(OpenError::Handshake)?;
    if &initial.identity.ed25519 != sender {
        return Err(OpenError::ForeignHandshake);
    }
    Ok(initial)
}
