//! API tests: a real server on loopback over a [`NodeHandle`] backed by a real sled store, with
//! the chain and network commands answered by a small responder task; real HTTP requests.

use std::io::BufRead;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use libp2p::PeerId;
use serde_json::Value;
use talos_chain::item::{Anchor, ItemKind};
use talos_chain::{Block, BlockHeader, Hash256, NetworkSpec, SignedItem, SigningKey, UnsignedItem};
use talos_storage::{ChainStore, ChainUpdate, SledStore, Store, genesis_work};
use tokio::sync::{Notify, broadcast, mpsc, oneshot};

use super::*;
use crate::cli::client::ApiClient;
use crate::handle::{
    ChainCommand, EVENT_CAPACITY, MineError, NetCommand, NodeEvent, NodeInfo, PeerInfo,
    SubmitError, SyncState,
};
use crate::identity::NodeIdentity;

struct Fixture {
    _tmp: tempfile::TempDir,
    addr: SocketAddr,
    cookie: String,
    events: broadcast::Sender<NodeEvent>,
    submitted: Arc<Mutex<Vec<SignedItem>>>,
    block: Block,
    pending: SignedItem,
    key: SigningKey,
    spec: NetworkSpec,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<Result<(), ServeError>>,
}

fn item(key: &SigningKey, spec: &NetworkSpec, nonce: u64, label: &str) -> SignedItem {
    UnsignedItem {
        author: key.verifying_key(),
        nonce,
        timestamp_ms: spec.genesis_timestamp_ms + 1,
        kind: ItemKind::Anchor(Anchor {
            content_hash: Hash256::sha256(label.as_bytes()),
            label: label.into(),
        }),
    }
    .sign(key, spec.network_id)
}

/// Block 1 on top of genesis with `items`, committed straight into the store (the store does
/// not check proof of work; the API only reads).
fn commit_block(store: &SledStore, spec: &NetworkSpec, items: Vec<SignedItem>) -> Block {
    let genesis = spec.genesis();
    let ids: Vec<Hash256> = items.iter().map(SignedItem::id).collect();
    let header = BlockHeader {
        version: genesis.header.version,
        network_id: spec.network_id,
        height: 1,
        prev_hash: genesis.id(),
        merkle_root: talos_chain::merkle::root(&ids),
        item_count: u32::try_from(items.len()).unwrap(),
        timestamp_ms: spec.genesis_timestamp_ms + 1000,
        target: spec.genesis_target,
        nonce: 0,
    };
    let block = Block { header, items };
    let work =
        genesis_work(&genesis).saturating_add(spec.genesis_target.to_target().unwrap().work());
    store
        .commit(ChainUpdate::extend(block.clone(), work))
        .unwrap();
    block
}

async fn responder(
    mut chain: mpsc::Receiver<ChainCommand>,
    mut net: mpsc::Receiver<NetCommand>,
    pending: SignedItem,
    submitted: Arc<Mutex<Vec<SignedItem>>>,
) {
    loop {
        tokio::select! {
            Some(cmd) = chain.recv() => match cmd {
                ChainCommand::SubmitItem { item, reply } => {
                    let verdict = if item.nonce() == 13 {
                        Err(SubmitError { code: "nonce_reused", message: "nonce 13 is taken".into() })
                    } else {
                        Ok(item.id())
                    };
                    submitted.lock().unwrap().push(item);
                    let _ = reply.send(verdict);
                }
                ChainCommand::MempoolLen { reply } => { let _ = reply.send(1); }
                // The API has no mining route.
                ChainCommand::MineBlock { reply } => { let _ = reply.send(Err(MineError::Busy)); }
                ChainCommand::MempoolItem { id, reply } => {
                    let _ = reply.send((id == pending.id()).then(|| pending.clone()));
                }
            },
            Some(cmd) = net.recv() => match cmd {
                NetCommand::Peers { reply } => {
                    let _ = reply.send(vec![PeerInfo {
                        peer_id: PeerId::random().to_string(),
                        addrs: vec!["/ip4/127.0.0.1/tcp/7400".into()],
                        agent: Some("talos/test".into()),
                        gossip_score: Some(1.5),
                        tip_height: Some(1),
                    }]);
                }
                NetCommand::ListenAddrs { reply } => {
                    let _ = reply.send(vec!["/ip4/127.0.0.1/tcp/7400".parse().unwrap()]);
                }
                NetCommand::SyncState { reply } => { let _ = reply.send(SyncState::Idle); }
                NetCommand::Dial { .. } => {}
                NetCommand::Banned { reply } => { let _ = reply.send(Vec::new()); }
            },
            else => break,
        }
    }
}

async fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let spec = NetworkSpec::local();
    let store = SledStore::open_for_spec(tmp.path().join("chain"), &spec).unwrap();
    let key = SigningKey::from_bytes(&[42; 32]);
    let block = commit_block(
        &store,
        &spec,
        vec![
            item(&key, &spec, 1, "a"),
            item(&key, &spec, 2, "b"),
            item(&key, &spec, 3, "c"),
        ],
    );
    let pending = item(&key, &spec, 4, "pending");
    let id = NodeIdentity::generate();
    let info = NodeInfo {
        network: spec.name.clone(),
        network_id: spec.network_id,
        role: "full".into(),
        peer_id: id.peer_id(),
        did: id.did().to_owned(),
        mining: false,
    };
    let (chain_tx, chain_rx) = mpsc::channel(8);
    let (net_tx, net_rx) = mpsc::channel(8);
    let (events, _) = broadcast::channel(EVENT_CAPACITY);
    let store: Arc<dyn Store> = Arc::new(store);
    let handle = NodeHandle::new(
        info,
        store,
        chain_tx,
        net_tx,
        events.clone(),
        Arc::new(Notify::new()),
    );
    let submitted = Arc::new(Mutex::new(Vec::new()));
    tokio::spawn(responder(
        chain_rx,
        net_rx,
        pending.clone(),
        submitted.clone(),
    ));
    let cookie_path = tmp.path().join(COOKIE_FILE);
    let server = ApiServer::bind("127.0.0.1:0".parse().unwrap(), &cookie_path, handle)
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    let cookie = read_cookie(&cookie_path).unwrap();
    assert_eq!(cookie, server.cookie());
    let (stop, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(server.run(async move {
        let _ = stop_rx.await;
    }));
    Fixture {
        _tmp: tmp,
        addr,
        cookie,
        events,
        submitted,
        block,
        pending,
        key,
        spec,
        stop: Some(stop),
        server,
    }
}

impl Fixture {
    fn client(&self) -> ApiClient {
        ApiClient::with_cookie(self.addr, self.cookie.clone())
    }

    /// GET with an arbitrary Authorization header: (status, JSON body).
    async fn raw_get(&self, path: &str, auth: Option<String>) -> (u16, Value) {
        let url = format!("http://{}{path}", self.addr);
        tokio::task::spawn_blocking(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into();
            let mut req = agent.get(&url);
            if let Some(a) = auth {
                req = req.header("Authorization", a);
            }
            let mut resp = req.call().unwrap();
            let status = resp.status().as_u16();
            (status, resp.body_mut().read_json::<Value>().unwrap())
        })
        .await
        .unwrap()
    }

    async fn get<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        path: &str,
    ) -> anyhow::Result<T> {
        let c = self.client();
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || c.get::<T>(&path))
            .await
            .unwrap()
    }

    async fn post(&self, body: Value) -> anyhow::Result<SubmitResponse> {
        let c = self.client();
        tokio::task::spawn_blocking(move || c.post::<Value, SubmitResponse>("/v1/items", &body))
            .await
            .unwrap()
    }

    async fn shutdown(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(std::time::Duration::from_secs(10), self.server)
            .await
            .expect("server stops")
            .unwrap()
            .unwrap();
    }
}

