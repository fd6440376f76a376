//! `RatchetDecryptHE`, transactional: every candidate key is derived into locals, the body is
//! authenticated, and only then is the session updated. Any error leaves it untouched.

use rand_core::{CryptoRng, RngCore};

use crate::aead;
use crate::error::DecryptError;
use crate::header::Header;
use crate::kdf;
use crate::keys::{DhKeyPair, KEY_LEN, PeerKey, Secret32};
use crate::session::Session;
use crate::skipped::MAX_SKIP;
use crate::wire::MessageRef;

/// Keys of messages `from..to` of a chain, the key of message `to` and the chain key after it.
struct Advanced {
    skipped: Vec<(u32, Secret32)>,
    message_key: Secret32,
    next: Secret32,
}

/// Runs the chain from `ck` at message `from` to message `to` (`to - from <= MAX_SKIP`,
/// checked by the caller before calling).
fn advance(ck: &Secret32, from: u32, to: u32) -> Advanced {
    let mut skipped = Vec::with_capacity(to.saturating_sub(from) as usize);
    let mut step = kdf::chain(ck);
    for n in from..to {
        let next = kdf::chain(&step.next);
        skipped.push((n, core::mem::replace(&mut step, next).message_key));
    }
    Advanced {
        skipped,
        message_key: step.message_key,
        next: step.next,
    }
}

fn check_gap(from: u32, to: u32) -> Result<(), DecryptError> {
    let gap = u64::from(to).saturating_sub(u64::from(from));
    if gap > u64::from(MAX_SKIP) {
        return Err(DecryptError::TooManySkipped { gap, max: MAX_SKIP });
    }
    Ok(())
}

/// A DH ratchet step (`DHRatchetHE`) computed into locals.
struct RatchetStep {
    root: Secret32,
    recv: Secret32,
    nhk_recv: Secret32,
    dh_self: DhKeyPair,
    send: Secret32,
    nhk_send: Secret32,
}

fn ratchet_step<R: RngCore + CryptoRng>(
    rng: &mut R,
    root: &Secret32,
    dh_self: &DhKeyPair,
    remote: &[u8; KEY_LEN],
) -> Result<RatchetStep, DecryptError> {
    let remote = PeerKey::new(remote);
    let dh_recv = remote
        .dh(&dh_self.secret)
        .ok_or(DecryptError::InvalidRatchetKey)?;
    let (root, recv, nhk_recv) = kdf::root(root, &dh_recv);
    let dh_new = DhKeyPair::generate(rng);
    let dh_send = remote
        .dh(&dh_new.secret)
        .ok_or(DecryptError::InvalidRatchetKey)?;
    let (root, send, nhk_send) = kdf::root(&root, &dh_send);
    Ok(RatchetStep {
        root,
        recv,
        nhk_recv,
        dh_self: dh_new,
        send,
        nhk_send,
    })
}

fn open_body(mk: &Secret32, message: &MessageRef<'_>, aad: &[u8]) -> Result<Vec<u8>, DecryptError> {
    let mut plaintext = message.body.to_vec();
    if aead::open_body(mk, aad, &mut plaintext, message.tag) {
        Ok(plaintext)
    } else {
        Err(DecryptError::BadCiphertext)
    }
}

