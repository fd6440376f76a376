//! Gossip topic names per network.
//!
//! The network name lives in the topic (and in the kad/sync protocol names), never in the
//! gossipsub protocol id, so other libp2p implementations still speak `/meshsub/*` with us.

/// What a topic carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TopicKind {
    /// Blocks (`/talos/<network>/blocks/1`).
    Blocks,
    /// Signed items (`/talos/<network>/items/1`).
    Items,
}

impl TopicKind {
    /// Both kinds.
    pub const ALL: [TopicKind; 2] = [TopicKind::Blocks, TopicKind::Items];

    /// Stable name (`blocks` / `items`), used in topic names and metrics labels.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Blocks => "blocks",
            Self::Items => "items",
        }
    }
}

impl std::fmt::Display for TopicKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The topic names of one network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topics {
    blocks: String,
    items: String,
}

impl Topics {
    /// The topics of the network called `network` (the spec's name, e.g. `local`).
    pub fn for_network(network: &str) -> Self {
        Self {
            blocks: topic_name(network, TopicKind::Blocks),
            items: topic_name(network, TopicKind::Items),
        }
    }

    /// The blocks topic, `/talos/<network>/blocks/1`.
    pub fn blocks(&self) -> &str {
        &self.blocks
    }

    /// The items topic, `/talos/<network>/items/1`.
    pub fn items(&self) -> &str {
        &self.items
    }

    /// The topic name of `kind`.
    pub fn name(&self, kind: TopicKind) -> &str {
        match kind {
            TopicKind::Blocks => &self.blocks,
            TopicKind::Items => &self.items,
        }
    }

    /// Which of this network's topics `topic` is, if any.
    pub fn kind_of(&self, topic: &str) -> Option<TopicKind> {
        TopicKind::ALL.into_iter().find(|k| self.name(*k) == topic)
    }
}

/// `/talos/<network>/<kind>/1`.
pub fn topic_name(network: &str, kind: TopicKind) -> String {
    format!("/talos/{network}/{}/1", kind.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_network() {
        let t = Topics::for_network("local");
        assert_eq!(t.blocks(), "/talos/local/blocks/1");
        assert_eq!(t.items(), "/talos/local/items/1");
        assert_eq!(t.name(TopicKind::Items), t.items());
        let other = Topics::for_network("testnet");
        assert_ne!(t.blocks(), other.blocks());
    }

    #[test]
    fn kind_of_recognises_only_own_topics() {
        let t = Topics::for_network("local");
        assert_eq!(t.kind_of("/talos/local/blocks/1"), Some(TopicKind::Blocks));
        assert_eq!(t.kind_of("/talos/local/items/1"), Some(TopicKind::Items));
        assert_eq!(t.kind_of("/talos/testnet/blocks/1"), None);
        assert_eq!(t.kind_of("blocks"), None);
    }
}
