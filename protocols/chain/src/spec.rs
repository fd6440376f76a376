//! Network specs: the parameters that make a network, and its genesis block.
//!
//! The specs of the embedded networks (`local`, `testnet`) are the TOML files in this crate's
//! `specs/` (also reachable as the repository's `testnet/specs/`), compiled in. Genesis is a pure function of the spec: two
//! nodes built separately from the same spec agree on the genesis hash.

use serde::{Deserialize, Serialize};

use crate::block::Block;
use crate::hash::Hash256;
use crate::header::{BlockHeader, HEADER_VERSION};
use crate::merkle;
use crate::pow::{CompactTarget, RetargetParams};

const LOCAL_TOML: &str = include_str!("../specs/local.toml");
const TESTNET_TOML: &str = include_str!("../specs/testnet.toml");

/// Size and count limits of a network. Each is checked before the work it guards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest canonical block size in bytes (header + items).
    pub max_block_bytes: usize,
    /// Largest canonical signed item size in bytes.
    pub max_item_bytes: usize,
    /// Most items in one block.
    pub max_items_per_block: u32,
    /// Most items in the mempool.
    pub mempool_max_items: usize,
    /// Most bytes (canonical) in the mempool.
    pub mempool_max_bytes: usize,
    /// Most mempool items of one author.
    pub mempool_max_per_author: usize,
}

/// Everything that defines a network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// Network name; part of every protocol name and gossip topic.
    pub name: String,
    /// Network id in every header and item signature.
    pub network_id: u32,
    /// Genesis block time.
    pub genesis_timestamp_ms: u64,
    /// Target of genesis and of block 1.
    pub genesis_target: CompactTarget,
    /// How far in the future (by the validator's clock) a block time may be.
    pub max_future_drift_ms: u64,
    /// Bootnode multiaddrs.
    #[serde(default)]
    pub bootnodes: Vec<String>,
    /// Difficulty retarget parameters.
    pub retarget: RetargetParams,
    /// Size limits.
    pub limits: Limits,
    /// Known best-chain blocks (height and id). A header at a checkpoint's height with another
    /// id is refused by header-first clients, so a long low-work fork from genesis cannot reach
    /// their storage. Optional; none on a fresh network.
    #[serde(default)]
    pub checkpoints: Vec<Checkpoint>,
}

/// A block every honest chain of the network contains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Its height.
    pub height: u64,
    /// Its block id.
    pub hash: Hash256,
}