fn api_code(e: &anyhow::Error) -> (u16, String) {
    let e = e
        .downcast_ref::<crate::cli::client::ApiCallError>()
        .expect("an API error");
    (e.status, e.code.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_the_cookie_are_refused() {
    let f = fixture().await;
    let (status, body) = f.raw_get("/v1/status", None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, body) = f
        .raw_get("/v1/chain/head", Some("Bearer nope".into()))
        .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, _) = f
        .raw_get("/v1/status", Some(format!("Bearer {}", f.cookie)))
        .await;
    assert_eq!(status, 200);
    let (status, body) = f
        .raw_get("/v2/nothing", Some(format!("Bearer {}", f.cookie)))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    f.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_peers_and_chain() {
    let f = fixture().await;
    let st: Value = f.get("/v1/status").await.unwrap();
    assert_eq!(st["network"], "local");
    assert_eq!(st["tip_height"], 1);
    assert_eq!(st["tip_id"], f.block.id().to_hex());
    assert_eq!(st["peers"], 1);
    assert_eq!(st["mempool_items"], 1);
    assert_eq!(st["sync"], "idle");
    assert!(st["did"].as_str().unwrap().starts_with("did:key:z6Mk"));

    let peers: json::PeersJson = f.get("/v1/peers").await.unwrap();
    assert_eq!(peers.peers.len(), 1);
    assert_eq!(peers.peers[0].tip_height, Some(1));

    let head: HeadJson = f.get("/v1/chain/head").await.unwrap();
    assert_eq!(head.height, 1);
    assert_eq!(head.id, f.block.id().to_hex());
    assert_eq!(head.header.item_count, 3);

    let by_height: BlockJson = f.get("/v1/chain/block/1").await.unwrap();
    let by_hash: BlockJson = f
        .get(&format!("/v1/chain/block/{}", f.block.id().to_hex()))
        .await
        .unwrap();
    assert_eq!(by_height, by_hash);
    assert!(by_height.best_chain);
    assert_eq!(by_height.items.len(), 3);
    assert_eq!(by_height.items[1].id, f.block.items[1].id().to_hex());
    let genesis: BlockJson = f.get("/v1/chain/block/0").await.unwrap();
    assert_eq!(genesis.header.id, f.spec.genesis_hash().to_hex());

    let e = f.get::<Value>("/v1/chain/block/99").await.unwrap_err();
    assert_eq!(api_code(&e), (404, "not_found".into()));
    let e = f
        .get::<Value>(&format!("/v1/chain/block/{}", Hash256::ZERO.to_hex()))
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), (404, "not_found".into()));
    let e = f.get::<Value>("/v1/chain/block/tip").await.unwrap_err();
    assert_eq!(api_code(&e), (400, "bad_request".into()));
    f.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_and_proofs() {
    let f = fixture().await;
    let confirmed = &f.block.items[2];
    let st: ItemStatusJson = f
        .get(&format!("/v1/items/{}", confirmed.id()))
        .await
        .unwrap();
    assert_eq!(st.status, "confirmed");
    assert_eq!(st.item.nonce, 3);
    assert!(matches!(st.item.kind, KindJson::Anchor { ref label, .. } if label == "c"));
    let loc = st.location.unwrap();
    assert_eq!((loc.height, loc.position, loc.confirmations), (1, 2, 1));
    assert_eq!(loc.block, f.block.id().to_hex());

    let st: ItemStatusJson = f
        .get(&format!("/v1/items/{}", f.pending.id()))
        .await
        .unwrap();
    assert_eq!(st.status, "pending");
    assert!(st.location.is_none());

    let unknown = Hash256::sha256(b"unknown");
    let e = f
        .get::<Value>(&format!("/v1/items/{unknown}"))
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), (404, "not_found".into()));
    let e = f.get::<Value>("/v1/items/abc").await.unwrap_err();
    assert_eq!(api_code(&e), (400, "bad_request".into()));

    let proof: ProofJson = f
        .get(&format!("/v1/proof/{}", confirmed.id()))
        .await
        .unwrap();
    assert!(proof.verified, "{:?}", proof.verify_error);
    assert_eq!((proof.leaf_index, proof.tree_size), (2, 3));
    assert_eq!(proof.block_id, f.block.id().to_hex());
    assert_eq!(
        proof.header.merkle_root,
        f.block.header.merkle_root.to_hex()
    );
    assert!(!proof.path.is_empty());
    // The protobuf form decodes and verifies on its own.
    let bytes = hex::decode(&proof.proof_hex).unwrap();
    let decoded = talos_chain::wire::decode_item_proof(&bytes, &f.spec.limits).unwrap();
    decoded.verify().unwrap();
    assert_eq!(decoded.item, *confirmed);

    let e = f
        .get::<Value>(&format!("/v1/proof/{}", f.pending.id()))
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), (404, "not_found".into()));
    f.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_is_routed_to_the_chain_service() {
    let f = fixture().await;
    let new = item(&f.key, &f.spec, 100, "new");
    let hex_item = hex::encode(talos_chain::wire::encode_item(&new));
    let r = f
        .post(serde_json::json!({ "item": hex_item }))
        .await
        .unwrap();
    assert_eq!(r.id, new.id().to_hex());
    assert_eq!(r.status, "pending");
    assert_eq!(f.submitted.lock().unwrap().as_slice(), [new]);

    let taken = item(&f.key, &f.spec, 13, "taken");
    let e = f
        .post(serde_json::json!({ "item": hex::encode(talos_chain::wire::encode_item(&taken)) }))
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), (409, "nonce_reused".into()));

    let e = f
        .post(serde_json::json!({ "item": "zz" }))
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), (400, "bad_request".into()));
    let e = f
        .post(serde_json::json!({ "item": "0a0b0c" }))
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), (400, "invalid_item".into()));
    let e = f.post(serde_json::json!({ "nope": 1 })).await.unwrap_err();
    assert_eq!(api_code(&e), (400, "bad_request".into()));
    // An oversized body is refused (raw HTTP: the whole body is sent before the answer is
    // read, so the server consumed it and closes cleanly).
    let (addr, cookie) = (f.addr, f.cookie.clone());
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let body = vec![b'0'; routes::MAX_SUBMIT_BODY + 1];
        let head = format!(
            "POST /v1/items HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {cookie}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        let _ = s.write_all(&body);
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"body_too_large\""), "{answer}");
    assert_eq!(f.submitted.lock().unwrap().len(), 2);
    f.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_stream_delivers_and_ends_at_shutdown() {
    let f = fixture().await;
    let url = format!("http://{}/v1/events", f.addr);
    let cookie = f.cookie.clone();
    let (connected_tx, connected_rx) = oneshot::channel();
    let reader = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(20)))
            .build()
            .into();
        let resp = agent
            .get(&url)
            .header("Authorization", format!("Bearer {cookie}"))
            .call()
            .unwrap();
        let content_type = resp
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let _ = connected_tx.send(content_type);
        let mut lines = std::io::BufReader::new(resp.into_body().into_reader()).lines();
        let mut seen = Vec::new();
        while let Some(Ok(line)) = lines.next() {
            if !line.is_empty() {
                seen.push(line);
            }
            if seen.iter().any(|l| l.contains("new_item")) {
                break;
            }
        }
        seen
    });
    let content_type = connected_rx.await.unwrap();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let tip = f.block.id();
    f.events
        .send(NodeEvent::NewTip {
            id: crate::handle::Hash256Hex(tip),
            height: 1,
            reorg_depth: 0,
        })
        .unwrap();
    f.events
        .send(NodeEvent::NewItem {
            id: crate::handle::Hash256Hex(f.pending.id()),
        })
        .unwrap();
    let seen = tokio::time::timeout(std::time::Duration::from_secs(15), reader)
        .await
        .unwrap()
        .unwrap();
    assert!(seen.contains(&"event: new_tip".to_owned()), "{seen:?}");
    let data = seen
        .iter()
        .find(|l| l.starts_with("data:") && l.contains("new_tip"))
        .unwrap();
    let v: Value = serde_json::from_str(data.trim_start_matches("data:").trim()).unwrap();
    assert_eq!(v["height"], 1);
    assert_eq!(v["id"], tip.to_hex());
    assert!(seen.contains(&"event: new_item".to_owned()), "{seen:?}");

    // A stream still open at shutdown does not keep the server alive.
    let url = format!("http://{}/v1/events", f.addr);
    let cookie = f.cookie.clone();
    let open = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(20)))
            .build()
            .into();
        let resp = agent
            .get(&url)
            .header("Authorization", format!("Bearer {cookie}"))
            .call()
            .unwrap();
        let mut body = String::new();
        let _ = std::io::Read::read_to_string(&mut resp.into_body().into_reader(), &mut body);
        body
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    f.shutdown().await;
    let body = tokio::time::timeout(std::time::Duration::from_secs(10), open)
        .await
        .unwrap()
        .unwrap();
    assert!(body.starts_with(": talos events"), "{body}");
}

