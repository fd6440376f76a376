//! The agent thread's rules on its own, over a memory store: what an envelope must pass before
//! it is opened, duplicates, the first-contact limit, the per-depositor mailbox quota, and the
//! pruning of (sender, id) records, the inbox's bounds.

use std::sync::Arc;

use libp2p::PeerId;
use rand::rngs::OsRng;
use talos_identity::SigningKey;
use talos_messaging::{
    AckStatus, Conversation, DepositStatus, Envelope, MessageId, MsgRequest, MsgResponse,
};
use talos_ratchet::IdentityKeyPair;
use talos_storage::{KvStore, MemoryStore};
use tokio::sync::{broadcast, mpsc};

use super::core::{Core, now_ms};
use super::courier::Couriers;
use super::mailboxes::MAX_PER_DEPOSITOR;
use super::store::{NS_INBOX, NS_SEEN};
use super::{AgentConfig, InboxLimits};

fn new_core() -> Core {
    new_core_with(AgentConfig {
        first_contacts_per_minute: 3,
        ..AgentConfig::default()
    })
}

fn new_core_with(config: AgentConfig) -> Core {
    let spec = talos_chain::NetworkSpec::local();
    let kv: Arc<dyn KvStore> = Arc::new(MemoryStore::new(&spec.genesis()).unwrap());
    let signing = SigningKey::from_bytes(&[42; 32]);
    let (net, _) = mpsc::channel(16);
    let (tx, _) = mpsc::channel(16);
    let local = talos_identity::peer_id(&signing.verifying_key());
    let couriers = Couriers::new(
        tokio::runtime::Handle::current(),
        net,
        tx,
        config.clone(),
        local,
    );
    let (events, _) = broadcast::channel(16);
    let mut core = Core::load(config, kv, signing, events, couriers).unwrap();
    core.commit();
    core
}

/// Another agent with a conversation started to `core`.
struct Sender {
    signing: SigningKey,
    conv: Conversation,
    first: talos_messaging::SealedParts,
}

fn sender(core: &Core, seed: u8) -> Sender {
    let signing = SigningKey::from_bytes(&[seed; 32]);
    let identity = IdentityKeyPair::from_ed25519_seed(&mut OsRng, &signing.to_bytes());
    let bundle = core.keys.prekeys.bundle(&core.keys.identity, None).unwrap();
    let (conv, first) = Conversation::start(&mut OsRng, &identity, &bundle, 1, b"hello").unwrap();
    Sender {
        signing,
        conv,
        first,
    }
}

fn seal(
    from: &Sender,
    to: &Core,
    parts: talos_messaging::SealedParts,
    id: u8,
    ts: u64,
) -> Envelope {
    let recipient = talos_identity::VerifyingKey::from_bytes(&to.me).unwrap();
    Envelope::seal(&from.signing, recipient, MessageId([id; 16]), ts, parts).unwrap()
}

fn deliver(core: &mut Core, peer: PeerId, envelope: Envelope) -> AckStatus {
    let MsgResponse::Acks(acks) = core.on_msg_request(peer, MsgRequest::Deliver(vec![envelope]))
    else {
        panic!("not acks");
    };
    core.commit();
    acks[0].status
}

fn inbox_len(core: &Core) -> usize {
    core.kv.kv_scan(NS_INBOX, None, 1024).unwrap().len()
}

#[tokio::test]
async fn an_envelope_passes_the_cheap_checks_first_and_opens_once() {
    let mut core = new_core();
    let peer = PeerId::random();
    let mut alice = sender(&core, 1);
    let now = now_ms();
    // For someone else: refused before anything else.
    let other = talos_identity::VerifyingKey::from_bytes(
        &SigningKey::from_bytes(&[9; 32]).verifying_key().to_bytes(),
    )
    .unwrap();
    let misaddressed = Envelope::seal(
        &alice.signing,
        other,
        MessageId([1; 16]),
        now,
        alice.first.clone(),
    )
    .unwrap();
    assert_eq!(deliver(&mut core, peer, misaddressed), AckStatus::NotForMe);
    // From the future or too old: refused.
    let future = seal(&alice, &core, alice.first.clone(), 2, now + 3_600_000);
    assert_eq!(deliver(&mut core, peer, future), AckStatus::Undecryptable);
    // No session and no handshake: refused.
    let mut parts = alice.conv.seal(0, b"second").unwrap();
    parts.handshake = None;
    let orphan = seal(&alice, &core, parts, 3, now);
    assert_eq!(deliver(&mut core, peer, orphan), AckStatus::Undecryptable);
    assert_eq!(inbox_len(&core), 0);
    // The real first message opens; the same envelope again is acknowledged, not reopened.
    let first = seal(&alice, &core, alice.first.clone(), 4, now);
    assert_eq!(deliver(&mut core, peer, first.clone()), AckStatus::Accepted);
    assert_eq!(deliver(&mut core, peer, first), AckStatus::Accepted);
    assert_eq!(inbox_len(&core), 1);
    // Another identity signing Alice's handshake is refused.
    let mallory = sender(&core, 2);
    let stolen = seal(&mallory, &core, alice.first.clone(), 5, now);
    assert_eq!(deliver(&mut core, peer, stolen), AckStatus::Undecryptable);
    assert_eq!(inbox_len(&core), 1);
}

