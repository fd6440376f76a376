//! The node identity: one Ed25519 key, kept in the data dir, spelled three ways — a
//! [`SigningKey`] that signs chain items, a libp2p [`Keypair`] / [`PeerId`], and a W3C
//! `did:key` ([`talos_identity`]).
//!
//! Files: the data dir is created with mode 0700, the key file `node.key` (the 32-byte secret,
//! raw) with mode 0600. A key file that the group or others may access is refused.

use std::fs;
use std::path::{Path, PathBuf};

use libp2p::PeerId;
use libp2p::identity::Keypair;
use talos_chain::{SigningKey, VerifyingKey};
use talos_identity::did_key;

use crate::files::{
    FileError, WriteMode, check_private, ensure_data_dir, io_err, write_private_file,
};

/// Name of the key file in the data dir.
pub const KEY_FILE: &str = "node.key";

/// Why the identity could not be created or loaded.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The data dir or the key file could not be used.
    #[error(transparent)]
    File(#[from] FileError),
    /// The key file does not hold a 32-byte Ed25519 secret.
    #[error("key file {path} is not a 32-byte Ed25519 secret ({len} bytes)")]
    BadKeyFile {
        /// The key file.
        path: PathBuf,
        /// Its length.
        len: u64,
    },
    /// There is no key file (client commands never create one).
    #[error("no node key at {0}; run `talos init` (or `talos run`) first")]
    Missing(PathBuf),
    /// libp2p refused the key bytes (cannot happen for 32 bytes).
    #[error("libp2p key: {0}")]
    Libp2p(#[from] libp2p::identity::DecodingError),
}

/// The node's key and its names.
pub struct NodeIdentity {
    signing: SigningKey,
    keypair: Keypair,
    peer_id: PeerId,
    did: String,
}

impl std::fmt::Debug for NodeIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeIdentity")
            .field("peer_id", &self.peer_id)
            .field("did", &self.did)
            .finish_non_exhaustive()
    }
}

impl Clone for NodeIdentity {
    fn clone(&self) -> Self {
        Self {
            signing: self.signing.clone(),
            keypair: self.keypair.clone(),
            peer_id: self.peer_id,
            did: self.did.clone(),
        }
    }
}

impl NodeIdentity {
    /// An identity from a 32-byte secret. The buffer is zeroed afterwards.
    pub fn from_secret(secret: &mut [u8; 32]) -> Result<Self, IdentityError> {
        let signing = SigningKey::from_bytes(secret);
        // `ed25519_from_bytes` zeroes the buffer it is given.
        let keypair = Keypair::ed25519_from_bytes(&mut secret[..])?;
        secret.fill(0);
        let peer_id = keypair.public().to_peer_id();
        let did = did_key(&signing.verifying_key());
        Ok(Self {
            signing,
            keypair,
            peer_id,
            did,
        })
    }

    /// A fresh random identity (tests, the simulator).
    pub fn generate() -> Self {
        loop {
            let mut secret = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
            if let Ok(id) = Self::from_secret(&mut secret) {
                return id;
            }
        }
    }

    /// Loads the key from `data_dir`, creating the dir (0700) and a new key (0600) on first
    /// start. Returns the identity and whether the key was created now.
    pub fn load_or_create(data_dir: &Path) -> Result<(Self, bool), IdentityError> {
        ensure_data_dir(data_dir)?;
        let path = data_dir.join(KEY_FILE);
        match Self::load(data_dir) {
            Err(IdentityError::Missing(_)) => {}
            other => return other.map(|id| (id, false)),
        }
        let mut secret = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
        write_private_file(&path, &secret, WriteMode::CreateNew)?;
        let id = Self::from_secret(&mut secret)?;
        tracing::info!(peer_id = %id.peer_id, path = %path.display(), "created node identity");
        Ok((id, true))
    }

