//! Agent messaging between real `talos run` processes over TCP on loopback: by DID both ways
//! (with an anchored envelope a light client verifies), an offline recipient served by the
//! mailboxes of the nodes closest to it after one of them was killed, both sides restarting
//! mid-conversation, and a burst of 10,000 messages. Observed through each node's API and
//! the `talos` CLI, as a user would.

mod cluster_support;

use std::collections::HashSet;
use std::time::Duration;

use cluster_support::{Cluster, Id, NodeOptions, TRIVIAL_TARGET, spec_toml};
use talos_api::agent::{InboxJson, InboxMessageJson, SendRequest, SendResponse, SessionsJson};
use talos_api::light::LightAnswerJson;
use talos_api::types::{ItemStatusJson, KindJson};

/// Network id of the test network ("TMSG").
const NETWORK_ID: u32 = 0x544d_5347;

const WAIT: Duration = Duration::from_secs(90);

fn spec() -> String {
    spec_toml("e2e-msg", NETWORK_ID, TRIVIAL_TARGET, 1)
}

fn did(c: &Cluster, id: Id) -> String {
    c.node(id).status().did
}

fn send(c: &Cluster, from: Id, to: &str, messages: Vec<String>, wait: bool) -> SendResponse {
    let request = SendRequest {
        to: to.to_owned(),
        messages,
        hex: false,
        wait,
    };
    c.node(from)
        .post_json("/v1/messages", &request)
        .unwrap_or_else(|e| panic!("send from {}: {e}", c.node(from).name))
}

/// Every message in `id`'s inbox, in arrival order.
fn inbox(c: &Cluster, id: Id) -> Vec<InboxMessageJson> {
    let mut all = Vec::new();
    let mut path = "/v1/messages?limit=1000".to_owned();
    loop {
        let page: InboxJson = match c.node(id).get_json(&path) {
            Ok(page) => page,
            Err(_) => return all,
        };
        let Some(last) = page.messages.last().map(|m| m.number) else {
            return all;
        };
        let full = page.messages.len() == 1000;
        all.extend(page.messages);
        if !full {
            return all;
        }
        path = format!("/v1/messages?limit=1000&after={last}");
    }
}

fn texts_from(messages: &[InboxMessageJson], sender: &str) -> Vec<String> {
    let mut mine: Vec<&InboxMessageJson> = messages.iter().filter(|m| m.from == sender).collect();
    mine.sort_by_key(|m| m.seq);
    mine.iter()
        .map(|m| m.text.clone().unwrap_or_default())
        .collect()
}

/// Whether `id` can resolve `did`'s record (its DHT has it).
fn resolves(c: &Cluster, id: Id, did: &str) -> bool {
    c.node(id)
        .get_json::<serde_json::Value>(&format!("/v1/did/{did}"))
        .is_ok()
}

/// `--anchor`: the envelope hash goes on chain; a light client verifies its proof.
fn anchored_message_is_verified_by_a_light_client(c: &mut Cluster, alice: Id, bob_did: &str) {
    let light = c.start("light", NodeOptions::light().bootnode(c.node(alice).addr()));
    let out = c.cli(
        alice,
        &["send", bob_did, "proof of this", "--anchor", "--json"],
    );
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let item = json["anchors"][0]
        .as_str()
        .expect("an anchor item")
        .to_owned();
    let hash = json["messages"][0]["envelope_hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/items/{item}");
    c.wait_until(
        "the anchor is mined and the light client past it",
        WAIT,
        |c| {
            let Ok(status) = c.node(alice).get_json::<ItemStatusJson>(&path) else {
                return false;
            };
            status
                .location
                .is_some_and(|l| c.node(light).height().is_some_and(|h| h > l.height))
        },
    );
    let status: ItemStatusJson = c.node(alice).get_json(&path).unwrap();
    match &status.item.kind {
        KindJson::Anchor {
            content_hash,
            label,
        } => {
            assert_eq!(content_hash, &hash);
            assert!(label.starts_with("msg:"), "{label}");
        }
        other => panic!("not an anchor: {other:?}"),
    }
    let verified: LightAnswerJson = c
        .node(light)
        .get_json(&format!("/v1/light/verify/{item}"))
        .unwrap();
    assert_eq!(verified.outcome, "verified", "{verified:?}");
}

