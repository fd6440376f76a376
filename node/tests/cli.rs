//! The `talos` binary as an operator meets it: client commands find a running node through the
//! address it recorded in its data dir, and a node that cannot start (an address in use) names
//! the cause and exits non-zero, so a supervisor sees the failure.

mod cluster_support;

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cluster_support::{Cluster, Listen, NodeOptions, TRIVIAL_TARGET, free_port, spec_toml};
use talos_api::types::{HeadJson, NodeStatus};

fn spec() -> String {
    spec_toml("cli", 0x434c_4931, TRIVIAL_TARGET, 1)
}

/// `talos <args>` with no `TALOS_*` variables from the test's environment.
fn talos(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_talos"));
    cmd.args(args).stdin(Stdio::null()).env("NO_COLOR", "1");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("TALOS_") {
            cmd.env_remove(&key);
        }
    }
    cmd
}

#[test]
fn client_commands_find_the_node_through_its_data_dir() {
    let mut c = Cluster::new(&spec());
    // The launcher passes a random, non-default `--api-addr`.
    let id = c.start("a", NodeOptions::full().listening(Listen::Tcp));
    let data_dir = c.node(id).data_dir.display().to_string();
    let recorded = std::fs::read_to_string(c.node(id).data_dir.join("api.addr")).unwrap();
    assert_eq!(
        recorded.trim(),
        format!("127.0.0.1:{}", c.node(id).api_port),
        "the node records the address it is bound to"
    );

    let out = talos(&["status", "--data-dir", &data_dir, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: NodeStatus = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status.peer_id, c.node(id).status().peer_id);
    let out = talos(&["chain", "head", "--data-dir", &data_dir, "--json"])
        .output()
        .unwrap();
    let head: HeadJson = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(head.height, 0);
    let human = talos(&["status", "--data-dir", &data_dir])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("sync       idle"), "{text}");

    // A clean stop removes the address and the cookie; clients then say so.
    c.stop(id);
    assert!(!c.node(id).data_dir.join("api.addr").exists());
    let out = talos(&["status", "--data-dir", &data_dir])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is `talos run` running"), "{err}");
}

#[test]
fn a_listen_address_in_use_stops_the_node_with_the_cause_and_a_failure_status() {
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("spec.toml");
    std::fs::write(&spec_path, spec()).unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let listen = format!("/ip4/127.0.0.1/tcp/{port}");
    let data_dir = dir.path().join("node");
    let api = format!("127.0.0.1:{}", free_port());
    let metrics = format!("127.0.0.1:{}", free_port());
    let mut child = talos(&[
        "run",
        "--network",
        spec_path.to_str().unwrap(),
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--listen",
        &listen,
        "--api-addr",
        &api,
        "--metrics-addr",
        &metrics,
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the node kept running on an address in use");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {listen}: ")),
        "{stderr}"
    );
    assert!(stderr.contains("in use"), "the cause is named: {stderr}");
    drop(taken);
}
