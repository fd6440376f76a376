//! Writes the committed seed corpus: valid encodings of every message kind, one file each, in
//! `fuzz/corpus/<target>/seed-<name>` (the repository keeps only `seed-*` files there).
//!
//! Run with `cargo run --manifest-path fuzz/Cargo.toml --example gen-seeds`. The output is
//! deterministic, so re-running it changes nothing unless the encodings change.

use std::path::Path;

use talos_chain::CompactTarget;
use talos_chain::Hash256;
use talos_chain::chain_state::{RevocationRecord, StateAnswer, StateRecord, revocation_key};
use talos_chain::state::{
    EMPTY_ROOT, MemoryNodes, Node, StateProof, Terminal, apply_updates, prove,
};
use talos_chain::wire::{
    encode_block, encode_header, encode_item, encode_item_proof, encode_status,
};
use talos_fuzz::{block, item_proof, items, spec, status};
use talos_light::{BlockAt, SavedProof, StateQuestion};
use talos_sync::{ErrorCode, SyncRequest, SyncResponse, encode_request, encode_response};

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut written = 0usize;
    let mut write = |target: &str, name: &str, bytes: Vec<u8>| -> std::io::Result<()> {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("seed-{name}")), bytes)?;
        written += 1;
        Ok(())
    };

    let genesis = spec().genesis();
    let small = block(1, 4);
    let larger = block(2, 9);
    let mut extreme = block(u64::MAX, 0).header;
    extreme.version = u32::MAX;
    extreme.network_id = u32::MAX;
    extreme.item_count = u32::MAX;
    extreme.timestamp_ms = u64::MAX;
    extreme.target = CompactTarget(u32::MAX);
    extreme.nonce = u64::MAX;
    extreme.state_root = talos_chain::Hash256([0xff; 32]);

    write("header", "genesis", encode_header(&genesis.header))?;
    write("header", "block-1", encode_header(&small.header))?;
    write("header", "extreme", encode_header(&extreme))?;

    for item in &items(4) {
        write("item", item.item().kind.name(), encode_item(item))?;
    }

    write("block", "genesis", encode_block(&genesis))?;
    write("block", "4-items", encode_block(&small))?;
    write("block", "9-items", encode_block(&larger))?;

    let single = block(3, 1);
    let proofs = [
        ("single", item_proof(&single, 0)),
        ("middle", item_proof(&larger, 4)),
        ("last", item_proof(&larger, 8)),
    ];
    for (name, proof) in &proofs {
        if let Some(proof) = proof {
            write("item_proof", name, encode_item_proof(proof))?;
        }
    }

    let tip = status(&larger, 3 * 65_536);
    write("status", "tip", encode_status(&tip))?;
    write("status", "genesis", encode_status(&status(&genesis, 0)))?;

    let requests = [
        ("status", SyncRequest::Status(tip)),
        (
            "headers-by-range",
            SyncRequest::HeadersByRange {
                start_height: 1,
                count: 2_048,
            },
        ),
        (
            "blocks-by-range",
            SyncRequest::BlocksByRange {
                start_height: 1,
                count: 64,
            },
        ),
        (
            "blocks-by-hash",
            SyncRequest::BlocksByHash(vec![small.id(), larger.id()]),
        ),
        ("proof", SyncRequest::Proof(larger.items[4].id())),
        (
            "state-proof",
            SyncRequest::StateProof {
                block: larger.id(),
                key: revocation_key(&Hash256::sha256(b"capability")),
            },
        ),
    ];
    for (name, request) in &requests {
        write("sync_request", name, encode_request(request))?;
    }

    let (present, absent, state_nodes, records) = state_samples();
    for (i, node) in state_nodes.iter().take(4).enumerate() {
        write("state_node", &format!("node-{i}"), node.encode().to_vec())?;
    }
    for (i, record) in records.iter().enumerate() {
        write("state_node", &format!("record-{i}"), record.encode())?;
    }
    if let Some(proof) = item_proof(&larger, 4) {
        let json = serde_json::to_vec_pretty(&SavedProof::inclusion(&proof)).unwrap_or_default();
        write("saved_proof", "inclusion", json)?;
    }
    let question = StateQuestion::Revoked {
        capability_id: Hash256::sha256(b"capability"),
    };
    let json = serde_json::to_vec_pretty(&SavedProof::state(
        &question,
        BlockAt::of(&larger.header),
        &present,
    ))
    .unwrap_or_default();
    write("saved_proof", "state", json)?;

    let responses = [
        ("status", SyncResponse::Status(tip)),
        (
            "headers",
            SyncResponse::Headers(vec![genesis.header, small.header, larger.header]),
        ),
        (
            "blocks",
            SyncResponse::Blocks(vec![small.clone(), larger.clone()]),
        ),
        (
            "proof",
            SyncResponse::Proof(item_proof(&larger, 4).map(Box::new)),
        ),
        ("no-proof", SyncResponse::Proof(None)),
        (
            "state-proof-present",
            SyncResponse::StateProof(Some(Box::new(present.clone()))),
        ),
        (
            "state-proof-absent",
            SyncResponse::StateProof(Some(Box::new(absent.clone()))),
        ),
        (
            "state-proof-empty",
            SyncResponse::StateProof(Some(Box::new(StateAnswer {
                proof: StateProof {
                    siblings: Vec::new(),
                    terminal: Terminal::Empty,
                },
                record: None,
            }))),
        ),
        ("no-state-proof", SyncResponse::StateProof(None)),
        (
            "error",
            SyncResponse::Error {
                code: ErrorCode::Busy,
                message: "try again later".into(),
            },
        ),
        (
            "error-other",
            SyncResponse::Error {
                code: ErrorCode::Other("x_new_code".into()),
                message: String::new(),
            },
        ),
    ];
    for (name, response) in &responses {
        write("sync_response", name, encode_response(response))?;
    }

    for (name, bytes) in did_record_seeds() {
        write("did_record", name, bytes)?;
    }
    for (name, bytes) in ratchet_seeds() {
        write("ratchet_header", name, bytes)?;
    }
    for (name, bytes) in envelope_seeds() {
        write("envelope", name, bytes)?;
    }

    println!("wrote {written} seeds under {}", root.display());
    Ok(())
}

