//! The node identity: one Ed25519 key, kept in the data dir, spelled three ways — a
//! [`SigningKey`] that signs chain items, a libp2p [`Keypair`] / [`PeerId`], and a W3C
//! `did:key`.
//!
//! Files: the data dir is created with mode 0700, the key file `node.key` (the 32-byte secret,
//! raw) with mode 0600. A key file that the group or others may access is refused.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use libp2p::PeerId;
use libp2p::identity::Keypair;
use talos_chain::{SigningKey, VerifyingKey};

/// Name of the key file in the data dir.
pub const KEY_FILE: &str = "node.key";

/// Multicodec prefix of an Ed25519 public key (`ed25519-pub`, 0xed as an unsigned varint).
pub const ED25519_PUB_MULTICODEC: [u8; 2] = [0xed, 0x01];

/// Why the identity could not be created or loaded.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// A file system operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was attempted.
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The key file is accessible to the group or others.
    #[error(
        "key file {path} has mode {mode:03o}, which lets other users read it; \
         run `chmod 600 {path}` (and check nobody copied it)"
    )]
    InsecurePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
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
    Libp2p(String),
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> IdentityError {
    let path = path.to_owned();
    move |source| IdentityError::Io {
        action,
        path,
        source,
    }
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
        let keypair = Keypair::ed25519_from_bytes(&mut secret[..])
            .map_err(|e| IdentityError::Libp2p(e.to_string()))?;
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
        write_private_file(&path, &secret, true)?;
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
            Err(e) => return Err(io_err("reading", &path)(e)),
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

/// Creates `dir` (and parents) with mode 0700 if it does not exist. An existing dir that the
/// group or others may access is kept as is, with a warning.
pub fn ensure_data_dir(dir: &Path) -> Result<(), IdentityError> {
    if dir.is_dir() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = fs::metadata(dir).map_err(io_err("reading", dir))?;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(path = %dir.display(), mode = format!("{mode:03o}"),
                    "data dir is accessible to other users; consider chmod 700");
            }
        }
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io_err("creating", dir))
}

#[cfg(unix)]
fn check_private(path: &Path, meta: &fs::Metadata) -> Result<(), IdentityError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(IdentityError::InsecurePermissions {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _meta: &fs::Metadata) -> Result<(), IdentityError> {
    Ok(())
}

/// Writes `data` to `path` with mode 0600: into a new temporary file next to it, synced, then
/// renamed over `path`. With `create_new`, an existing `path` is an error (never overwrite a
/// key).
pub fn write_private_file(path: &Path, data: &[u8], create_new: bool) -> Result<(), IdentityError> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = (|| {
        let mut file = options.open(&tmp).map_err(io_err("creating", &tmp))?;
        file.write_all(data).map_err(io_err("writing", &tmp))?;
        file.sync_all().map_err(io_err("syncing", &tmp))?;
        if create_new && path.exists() {
            return Err(IdentityError::Io {
                action: "creating",
                path: path.to_owned(),
                source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
            });
        }
        fs::rename(&tmp, path).map_err(io_err("renaming into", path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The `did:key` of an Ed25519 public key: `did:key:z` + base58btc(0xed 0x01 ‖ key).
pub fn did_key(key: &VerifyingKey) -> String {
    let mut bytes = Vec::with_capacity(34);
    bytes.extend_from_slice(&ED25519_PUB_MULTICODEC);
    bytes.extend_from_slice(key.as_bytes());
    format!("did:key:z{}", bs58::encode(bytes).into_string())
}

/// The Ed25519 key of a `did:key`, if it is one.
pub fn parse_did_key(did: &str) -> Option<VerifyingKey> {
    let encoded = did.strip_prefix("did:key:z")?;
    let bytes = bs58::decode(encoded).into_vec().ok()?;
    let key = bytes.strip_prefix(&ED25519_PUB_MULTICODEC)?;
    VerifyingKey::from_bytes(key.try_into().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

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
        assert_eq!(parse_did_key(first.did()), Some(first.verifying_key()));
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
            assert!(matches!(err, IdentityError::InsecurePermissions { mode, .. } if mode == bad));
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
        write_private_file(&tmp.path().join(KEY_FILE), &[1u8; 31], true).unwrap();
        assert!(matches!(
            NodeIdentity::load(tmp.path()),
            Err(IdentityError::BadKeyFile { len: 31, .. })
        ));
        assert!(write_private_file(&tmp.path().join(KEY_FILE), &[1u8; 32], true).is_err());
    }

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
            assert_eq!(parse_did_key(did), Some(key));
        }
        // From a seed (did-method-key test vectors: all-zero seed).
        let mut seed = [0u8; 32];
        let id = NodeIdentity::from_secret(&mut seed).unwrap();
        assert_eq!(
            id.did(),
            "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
        );
        assert_eq!(parse_did_key("did:key:zNotBase58!"), None);
        assert_eq!(parse_did_key("did:web:example.com"), None);
    }
}
