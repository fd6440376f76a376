//! Observing both engines: their counters, our ratchet key and receive-side steps, and the
//! oracle's `DHr`, read from `Debug` output and serialized state.

use talos_ratchet::Session;

use crate::oracle_session::Oracle;

/// The ratchet counters and skipped-key count, as both engines are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counters {
    /// `Ns`, normalised for the oracle's deferred key generation (see the crate docs).
    pub(crate) ns: u64,
    /// `Nr`.
    pub(crate) nr: u64,
    /// `PN`, normalised likewise.
    pub(crate) pn: u64,
    /// Skipped message keys held.
    pub(crate) skipped: usize,
}

/// What our session's `Debug` output shows: the counters and the number of receive-side DH
/// ratchet steps taken (`recv_chain`, the receiving chain's sequence number).
pub(crate) fn observe_ours(session: &Session) -> (Counters, u64) {
    let debug = format!("{session:?}");
    let number = |name: &str| {
        debug_field(&debug, name)
            .parse::<u64>()
            .unwrap_or_else(|e| panic!("our `{name}` is a number: {e}"))
    };
    let counters = Counters {
        ns: number("ns"),
        nr: number("nr"),
        pn: number("pn"),
        skipped: session.skipped_key_count(),
    };
    (counters, number("recv_chain"))
}

/// Our session's current ratchet public key (`DHs`), read from its serialized state: the
/// only place our engine shows it.
pub(crate) fn ours_ratchet_key(session: &Session) -> [u8; 32] {
    let state = serde_json::to_value(session).expect("a session serializes");
    let public: Vec<u8> = serde_json::from_value(state["dh_self"]["public"].clone())
        .expect("serialized session has `dh_self.public` bytes");
    public.try_into().expect("a ratchet public key is 32 bytes")
}

/// The text after ` name: ` in a `Debug` output, up to the next `, `.
fn debug_field<'a>(debug: &'a str, name: &str) -> &'a str {
    let key = format!(" {name}: ");
    let start = debug
        .find(&key)
        .unwrap_or_else(|| panic!("Debug output has `{name}`: {debug}"))
        + key.len();
    let rest = &debug[start..];
    &rest[..rest.find(", ").unwrap_or(rest.len())]
}

/// What the oracle's `Debug` output shows: the normalised counters and its `DHr`.
pub(crate) fn observe_oracle(oracle: &Oracle) -> (Counters, String) {
    let debug = format!("{oracle:?}");
    let number = |name: &str| {
        debug_field(&debug, name)
            .parse::<u64>()
            .unwrap_or_else(|e| panic!("oracle `{name}` is a number: {e}"))
    };
    let (ns, pn) = if debug_field(&debug, "cks") == "None" {
        (0, number("ns"))
    } else {
        (number("ns"), number("pn"))
    };
    let store = &debug[debug
        .find(" mkskipped: ")
        .expect("oracle Debug has `mkskipped`")..];
    let counters = Counters {
        ns,
        nr: number("nr"),
        pn,
        skipped: store.matches("Mk").count(),
    };
    (counters, debug_field(&debug, "dhr").to_owned())
}
