//! Talos chain-sync protocol (in progress).
