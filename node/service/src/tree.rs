//! Building the fork-choice tree from the store's best chain at start-up.

use talos_chain::{HeaderTree, InsertOutcome, NetworkSpec};
use talos_storage::{MAX_HEADERS_PER_QUERY, Store};

use crate::config::ChainServiceConfig;
use crate::error::{ChainServiceError, Inconsistency};

/// A [`HeaderTree`] holding the store's best chain from `keep_depth` below the tip up to the
/// tip. Side branches in the store are not loaded: they are attached when a block builds on
/// them (see the import pipeline).
pub(crate) fn load_tree(
    store: &dyn Store,
    config: &ChainServiceConfig,
) -> Result<HeaderTree, ChainServiceError> {
    let spec: &NetworkSpec = &config.spec;
    let tip = store.tip()?;
    let root_height = tip.height.saturating_sub(config.fork_choice.keep_depth);
    let mut tree = if root_height == 0 {
        HeaderTree::with_config(spec, config.fork_choice)
    } else {
        let root = header_at(store, root_height)?;
        let parent = header_at(store, root_height - 1)?;
        HeaderTree::from_checkpoint(
            root.header,
            root.cumulative_work,
            Some(parent.header.timestamp_ms),
            config.fork_choice,
        )
    };
    let mut next = root_height.saturating_add(1);
    while next <= tip.height {
        let page = store.best_headers(next, MAX_HEADERS_PER_QUERY)?;
        if page.is_empty() {
            return Err(ChainServiceError::MissingHeader { height: next });
        }
        for entry in page {
            if !matches!(tree.insert(entry.header), Ok(InsertOutcome::ExtendedBest)) {
                return Err(Inconsistency::BestChainBreak {
                    height: entry.height(),
                }
                .into());
            }
            next = entry.height().saturating_add(1);
        }
    }
    let best = tree.best();
    if best.id != tip.id || best.cumulative_work != tip.cumulative_work {
        return Err(Inconsistency::TipMismatch {
            tree: best.id,
            tree_height: best.height,
            store: tip.id,
            store_height: tip.height,
        }
        .into());
    }
    Ok(tree)
}

fn header_at(
    store: &dyn Store,
    height: u64,
) -> Result<talos_storage::HeaderEntry, ChainServiceError> {
    store
        .best_header_at(height)?
        .ok_or(ChainServiceError::MissingHeader { height })
}
