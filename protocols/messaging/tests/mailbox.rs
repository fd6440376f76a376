//! The mailbox book: bounds, TTL, paging, acknowledgements, duplicates and restoring.

mod support;

use support::*;
use talos_messaging::limits::ENVELOPE_OVERHEAD_BYTES;
use talos_messaging::{
    Acked, DepositRejection, DepositStatus, MailboxBook, MailboxConfig, MessageId, StoredEnvelope,
};

fn key(seed: u8) -> [u8; 32] {
    agent(seed).verifying_key().to_bytes()
}

/// What one test envelope costs a mailbox: 172 payload bytes and the fixed overhead.
const COST: usize = 172 + ENVELOPE_OVERHEAD_BYTES;

fn acked(sender: u8, id: MessageId) -> Acked {
    Acked {
        sender: key(sender),
        message_id: id,
    }
}

fn small() -> MailboxConfig {
    MailboxConfig {
        max_per_recipient: 10,
        max_per_sender: 4,
        max_bytes_per_recipient: 10 * COST,
        max_total_bytes: 15 * COST,
        max_envelopes: 1_000,
        ttl_ms: 1_000,
        max_future_ms: 100,
    }
}

#[test]
fn deposits_page_and_are_deleted_on_acknowledgement() {
    let mut book = MailboxBook::new(MailboxConfig::default());
    for n in 0..5 {
        assert!(book.deposit(envelope(1, 2, n, 0), 10).unwrap().is_some());
    }
    book.deposit(envelope(1, 3, 0, 0), 10).unwrap();
    // A duplicate is stored already: acknowledged, not stored twice.
    assert!(book.deposit(envelope(1, 2, 0, 0), 11).unwrap().is_none());
    assert_eq!(book.waiting(&key(2)), 5);
    let first = book.fetch(&key(2), 0, 3, 20);
    assert_eq!(first.envelopes.len(), 3);
    assert!(first.more);
    let rest = book.fetch(&key(2), first.next_cursor, 3, 20);
    assert_eq!(rest.envelopes.len(), 2);
    assert!(!rest.more);
    let ids: Vec<_> = rest.envelopes.iter().map(|e| e.message_id()).collect();
    assert_eq!(ids, vec![id(3), id(4)]);
    // Only the owner's own mailbox is touched by its acknowledgement, and only envelopes of
    // the sender it names.
    assert_eq!(book.acknowledge(&key(3), &[acked(1, id(0))]).len(), 1);
    assert_eq!(book.acknowledge(&key(2), &[acked(9, id(0))]).len(), 0);
    let acks = [
        acked(1, id(0)),
        acked(1, id(1)),
        acked(1, id(77)),
        acked(1, id(1)),
    ];
    assert_eq!(book.acknowledge(&key(2), &acks).len(), 2);
    assert_eq!(book.waiting(&key(2)), 3);
    assert_eq!(book.fetch(&key(9), 0, 10, 20).envelopes.len(), 0);
}

fn refused<T>(r: Result<T, DepositRejection>) -> DepositStatus {
    r.map(drop).unwrap_err().0
}

#[test]
fn every_bound_holds_and_says_which() {
    let mut book = MailboxBook::new(small());
    for n in 0..4 {
        book.deposit(envelope(1, 2, n, 0), 0).unwrap();
    }
    assert_eq!(
        refused(book.deposit(envelope(1, 2, 4, 0), 0)),
        DepositStatus::SenderOverQuota
    );
    for n in 0..3 {
        book.deposit(envelope(3, 2, n, 0), 0).unwrap();
        book.deposit(envelope(4, 2, n, 0), 0).unwrap();
    }
    assert_eq!(book.waiting(&key(2)), 10);
    assert_eq!(
        refused(book.deposit(envelope(5, 2, 0, 0), 0)),
        DepositStatus::MailboxFull
    );
    for n in 0..4 {
        book.deposit(envelope(6, 7, n, 0), 0).unwrap();
    }
    book.deposit(envelope(8, 7, 0, 0), 0).unwrap();
    assert_eq!(
        refused(book.deposit(envelope(8, 9, 1, 0), 0)),
        DepositStatus::NodeFull
    );
    assert_eq!(
        refused(book.deposit(envelope(8, 9, 2, 500), 0)),
        DepositStatus::FromTheFuture
    );
    assert_eq!(
        refused(book.deposit(envelope(8, 9, 3, 0), 5_000)),
        DepositStatus::Expired
    );
}

#[test]
fn envelopes_expire_a_ttl_after_this_node_stored_them() {
    let mut book = MailboxBook::new(small());
    book.deposit(envelope(1, 2, 0, 0), 0).unwrap();
    book.deposit(envelope(1, 2, 1, 500), 500).unwrap();
    assert_eq!(book.fetch(&key(2), 0, 10, 999).envelopes.len(), 2);
    // A fetch skips what is past its TTL even before `expire` drops it.
    assert_eq!(book.fetch(&key(2), 0, 10, 1_000).envelopes.len(), 1);
    assert_eq!(book.expire(1_000), vec![(key(2), 0)]);
    assert_eq!(book.fetch(&key(2), 0, 10, 1_000).envelopes.len(), 1);
    assert_eq!(book.fetch(&key(2), 0, 10, 1_500).envelopes.len(), 0);
    assert_eq!(book.expire(1_500).len(), 1);
    assert_eq!(
        (book.bytes(), book.len()),
        (0, 0),
        "expired bytes are given back"
    );
}

#[test]
fn a_restored_book_continues_the_sequence_and_drops_the_expired() {
    let mut book = MailboxBook::new(small());
    let kept = StoredEnvelope {
        seq: 41,
        stored_at_ms: 900,
        envelope: envelope(1, 2, 0, 900),
    };
    let old = StoredEnvelope {
        seq: 40,
        stored_at_ms: 0,
        envelope: envelope(1, 2, 1, 0),
    };
    assert!(book.restore(kept, 1_000));
    assert!(!book.restore(old, 1_000));
    let stored = book
        .deposit(envelope(3, 2, 0, 1_000), 1_000)
        .unwrap()
        .unwrap();
    assert_eq!(stored.seq, 42);
    let page = book.fetch(&key(2), 42, 10, 1_000);
    assert_eq!(page.envelopes.len(), 1);
    assert_eq!(page.next_cursor, 43);
}
