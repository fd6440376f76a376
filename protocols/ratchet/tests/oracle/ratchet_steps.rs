//! Comparing where each engine takes its DH ratchet steps.

use crate::observe::observe_ours;
use crate::world::{ALICE, BOB, World};

/// Checks both engines put every message of the world into the same sending chain at the same
/// position and took receive-side DH ratchet steps after the same deliveries; returns the
/// number of sending chains per direction (Alice to Bob, Bob to Alice).
pub(crate) fn check_ratchet_steps(world: &World, context: &str) -> [usize; 2] {
    for sender in [ALICE, BOB] {
        let name = world.parties[sender].name;
        assert_eq!(
            world.ours_headers[sender].headers, world.oracle_headers[sender].headers,
            "{context}: {name}'s headers (chain, PN, N) differ (left ours, right the oracle)"
        );
        assert_eq!(
            world.ours_headers[sender].keys.len(),
            world.oracle_headers[sender].keys.len(),
            "{context}: {name}'s distinct ratchet keys"
        );
    }
    for receiver in [ALICE, BOB] {
        for (i, (ours, oracle)) in world.receive_steps[receiver].iter().enumerate() {
            assert_eq!(
                ours, oracle,
                "{context}: {}'s receive-side ratchet steps after delivery {i} (ours, the oracle)",
                world.parties[receiver].name
            );
        }
    }
    [
        world.ours_headers[ALICE].keys.len(),
        world.ours_headers[BOB].keys.len(),
    ]
}

/// The receive-side DH ratchet steps `party` has taken in both engines (checked equal).
pub(crate) fn receive_steps(world: &World, party: usize) -> u64 {
    let (_, ours) = observe_ours(&world.parties[party].ours);
    assert_eq!(
        ours, world.parties[party].oracle_steps,
        "receive-side steps"
    );
    ours
}
