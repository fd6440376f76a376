//! Batched updates: every touched path is rebuilt once, bottom-up, whatever the batch size.

use crate::hash::Hash256;

use super::node::{EMPTY_ROOT, Node, bit, shares_prefix};
use super::proof::MAX_PROOF_DEPTH;
use super::source::{NodeSource, SmtError, load};

/// The result of applying updates: the new root and every node created that the new root
/// reaches, ready to be written.
///
/// Only those: a node superseded within the same batch is never built, and a subtree the batch
/// leaves unchanged (a value rewritten with itself) contributes nothing. Children come before
/// their parents, so writing `nodes` in order never stores a node whose children are missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateDelta {
    /// Root of the updated tree.
    pub root: Hash256,
    /// The new nodes the root reaches, children first.
    pub nodes: Vec<Node>,
}

/// Applies `updates` (key, new value) in order on the tree with `root`; a later update of the
/// same key wins; a key already present gets its value replaced. No deletion.
///
/// The batch is sorted by key and applied in one descent, so each node on a touched path is
/// read once and each new node hashed once: about `updates × log2(keys)` hashes in all. Only
/// the nodes on touched paths are read; the rest of the tree is not checked.
pub fn apply_updates<S: NodeSource>(
    source: &S,
    root: Hash256,
    updates: &[(Hash256, Hash256)],
) -> Result<StateDelta, SmtError<S::Error>> {
    let entries = last_per_key(updates);
    let mut batch = Batch {
        source,
        nodes: Vec::new(),
    };
    let root = batch.update(root, 0, &entries)?;
    Ok(StateDelta {
        root,
        nodes: batch.nodes,
    })
}

/// `updates` sorted by key, keeping only the last value given for each key.
fn last_per_key(updates: &[Entry]) -> Vec<Entry> {
    let mut sorted = updates.to_vec();
    // Stable: updates of one key stay in batch order, so the last one is the latest.
    sorted.sort_by_key(|(key, _)| *key);
    let mut out: Vec<Entry> = Vec::with_capacity(sorted.len());
    for (key, value) in sorted {
        match out.last_mut() {
            Some(last) if last.0 == key => last.1 = value,
            _ => out.push((key, value)),
        }
    }
    out
}

/// A key and its new value.
type Entry = (Hash256, Hash256);

/// One batch in progress: where old nodes come from and the new nodes so far.
struct Batch<'a, S> {
    source: &'a S,
    nodes: Vec<Node>,
}

impl<S: NodeSource> Batch<'_, S> {
    /// The new hash of the subtree `hash` at `depth` once `entries` are written into it.
    /// `entries` are sorted, one per key, all under the subtree's path.
    fn update(
        &mut self,
        hash: Hash256,
        depth: usize,
        entries: &[Entry],
    ) -> Result<Hash256, SmtError<S::Error>> {
        let Some((first, _)) = entries.first() else {
            return Ok(hash);
        };
        if hash == EMPTY_ROOT {
            return Ok(self.build(depth, entries, None));
        }
        let mark = self.nodes.len();
        let new = match load(self.source, &hash)? {
            Node::Leaf { key, value } => {
                if !shares_prefix(&key, first, depth) {
                    return Err(SmtError::Corrupt(hash));
                }
                self.merge_leaf(depth, ((key, value), hash), entries)
            }
            Node::Internal { left, right } => {
                if depth >= MAX_PROOF_DEPTH {
                    return Err(SmtError::Corrupt(hash));
                }
                let (to_left, to_right) = split(entries, depth);
                let left = self.update(left, depth + 1, to_left)?;
                let right = self.update(right, depth + 1, to_right)?;
                self.emit(Node::Internal { left, right })
            }
        };
        if new == hash {
            // Nothing changed here: the source already holds every node just rebuilt.
            self.nodes.truncate(mark);
        }
        Ok(new)
    }

    /// The subtree at `depth` holding the existing leaf (its entry and hash) and `entries`, an
    /// entry of the leaf's key replacing it.
    fn merge_leaf(&mut self, depth: usize, leaf: (Entry, Hash256), entries: &[Entry]) -> Hash256 {
        match entries.binary_search_by(|(key, _)| key.cmp(&leaf.0.0)) {
            Ok(_) => self.build(depth, entries, None),
            Err(at) => {
                let mut merged = Vec::with_capacity(entries.len() + 1);
                merged.extend_from_slice(&entries[..at]);
                merged.push(leaf.0);
                merged.extend_from_slice(&entries[at..]);
                self.build(depth, &merged, Some(leaf))
            }
        }
    }

    /// The canonical subtree at `depth` holding exactly `entries` (sorted, distinct keys, all
    /// under the subtree's path). `kept` is an entry whose leaf the source already holds, with
    /// the leaf's hash: moved down, it is neither hashed nor emitted again.
    fn build(
        &mut self,
        depth: usize,
        entries: &[Entry],
        kept: Option<(Entry, Hash256)>,
    ) -> Hash256 {
        match (entries, kept) {
            ([], _) => EMPTY_ROOT,
            ([entry], Some((old, hash))) if *entry == old => hash,
            ([(key, value)], _) => self.emit(Node::Leaf {
                key: *key,
                value: *value,
            }),
            // Two distinct keys sharing `depth` bits differ at a later bit: `depth` < 256.
            _ => {
                let (to_left, to_right) = split(entries, depth);
                let left = self.build(depth + 1, to_left, kept);
                let right = self.build(depth + 1, to_right, kept);
                self.emit(Node::Internal { left, right })
            }
        }
    }

    /// Records a new node, returning its hash.
    fn emit(&mut self, node: Node) -> Hash256 {
        let hash = node.hash();
        self.nodes.push(node);
        hash
    }
}

/// Sorted `entries` sharing `depth` bits, split by bit `depth`: (left, right).
fn split(entries: &[Entry], depth: usize) -> (&[Entry], &[Entry]) {
    entries.split_at(entries.partition_point(|(key, _)| !bit(key, depth)))
}
