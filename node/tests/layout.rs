//! The house rules, checked: every crate is listed once in `docs/layout.md` and in the README's
//! crate diagram, exactly as `cargo metadata` knows them; the dependency rules between crates
//! hold (`cargo tree`, default features, normal dependencies); no source file is longer than
//! 800 lines.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Longest source file allowed.
const MAX_FILE_LINES: usize = 800;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("node/ is inside the workspace")
        .to_owned()
}

fn cargo(args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(args)
        .current_dir(root())
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "cargo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The workspace's crates, from `cargo metadata`.
fn workspace_crates() -> BTreeSet<String> {
    let text = cargo(&[
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
        "--offline",
    ]);
    let meta: serde_json::Value = serde_json::from_str(&text).expect("metadata JSON");
    meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect()
}

/// Every `talos-*` name in backticks or parentheses in `text`.
fn crate_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (start, _) in text.match_indices("talos-") {
        let name: String = text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let before = text[..start].chars().next_back();
        if matches!(before, Some('`' | '(')) {
            names.insert(name.trim_end_matches('-').to_owned());
        }
    }
    names
}

#[test]
fn docs_and_readme_list_exactly_the_workspace_crates() {
    let crates = workspace_crates();
    let layout = std::fs::read_to_string(root().join("docs/layout.md")).expect("docs/layout.md");
    // The crate column of the first table (binaries are named after the crate, in
    // parentheses, and are not crates).
    let mut listed: BTreeSet<String> = layout
        .lines()
        .take_while(|l| !l.starts_with("## "))
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| l.split('|').nth(2))
        .flat_map(|cell| crate_names(cell.split(" (").next().unwrap_or_default()))
        .collect();
    // The fuzz targets are their own workspace.
    assert!(
        listed.remove("talos-fuzz"),
        "docs/layout.md lists talos-fuzz"
    );
    assert_eq!(listed, crates, "docs/layout.md's table vs cargo metadata");
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let section = readme
        .split("## How the crates fit")
        .nth(1)
        .expect("the README has a crate diagram")
        .split("\n## ")
        .next()
        .unwrap_or_default();
    let diagram = section
        .split("```")
        .nth(1)
        .expect("the diagram is a code block");
    assert_eq!(
        crate_names(diagram),
        crates,
        "README diagram vs cargo metadata"
    );
}

/// Every crate `krate` depends on (normal dependencies, default features, transitively).
fn dependency_tree(krate: &str) -> BTreeSet<String> {
    let text = cargo(&[
        "tree",
        "-p",
        krate,
        "-e",
        "normal",
        "--prefix",
        "none",
        "-f",
        "{p}",
        "--offline",
    ]);
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn assert_free_of(krate: &str, forbidden: &[&str]) {
    let tree = dependency_tree(krate);
    let found: Vec<&String> = tree
        .iter()
        .filter(|dep| {
            forbidden.iter().any(|f| {
                *dep == f || (f.ends_with('*') && dep.starts_with(f.trim_end_matches('*')))
            })
        })
        .collect();
    assert!(found.is_empty(), "{krate} depends on {found:?}");
}

#[test]
fn dependency_rules_hold() {
    // No I/O runtime, no libp2p swarm, no HTTP, no storage in the chain rules and the protocols.
    let protocol_rule = [
        "tokio",
        "libp2p-swarm",
        "libp2p",
        "axum",
        "talos-storage",
        "sled",
    ];
    for krate in [
        "talos-chain",
        "talos-sync",
        "talos-gossip",
        "talos-identity",
        "talos-light",
        "talos-ratchet",
        "talos-messaging",
    ] {
        assert_free_of(krate, &protocol_rule);
    }
    // The chain rules: no network crate at all.
    assert_free_of("talos-chain", &["libp2p*"]);
    // The chain service decides about the chain without libp2p or HTTP.
    assert_free_of("talos-chain-service", &["libp2p*", "axum", "hyper"]);
    // The network translates; it serves no HTTP.
    assert_free_of("talos-network", &["axum", "talos-api"]);
    // The API knows the node only through its trait.
    assert_free_of(
        "talos-api",
        &[
            "libp2p",
            "libp2p-swarm",
            "talos-chain-service",
            "talos-network",
            "talos-node",
        ],
    );
    // The simulator runs nodes, not the command line.
    assert_free_of(
        "talos-simulator",
        &["axum", "ureq", "indicatif", "talos-api"],
    );
    // ... and the check itself sees dependencies (it would pass vacuously otherwise).
    assert!(dependency_tree("talos-network").contains("libp2p-swarm"));
    assert!(dependency_tree("talos-node").contains("axum"));
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_source_file_is_longer_than_800_lines() {
    let mut files = Vec::new();
    for dir in ["proto", "protocols", "storage", "node", "simulator", "fuzz"] {
        rust_files(&root().join(dir), &mut files);
    }
    assert!(files.len() > 100, "found only {} files", files.len());
    let long: Vec<(usize, String)> = files
        .iter()
        .map(|f| {
            let lines = std::fs::read_to_string(f).map_or(0, |t| t.lines().count());
            (
                lines,
                f.strip_prefix(root()).unwrap_or(f).display().to_string(),
            )
        })
        .filter(|(lines, _)| *lines > MAX_FILE_LINES)
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_FILE_LINES} lines: {long:?}"
    );
}
