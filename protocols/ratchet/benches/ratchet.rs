//! talos-ratchet against vodozemac's Olm sessions, in one run, plus the AEAD choice.
//!
//!     cargo bench -p talos-ratchet --bench ratchet
//!
//! Prints a table of per-message costs (median of interleaved rounds) and the ratios against
//! the goals: same-direction 256-byte messages ≥ 3× vodozemac's throughput, alternating
//! directions (a DH ratchet step per message) ≥ 1×. `RATCHET_BENCH_QUICK=1` shortens it.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aes_gcm::aead::{AeadInPlace, KeyInit};
use rand_core::OsRng;
use talos_ratchet::{IdentityKeyPair, PrekeyPolicy, PrekeyStore, Session};
use vodozemac::olm::{Account, OlmMessage, Session as OlmSession, SessionConfig};

const MESSAGE_LEN: usize = 256;

fn ours_pair() -> (Session, Session) {
    let bob_id = IdentityKeyPair::generate(&mut OsRng);
    let mut store = PrekeyStore::new(&mut OsRng, &bob_id, PrekeyPolicy::default(), 0);
    let opk = store.generate_one_time_prekeys(&mut OsRng, 1).expect("opk")[0].id;
    let alice_id = IdentityKeyPair::generate(&mut OsRng);
    let bundle = store.bundle(&bob_id, Some(opk)).expect("bundle");
    let (mut alice, initial) =
        Session::initiate(&mut OsRng, &alice_id, &bundle, b"hi").expect("initiate");
    let (mut bob, _) =
        Session::respond(&mut OsRng, &bob_id, &mut store, &initial).expect("respond");
    let reply = bob.encrypt(b"hi").expect("encrypt");
    alice.decrypt(&reply).expect("decrypt");
    (alice, bob)
}

fn olm_pair() -> (OlmSession, OlmSession) {
    let alice = Account::new();
    let mut bob = Account::new();
    bob.generate_one_time_keys(1);
    let otk = *bob.one_time_keys().values().next().expect("otk");
    let mut a = alice
        .create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk)
        .expect("outbound");
    let OlmMessage::PreKey(first) = a.encrypt(b"hi").expect("encrypt") else {
        unreachable!("first message is a pre-key message")
    };
    let mut b = bob
        .create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &first)
        .expect("inbound")
        .session;
    let reply = b.encrypt(b"hi").expect("encrypt");
    a.decrypt(&reply).expect("decrypt");
    (a, b)
}

/// One message from `from` to `to` through the wire encoding.
fn ours_send(from: &mut Session, to: &mut Session, plaintext: &[u8]) {
    let bytes = from.encrypt(plaintext).expect("encrypt");
    black_box(to.decrypt(&bytes).expect("decrypt"));
}

fn olm_send(from: &mut OlmSession, to: &mut OlmSession, plaintext: &[u8]) {
    let (kind, bytes) = from.encrypt(plaintext).expect("encrypt").to_parts();
    let message = OlmMessage::from_parts(kind, &bytes).expect("decode");
    black_box(to.decrypt(&message).expect("decrypt"));
}

/// Nanoseconds per message of `messages` calls of `f`.
fn time_per_message(messages: usize, mut f: impl FnMut(usize)) -> f64 {
    let start = Instant::now();
    for i in 0..messages {
        f(i);
    }
    start.elapsed().as_nanos() as f64 / messages as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median ns/message of ours and vodozemac, rounds interleaved so both see the same load.
fn compare(rounds: usize, messages: usize, alternate: bool) -> (f64, f64) {
    let plaintext = [0x42u8; MESSAGE_LEN];
    let (mut a, mut b) = ours_pair();
    let (mut oa, mut ob) = olm_pair();
    let (mut ours, mut olm) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        ours.push(time_per_message(messages, |i| {
            if alternate && i % 2 == 1 {
                ours_send(&mut b, &mut a, &plaintext);
            } else {
                ours_send(&mut a, &mut b, &plaintext);
            }
        }));
        olm.push(time_per_message(messages, |i| {
            if alternate && i % 2 == 1 {
                olm_send(&mut ob, &mut oa, &plaintext);
            } else {
                olm_send(&mut oa, &mut ob, &plaintext);
            }
        }));
    }
    (median(ours), median(olm))
}

