use std::collections::HashMap;

use super::*;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

fn dir_flags(dir: &Path) -> ConfigOverrides {
    ConfigOverrides {
        data_dir: Some(dir.to_owned()),
        ..Default::default()
    }
}

#[test]
fn defaults_are_a_full_local_node_with_loopback_api() {
    let tmp = tempfile::tempdir().unwrap();
    let c = Config::resolve(dir_flags(tmp.path()), &env_of(&[])).unwrap();
    assert_eq!(c.role, Role::Full);
    assert_eq!(c.network.name, "local");
    assert_eq!(c.data_dir, tmp.path());
    assert_eq!(c.listen, default_listen());
    assert_eq!(c.listen[0].to_string(), "/ip4/0.0.0.0/tcp/7400");
    assert_eq!(c.listen[1].to_string(), "/ip4/0.0.0.0/udp/7400/quic-v1");
    assert_eq!(c.bootnodes, spec_bootnodes(&NetworkSpec::local()));
    assert!(!c.mine);
    assert_eq!(c.miner_threads, 1);
    assert_eq!(c.api_addr.to_string(), DEFAULT_API_ADDR);
    assert_eq!(c.metrics_addr.to_string(), DEFAULT_METRICS_ADDR);
    assert_eq!(c.log_format, LogFormat::Text);
    c.validate().unwrap();
    assert!(Config::default().validate().is_ok());
}

#[test]
fn default_data_dir_uses_talos_data_dir_then_home() {
    let d = default_data_dir("testnet", &env_of(&[("HOME", "/home/a")])).unwrap();
    assert_eq!(d, PathBuf::from("/home/a/.talos/testnet"));
    let d = default_data_dir(
        "testnet",
        &env_of(&[("HOME", "/h"), ("TALOS_DATA_DIR", "/x")]),
    )
    .unwrap();
    assert_eq!(d, PathBuf::from("/x"));
    let d = default_data_dir("/specs/mynet.toml", &env_of(&[("HOME", "/h")])).unwrap();
    assert_eq!(d, PathBuf::from("/h/.talos/mynet"));
    assert!(matches!(
        default_data_dir("local", &env_of(&[])),
        Err(ConfigError::NoDataDir)
    ));
    // Resolved through the layers too.
    let c = Config::resolve(
        ConfigOverrides {
            network: Some("testnet".into()),
            ..Default::default()
        },
        &env_of(&[("HOME", "/nonexistent-home")]),
    )
    .unwrap();
    assert_eq!(
        c.data_dir,
        PathBuf::from("/nonexistent-home/.talos/testnet")
    );
    assert_eq!(c.network.name, "testnet");
}

#[test]
fn every_env_variable_maps() {
    let env = env_of(&[
        ("TALOS_ROLE", "bootstrap"),
        ("TALOS_NETWORK", "testnet"),
        ("TALOS_DATA_DIR", "/d"),
        (
            "TALOS_LISTEN",
            "/ip4/127.0.0.1/tcp/1, /ip4/127.0.0.1/udp/1/quic-v1",
        ),
        ("TALOS_BOOTNODES", "/ip4/10.0.0.1/tcp/7400"),
        ("TALOS_MINE", "true"),
        ("TALOS_MINER_THREADS", "3"),
        ("TALOS_API_ADDR", "127.0.0.1:9001"),
        ("TALOS_METRICS_ADDR", "[::1]:9002"),
        ("TALOS_LOG_FORMAT", "json"),
    ]);
    let o = ConfigOverrides::from_env(&env).unwrap();
    assert_eq!(o.role, Some(Role::Bootstrap));
    assert_eq!(o.network.as_deref(), Some("testnet"));
    assert_eq!(o.data_dir, Some(PathBuf::from("/d")));
    assert_eq!(o.listen.as_ref().unwrap().len(), 2);
    assert_eq!(
        o.bootnodes.as_ref().unwrap()[0].to_string(),
        "/ip4/10.0.0.1/tcp/7400"
    );
    assert_eq!(o.mine, Some(true));
    assert_eq!(o.miner_threads, Some(3));
    assert_eq!(o.api_addr.unwrap().port(), 9001);
    assert!(o.metrics_addr.unwrap().ip().is_loopback());
    assert_eq!(o.log_format, Some(LogFormat::Json));
}

#[test]
fn file_then_env_then_flags() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join(CONFIG_FILE),
        "miner_threads = 2\nmine = true\napi_addr = \"127.0.0.1:8001\"\nlog_format = \"json\"\n\
         listen = [\"/ip4/127.0.0.1/tcp/8000\"]\n",
    )
    .unwrap();
    // File over defaults.
    let c = Config::resolve(dir_flags(tmp.path()), &env_of(&[])).unwrap();
    assert_eq!(c.miner_threads, 2);
    assert!(c.mine);
    assert_eq!(c.api_addr.port(), 8001);
    assert_eq!(c.log_format, LogFormat::Json);
    assert_eq!(c.listen[0].to_string(), "/ip4/127.0.0.1/tcp/8000");
    // Env over file.
    let env = env_of(&[
        ("TALOS_MINER_THREADS", "4"),
        ("TALOS_API_ADDR", "127.0.0.1:8002"),
    ]);
    let c = Config::resolve(dir_flags(tmp.path()), &env).unwrap();
    assert_eq!(c.miner_threads, 4);
    assert_eq!(c.api_addr.port(), 8002);
    assert!(c.mine, "untouched file value stays");
    // Flags over env.
    let flags = ConfigOverrides {
        miner_threads: Some(5),
        mine: Some(false),
        ..dir_flags(tmp.path())
    };
    let c = Config::resolve(flags, &env).unwrap();
    assert_eq!(c.miner_threads, 5);
    assert!(!c.mine);
    assert_eq!(c.api_addr.port(), 8002);
}

