//! Talos agent messaging crypto: X3DH and the Double Ratchet with header encryption, sans-IO.
//!
//! No I/O, no clock, no async, no libp2p: callers pass bytes, time and randomness in and get
//! bytes and typed errors out. Every state ([`Session`], [`PrekeyStore`], [`IdentityKeyPair`])
//! is plain `serde` data the node can persist and reload.
//!
//! # Identities
//!
//! An agent's identity is an Ed25519 key (`ed25519-dalek`), the key behind its libp2p
//! identity. Key agreement does **not** reuse it through the birational Ed25519 → X25519 map:
//! each identity also has a dedicated X25519 *identity-DH* key, and the Ed25519 key signs
//! `"talos/identity-dh/v1" ‖ dh` ([`IdentityPublic`]; the messages are `talos-identity`'s, so
//! the signatures in an agent's DID document are the ones X3DH checks). One key, one purpose:
//! Signal keeps signing and key agreement apart by purpose, and where it does let one key
//! pair serve both (XEdDSA over an X25519 key) its XEdDSA specification cautions about
//! reusing a key pair across algorithms; OMEMO (XEP-0384), which changed its identity key
//! from a Curve25519 key that signs through XEdDSA to an Ed25519 key converted for X3DH,
//! shows the cost of one key serving two algorithms: every implementation carries the
//! conversion code and both encodings. A separate X25519 key, signed once by the Ed25519
//! key, costs one 64-byte signature per identity, needs no conversion, and keeps each
//! primitive used exactly as analysed.
//!
//! # X3DH ([`Session::initiate`], [`Session::respond`])
//!
//! As in Signal's X3DH specification with Curve25519 and SHA-256. The responder publishes a
//! [`PrekeyBundle`]: its identity, a signed prekey (`SPK`, signed over
//! `"talos/signed-prekey/v1" ‖ IK.dh ‖ id ‖ SPK`) and optionally a one-time prekey
//! (`OPK`). [`PrekeyStore`] keeps the current `SPK`, the previous one for a grace period after
//! rotation, and the one-time prekeys, each deleted after its first successful use.
//! The initiator verifies both signatures (else [`X3dhError::BadIdentitySignature`] /
//! [`X3dhError::BadPrekeySignature`]), computes `DH1 = DH(IK_A, SPK_B)`,
//! `DH2 = DH(EK_A, IK_B)`, `DH3 = DH(EK_A, SPK_B)` and, with a one-time prekey,
//! `DH4 = DH(EK_A, OPK_B)` (X25519 with the identity-DH keys), rejects any all-zero output, and
//! derives `SK ‖ HKA ‖ NHKB = HKDF-SHA256(salt = 0^32, ikm = 0xFF^32 ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4],
//! info = "Talos X3DH v1")`, 96 bytes. `HKA` and `NHKB` are the spec's `shared_hka` and
//! `shared_nhkb` for header encryption. The associated data binds both identities, Ed25519
//! and X25519 halves: `AD = IK_A.ed25519 ‖ IK_A.dh ‖ IK_B.ed25519 ‖ IK_B.dh` (128 bytes).
//! The [`InitialMessage`] carries `IK_A`, `EK_A`, the prekey ids and the first ratchet
//! message; the responder accepts it only if that message decrypts, and only then deletes the
//! one-time prekey. Without a one-time prekey a replayed initial message re-creates the same
//! session (the replay caveat of the X3DH specification): the messaging layer should
//! deduplicate, and bundles should carry one-time prekeys whenever there are some left.
//!
//! # Double Ratchet with header encryption ([`Session::encrypt`], [`Session::decrypt`])
//!
//! As in section 4 of Signal's Double Ratchet specification (`RatchetInitAliceHE`,
//! `RatchetEncryptHE`, `RatchetDecryptHE`, `DHRatchetHE`). The responder's signed prekey is
//! its first ratchet key. Primitives:
//!
//! * `KDF_RK_HE(rk, dh) = HKDF-SHA256(salt = rk, ikm = dh, info = "Talos DR root v1")`, 96
//!   bytes: root key, chain key, next header key.
//! * `KDF_CK(ck)`: message key `HMAC-SHA256(ck, 0x01)`, next chain key `HMAC-SHA256(ck, 0x02)`.
//!   The sender also takes the header nonce from `HMAC-SHA256(ck, 0x03)[..12]`: the header
//!   key is used for a whole chain, so its nonces must differ, and a PRF output is unique
//!   without an RNG call per message and reveals nothing about the keys.
//! * Header: `DH ‖ PN ‖ N` (32 + 4 + 4 bytes), AES-256-GCM under the header key with
//!   associated data `AD ‖ version`. A relay sees neither counters nor ratchet keys.
//! * Body: AES-256-GCM under the message key with a constant zero nonce (each message key
//!   encrypts exactly one body) and associated data `AD ‖ version ‖ encrypted header`.
//!
//! AES-256-GCM rather than ChaCha20-Poly1305: on x86-64 with AES-NI and PCLMULQDQ (detected
//! at run time by `aes-gcm`), AES-GCM is several times faster per byte and has a cheap key
//! schedule, and every message uses two fresh keys; the bench prints both for 256-byte
//! messages (see `docs/ratchet-bench.md`).
//!
//! Security properties as in the specification: forward secrecy (message keys are deleted
//! after use, chain keys only move forward) and post-compromise recovery once the victim's
//! fresh ratchet key enters a DH step. With header encryption, header keys heal one step
//! later than message keys: a chain's header key comes from the DH output of the step
//! before, so a stolen state can still open the *headers* (counters, ratchet key) of the
//! peer's next chain, never its bodies; one more round trip locks it out of both
//! (`tests/security.rs`).
//!
//! Until the responder has answered, the initiator's later messages are plain ratchet
//! messages that only decrypt after the [`InitialMessage`]: the messaging layer resends the
//! initial message (or holds the others) until the first reply arrives.
//!
//! # Bounds and failure behaviour
//!
//! * One message may make the receiver skip at most [`MAX_SKIP`] (1000) keys per chain; the
//!   gap is checked from the decrypted header before any chain key is derived.
//! * Skipped keys are kept at most [`MAX_SKIP`] per chain, [`MAX_SKIPPED_TOTAL`] (2000) in all
//!   and for at most [`MAX_SKIPPED_CHAINS`] (32) chains, evicting the oldest first.
//! * Counters are `u32` with checked arithmetic: no overflow panics.
//! * Decryption is transactional: candidate keys are derived into locals, the body is
//!   authenticated, and only then is the session updated. On any error (malformed, tampered,
//!   replayed, foreign, gap too large) the session is exactly as before.
//! * Decoders check every length against fixed sizes and [`MAX_MESSAGE_LEN`] and never panic
//!   (fuzzed by `fuzz/fuzz_targets/ratchet_header.rs`).
//!
//! # Zeroization
//!
//! Every secret (identity seed and DH key, prekeys, root, chain, header and message keys, DH
//! outputs, KDF buffers) lives in a type that zeroizes on drop; `Debug` of every type holding
//! one prints public data and counters only. The AES round keys inside `aes-gcm` are wiped on
//! drop (the `aes`/`aes-gcm` `zeroize` features); the HMAC/HKDF and GHASH internal states and
//! by-value copies the dependency APIs make on the stack are not under this crate's control
//! and are only overwritten by later use. Serialized states contain the secrets: encrypt
//! them at rest. Persist a session after every `encrypt`/`decrypt` before using the result:
//! resuming from an older copy would reuse message keys.
//!
//! # Wire format
//!
//! See [`wire`](crate::MessageRef): version byte [`WIRE_VERSION`], 68-byte encrypted header
//! (12-byte nonce, 40-byte header ciphertext, 16-byte tag), body ciphertext and 16-byte tag:
//! 85 bytes of overhead. The initial message is `version ‖ flags ‖ IK_A (128) ‖ EK_A ‖ SPK id
//! [‖ OPK id] ‖ ratchet message`.