/// Median ns of seal + open of one 256-byte message under a fresh key (as the ratchet does).
fn aead_costs(rounds: usize, messages: usize) -> (f64, f64) {
    let (mut gcm, mut chacha) = (Vec::new(), Vec::new());
    let mut buf = [0x42u8; MESSAGE_LEN];
    for _ in 0..rounds {
        gcm.push(time_per_message(messages, |i| {
            let key = [i as u8; 32];
            let cipher = aes_gcm::Aes256Gcm::new(&key.into());
            let nonce = aes_gcm::Nonce::default();
            let tag = cipher
                .encrypt_in_place_detached(&nonce, b"ad", &mut buf)
                .expect("seal");
            cipher
                .decrypt_in_place_detached(&nonce, b"ad", &mut buf, &tag)
                .expect("open");
        }));
        chacha.push(time_per_message(messages, |i| {
            let key = [i as u8; 32];
            let cipher = chacha20poly1305::ChaCha20Poly1305::new(&key.into());
            let nonce = chacha20poly1305::Nonce::default();
            let tag = cipher
                .encrypt_in_place_detached(&nonce, b"ad", &mut buf)
                .expect("seal");
            cipher
                .decrypt_in_place_detached(&nonce, b"ad", &mut buf, &tag)
                .expect("open");
        }));
    }
    black_box(buf);
    (median(gcm), median(chacha))
}

fn row(case: &str, ours: f64, theirs: f64, goal: f64) {
    let ratio = theirs / ours;
    let verdict = if ratio >= goal { "pass" } else { "FAIL" };
    println!(
        "| {case} | {:.2} µs ({:.0} msg/s) | {:.2} µs ({:.0} msg/s) | {ratio:.2}× | ≥ {goal}× | {verdict} |",
        ours / 1e3,
        1e9 / ours,
        theirs / 1e3,
        1e9 / theirs
    );
}

fn main() {
    // `cargo test --benches` runs bench binaries with `--bench` absent; keep that cheap.
    let quick = std::env::var_os("RATCHET_BENCH_QUICK").is_some()
        || !std::env::args().any(|a| a == "--bench");
    let (rounds, same, alternating, aead) = if quick {
        (3, 200, 20, 200)
    } else {
        (15, 20_000, 400, 50_000)
    };
    let started = Instant::now();

    let (ours_same, olm_same) = compare(rounds, same, false);
    let (ours_alt, olm_alt) = compare(rounds, alternating, true);
    let (gcm, chacha) = aead_costs(rounds, aead);

    println!(
        "256-byte messages, encrypt + wire encode + decode + decrypt, median of {rounds} interleaved rounds"
    );
    println!();
    println!("| case | talos-ratchet | vodozemac 0.11 (Olm v1) | ratio | goal | result |");
    println!("| --- | --- | --- | --- | --- | --- |");
    row(
        &format!("same direction ({same} msgs/round)"),
        ours_same,
        olm_same,
        3.0,
    );
    row(
        &format!("alternating, DH step per message ({alternating} msgs/round)"),
        ours_alt,
        olm_alt,
        1.0,
    );
    println!();
    println!("| AEAD, fresh key, seal + open 256 B | ns |");
    println!("| --- | --- |");
    println!("| AES-256-GCM (aes-gcm 0.10) | {gcm:.0} |");
    println!("| ChaCha20-Poly1305 (chacha20poly1305 0.10) | {chacha:.0} |");
    println!();
    println!("total {:.1} s", Duration::as_secs_f64(&started.elapsed()));
}
