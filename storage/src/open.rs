//! Opening a sled database, for the chain store and the header store alike: one database per
//! path per process (whichever kind of store holds it), riding out a file lock sled still
//! holds for a moment, and creating a new store atomically.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::SledMode;
use crate::error::{Result, StorageError};

/// Store paths open in this process (chain and header stores share the registry).
static OPEN_PATHS: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

fn open_paths() -> MutexGuard<'static, BTreeSet<PathBuf>> {
    OPEN_PATHS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Holds a path in [`OPEN_PATHS`] until dropped.
#[derive(Debug)]
pub(crate) struct PathClaim(pub PathBuf);

impl PathClaim {
    /// Creates `path` (mode 0700 on Unix) and claims it; [`StorageError::AlreadyOpen`] when a
    /// store of this process holds it already.
    pub(crate) fn claim(path: &Path) -> Result<Self> {
        std::fs::create_dir_all(path)
            .map_err(|e| StorageError::backend("creating the store directory", e))?;
        restrict_permissions(path)?;
        let path = path
            .canonicalize()
            .map_err(|e| StorageError::backend("resolving the store path", e))?;
        if !open_paths().insert(path.clone()) {
            return Err(StorageError::AlreadyOpen {
                path: path.display().to_string(),
            });
        }
        Ok(Self(path))
    }
}

impl Drop for PathClaim {
    fn drop(&mut self) {
        open_paths().remove(&self.0);
    }
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| StorageError::backend("restricting the store directory to its owner", e))
}

#[cfg(not(unix))]
fn restrict_permissions(_path: &Path) -> Result<()> {
    Ok(())
}

/// Opens the sled database at `path` with a page cache of `cache_bytes`.
///
/// sled 0.34 may hold the file lock of a database just closed in this process for a moment
/// (its background threads release it when they end); a bounded retry (about 5 s) rides that
/// out, while another process really holding the store still fails.
pub(crate) fn open_db(path: &Path, cache_bytes: u64, mode: SledMode) -> Result<sled::Db> {
    let open = || {
        sled::Config::new()
            .path(path)
            .cache_capacity(cache_bytes)
            .mode(match mode {
                SledMode::LowSpace => sled::Mode::LowSpace,
                SledMode::HighThroughput => sled::Mode::HighThroughput,
            })
            .open()
    };
    let mut attempts = 0;
    loop {
        match open() {
            Err(sled::Error::Io(e)) if is_lock_contention(&e) && attempts < 250 => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            result => return result.map_err(|e| StorageError::backend("opening the database", e)),
        }
    }
}

/// Whether sled failed to take the database's file lock (sled 0.34 reports it as `Other`
/// with a message wrapping the OS error).
pub(crate) fn is_lock_contention(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::WouldBlock || e.to_string().contains("could not acquire lock")
}

/// Creates a new store atomically when `path` holds none yet: `init` (given the path of a
/// sibling `<name>.init` directory, claimed) builds and flushes it there, and only then is it
/// renamed to `path`. sled cannot always reopen a database killed while writing its first
/// files, so a crash leaves either no store (and a stale `.init`, removed on the next start)
/// or a complete one.
pub(crate) fn create_if_absent(
    path: &Path,
    init: impl FnOnce(&PathClaim) -> Result<()>,
) -> Result<()> {
    let exists = std::fs::read_dir(path)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if exists {
        return Ok(());
    }
    let name = path.file_name().ok_or_else(|| {
        StorageError::backend(
            "naming the store directory",
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "store path has no file name",
            ),
        )
    })?;
    let mut init_name = name.to_owned();
    init_name.push(".init");
    let staging = path.with_file_name(init_name);
    if staging.exists() {
        std::fs::remove_dir_all(&staging)
            .map_err(|e| StorageError::backend("removing an unfinished store", e))?;
    }
    init(&PathClaim::claim(&staging)?)?;
    if path.exists() {
        std::fs::remove_dir(path)
            .map_err(|e| StorageError::backend("replacing an empty directory", e))?;
    }
    std::fs::rename(&staging, path)
        .map_err(|e| StorageError::backend("moving the new store into place", e))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::File::open(parent)
            .and_then(|d| d.sync_all())
            .map_err(|e| StorageError::backend("syncing the store's parent directory", e))?;
    }
    Ok(())
}