mod aead;
mod error;
mod header;
mod identity;
mod kdf;
mod keys;
mod prekeys;
mod ratchet;
mod session;
mod skipped;
mod wire;
mod x3dh;

pub use aead::TAG_LEN;
pub use error::{DecryptError, EncryptError, PrekeyError, WireError, X3dhError};
pub use header::HEADER_LEN;
pub use identity::{
    IDENTITY_DH_LABEL, IdentityKeyPair, IdentityPublic, SIGNATURE_LEN, SIGNED_PREKEY_LABEL,
};
pub use kdf::{
    CHAIN_KEY_CONSTANT, HEADER_NONCE_CONSTANT, MESSAGE_KEY_CONSTANT, NONCE_LEN, ROOT_INFO,
    X3DH_INFO,
};
pub use keys::KEY_LEN;
pub use prekeys::{
    OneTimePrekeyPublic, PrekeyBundle, PrekeyPolicy, PrekeyStore, SignedPrekeyPublic,
};
pub use rand_core;
pub use session::{Role, Session};
pub use skipped::{MAX_SKIP, MAX_SKIPPED_CHAINS, MAX_SKIPPED_TOTAL};
pub use wire::{
    ENCRYPTED_HEADER_LEN, InitialMessage, MAX_MESSAGE_LEN, MAX_PLAINTEXT_LEN, MESSAGE_OVERHEAD,
    MessageRef, WIRE_VERSION,
};
pub use x3dh::AD_LEN;