/// A present and an absent key's state answers over a small state, its nodes and records.
fn state_samples() -> (StateAnswer, StateAnswer, Vec<Node>, Vec<StateRecord>) {
    let mut nodes = MemoryNodes::new();
    let records: Vec<StateRecord> = (0..5u8)
        .map(|i| {
            StateRecord::Revocation(RevocationRecord {
                item_id: Hash256([i; 32]),
                height: u64::from(i) + 1,
            })
        })
        .collect();
    let updates: Vec<(Hash256, Hash256)> = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let name = if i == 0 {
                b"capability".to_vec()
            } else {
                vec![i as u8]
            };
            (revocation_key(&Hash256::sha256(&name)), r.value())
        })
        .collect();
    let delta =
        apply_updates(&nodes, EMPTY_ROOT, &updates).expect("an in-memory tree keeps its nodes");
    for node in &delta.nodes {
        nodes.insert(*node);
    }
    let key = updates[0].0;
    let proof = prove(&nodes, delta.root, &key).expect("an in-memory tree keeps its nodes");
    let present = StateAnswer {
        proof,
        record: Some(records[0]),
    };
    let missing = revocation_key(&Hash256::sha256(b"never revoked"));
    let absent = StateAnswer {
        proof: prove(&nodes, delta.root, &missing).expect("an in-memory tree keeps its nodes"),
        record: None,
    };
    (present, absent, delta.nodes, records)
}

/// Seeds of the `did_record` target: DID records (with and without addresses), prekey bundles
/// (with and without a one-time prekey) and a document's JSON, all of one agent.
fn did_record_seeds() -> Vec<(&'static str, Vec<u8>)> {
    use talos_identity::{
        DidDocument, DidRecord, Multiaddr, OneTimePrekey, PrekeyBundle, SignedPrekey, SigningKey,
        X25519PublicKey,
    };
    const NOW: u64 = 1_700_000_000_000;
    let identity = SigningKey::from_bytes(&[0x5a; 32]);
    let identity_dh = X25519PublicKey::from_bytes([0x11; 32]);
    let spk = SignedPrekey::sign(&identity, &identity_dh, 1, [0x22; 32].into(), NOW);
    let peer = talos_identity::peer_id(&identity.verifying_key());
    let addrs: Vec<Multiaddr> = [
        format!("/ip4/192.0.2.1/tcp/4001/p2p/{peer}"),
        "/ip6/2001:db8::1/udp/4001/quic-v1".to_owned(),
    ]
    .iter()
    .map(|a| a.parse().expect("a seed multiaddr"))
    .collect();
    let document = |addrs: Vec<Multiaddr>| {
        DidDocument::for_agent(&identity, identity_dh, spk, addrs).expect("a valid document")
    };
    let record = |document: &DidDocument| {
        DidRecord::sign(document, NOW, NOW, 3_600_000, &identity)
            .expect("a valid record")
            .encode()
    };
    let full = document(addrs);
    let bare = document(Vec::new());
    let one_time = OneTimePrekey {
        id: 2,
        public: X25519PublicKey::from_bytes([0x33; 32]),
    };
    vec![
        ("record", record(&full)),
        ("record-no-addresses", record(&bare)),
        ("document", full.to_json()),
        ("bundle", PrekeyBundle::from_document(&full, None).encode()),
        (
            "bundle-one-time",
            PrekeyBundle::from_document(&full, Some(one_time)).encode(),
        ),
    ]
}