#[test]
fn a_lagging_subscriber_gets_a_lagged_event() {
    use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
    let ev = events::to_event(Err(BroadcastStreamRecvError::Lagged(7)));
    let text = format!("{ev:?}");
    assert!(text.contains("lagged") && text.contains("missed"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_refuse_non_loopback_addresses() {
    let hub = crate::metrics::MetricsHub::new();
    let err = MetricsServer::bind("0.0.0.0:0".parse().unwrap(), hub)
        .await
        .unwrap_err();
    assert!(matches!(err, ServeError::NotLoopback { .. }));
    // The check `ApiServer::bind` runs first.
    let err = bind_loopback("192.168.0.1:0".parse().unwrap())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("loopback"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_endpoint_serves_openmetrics() {
    let hub = crate::metrics::MetricsHub::new();
    hub.node.height.set(5);
    let server = MetricsServer::bind("127.0.0.1:0".parse().unwrap(), hub)
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    let (stop, stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async move {
        let _ = stop_rx.await;
    }));
    let (ct, body) = tokio::task::spawn_blocking(move || {
        let mut resp = ureq::get(&format!("http://{addr}/metrics")).call().unwrap();
        let ct = resp
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        (ct, resp.body_mut().read_to_string().unwrap())
    })
    .await
    .unwrap();
    assert_eq!(ct, METRICS_CONTENT_TYPE);
    assert!(body.contains("talos_height 5"), "{body}");
    assert!(body.trim_end().ends_with("# EOF"));
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_says_when_the_node_is_not_running() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let c = ApiClient::with_cookie(addr, "x".into());
    let e = tokio::task::spawn_blocking(move || c.get::<Value>("/v1/status"))
        .await
        .unwrap()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("is `talos run` running?") && e.contains(&addr.to_string()),
        "{e}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let e = ApiClient::new(addr, &tmp.path().join(COOKIE_FILE))
        .unwrap_err()
        .to_string();
    assert!(e.contains("api.cookie"), "{e}");
}
