//! [`LocalChain`]: where a [`super::Net`]'s machine imports go, a full chain or a header
//! store.

use talos_chain::{Block, BlockHeader, Hash256};

use super::chain::TestChain;
use super::headers::HeaderChain;
use crate::machine::ChainView;

/// The local node's chain in a [`super::Net`]: the machine's [`ChainView`], and what its
/// imports are applied to. A full chain takes blocks, a header store headers; each refuses the
/// other kind (a machine in the wrong mode for its chain).
pub trait LocalChain: ChainView {
    /// Validates and stores a block; the rule's code on rejection.
    fn import_block(&mut self, block: Block) -> Result<(), &'static str>;
    /// Validates and stores a header; the rule's code on rejection.
    fn import_header(&mut self, header: BlockHeader) -> Result<(), &'static str>;
    /// The id of the best chain's block (or header) at `height`.
    fn best_id_at(&self, height: u64) -> Option<Hash256>;
}

impl LocalChain for TestChain {
    fn import_block(&mut self, block: Block) -> Result<(), &'static str> {
        self.import(block)
    }

    fn import_header(&mut self, _header: BlockHeader) -> Result<(), &'static str> {
        Err("full_chain_takes_blocks")
    }

    fn best_id_at(&self, height: u64) -> Option<Hash256> {
        self.block_at(height).map(Block::id)
    }
}

impl LocalChain for HeaderChain {
    fn import_block(&mut self, _block: Block) -> Result<(), &'static str> {
        Err("header_store_takes_headers")
    }

    fn import_header(&mut self, header: BlockHeader) -> Result<(), &'static str> {
        HeaderChain::import_header(self, header)
    }

    fn best_id_at(&self, height: u64) -> Option<Hash256> {
        self.id_at(height)
    }
}