/// A deterministic stand-in for a CSPRNG, so the ratchet seeds are the same on every run
/// (seed generation only: its output is a counter through SHA-256).
struct SeedRng(u64);

impl talos_ratchet::rand_core::RngCore for SeedRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(32) {
            self.0 += 1;
            let block = Hash256::sha256(&self.0.to_le_bytes());
            chunk.copy_from_slice(&block.as_bytes()[..chunk.len()]);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), talos_ratchet::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl talos_ratchet::rand_core::CryptoRng for SeedRng {}

/// Seeds of the `ratchet_header` target: an X3DH initial message and ratchet messages of a
/// conversation in both directions.
fn ratchet_seeds() -> Vec<(&'static str, Vec<u8>)> {
    use talos_ratchet::{IdentityKeyPair, PrekeyPolicy, PrekeyStore, Session};
    let mut rng = SeedRng(0);
    let bob = IdentityKeyPair::generate(&mut rng);
    let alice = IdentityKeyPair::generate(&mut rng);
    let mut store = PrekeyStore::new(&mut rng, &bob, PrekeyPolicy::default(), 0);
    let bundle = store.bundle(&bob, None).expect("a bundle");
    let (mut a, initial) = Session::initiate(&mut rng, &alice, &bundle, b"hello").expect("x3dh");
    let (mut b, _) = Session::respond(&mut rng, &bob, &mut store, &initial).expect("x3dh");
    let reply = b.encrypt(b"hi alice").expect("encrypts");
    a.decrypt_with_rng(&mut rng, &reply).expect("decrypts");
    let next = a.encrypt(&[0x42; 300]).expect("encrypts");
    vec![
        ("initial", initial.encode()),
        ("reply", reply),
        ("after-ratchet", next),
    ]
}

/// Seeds of the `envelope` target: an envelope, and each msg and mailbox message carrying it.
fn envelope_seeds() -> Vec<(&'static str, Vec<u8>)> {
    use talos_messaging::codec::{MailboxRequest, MailboxResponse, MsgRequest, MsgResponse};
    use talos_messaging::{
        Ack, AckStatus, Acked, DepositStatus, Envelope, MessageId, Page, SealedParts, encode_envelope,
        encode_mailbox_request, encode_mailbox_response, encode_msg_request, encode_msg_response,
    };
    let alice = ed25519_dalek::SigningKey::from_bytes(&[0xa1; 32]);
    let bob = ed25519_dalek::SigningKey::from_bytes(&[0xb0; 32]).verifying_key();
    let parts = SealedParts {
        header: vec![0x11; 68],
        ciphertext: vec![0x22; 120],
        handshake: Some(vec![0x33; 200]),
    };
    let id = MessageId([7; 16]);
    let envelope = Envelope::seal(&alice, bob, id, 1_700_000_000_000, parts).expect("sealed");
    let boxed = || Box::new(envelope.clone());
    let page = Page {
        envelopes: vec![envelope.clone()],
        next_cursor: 1,
        more: false,
    };
    vec![
        ("envelope", encode_envelope(&envelope)),
        ("deliver", encode_msg_request(&MsgRequest::Deliver(vec![envelope.clone(), envelope.clone()]))),
        ("prekeys", encode_msg_request(&MsgRequest::Prekeys)),
        (
            "ack",
            encode_msg_response(&MsgResponse::Acks(vec![Ack {
                message_id: id,
                status: AckStatus::Accepted,
            }])),
        ),
        (
            "deposit",
            encode_mailbox_request(&MailboxRequest::Deposit(boxed())),
        ),
        (
            "fetch",
            encode_mailbox_request(&MailboxRequest::Fetch {
                cursor: 0,
                limit: 16,
            }),
        ),
        (
            "acknowledge",
            encode_mailbox_request(&MailboxRequest::Acknowledge(vec![Acked {
                sender: alice.verifying_key().to_bytes(),
                message_id: id,
            }])),
        ),
        (
            "deposit-ack",
            encode_mailbox_response(&MailboxResponse::Deposit {
                message_id: id,
                status: DepositStatus::Stored,
            }),
        ),
        (
            "page",
            encode_mailbox_response(&MailboxResponse::Page(page)),
        ),
    ]
}