#[test]
fn two_agents_exchange_messages_by_did_and_anchor_one_for_a_light_client() {
    let mut c = Cluster::new(&spec());
    let boot = c.start("boot", NodeOptions::bootstrap());
    let alice = c.start(
        "alice",
        NodeOptions::full()
            .mining(true)
            .bootnode(c.node(boot).addr()),
    );
    let bob = c.start("bob", NodeOptions::full().bootnode(c.node(boot).addr()));
    let (alice_did, bob_did) = (did(&c, alice), did(&c, bob));
    c.wait_until("each resolves the other's DID record", WAIT, |c| {
        resolves(c, alice, &bob_did) && resolves(c, bob, &alice_did)
    });
    let document = c.cli(alice, &["did", "resolve", &bob_did, "--json"]);
    assert!(
        document.contains(&bob_did) && document.contains("keyAgreement"),
        "{document}"
    );

    // Alice → Bob by DID, waiting for the acknowledgement; Bob → Alice by PeerId.
    let sent = send(
        &c,
        alice,
        &bob_did,
        vec!["hello bob".into(), "second".into()],
        true,
    );
    assert!(
        sent.messages.iter().all(|m| m.delivery == "direct"),
        "{sent:?}"
    );
    let alice_peer = c.node(alice).peer_id.clone();
    let out = c.cli(bob, &["send", &alice_peer, "hello alice"]);
    assert!(out.contains("(direct)"), "{out}");
    c.wait_until("both have their messages", WAIT, |c| {
        texts_from(&inbox(c, bob), &alice_did) == ["hello bob", "second"]
            && texts_from(&inbox(c, alice), &bob_did) == ["hello alice"]
    });
    let received = inbox(&c, bob);
    let first = received
        .iter()
        .find(|m| m.text.as_deref() == Some("hello bob"))
        .unwrap();
    assert_eq!(first.via, "direct");
    assert_eq!(first.message_id, sent.messages[0].message_id);

    // Both sessions are confirmed: the handshake no longer rides along.
    for (id, peer) in [(alice, &bob_did), (bob, &alice_did)] {
        let s: SessionsJson = c.node(id).get_json("/v1/sessions").unwrap();
        let session = s
            .sessions
            .iter()
            .find(|x| &x.peer == peer)
            .expect("a session");
        assert!(session.confirmed && session.outbox == 0, "{session:?}");
    }
    let listed = c.cli(bob, &["inbox"]);
    assert!(
        listed.contains("hello bob") && listed.contains(&alice_did),
        "{listed}"
    );
    // Bob deletes what he read: his inbox is empty, Alice's untouched.
    let last = inbox(&c, bob)
        .iter()
        .map(|m| m.number)
        .max()
        .expect("messages");
    let deleted = c.cli(bob, &["inbox", "--delete-through", &last.to_string()]);
    assert!(deleted.contains("deleted 2 messages"), "{deleted}");
    assert!(inbox(&c, bob).is_empty());
    assert_eq!(texts_from(&inbox(&c, alice), &bob_did), ["hello alice"]);

    anchored_message_is_verified_by_a_light_client(&mut c, alice, &bob_did);
}

#[test]
fn an_offline_recipient_reads_its_mailboxes_after_one_mailbox_node_was_killed() {
    let mut c = Cluster::new(&spec());
    let boot = c.start("boot", NodeOptions::bootstrap());
    let boot_addr = c.node(boot).addr();
    let boxes: Vec<Id> = (0..4)
        .map(|i| {
            c.start(
                &format!("mailbox{i}"),
                NodeOptions::full().bootnode(boot_addr.clone()),
            )
        })
        .collect();
    let sender = c.start("sender", NodeOptions::full().bootnode(boot_addr.clone()));
    let recipient = c.start("recipient", NodeOptions::full().bootnode(boot_addr.clone()));
    let recipient_did = did(&c, recipient);
    c.wait_until("the sender resolves the recipient's DID", WAIT, |c| {
        resolves(c, sender, &recipient_did)
    });
    c.stop(recipient);

    let texts: Vec<String> = (0..20)
        .map(|i| format!("while you were away {i:02}"))
        .collect();
    send(&c, sender, &recipient_did, texts.clone(), false);
    let n = texts.len() as f64;
    c.wait_until(
        "every message is handed to at least two mailboxes",
        WAIT,
        |c| {
            c.node(sender)
                .try_metric("talos_messages_delivered_mailbox_total")
                == Some(n)
        },
    );
    let deposited: f64 = boxes
        .iter()
        .chain([&boot, &sender])
        .map(|&b| c.node(b).metric("talos_messages_deposited_total"))
        .sum();
    assert!(deposited >= 2.0 * n, "{deposited} deposits");
    // One of the mailbox nodes dies (SIGKILL) before the recipient comes back.
    let victim = *boxes
        .iter()
        .max_by_key(|&&b| c.node(b).metric("talos_messages_deposited_total") as u64)
        .unwrap();
    c.note(format!("killing {}", c.node(victim).name));
    c.kill(victim);

    c.restart(recipient, |_| {});
    c.wait_until("the recipient has every message, once", WAIT, |c| {
        inbox(c, recipient).len() >= texts.len()
    });
    let got = inbox(&c, recipient);
    assert_eq!(got.len(), texts.len(), "no duplicates");
    assert!(got.iter().all(|m| m.via == "mailbox"));
    assert_eq!(texts_from(&got, &did(&c, sender)), texts);
    // It can answer at once: its session came from the handshake in the first envelope.
    let back = send(
        &c,
        recipient,
        &did(&c, sender),
        vec!["got them".into()],
        true,
    );
    assert_eq!(back.messages[0].delivery, "direct", "{back:?}");
}

