//! Talos storage (in progress).