impl Session {
    /// [`Session::decrypt`] with a caller-chosen RNG for the new ratchet key pair.
    pub fn decrypt_with_rng<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        bytes: &[u8],
    ) -> Result<Vec<u8>, DecryptError> {
        let message = MessageRef::decode(bytes)?;
        let header_aad = self.header_aad();
        let body_aad = self.body_aad(message.prefix);
        if let Some(hk) = &self.hk_recv
            && let Some(header) = Header::open(hk, &header_aad, message.header)
        {
            return self.decrypt_current(header, &message, &body_aad);
        }
        if let Some(header) = Header::open(&self.nhk_recv, &header_aad, message.header) {
            return self.decrypt_ratcheting(rng, header, &message, &body_aad);
        }
        let current = self.hk_recv.is_some().then_some(self.recv_chain);
        let older = self
            .skipped
            .chains()
            .filter(|c| Some(c.chain) != current)
            .find_map(|c| {
                Header::open(&c.header_key, &header_aad, message.header).map(|h| (c.chain, h.n))
            });
        match older {
            Some((chain, n)) => self.decrypt_skipped(chain, n, &message, &body_aad),
            None => Err(DecryptError::BadHeader),
        }
    }

    /// A message whose key was stored as skipped.
    fn decrypt_skipped(
        &mut self,
        chain: u64,
        n: u32,
        message: &MessageRef<'_>,
        aad: &[u8],
    ) -> Result<Vec<u8>, DecryptError> {
        let mk = self
            .skipped
            .get(chain, n)
            .ok_or(DecryptError::DuplicateOrExpired { n })?;
        let plaintext = open_body(mk, message, aad)?;
        self.skipped.remove(chain, n);
        Ok(plaintext)
    }

    /// A message of the current receiving chain.
    fn decrypt_current(
        &mut self,
        header: Header,
        message: &MessageRef<'_>,
        aad: &[u8],
    ) -> Result<Vec<u8>, DecryptError> {
        if header.n < self.nr {
            return self.decrypt_skipped(self.recv_chain, header.n, message, aad);
        }
        check_gap(self.nr, header.n)?;
        let next_nr = header
            .n
            .checked_add(1)
            .ok_or(DecryptError::CounterOverflow)?;
        let (Some(ck), Some(hk)) = (&self.recv, &self.hk_recv) else {
            return Err(DecryptError::BadHeader);
        };
        let advanced = advance(ck, self.nr, header.n);
        let plaintext = open_body(&advanced.message_key, message, aad)?;
        let hk = hk.clone();
        self.skipped.extend(self.recv_chain, &hk, advanced.skipped);
        self.recv = Some(advanced.next);
        self.nr = next_nr;
        Ok(plaintext)
    }

    /// A message under the next header key: the peer has a new ratchet key.
    fn decrypt_ratcheting<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        header: Header,
        message: &MessageRef<'_>,
        aad: &[u8],
    ) -> Result<Vec<u8>, DecryptError> {
        // Every bound is checked before any chain key is derived.
        let old_chain = match (&self.recv, &self.hk_recv) {
            (Some(ck), Some(hk)) => Some((ck, hk)),
            _ => None,
        };
        if old_chain.is_some() {
            check_gap(self.nr, header.pn)?;
        }
        check_gap(0, header.n)?;
        let next_nr = header
            .n
            .checked_add(1)
            .ok_or(DecryptError::CounterOverflow)?;
        let next_chain = self
            .recv_chain
            .checked_add(1)
            .ok_or(DecryptError::CounterOverflow)?;

        let old = old_chain.map(|(ck, hk)| (advance(ck, self.nr, header.pn).skipped, hk.clone()));
        let step = ratchet_step(rng, &self.root, &self.dh_self, &header.dh)?;
        let advanced = advance(&step.recv, 0, header.n);
        let plaintext = open_body(&advanced.message_key, message, aad)?;

        // Commit.
        if let Some((keys, hk)) = old {
            self.skipped.extend(self.recv_chain, &hk, keys);
        }
        let hk_recv = core::mem::replace(&mut self.nhk_recv, step.nhk_recv);
        let hk_send = core::mem::replace(&mut self.nhk_send, step.nhk_send);
        self.pn = self.ns;
        self.ns = 0;
        self.nr = next_nr;
        self.dh_remote = Some(header.dh);
        self.root = step.root;
        self.dh_self = step.dh_self;
        self.send = Some(step.send);
        self.recv = Some(advanced.next);
        self.recv_chain = next_chain;
        self.skipped.extend(next_chain, &hk_recv, advanced.skipped);
        self.hk_recv = Some(hk_recv);
        self.hk_send = Some(hk_send);
        Ok(plaintext)
    }
}

