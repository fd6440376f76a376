//! The headers each engine sent, as compared: `(chain, PN, N)` with chains numbered by first
//! use of a ratchet key.

/// A header as compared: `(sending chain ordinal, PN, N)`.
type HeaderTriple = (usize, u64, u64);

/// The headers of one direction in one engine, chains numbered by first use of a ratchet key.
pub(crate) struct HeaderLog<K> {
    /// Ratchet public keys in order of first use.
    pub(crate) keys: Vec<K>,
    /// Every message's header, in sending order.
    pub(crate) headers: Vec<HeaderTriple>,
}

impl<K> Default for HeaderLog<K> {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            headers: Vec::new(),
        }
    }
}

impl<K: PartialEq> HeaderLog<K> {
    /// Records a header with ratchet key `key`; returns its chain ordinal.
    pub(crate) fn record(&mut self, key: K, pn: u64, n: u64) -> usize {
        let chain = match self.keys.iter().position(|k| *k == key) {
            Some(at) => at,
            None => {
                self.keys.push(key);
                self.keys.len() - 1
            }
        };
        self.headers.push((chain, pn, n));
        chain
    }
}
