//! What a ratchet message encrypts: the sender's sequence number for this conversation, then
//! the body. The recipient orders a sender's messages by it (they may arrive out of order:
//! pipelined streams, mailboxes, retries), and it is authenticated with the body.

/// Bytes of the sequence number.
const SEQ_LEN: usize = 8;

/// A decrypted message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    /// The sender's sequence number in this conversation, increasing.
    pub seq: u64,
    /// The body (opaque bytes; UTF-8 text for `talos send <text>`).
    pub body: Vec<u8>,
}

impl Payload {
    /// `seq` (big-endian) ‖ body.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(SEQ_LEN + self.body.len());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.body);
        out
    }

    /// The payload of decrypted bytes; `None` when shorter than the sequence number.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let (seq, body) = bytes.split_first_chunk::<SEQ_LEN>()?;
        Some(Self {
            seq: u64::from_be_bytes(*seq),
            body: body.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_short_input() {
        let p = Payload {
            seq: 7,
            body: b"hi".to_vec(),
        };
        assert_eq!(Payload::decode(&p.encode()), Some(p));
        assert_eq!(Payload::decode(&[0; 7]), None);
        assert_eq!(Payload::decode(&[0; 8]).map(|p| p.body), Some(Vec::new()));
    }
}
