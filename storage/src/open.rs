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
    let mut partial_snapshots_removed = false;
    loop {
        match open() {
            Err(sled::Error::Io(e)) if is_lock_contention(&e) && attempts < 250 => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            // Reported once sled holds the file lock: no other process has the store open.
            Err(e @ sled::Error::Corruption { at: None, .. }) if !partial_snapshots_removed => {
                partial_snapshots_removed = true;
                if remove_partial_snapshots(path)? == 0 {
                    return Err(StorageError::backend("opening the database", e));
                }
            }
            result => return result.map_err(|e| StorageError::backend("opening the database", e)),
        }
    }
}

/// Removes the snapshots sled was still writing when its process died (`snap.<lsn>.generating`);
/// how many.
///
/// sled 0.34 writes a snapshot under that name and renames it once complete and synced, but
/// when it opens it takes the last `snap.*` file by name, an unfinished one included (it sorts
/// after the finished snapshot of the same position), and fails on its checksum. An unfinished
/// snapshot holds nothing the log does not: the previous snapshot, or the log from the start,
/// is what sled recovers from once it is gone.
fn remove_partial_snapshots(path: &Path) -> Result<usize> {
    let entries = std::fs::read_dir(path)
        .map_err(|e| StorageError::backend("listing the store directory", e))?;
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            std::fs::remove_file(entry.path())
                .map_err(|e| StorageError::backend("removing an unfinished snapshot", e))?;
            tracing::warn!(file = %name, "removed a snapshot the last run did not finish");
            removed += 1;
        }
    }
    Ok(removed)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What a SIGKILL during snapshot writing leaves: an unfinished `snap.*.generating` after
    /// the finished one. sled alone refuses to open it; `open_db` removes it and recovers.
    #[test]
    fn an_unfinished_snapshot_does_not_keep_the_store_closed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("db");
        {
            let db = open_db(&path, 1 << 20, SledMode::LowSpace).expect("create");
            db.insert(b"key", b"value").expect("insert");
            db.flush().expect("flush");
        }
        let unfinished = path.join("snap.FFFFFFFFFFFFFFFF.generating");
        std::fs::write(&unfinished, b"half of a snapshot").expect("write");
        let alone = loop {
            match sled::Config::new().path(&path).open() {
                Err(sled::Error::Io(e)) if is_lock_contention(&e) => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => break other,
            }
        };
        assert!(
            matches!(alone, Err(sled::Error::Corruption { at: None, .. })),
            "sled 0.34 alone fails on it (if this changes, sled changed its recovery): {alone:?}"
        );
        drop(alone);
        let db = open_db(&path, 1 << 20, SledMode::LowSpace).expect("reopen");
        assert_eq!(db.get(b"key").expect("get").as_deref(), Some(&b"value"[..]));
        assert!(!unfinished.exists());
    }
}