#[tokio::test]
async fn first_contacts_are_limited_per_delivering_peer() {
    let mut core = new_core();
    let (peer, other) = (PeerId::random(), PeerId::random());
    let now = now_ms();
    for seed in 10..13 {
        let s = sender(&core, seed);
        let e = seal(&s, &core, s.first.clone(), seed, now);
        assert_eq!(deliver(&mut core, peer, e), AckStatus::Accepted);
    }
    let s = sender(&core, 13);
    let e = seal(&s, &core, s.first.clone(), 13, now);
    assert_eq!(
        deliver(&mut core, peer, e.clone()),
        AckStatus::Busy,
        "over the limit"
    );
    assert_eq!(
        deliver(&mut core, other, e),
        AckStatus::Accepted,
        "another peer is not charged"
    );
}

#[tokio::test]
async fn one_depositing_peer_cannot_fill_the_mailboxes() {
    let mut core = new_core();
    let (greedy, honest) = (PeerId::random(), PeerId::random());
    let signing = SigningKey::from_bytes(&[7; 32]);
    let parts = sender(&core, 7).first;
    let now = now_ms();
    let mut n = 0u32;
    let mut status = DepositStatus::Stored;
    // Many recipients, so neither the per-recipient nor the per-sender cap is what stops it.
    'fill: for recipient in 0u8..=255 {
        let to = SigningKey::from_bytes(&[recipient.wrapping_add(100); 32]).verifying_key();
        for _ in 0..400 {
            let mut id = [0u8; 16];
            id[..4].copy_from_slice(&n.to_be_bytes());
            let e = Envelope::seal(&signing, to, MessageId(id), now, parts.clone()).unwrap();
            status = core.deposit(e, Some(greedy));
            // As the agent thread does: a commit before the batch is full.
            core.commit();
            if status != DepositStatus::Stored {
                break 'fill;
            }
            n += 1;
        }
    }
    core.commit();
    assert_eq!(status, DepositStatus::SenderOverQuota);
    assert_eq!(n as usize, MAX_PER_DEPOSITOR);
    let to = SigningKey::from_bytes(&[99; 32]).verifying_key();
    let e = Envelope::seal(&signing, to, MessageId([0xff; 16]), now, parts).unwrap();
    assert_eq!(core.deposit(e, Some(honest)), DepositStatus::Stored);
}

#[tokio::test]
async fn seen_records_older_than_any_envelope_are_pruned() {
    let mut core = new_core();
    let old = now_ms() - core.max_age_ms() - 1;
    let fresh = now_ms();
    core.kv
        .kv_put(NS_SEEN, &[1; 48], &old.to_be_bytes())
        .unwrap();
    core.kv
        .kv_put(NS_SEEN, &[2; 48], &fresh.to_be_bytes())
        .unwrap();
    core.prune_seen().unwrap();
    core.commit();
    let left: Vec<Vec<u8>> = core
        .kv
        .kv_scan(NS_SEEN, None, 10)
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(left, vec![vec![2; 48]]);
}

#[tokio::test]
async fn a_full_inbox_refuses_before_opening_and_deleting_makes_room() {
    let mut core = new_core_with(AgentConfig {
        inbox: InboxLimits {
            per_sender_messages: 2,
            ..InboxLimits::default()
        },
        ..AgentConfig::default()
    });
    let peer = PeerId::random();
    let now = now_ms();
    let mut alice = sender(&core, 1);
    let first = seal(&alice, &core, alice.first.clone(), 1, now);
    assert_eq!(deliver(&mut core, peer, first), AckStatus::Accepted);
    let second = alice.conv.seal(2, b"second").unwrap();
    let second = seal(&alice, &core, second, 2, now);
    assert_eq!(deliver(&mut core, peer, second), AckStatus::Accepted);
    // Alice's share is full: her third is refused as busy, before it is opened.
    let third = alice.conv.seal(3, b"third").unwrap();
    let third = seal(&alice, &core, third, 3, now);
    let before = core
        .kv
        .kv_scan(super::store::NS_CONVERSATIONS, None, 8)
        .unwrap();
    assert_eq!(deliver(&mut core, peer, third.clone()), AckStatus::Busy);
    assert_eq!(
        core.kv
            .kv_scan(super::store::NS_CONVERSATIONS, None, 8)
            .unwrap(),
        before,
        "a refused envelope leaves the ratchet state as it was"
    );
    assert_eq!(inbox_len(&core), 2);
    // Another sender has its own share.
    let bob = sender(&core, 2);
    let hello = seal(&bob, &core, bob.first.clone(), 4, now);
    assert_eq!(deliver(&mut core, peer, hello), AckStatus::Accepted);
    // The owner deletes what it read (numbers 0 and 1: Alice's two); the same envelope,
    // offered again, now opens.
    let deleted = core.delete_inbox(1).unwrap();
    core.commit();
    assert_eq!((deleted.count, deleted.more), (2, false));
    assert_eq!(inbox_len(&core), 1);
    assert_eq!(deliver(&mut core, peer, third), AckStatus::Accepted);
    assert_eq!(inbox_len(&core), 2);
    // The counts survive a restart: they are rebuilt from the stored inbox.
    core.load_inbox().unwrap();
    let fourth = alice.conv.seal(4, b"fourth").unwrap();
    let fourth = seal(&alice, &core, fourth, 5, now);
    assert_eq!(deliver(&mut core, peer, fourth), AckStatus::Accepted);
    let fifth = alice.conv.seal(5, b"fifth").unwrap();
    let fifth = seal(&alice, &core, fifth, 6, now);
    assert_eq!(deliver(&mut core, peer, fifth), AckStatus::Busy);
}