#[test]
fn env_data_dir_locates_the_file_and_flag_data_dir_wins() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    std::fs::write(a.path().join(CONFIG_FILE), "miner_threads = 7\n").unwrap();
    std::fs::write(b.path().join(CONFIG_FILE), "miner_threads = 8\n").unwrap();
    let env = env_of(&[("TALOS_DATA_DIR", a.path().to_str().unwrap())]);
    assert_eq!(
        Config::resolve(ConfigOverrides::default(), &env)
            .unwrap()
            .miner_threads,
        7
    );
    assert_eq!(
        Config::resolve(dir_flags(b.path()), &env)
            .unwrap()
            .miner_threads,
        8
    );
}

#[test]
fn bootnodes_default_to_the_spec_and_are_replaced_when_given() {
    let tmp = tempfile::tempdir().unwrap();
    let flags = ConfigOverrides {
        bootnodes: Some(vec!["/ip4/1.2.3.4/tcp/7400".parse().unwrap()]),
        ..dir_flags(tmp.path())
    };
    let c = Config::resolve(flags, &env_of(&[])).unwrap();
    assert_eq!(c.bootnodes.len(), 1);
    assert_eq!(c.bootnodes[0].to_string(), "/ip4/1.2.3.4/tcp/7400");
}

#[test]
fn network_spec_file_relative_to_the_data_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let mut spec = NetworkSpec::local();
    spec.name = "mynet".into();
    spec.network_id = 4242;
    spec.bootnodes = vec!["/ip4/10.1.1.1/tcp/7400".into()];
    std::fs::write(
        tmp.path().join("mynet.toml"),
        toml::to_string(&spec).unwrap(),
    )
    .unwrap();
    std::fs::write(tmp.path().join(CONFIG_FILE), "network = \"mynet.toml\"\n").unwrap();
    let c = Config::resolve(dir_flags(tmp.path()), &env_of(&[])).unwrap();
    assert_eq!(c.network, spec);
    assert_eq!(c.bootnodes[0].to_string(), "/ip4/10.1.1.1/tcp/7400");
}

#[test]
fn bad_values_error_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let err = |env: &[(&str, &str)]| {
        Config::resolve(dir_flags(tmp.path()), &env_of(env))
            .unwrap_err()
            .to_string()
    };
    assert!(err(&[("TALOS_ROLE", "miner")]).contains("expected `bootstrap`, `full` or `light`"));
    assert!(err(&[("TALOS_MINE", "maybe")]).contains("TALOS_MINE"));
    assert!(err(&[("TALOS_MINER_THREADS", "-1")]).contains("TALOS_MINER_THREADS"));
    assert!(err(&[("TALOS_MINER_THREADS", "0")]).contains("miner_threads"));
    assert!(err(&[("TALOS_LISTEN", "not-an-addr")]).contains("TALOS_LISTEN"));
    assert!(err(&[("TALOS_LOG_FORMAT", "xml")]).contains("expected `text` or `json`"));
    assert!(err(&[("TALOS_NETWORK", "/no/such/spec.toml")]).contains("not an embedded network"));
    let e = err(&[("TALOS_API_ADDR", "0.0.0.0:7401")]);
    assert!(e.contains("api_addr") && e.contains("loopback"), "{e}");
    assert!(err(&[("TALOS_METRICS_ADDR", "192.168.1.1:7402")]).contains("loopback"));
    assert!(err(&[("TALOS_API_ADDR", "localhost")]).contains("IP:PORT"));
    assert!(
        err(&[("TALOS_ROLE", "bootstrap"), ("TALOS_MINE", "1")])
            .contains("bootstrap node does not mine")
    );
    std::fs::write(tmp.path().join(CONFIG_FILE), "colour = \"blue\"\n").unwrap();
    let e = err(&[]);
    assert!(e.contains("talos.toml") && e.contains("colour"), "{e}");
}

#[test]
fn rendered_file_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let all_default = render_config_file(&ConfigOverrides::default());
    std::fs::write(tmp.path().join(CONFIG_FILE), &all_default).unwrap();
    let c = Config::resolve(dir_flags(tmp.path()), &env_of(&[])).unwrap();
    let d = Config::default().with_data_dir(tmp.path());
    assert_eq!(c, d);

    let set = ConfigOverrides {
        role: Some(Role::Bootstrap),
        network: Some("testnet".into()),
        data_dir: None,
        listen: Some(vec!["/ip4/127.0.0.1/tcp/9".parse().unwrap()]),
        bootnodes: Some(vec![]),
        mine: Some(false),
        miner_threads: Some(2),
        api_addr: Some("127.0.0.1:1".parse().unwrap()),
        metrics_addr: Some("127.0.0.1:2".parse().unwrap()),
        log_format: Some(LogFormat::Json),
    };
    let text = render_config_file(&set);
    let parsed = ConfigOverrides::from_toml(&text, Path::new("t"), tmp.path()).unwrap();
    assert_eq!(parsed, set);
}