#[test]
fn both_sides_restart_mid_conversation_and_continue_without_a_new_handshake() {
    let mut c = Cluster::new(&spec());
    let boot = c.start("boot", NodeOptions::bootstrap());
    let a = c.start("a", NodeOptions::full().bootnode(c.node(boot).addr()));
    let b = c.start("b", NodeOptions::full().bootnode(c.node(boot).addr()));
    let (a_did, b_did) = (did(&c, a), did(&c, b));
    c.wait_until("a resolves b", WAIT, |c| resolves(c, a, &b_did));
    send(&c, a, &b_did, vec!["1".into()], true);
    send(&c, b, &a_did, vec!["2".into()], true);
    send(&c, a, &b_did, vec!["3".into()], true);

    // a stops cleanly, b dies mid-conversation.
    c.stop(a);
    c.kill(b);
    c.restart(a, |_| {});
    c.restart(b, |_| {});
    c.wait_until("a and b reconnect", WAIT, |c| {
        c.node(a)
            .try_peers()
            .is_ok_and(|p| p.iter().any(|p| p.peer_id == c.node(b).peer_id))
    });
    send(&c, b, &a_did, vec!["4".into()], true);
    send(&c, a, &b_did, vec!["5".into()], true);
    c.wait_until("both have the whole conversation", WAIT, |c| {
        texts_from(&inbox(c, b), &a_did) == ["1", "3", "5"]
            && texts_from(&inbox(c, a), &b_did) == ["2", "4"]
    });
    for id in [a, b] {
        let s: SessionsJson = c.node(id).get_json("/v1/sessions").unwrap();
        assert_eq!(s.sessions.len(), 1);
        assert_eq!(
            s.sessions[0].previous_sessions, 0,
            "no new handshake: {:?}",
            s.sessions[0]
        );
        assert!(s.sessions[0].confirmed);
    }
}

#[test]
fn ten_thousand_messages_in_a_burst_arrive_complete_and_in_order() {
    const N: usize = 10_000;
    let mut c = Cluster::new(&spec());
    let a = c.start("a", NodeOptions::full());
    let b = c.start("b", NodeOptions::full().bootnode(c.node(a).addr()));
    let (a_did, b_did) = (did(&c, a), did(&c, b));
    c.wait_until("b resolves a", WAIT, |c| resolves(c, b, &a_did));
    let texts: Vec<String> = (0..N).map(|i| format!("burst {i:05}")).collect();
    let started = std::time::Instant::now();
    for chunk in texts.chunks(256) {
        send(&c, b, &a_did, chunk.to_vec(), false);
    }
    let queued = started.elapsed();
    c.wait_until("every message arrived", WAIT, |c| inbox(c, a).len() >= N);
    let got = inbox(&c, a);
    c.note(format!(
        "{N} messages: queued in {:.2}s, all received after {:.2}s",
        queued.as_secs_f64(),
        started.elapsed().as_secs_f64()
    ));
    assert_eq!(got.len(), N);
    let ids: HashSet<&str> = got.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids.len(), N, "no duplicates");
    assert_eq!(
        texts_from(&got, &b_did),
        texts,
        "complete, in the sender's order"
    );
    let arrived_in_order = got.windows(2).filter(|w| w[0].seq < w[1].seq).count() + 1;
    c.note(format!(
        "{arrived_in_order} of {N} arrived after their predecessor"
    ));
}
