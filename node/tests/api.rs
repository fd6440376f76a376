//! API tests: the real local API server over a real node (sled store in a temporary dir, the
//! real chain service, the real network over libp2p's memory transport, a second real node as
//! its peer), called over real HTTP by the CLI's own client.

use std::io::BufRead;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use talos_api::types::{
    BlockJson, HeadJson, ItemStatusJson, KindJson, NodeStatus, PeersJson, ProofJson,
    SubmitResponse, SyncState,
};
use talos_api::{ApiServer, METRICS_CONTENT_TYPE, MetricsServer, ServeError};
use talos_chain::item::{Anchor, ItemKind};
use talos_chain::testkit::{ChainBuilder, easy_spec};
use talos_chain::{Block, Hash256, NetworkSpec, SignedItem, SigningKey, UnsignedItem};
use talos_chain_service::ChainServiceConfig;
use talos_network::{NetConfig, TransportKind};
use talos_node::cli::client::{ApiCallError, ApiClient};
use talos_node::identity::NodeIdentity;
use talos_node::metrics::MetricsHub;
use talos_node::node::{NodeParts, RunningNode, start_with};
use talos_storage::{ChainStore, ChainUpdate, SledStore, Store};
use tokio::sync::oneshot;

const WAIT: Duration = Duration::from_secs(20);

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

/// A real node over a memory transport on `store`.
async fn start_node(
    spec: &NetworkSpec,
    store: Arc<dyn Store>,
    bootnodes: Vec<libp2p::Multiaddr>,
) -> RunningNode {
    let identity = NodeIdentity::generate();
    let net = NetConfig::new(spec.clone(), identity.keypair().clone())
        .with_transport(TransportKind::Memory)
        .with_listen(vec!["/memory/0".parse().unwrap()])
        .with_bootnodes(bootnodes);
    start_with(
        &identity,
        NodeParts {
            store,
            chain: ChainServiceConfig::new(spec.clone()),
            net,
        },
    )
    .await
    .expect("node starts")
}

struct Fixture {
    _tmp: tempfile::TempDir,
    node: RunningNode,
    peer: RunningNode,
    addr: SocketAddr,
    cookie: String,
    block: Block,
    pending: SignedItem,
    key: SigningKey,
    spec: NetworkSpec,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<Result<(), ServeError>>,
}

async fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let key = SigningKey::from_bytes(&[42; 32]);
    // Block 1 with three items, mined and committed before the node starts.
    let mut builder = ChainBuilder::new(&spec);
    let items = vec![
        item(&key, &spec, 1, "a"),
        item(&key, &spec, 2, "b"),
        item(&key, &spec, 3, "c"),
    ];
    let block = builder.child(builder.genesis(), items);
    let store = SledStore::open_for_spec(tmp.path().join("chain"), &spec).unwrap();
    let work = talos_storage::genesis_work(&spec.genesis())
        .saturating_add(block.header.target.to_target().unwrap().work());
    store
        .commit(ChainUpdate::extend(block.clone(), work))
        .unwrap();
    let node = start_node(&spec, Arc::new(store), Vec::new()).await;

    // A second real node as its peer.
    let listen = wait_for(|| async {
        node.handle
            .listen_addrs()
            .await
            .ok()
            .and_then(|a| a.into_iter().next())
    })
    .await
    .with(libp2p::multiaddr::Protocol::P2p(node.handle.info().peer_id));
    let peer_store = SledStore::open_for_spec(tmp.path().join("peer"), &spec).unwrap();
    let peer = start_node(&spec, Arc::new(peer_store), vec![listen]).await;

    let pending = item(&key, &spec, 4, "pending");
    node.handle
        .submit_item(pending.clone())
        .await
        .unwrap()
        .expect("pending item pooled");

    let cookie = "a-test-cookie".to_owned();
    let server = ApiServer::bind("127.0.0.1:0".parse().unwrap(), &cookie, node.handle.clone())
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    let (stop, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(server.run(async move {
        let _ = stop_rx.await;
    }));
    Fixture {
        _tmp: tmp,
        node,
        peer,
        addr,
        cookie,
        block,
        pending,
        key,
        spec,
        stop: Some(stop),
        server,
    }
}

/// Polls `f` until it gives a value.
async fn wait_for<T, F, Fut>(mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(50)).await;
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
        tokio::time::timeout(WAIT, self.server)
            .await
            .expect("server stops")
            .unwrap()
            .unwrap();
        for node in [self.node, self.peer] {
            node.handle.shutdown();
            tokio::time::timeout(WAIT, node.wait())
                .await
                .expect("node stops")
                .expect("clean stop");
        }
    }
}

