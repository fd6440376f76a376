//! Files in the data dir: the dir itself (0700), private files written atomically (0600), and
//! the two files a running node leaves for its clients — the API cookie and the API address.
//!
//! | file | written by | read by |
//! |---|---|---|
//! | `node.key` | first start ([`crate::identity`]) | the node, `talos id`, `talos item submit` |
//! | `api.cookie` | every start of `talos run` (fresh random secret) | every client command |
//! | `api.addr` | every start of `talos run` (the address the API is bound to) | every client command |
//! | `talos.toml` | `talos init` | every command ([`crate::config`]) |
//!
//! The cookie and the address are removed when the node stops cleanly; after a crash they
//! stay, and a client then reports that nothing answers at that address.

use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Name of the API cookie file in the data dir.
pub const COOKIE_FILE: &str = "api.cookie";

/// Name of the file in the data dir holding the running node's API address.
pub const API_ADDR_FILE: &str = "api.addr";

/// Why a data-dir file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
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
    /// A private file is accessible to the group or others.
    #[error(
        "{path} has mode {mode:03o}, which lets other users read it; \
         run `chmod 600 {path}` (and check nobody copied it)"
    )]
    InsecurePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A file the node wrote holds something else.
    #[error("{path} does not hold {what}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What it should hold.
        what: &'static str,
    },
}

/// What [`write_private_file`] does when the file exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteMode {
    /// Fail: never overwrite (a key, a config the user may have edited).
    CreateNew,
    /// Replace it atomically.
    Replace,
}

pub(crate) fn io_err(
    action: &'static str,
    path: &Path,
) -> impl FnOnce(std::io::Error) -> FileError {
    let path = path.to_owned();
    move |source| FileError::Io {
        action,
        path,
        source,
    }
}

/// Creates `dir` (and parents) with mode 0700 if it does not exist. An existing dir that the
/// group or others may access is kept as is, with a warning.
pub fn ensure_data_dir(dir: &Path) -> Result<(), FileError> {
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

/// Refuses a file the group or others may access.
#[cfg(unix)]
pub fn check_private(path: &Path, meta: &fs::Metadata) -> Result<(), FileError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(FileError::InsecurePermissions {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

/// Refuses a file the group or others may access (no permission bits here).
#[cfg(not(unix))]
pub fn check_private(_path: &Path, _meta: &fs::Metadata) -> Result<(), FileError> {
    Ok(())
}

/// Writes `data` to `path` with mode 0600: into a new temporary file next to it, synced, then
/// renamed over `path` (so a reader never sees half a file).
pub fn write_private_file(path: &Path, data: &[u8], mode: WriteMode) -> Result<(), FileError> {
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
        if mode == WriteMode::CreateNew && path.exists() {
            return Err(FileError::Io {
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

/// Creates a fresh API cookie (32 random bytes, hex) in `data_dir`, replacing any previous one.
pub fn write_cookie(data_dir: &Path) -> Result<String, FileError> {
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
    let cookie = hex::encode(secret);
    write_private_file(
        &data_dir.join(COOKIE_FILE),
        cookie.as_bytes(),
        WriteMode::Replace,
    )?;
    Ok(cookie)
}

/// The running node's API cookie.
pub fn read_cookie(data_dir: &Path) -> Result<String, FileError> {
    let path = data_dir.join(COOKIE_FILE);
    let text = fs::read_to_string(&path).map_err(io_err("reading", &path))?;
    Ok(text.trim().to_owned())
}

/// Records the address the running node's API is bound to.
pub fn write_api_addr(data_dir: &Path, addr: SocketAddr) -> Result<(), FileError> {
    let path = data_dir.join(API_ADDR_FILE);
    write_private_file(&path, format!("{addr}\n").as_bytes(), WriteMode::Replace)
}

/// The address the running node recorded, if it recorded one.
pub fn read_api_addr(data_dir: &Path) -> Result<Option<SocketAddr>, FileError> {
    let path = data_dir.join(API_ADDR_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| FileError::Malformed {
                path,
                what: "an IP:PORT address",
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err("reading", &path)(e)),
    }
}

/// Removes the cookie and the address file (a clean stop).
pub fn remove_run_files(data_dir: &Path) {
    for name in [COOKIE_FILE, API_ADDR_FILE] {
        let _ = fs::remove_file(data_dir.join(name));
    }
}

/// The permission bits of a file (tests).
#[cfg(all(test, unix))]
pub(crate) fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_is_private_fresh_and_readable() {
        let tmp = tempfile::tempdir().unwrap();
        let a = write_cookie(tmp.path()).unwrap();
        let b = write_cookie(tmp.path()).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(read_cookie(tmp.path()).unwrap(), b);
        #[cfg(unix)]
        assert_eq!(mode(&tmp.path().join(COOKIE_FILE)), 0o600);
    }

    #[test]
    fn the_api_address_is_recorded_and_removed() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(read_api_addr(tmp.path()).unwrap(), None);
        let addr: SocketAddr = "127.0.0.1:9001".parse().unwrap();
        write_api_addr(tmp.path(), addr).unwrap();
        assert_eq!(read_api_addr(tmp.path()).unwrap(), Some(addr));
        write_cookie(tmp.path()).unwrap();
        remove_run_files(tmp.path());
        assert_eq!(read_api_addr(tmp.path()).unwrap(), None);
        assert!(read_cookie(tmp.path()).is_err());
        fs::write(tmp.path().join(API_ADDR_FILE), "nonsense").unwrap();
        assert!(matches!(
            read_api_addr(tmp.path()),
            Err(FileError::Malformed { .. })
        ));
    }

    #[test]
    fn create_new_never_overwrites() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("f");
        write_private_file(&path, b"one", WriteMode::CreateNew).unwrap();
        assert!(write_private_file(&path, b"two", WriteMode::CreateNew).is_err());
        assert_eq!(fs::read(&path).unwrap(), b"one");
        write_private_file(&path, b"two", WriteMode::Replace).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
    }
}
