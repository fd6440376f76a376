//! The node's stores as the light client's [`HeaderSource`]: a light node's header store, and a
//! full node's chain store (so `talos verify-proof` works on either). Both stores answer the
//! same three questions under the same names, so one macro writes both adapters.

use talos_chain::Hash256;
use talos_light::{HeaderSource, StoredHeader};
use talos_storage::{ChainStore, HeaderEntry, HeaderStore, StorageError};

fn stored(entry: HeaderEntry) -> StoredHeader {
    StoredHeader {
        header: entry.header,
        cumulative_work: entry.cumulative_work,
    }
}

macro_rules! header_source {
    ($(#[$doc:meta])* $name:ident over $store:path) => {
        $(#[$doc])*
        pub struct $name<'a>(pub &'a dyn $store);

        impl HeaderSource for $name<'_> {
            type Error = StorageError;

            fn tip(&self) -> Result<StoredHeader, StorageError> {
                let tip = self.0.tip()?;
                self.0.header(&tip.id)?.map(stored).ok_or(StorageError::NotFound {
                    what: "tip header",
                    id: tip.id,
                })
            }

            fn header(&self, id: &Hash256) -> Result<Option<StoredHeader>, StorageError> {
                Ok(self.0.header(id)?.map(stored))
            }

            fn best_id_at(&self, height: u64) -> Result<Option<Hash256>, StorageError> {
                self.0.best_id_at(height)
            }
        }
    };
}

header_source!(
    /// A light node's header store.
    LightHeaders over HeaderStore
);
header_source!(
    /// A full node's chain store (its headers).
    FullHeaders over ChainStore
);
