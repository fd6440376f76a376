//! Batched writes: every touched path is read and rebuilt once, bottom-up, whatever the batch
//! size.

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

/// How a [`StateWrite`] treats a key that already has a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WriteKind {
    /// Sets the value, replacing any value the key has.
    Set,
    /// Sets the value only if the key has none yet: a value in the tree, or one an earlier
    /// write of the same batch gave it, stays.
    Insert,
}

/// One write of a batch: a key, its new value and what happens when the key has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StateWrite {
    /// The key written.
    pub key: Hash256,
    /// Its new value.
    pub value: Hash256,
    /// Whether the write replaces a value the key has.
    pub kind: WriteKind,
}

/// What [`apply_writes`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteOutcome {
    /// The new root and the nodes it needs.
    pub delta: StateDelta,
    /// Keys of [`WriteKind::Insert`] writes that found a value in the tree and changed nothing,
    /// sorted. An insert superseded by an earlier write of the batch is not listed.
    pub already_set: Vec<Hash256>,
}

/// Applies `updates` (key, new value) in order on the tree with `root`; a later update of the
/// same key wins; a key already present gets its value replaced. No deletion.
///
/// [`apply_writes`] with every write a [`WriteKind::Set`].
pub fn apply_updates<S: NodeSource>(
    source: &S,
    root: Hash256,
    updates: &[(Hash256, Hash256)],
) -> Result<StateDelta, SmtError<S::Error>> {
    let writes = updates.iter().map(|&(key, value)| StateWrite {
        key,
        value,
        kind: WriteKind::Set,
    });
    Ok(apply_resolved(source, root, &resolve(writes))?.delta)
}

/// Applies `writes` in order on the tree with `root`: a set replaces whatever the key had, an
/// insert only fills a key without a value. No deletion.
///
/// The batch is sorted by key and applied in one descent, so each node on a touched path is
/// read once and each new node hashed once: about `writes × log2(keys)` hashes in all, and
/// whether an insert's key is set costs no read the descent does not make anyway. Only the
/// nodes on touched paths are read; the rest of the tree is not checked.
pub fn apply_writes<S: NodeSource>(
    source: &S,
    root: Hash256,
    writes: &[StateWrite],
) -> Result<WriteOutcome, SmtError<S::Error>> {
    apply_resolved(source, root, &resolve(writes.iter().copied()))
}

/// New nodes reserved per write: a leaf and the internal nodes of its path below the top the
/// batch shares, about 7.7 per write for 100 writes in a tree of 10,000 keys.
const NODES_PER_WRITE: usize = 8;

/// Applies `writes` (sorted, one per key) in one descent from `root`.
fn apply_resolved<S: NodeSource>(
    source: &S,
    root: Hash256,
    writes: &[StateWrite],
) -> Result<WriteOutcome, SmtError<S::Error>> {
    let mut batch = Batch {
        source,
        nodes: Vec::with_capacity(writes.len() * NODES_PER_WRITE),
        already_set: Vec::new(),
    };
    let root = batch.update(root, 0, writes)?;
    Ok(WriteOutcome {
        delta: StateDelta {
            root,
            nodes: batch.nodes,
        },
        already_set: batch.already_set,
    })
}

/// `writes` sorted by key, one per key: what the key's writes, in batch order, amount to.
///
/// The last set if there is one (an insert before it is overwritten, one after it finds the
/// key set), otherwise the first insert (the later ones find the key set).
fn resolve(writes: impl Iterator<Item = StateWrite>) -> Vec<StateWrite> {
    let mut sorted: Vec<StateWrite> = writes.collect();
    // Stable: the writes of one key stay in batch order.
    sorted.sort_by_key(|write| write.key);
    // `dedup_by` drops `later` when told so, after folding it into the write kept.
    sorted.dedup_by(|later, kept| {
        let same = later.key == kept.key;
        if same && later.kind == WriteKind::Set {
            *kept = *later;
        }
        same
    });
    sorted
}

/// A leaf the source already holds and the batch keeps as it is, moved down the subtree it
/// shares with new writes: it is neither hashed nor emitted again.
#[derive(Clone, Copy)]
struct Kept {
    /// The leaf's key: no write of the batch has it, or only an insert, which yields.
    key: Hash256,
    /// The leaf's hash.
    hash: Hash256,
}

/// One batch in progress: where old nodes come from, the new nodes and the refused inserts so
/// far.
struct Batch<'a, S> {
    source: &'a S,
    nodes: Vec<Node>,
    already_set: Vec<Hash256>,
}

impl<S: NodeSource> Batch<'_, S> {
    /// The new hash of the subtree `hash` at `depth` once `writes` are applied to it.
    /// `writes` are sorted, one per key, all under the subtree's path.
    fn update(
        &mut self,
        hash: Hash256,
        depth: usize,
        writes: &[StateWrite],
    ) -> Result<Hash256, SmtError<S::Error>> {
        let Some(first) = writes.first() else {
            return Ok(hash);
        };
        if hash == EMPTY_ROOT {
            return Ok(self.build(depth, writes, None));
        }
        let mark = self.nodes.len();
        let new = match load(self.source, &hash)? {
            Node::Leaf { key, .. } => {
                if !shares_prefix(&key, &first.key, depth) {
                    return Err(SmtError::Corrupt(hash));
                }
                let kept = self.keep(writes, Kept { key, hash });
                self.build(depth, writes, kept)
            }
            Node::Internal { left, right } => {
                if depth >= MAX_PROOF_DEPTH {
                    return Err(SmtError::Corrupt(hash));
                }
                let (to_left, to_right) = split(writes, depth);
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

    /// The existing `leaf` under `writes`, if it stays: unless a set of its key replaces it.
    fn keep(&mut self, writes: &[StateWrite], leaf: Kept) -> Option<Kept> {
        match writes.binary_search_by(|write| write.key.cmp(&leaf.key)) {
            Ok(at) if writes[at].kind == WriteKind::Set => None,
            Ok(_) => {
                self.already_set.push(leaf.key);
                Some(leaf)
            }
            Err(_) => Some(leaf),
        }
    }

    /// The canonical subtree at `depth` holding exactly `writes` (sorted, one per key, all under
    /// the subtree's path) and the `kept` leaf, if any, which wins over an insert of its key.
    fn build(&mut self, depth: usize, writes: &[StateWrite], kept: Option<Kept>) -> Hash256 {
        match (writes, kept) {
            ([], None) => EMPTY_ROOT,
            ([], Some(kept)) => kept.hash,
            ([write], Some(kept)) if write.key == kept.key => kept.hash,
            ([write], None) => self.emit(Node::Leaf {
                key: write.key,
                value: write.value,
            }),
            // Two distinct keys sharing `depth` bits differ at a later bit: `depth` < 256.
            _ => {
                let (to_left, to_right) = split(writes, depth);
                let (kept_left, kept_right) = match kept {
                    Some(leaf) if bit(&leaf.key, depth) => (None, Some(leaf)),
                    kept => (kept, None),
                };
                let left = self.build(depth + 1, to_left, kept_left);
                let right = self.build(depth + 1, to_right, kept_right);
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

/// Sorted `writes` sharing `depth` bits, split by bit `depth`: (left, right).
fn split(writes: &[StateWrite], depth: usize) -> (&[StateWrite], &[StateWrite]) {
    writes.split_at(writes.partition_point(|write| !bit(&write.key, depth)))
}