#[cfg(test)]
mod tests {
    use rand_core::OsRng;

    use super::*;
    use crate::wire::{ENCRYPTED_HEADER_LEN, WIRE_VERSION};
    use crate::{IdentityKeyPair, PrekeyPolicy, PrekeyStore};

    fn pair() -> (Session, Session) {
        let bob_id = IdentityKeyPair::generate(&mut OsRng);
        let mut store = PrekeyStore::new(&mut OsRng, &bob_id, PrekeyPolicy::default(), 0);
        let alice_id = IdentityKeyPair::generate(&mut OsRng);
        let bundle = store.bundle(&bob_id, None).expect("bundle");
        let (alice, initial) =
            Session::initiate(&mut OsRng, &alice_id, &bundle, b"hi").expect("initiate");
        let (bob, _) =
            Session::respond(&mut OsRng, &bob_id, &mut store, &initial).expect("respond");
        (alice, bob)
    }

    /// A message whose header the receiver opens with `hk`, with a garbage body.
    fn crafted(receiver: &Session, hk: &Secret32, header: Header) -> Vec<u8> {
        let mut sealed = [0u8; ENCRYPTED_HEADER_LEN];
        header.seal(hk, &[1; 12], &receiver.header_aad(), &mut sealed);
        let mut out = vec![WIRE_VERSION];
        out.extend_from_slice(&sealed);
        out.extend_from_slice(&[0; 20]);
        out
    }

    fn rejects(session: &mut Session, bytes: &[u8]) -> DecryptError {
        let before = serde_json::to_vec(session).expect("ser");
        let err = session.decrypt(bytes).expect_err("rejected");
        assert_eq!(serde_json::to_vec(session).expect("ser"), before, "{err:?}");
        err
    }

    #[test]
    fn low_order_ratchet_key_is_rejected() {
        let (_, mut bob) = pair();
        let nhk = bob.nhk_recv.clone();
        let message = crafted(
            &bob,
            &nhk,
            Header {
                dh: [0; KEY_LEN],
                pn: 0,
                n: 0,
            },
        );
        assert_eq!(rejects(&mut bob, &message), DecryptError::InvalidRatchetKey);
    }

    #[test]
    fn huge_counters_are_rejected_before_derivation() {
        let (_, mut bob) = pair();
        let hk = bob.hk_recv.clone().expect("receiving chain");
        let dh = bob.dh_remote.expect("remote key");
        let far = crafted(
            &bob,
            &hk,
            Header {
                dh,
                pn: 0,
                n: u32::MAX,
            },
        );
        let err = rejects(&mut bob, &far);
        assert_eq!(
            err,
            DecryptError::TooManySkipped {
                gap: u64::from(u32::MAX) - 1,
                max: MAX_SKIP
            }
        );
        let nhk = bob.nhk_recv.clone();
        let far_pn = crafted(
            &bob,
            &nhk,
            Header {
                dh: [9; KEY_LEN],
                pn: u32::MAX,
                n: 0,
            },
        );
        assert!(matches!(
            rejects(&mut bob, &far_pn),
            DecryptError::TooManySkipped { .. }
        ));

        bob.nr = u32::MAX;
        let last = crafted(
            &bob,
            &hk,
            Header {
                dh,
                pn: 0,
                n: u32::MAX,
            },
        );
        assert_eq!(rejects(&mut bob, &last), DecryptError::CounterOverflow);
    }

    #[test]
    fn exhausted_sending_chain_is_an_error() {
        let (mut alice, _) = pair();
        alice.ns = u32::MAX;
        let before = serde_json::to_vec(&alice).expect("ser");
        assert_eq!(
            alice.encrypt(b"x"),
            Err(crate::EncryptError::ChainExhausted)
        );
        assert_eq!(serde_json::to_vec(&alice).expect("ser"), before);
    }
}