/// A spec that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// Not valid TOML for a spec.
    #[error("network spec is not valid: {0}")]
    Parse(#[from] toml::de::Error),
    /// A field is out of range.
    #[error("network spec field `{field}` is invalid: {reason}")]
    Invalid {
        /// Field name.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
}

impl NetworkSpec {
    /// The embedded `local` network.
    pub fn local() -> Self {
        Self::from_toml(LOCAL_TOML).unwrap_or_else(|e| panic!("embedded local spec: {e}"))
    }

    /// The embedded public `testnet`.
    pub fn testnet() -> Self {
        Self::from_toml(TESTNET_TOML).unwrap_or_else(|e| panic!("embedded testnet spec: {e}"))
    }

    /// An embedded network by name.
    pub fn embedded(name: &str) -> Option<Self> {
        match name {
            "local" => Some(Self::local()),
            "testnet" => Some(Self::testnet()),
            _ => None,
        }
    }

    /// Parses and checks a spec.
    pub fn from_toml(text: &str) -> Result<Self, SpecError> {
        let spec: Self = toml::from_str(text)?;
        spec.check()?;
        Ok(spec)
    }

    fn check(&self) -> Result<(), SpecError> {
        let invalid = |field, reason| Err(SpecError::Invalid { field, reason });
        if self.name.is_empty()
            || !self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return invalid("name", "must be non-empty [A-Za-z0-9_-]");
        }
        let (Ok(genesis), Ok(limit)) = (
            self.genesis_target.to_target(),
            self.retarget.pow_limit.to_target(),
        ) else {
            return invalid("genesis_target", "targets must be valid compact targets");
        };
        if genesis > limit {
            return invalid(
                "genesis_target",
                "must not be easier than retarget.pow_limit",
            );
        }
        if self.retarget.block_interval_ms == 0 || self.retarget.damping == 0 {
            return invalid("retarget", "block_interval_ms and damping must be positive");
        }
        let l = &self.limits;
        if l.max_item_bytes == 0
            || l.max_item_bytes + crate::header::HEADER_BYTES > l.max_block_bytes
        {
            return invalid("limits.max_item_bytes", "an item must fit in a block");
        }
        if l.max_block_bytes > 64 * 1024 * 1024 {
            return invalid("limits.max_block_bytes", "at most 64 MiB");
        }
        if l.max_items_per_block == 0 || l.mempool_max_items == 0 || l.mempool_max_per_author == 0 {
            return invalid("limits", "counts must be positive");
        }
        if l.mempool_max_bytes < l.max_item_bytes {
            return invalid("limits.mempool_max_bytes", "must hold at least one item");
        }
        Ok(())
    }

    /// The genesis block: no items, no proof of work, fully determined by the spec.
    pub fn genesis(&self) -> Block {
        let header = BlockHeader {
            version: HEADER_VERSION,
            network_id: self.network_id,
            height: 0,
            prev_hash: Hash256::ZERO,
            merkle_root: merkle::root::<[u8; 32]>(&[]),
            state_root: crate::state::EMPTY_ROOT,
            item_count: 0,
            timestamp_ms: self.genesis_timestamp_ms,
            target: self.genesis_target,
            nonce: 0,
        };
        Block {
            header,
            items: Vec::new(),
        }
    }

    /// The genesis block id.
    pub fn genesis_hash(&self) -> Hash256 {
        self.genesis().id()
    }

    /// The checkpoint at `height`, if there is one.
    pub fn checkpoint_at(&self, height: u64) -> Option<&Checkpoint> {
        self.checkpoints.iter().find(|c| c.height == height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_are_optional_and_parse_from_toml() {
        assert!(NetworkSpec::local().checkpoints.is_empty());
        let hash = Hash256::sha256(b"block 10");
        let text = format!(
            "{}\n[[checkpoints]]\nheight = 10\nhash = \"{hash}\"\n",
            LOCAL_TOML
        );
        let spec = NetworkSpec::from_toml(&text).expect("a spec with a checkpoint");
        assert_eq!(spec.checkpoint_at(10).map(|c| c.hash), Some(hash));
        assert_eq!(spec.checkpoint_at(11), None);
        let bad = format!("{LOCAL_TOML}\n[[checkpoints]]\nheight = 10\nhash = \"zz\"\n");
        assert!(
            NetworkSpec::from_toml(&bad).is_err(),
            "a hash is 64 hex characters"
        );
    }

    #[test]
    fn embedded_specs_parse_and_differ() {
        let (l, t) = (NetworkSpec::local(), NetworkSpec::testnet());
        assert_eq!(l.name, "local");
        assert_eq!(t.name, "testnet");
        assert_ne!(l.network_id, t.network_id);
        assert_ne!(l.genesis_hash(), t.genesis_hash());
        assert_eq!(l.limits.max_block_bytes, 1 << 20);
        assert_eq!(l.limits.max_item_bytes, 100 * 1024);
        assert_eq!(l.limits.mempool_max_items, 10_000);
    }

    #[test]
    fn genesis_is_a_pure_function_of_the_spec() {
        // Pinned: a change to the header encoding or to the spec changes this on purpose only.
        let a = NetworkSpec::from_toml(LOCAL_TOML).unwrap();
        let b = NetworkSpec::local();
        assert_eq!(a.genesis_hash(), b.genesis_hash());
        let mut other = b.clone();
        other.genesis_timestamp_ms += 1;
        assert_ne!(other.genesis_hash(), b.genesis_hash());
    }

    #[test]
    fn bad_specs_are_rejected() {
        let bad_target =
            LOCAL_TOML.replace("genesis_target = 0x1f00ffff", "genesis_target = 0x1f80ffff");
        assert!(matches!(
            NetworkSpec::from_toml(&bad_target),
            Err(SpecError::Invalid { .. })
        ));
        let unknown = format!("{LOCAL_TOML}\nsurprise = 1\n");
        assert!(NetworkSpec::from_toml(&unknown).is_err());
        let big_item = LOCAL_TOML.replace("max_item_bytes = 102400", "max_item_bytes = 2000000");
        assert!(NetworkSpec::from_toml(&big_item).is_err());
    }
}
