//! X3DH key agreement (Signal's specification, Curve25519/SHA-256), both roles.

use rand_core::{CryptoRng, RngCore};

use crate::error::X3dhError;
use crate::identity::{IdentityKeyPair, IdentityPublic};
use crate::kdf::{self, X3dhKeys};
use crate::keys::{DhKeyPair, KEY_LEN, Secret32, x25519};
use crate::prekeys::{PrekeyBundle, PrekeyStore};
use crate::wire::InitialMessage;

/// Length of the associated data `AD` binding both identities.
pub const AD_LEN: usize = 4 * KEY_LEN;

/// `AD = IK_A.ed25519 ‖ IK_A.dh ‖ IK_B.ed25519 ‖ IK_B.dh` (initiator first).
pub(crate) fn associated_data(
    initiator: &IdentityPublic,
    responder: &IdentityPublic,
) -> [u8; AD_LEN] {
    let mut ad = [0u8; AD_LEN];
    ad[..KEY_LEN].copy_from_slice(&initiator.ed25519);
    ad[KEY_LEN..2 * KEY_LEN].copy_from_slice(&initiator.dh);
    ad[2 * KEY_LEN..3 * KEY_LEN].copy_from_slice(&responder.ed25519);
    ad[3 * KEY_LEN..].copy_from_slice(&responder.dh);
    ad
}

fn dh(secret: &Secret32, public: &[u8; KEY_LEN]) -> Result<Secret32, X3dhError> {
    x25519(secret, public).ok_or(X3dhError::NonContributory)
}

/// What the initiator's half of X3DH yields.
pub(crate) struct Initiated {
    pub(crate) keys: X3dhKeys,
    pub(crate) ad: [u8; AD_LEN],
    /// `EK_A`, public half (the private half is already wiped).
    pub(crate) ephemeral: [u8; KEY_LEN],
}

/// The initiator's half: verifies the bundle, then `DH1 = DH(IK_A, SPK_B)`,
/// `DH2 = DH(EK_A, IK_B)`, `DH3 = DH(EK_A, SPK_B)`, `DH4 = DH(EK_A, OPK_B)` if present.
pub(crate) fn initiate<R: RngCore + CryptoRng>(
    rng: &mut R,
    identity: &IdentityKeyPair,
    bundle: &PrekeyBundle,
) -> Result<Initiated, X3dhError> {
    bundle.identity.verify()?;
    bundle.signed_prekey.verify(&bundle.identity)?;
    let ephemeral = DhKeyPair::generate(rng);
    let spk = &bundle.signed_prekey.key;
    let dh1 = dh(identity.dh_secret(), spk)?;
    let dh2 = dh(&ephemeral.secret, &bundle.identity.dh)?;
    let dh3 = dh(&ephemeral.secret, spk)?;
    let keys = match &bundle.one_time_prekey {
        Some(opk) => kdf::x3dh(&[&dh1, &dh2, &dh3, &dh(&ephemeral.secret, &opk.key)?]),
        None => kdf::x3dh(&[&dh1, &dh2, &dh3]),
    };
    let ad = associated_data(identity.public(), &bundle.identity);
    Ok(Initiated {
        keys,
        ad,
        ephemeral: ephemeral.public,
    })
}

/// What the responder's half of X3DH yields. Nothing is consumed yet: the caller deletes the
/// one-time prekey once the first message decrypts.
pub(crate) struct Responded {
    pub(crate) keys: X3dhKeys,
    pub(crate) ad: [u8; AD_LEN],
    /// The signed prekey pair, the responder's first ratchet key pair.
    pub(crate) signed_prekey: DhKeyPair,
}

/// The responder's half: verifies `IK_A`, looks up the named prekeys, mirrors DH1..DH4.
pub(crate) fn respond(
    identity: &IdentityKeyPair,
    store: &PrekeyStore,
    initial: &InitialMessage,
) -> Result<Responded, X3dhError> {
    initial.identity.verify()?;
    let spk = store.signed_secret(initial.signed_prekey_id)?;
    let opk = match initial.one_time_prekey_id {
        Some(id) => Some(store.one_time_secret(id)?),
        None => None,
    };
    let ek = &initial.ephemeral;
    let dh1 = dh(&spk.secret, &initial.identity.dh)?;
    let dh2 = dh(identity.dh_secret(), ek)?;
    let dh3 = dh(&spk.secret, ek)?;
    let keys = match opk {
        Some(opk) => kdf::x3dh(&[&dh1, &dh2, &dh3, &dh(opk, ek)?]),
        None => kdf::x3dh(&[&dh1, &dh2, &dh3]),
    };
    let ad = associated_data(&initial.identity, identity.public());
    Ok(Responded {
        keys,
        ad,
        signed_prekey: spk.clone(),
    })
}