fn api_code(e: &anyhow::Error) -> (u16, String) {
    let e = e.downcast_ref::<ApiCallError>().expect("an API error");
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
    let peer_id = f.peer.handle.info().peer_id.to_string();
    let peers: PeersJson = wait_for(|| async {
        let p: PeersJson = f.get("/v1/peers").await.ok()?;
        (p.peers.len() == 1).then_some(p)
    })
    .await;
    assert_eq!(peers.peers[0].peer_id, peer_id);

    let st: NodeStatus = f.get("/v1/status").await.unwrap();
    assert_eq!(st.network, "local");
    assert_eq!(st.tip_height, 1);
    assert_eq!(st.tip_id, f.block.id().to_hex());
    assert_eq!(st.peers, 1);
    assert_eq!(st.mempool_items, 1);
    assert_eq!(st.sync, SyncState::Idle);
    assert!(st.did.starts_with("did:key:z6Mk"));
    assert_eq!(st.peer_id, f.node.handle.info().peer_id.to_string());
    // The raw JSON keeps its documented shape.
    let (_, raw) = f
        .raw_get("/v1/status", Some(format!("Bearer {}", f.cookie)))
        .await;
    assert_eq!(raw["sync"], "idle");

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
async fn submit_goes_to_the_real_mempool() {
    let f = fixture().await;
    let new = item(&f.key, &f.spec, 100, "new");
    let hex_item = hex::encode(talos_chain::wire::encode_item(&new));
    let r = f
        .post(serde_json::json!({ "item": hex_item }))
        .await
        .unwrap();
    assert_eq!(r.id, new.id().to_hex());
    assert_eq!(r.status, "pending");
    let st: ItemStatusJson = f.get(&format!("/v1/items/{}", new.id())).await.unwrap();
    assert_eq!(st.status, "pending");

    // The pending item's (author, nonce) with other content.
    let clash = item(&f.key, &f.spec, 4, "other");
    let e = f
        .post(serde_json::json!({ "item": hex::encode(talos_chain::wire::encode_item(&clash)) }))
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), (409, "nonce_reused".into()));
    // A nonce block 1 used.
    let replay = item(&f.key, &f.spec, 2, "replay");
    let e = f
        .post(serde_json::json!({ "item": hex::encode(talos_chain::wire::encode_item(&replay)) }))
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), (409, "already_in_chain".into()));
    // Signed for another network.
    let foreign = UnsignedItem {
        author: f.key.verifying_key(),
        nonce: 200,
        timestamp_ms: f.spec.genesis_timestamp_ms,
        kind: ItemKind::Anchor(Anchor {
            content_hash: Hash256::ZERO,
            label: "x".into(),
        }),
    }
    .sign(&f.key, f.spec.network_id ^ 1);
    let e = f
        .post(serde_json::json!({ "item": hex::encode(talos_chain::wire::encode_item(&foreign)) }))
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), (422, "bad_signature".into()));

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
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let body = vec![b'0'; 5 << 20];
        let head = format!(
            "POST /v1/items HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {cookie}\r\n\
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
    assert_eq!(
        f.node.handle.mempool_len().await.unwrap(),
        2,
        "the pending item and the new one"
    );
    f.shutdown().await;
}

