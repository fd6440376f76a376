//! The node's stores as the light client's [`HeaderSource`]: a light node's header store, and a
//! full node's chain store (so `talos verify-proof` works on either).

use talos_chain::Hash256;
use talos_light::{HeaderSource, StoredHeader};
use talos_storage::{ChainStore, HeaderEntry, HeaderStore, StorageError};

fn stored(entry: HeaderEntry) -> StoredHeader {
    StoredHeader {
        header: entry.header,
        cumulative_work: entry.cumulative_work,
    }
}

/// A light node's header store.
pub struct LightHeaders<'a>(pub &'a dyn HeaderStore);

impl HeaderSource for LightHeaders<'_> {
    type Error = StorageError;

    fn tip(&self) -> Result<StoredHeader, StorageError> {
        let tip = self.0.tip()?;
        let entry = self.0.header(&tip.id, tip.height)?;
        entry.map(stored).ok_or(StorageError::NotFound {
            what: "tip header",
            id: tip.id,
        })
    }

    fn header(&self, id: &Hash256, height: u64) -> Result<Option<StoredHeader>, StorageError> {
        Ok(self.0.header(id, height)?.map(stored))
    }

    fn best_id_at(&self, height: u64) -> Result<Option<Hash256>, StorageError> {
        self.0.best_id_at(height)
    }
}

/// A full node's chain store (its headers).
pub struct FullHeaders<'a>(pub &'a dyn ChainStore);

impl HeaderSource for FullHeaders<'_> {
    type Error = StorageError;

    fn tip(&self) -> Result<StoredHeader, StorageError> {
        let tip = self.0.tip()?;
        self.header(&tip.id, tip.height)?
            .ok_or(StorageError::NotFound {
                what: "tip header",
                id: tip.id,
            })
    }

    fn header(&self, id: &Hash256, height: u64) -> Result<Option<StoredHeader>, StorageError> {
        let entry = self.0.header(id)?.filter(|e| e.height() == height);
        Ok(entry.map(stored))
    }

    fn best_id_at(&self, height: u64) -> Result<Option<Hash256>, StorageError> {
        self.0.best_id_at(height)
    }
}
