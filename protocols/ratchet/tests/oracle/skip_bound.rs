//! Helpers of the skip-bound test.

use rand::rngs::StdRng;

use crate::delivery::{Delivery, Outcome};
use crate::world::World;

/// Sends `count` messages from `sender`.
pub(crate) fn send_many(
    world: &mut World,
    rng: &mut StdRng,
    sender: usize,
    count: u32,
    context: &str,
) {
    for _ in 0..count {
        world.send(rng, sender, context);
    }
}

/// Delivers the in-flight message at `at` to `receiver` and expects both engines to reject it
/// for its gap; it stays in flight.
pub(crate) fn reject_gap(world: &mut World, receiver: usize, at: usize, context: &str) {
    let message = world.in_flight[receiver][at].clone();
    let kind = Delivery::OverSkipBound;
    let outcome = world.decrypt_both(receiver, &message.ours, &message.oracle, kind, context);
    assert_eq!(
        outcome,
        Outcome::Rejected,
        "{context}: a gap over MAX_SKIP was accepted"
    );
}