/// Reads SSE lines from `/v1/events` until a `data:` line contains `until`.
fn read_events(
    addr: SocketAddr,
    cookie: String,
    until: &'static str,
    connected: oneshot::Sender<String>,
) -> Vec<String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let resp = agent
        .get(&format!("http://{addr}/v1/events"))
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
    let _ = connected.send(content_type);
    let mut lines = std::io::BufReader::new(resp.into_body().into_reader()).lines();
    let mut seen = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        if !line.is_empty() {
            seen.push(line);
        }
        if seen
            .iter()
            .any(|l| l.starts_with("data:") && l.contains(until))
        {
            break;
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_stream_delivers_and_ends_at_shutdown() {
    let f = fixture().await;
    let (connected_tx, connected_rx) = oneshot::channel();
    let (addr, cookie) = (f.addr, f.cookie.clone());
    let reader =
        tokio::task::spawn_blocking(move || read_events(addr, cookie, "new_tip", connected_tx));
    let content_type = connected_rx.await.unwrap();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    // A real item, then a real block mined by the node.
    let new = item(&f.key, &f.spec, 7, "evented");
    f.node
        .handle
        .submit_item(new.clone())
        .await
        .unwrap()
        .unwrap();
    let mined = f.node.handle.mine_block().await.unwrap().expect("mined");
    let seen = tokio::time::timeout(Duration::from_secs(15), reader)
        .await
        .unwrap()
        .unwrap();
    for name in ["event: new_item", "event: block_imported", "event: new_tip"] {
        assert!(seen.contains(&name.to_owned()), "{name}: {seen:?}");
    }
    let data = seen
        .iter()
        .find(|l| l.starts_with("data:") && l.contains("new_tip"))
        .unwrap();
    let v: talos_api::types::EventJson =
        serde_json::from_str(data.trim_start_matches("data:").trim()).unwrap();
    assert_eq!(
        v,
        talos_api::types::EventJson::NewTip {
            id: mined.to_hex(),
            height: 2,
            reorg_depth: 0
        }
    );
    let imported = seen
        .iter()
        .find(|l| l.starts_with("data:") && l.contains("block_imported"))
        .unwrap();
    assert!(imported.contains("\"source\":\"mined\""), "{imported}");

    // A stream still open at shutdown does not keep the server alive.
    let url = format!("http://{}/v1/events", f.addr);
    let cookie = f.cookie.clone();
    let open = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(20)))
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
    tokio::time::sleep(Duration::from_millis(200)).await;
    f.shutdown().await;
    let body = tokio::time::timeout(Duration::from_secs(10), open)
        .await
        .unwrap()
        .unwrap();
    assert!(body.starts_with(": talos events"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_refuse_non_loopback_addresses() {
    let hub = MetricsHub::new();
    let err = MetricsServer::bind("0.0.0.0:0".parse().unwrap(), Arc::new(move || hub.encode()))
        .await
        .unwrap_err();
    assert!(matches!(err, ServeError::NotLoopback { .. }));
    let tmp = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let store = SledStore::open_for_spec(tmp.path().join("chain"), &spec).unwrap();
    let n = start_node(&spec, Arc::new(store), Vec::new()).await;
    let err = ApiServer::bind("192.168.0.1:0".parse().unwrap(), "c", n.handle.clone())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("loopback"), "{err}");
    n.handle.shutdown();
    n.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_endpoint_serves_openmetrics() {
    let hub = MetricsHub::new();
    hub.chain.height.set(5);
    let encode_hub = hub.clone();
    let server = MetricsServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        Arc::new(move || encode_hub.encode()),
    )
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
    let config = talos_node::config::Config::default().with_data_dir(tmp.path());
    let e = ApiClient::for_node(&config, None).unwrap_err().to_string();
    assert!(e.contains("api.cookie"), "{e}");
}

/// One raw HTTP/1.1 GET with this `Host` line (or none); the whole answer.
fn raw_get_with_host(
    addr: std::net::SocketAddr,
    path: &str,
    host: Option<&str>,
    auth: &str,
) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let host = host.map(|h| format!("Host: {h}\r\n")).unwrap_or_default();
    let head = format!("GET {path} HTTP/1.1\r\n{host}{auth}Connection: close\r\n\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebound_host_name_gets_nothing_from_the_api_or_metrics() {
    let f = fixture().await;
    let (addr, auth) = (f.addr, format!("Authorization: Bearer {}\r\n", f.cookie));
    let metrics = MetricsServer::bind("127.0.0.1:0".parse().unwrap(), Arc::new(String::new))
        .await
        .unwrap();
    let maddr = metrics.local_addr().unwrap();
    let (stop, stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(metrics.run(async move {
        let _ = stop_rx.await;
    }));
    tokio::task::spawn_blocking(move || {
        for host in [
            Some("evil.example"),
            Some("evil.example:80"),
            Some("10.1.2.3"),
            None,
        ] {
            // The right cookie does not help a page served from another name.
            let answer = raw_get_with_host(addr, "/v1/status", host, &auth);
            assert!(answer.starts_with("HTTP/1.1 403"), "{host:?}: {answer}");
            assert!(answer.contains("\"forbidden_host\""), "{host:?}: {answer}");
            let answer = raw_get_with_host(maddr, "/metrics", host, "");
            assert!(answer.starts_with("HTTP/1.1 403"), "{host:?}: {answer}");
        }
        for host in ["127.0.0.1", "localhost:1234", "[::1]:9"] {
            let answer = raw_get_with_host(addr, "/v1/status", Some(host), &auth);
            assert!(answer.starts_with("HTTP/1.1 200"), "{host}: {answer}");
            let answer = raw_get_with_host(maddr, "/metrics", Some(host), "");
            assert!(answer.starts_with("HTTP/1.1 200"), "{host}: {answer}");
        }
    })
    .await
    .unwrap();
    let _ = stop.send(());
    task.await.unwrap().unwrap();
    f.shutdown().await;
}