    /// Loads the key from `data_dir`; never creates anything.
    pub fn load(data_dir: &Path) -> Result<Self, IdentityError> {
        let path = data_dir.join(KEY_FILE);
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(IdentityError::Missing(path));
            }
            Err(e) => return Err(io_err("reading", &path)(e).into()),
        };
        check_private(&path, &meta)?;
        if meta.len() != 32 {
            return Err(IdentityError::BadKeyFile {
                path,
                len: meta.len(),
            });
        }
        let bytes = fs::read(&path).map_err(io_err("reading", &path))?;
        let mut secret: [u8; 32] =
            bytes
                .as_slice()
                .try_into()
                .map_err(|_| IdentityError::BadKeyFile {
                    path: path.clone(),
                    len: bytes.len() as u64,
                })?;
        drop(zeroed(bytes));
        Self::from_secret(&mut secret)
    }

    /// The key that signs items.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The same key as a libp2p keypair.
    pub fn keypair(&self) -> &Keypair {
        &self.keypair
    }

    /// The libp2p PeerId.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// The W3C `did:key`.
    pub fn did(&self) -> &str {
        &self.did
    }
}

fn zeroed(mut v: Vec<u8>) -> Vec<u8> {
    v.fill(0);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(unix)]
    use crate::files::mode;

    #[test]
    fn first_start_creates_private_files_and_second_start_loads_them() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b/data");
        let (first, created) = NodeIdentity::load_or_create(&dir).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&dir.join(KEY_FILE)), 0o600);
        }
        assert_eq!(fs::read(dir.join(KEY_FILE)).unwrap().len(), 32);
        let (second, created) = NodeIdentity::load_or_create(&dir).unwrap();
        assert!(!created);
        assert_eq!(first.peer_id(), second.peer_id());
        assert_eq!(first.did(), second.did());
        assert_eq!(NodeIdentity::load(&dir).unwrap().peer_id(), first.peer_id());
        // All spellings are the same key.
        let libp2p_pub = first
            .keypair()
            .public()
            .try_into_ed25519()
            .unwrap()
            .to_bytes();
        assert_eq!(libp2p_pub, first.verifying_key().to_bytes());
        assert_eq!(
            talos_identity::parse_did_key(first.did()),
            Ok(first.verifying_key())
        );
        assert_eq!(
            talos_identity::peer_id(&first.verifying_key()),
            first.peer_id()
        );
        assert_eq!(first.clone().peer_id(), first.peer_id());
    }

    #[cfg(unix)]
    #[test]
    fn a_key_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        NodeIdentity::load_or_create(tmp.path()).unwrap();
        let key = tmp.path().join(KEY_FILE);
        for bad in [0o644, 0o640, 0o604, 0o660] {
            fs::set_permissions(&key, fs::Permissions::from_mode(bad)).unwrap();
            let err = NodeIdentity::load_or_create(tmp.path()).unwrap_err();
            assert!(matches!(
                err,
                IdentityError::File(FileError::InsecurePermissions { mode, .. }) if mode == bad
            ));
            assert!(err.to_string().contains("chmod 600"), "{err}");
        }
        fs::set_permissions(&key, fs::Permissions::from_mode(0o400)).unwrap();
        NodeIdentity::load(tmp.path()).unwrap();
    }

    #[test]
    fn a_wrong_sized_key_is_refused_and_load_never_creates() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(matches!(
            NodeIdentity::load(tmp.path()),
            Err(IdentityError::Missing(_))
        ));
        write_private_file(&tmp.path().join(KEY_FILE), &[1u8; 31], WriteMode::CreateNew).unwrap();
        assert!(matches!(
            NodeIdentity::load(tmp.path()),
            Err(IdentityError::BadKeyFile { len: 31, .. })
        ));
        assert!(
            write_private_file(&tmp.path().join(KEY_FILE), &[1u8; 32], WriteMode::CreateNew)
                .is_err()
        );
    }

    #[test]
    fn the_all_zero_seed_gives_the_published_did() {
        // did-method-key test vector (the vectors themselves are talos-identity's tests).
        let mut seed = [0u8; 32];
        let id = NodeIdentity::from_secret(&mut seed).unwrap();
        assert_eq!(
            id.did(),
            "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
        );
        assert_eq!(seed, [0; 32], "the secret buffer is zeroed");
    }
}
