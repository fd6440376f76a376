//! Random schedules: the operations, their weights, and running one schedule to its end.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::delivery::Delivery;
use crate::world::World;

/// Most operations in one random schedule (before the final drain).
const MAX_STEPS: usize = 60;
/// Most messages sent in one direction in one schedule (the first message included), which
/// keeps both engines below every bound on stored skipped keys (see the crate docs).
pub(crate) const MAX_SENDS_PER_DIRECTION: usize = 30;
/// Out-of-order window: an out-of-order delivery picks one of the first `WINDOW` in flight.
pub(crate) const WINDOW: usize = 8;

/// One operation of a schedule, applied to both engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// Send a message to the receiver.
    Send,
    /// Deliver the oldest message in flight.
    InOrder,
    /// Deliver one of the next [`WINDOW`] messages in flight, not the oldest.
    OutOfOrder,
    /// Lose a message in flight.
    Drop,
    /// Deliver an already delivered message again.
    Replay,
    /// Deliver a copy of a message in flight with one byte changed.
    Tamper,
    /// Deliver one of the receiver's own sent messages back to it.
    Reflect,
}

/// The operations with their weights in one schedule, drawn from its seed so that schedules
/// range from chatty (long gaps, many skipped keys) to ping-pong (a DH step at every turn).
struct Profile(Vec<(Op, u32)>);

impl Profile {
    /// Random weights.
    fn draw(rng: &mut StdRng) -> Self {
        Self(vec![
            (Op::Send, rng.gen_range(20..50)),
            (Op::InOrder, rng.gen_range(5..30)),
            (Op::OutOfOrder, rng.gen_range(5..30)),
            (Op::Drop, rng.gen_range(0..10)),
            (Op::Replay, rng.gen_range(1..12)),
            (Op::Tamper, rng.gen_range(1..12)),
            (Op::Reflect, rng.gen_range(0..5)),
        ])
    }

    /// A random operation by weight.
    fn pick(&self, rng: &mut StdRng) -> Op {
        let total: u32 = self.0.iter().map(|(_, w)| w).sum();
        let mut roll = rng.gen_range(0..total);
        for &(op, weight) in &self.0 {
            if roll < weight {
                return op;
            }
            roll -= weight;
        }
        Op::InOrder
    }
}

impl World {
    /// Applies `op` towards `receiver` (a send goes from the other party to it).
    fn apply(&mut self, rng: &mut StdRng, op: Op, receiver: usize, context: &str) {
        let sender = 1 - receiver;
        let in_flight = self.in_flight[receiver].len();
        match op {
            Op::Send if self.sent[sender].len() < MAX_SENDS_PER_DIRECTION => {
                self.send(rng, sender, context);
            }
            Op::Send | Op::InOrder => self.deliver(receiver, 0, context),
            Op::OutOfOrder if in_flight > 1 => {
                let at = rng.gen_range(1..in_flight.min(WINDOW));
                self.deliver(receiver, at, context);
            }
            Op::OutOfOrder => self.deliver(receiver, 0, context),
            Op::Drop if in_flight > 0 => {
                self.in_flight[receiver].remove(rng.gen_range(0..in_flight));
                self.stats.dropped += 1;
            }
            Op::Replay if !self.delivered[receiver].is_empty() => {
                let at = rng.gen_range(0..self.delivered[receiver].len());
                let message = self.delivered[receiver][at].clone();
                self.reject(
                    receiver,
                    &message.ours,
                    &message.oracle,
                    Delivery::Replay,
                    context,
                );
            }
            Op::Tamper if in_flight > 0 => {
                let at = rng.gen_range(0..in_flight);
                let in_header = rng.gen_bool(0.5);
                self.tamper(rng, receiver, at, in_header, context);
            }
            Op::Reflect if !self.sent[receiver].is_empty() => {
                let at = rng.gen_range(0..self.sent[receiver].len());
                let message = self.sent[receiver][at].clone();
                self.reject(
                    receiver,
                    &message.ours,
                    &message.oracle,
                    Delivery::Reflected,
                    context,
                );
            }
            Op::Drop | Op::Replay | Op::Tamper | Op::Reflect => {}
        }
    }
}

/// Runs the random schedule of `seed` and returns the world at its end, every message
/// delivered or dropped.
pub(crate) fn run(seed: u64) -> World {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut world = World::new(seed);
    let profile = Profile::draw(&mut rng);
    let steps = rng.gen_range(MAX_STEPS / 3..=MAX_STEPS);
    for step in 0..steps {
        let receiver = rng.gen_range(0..2);
        let op = profile.pick(&mut rng);
        let context = format!(
            "seed {seed}, step {step}: {op:?} to {}",
            world.parties[receiver].name
        );
        world.apply(&mut rng, op, receiver, &context);
    }
    // Drain: everything still in flight arrives, in random order.
    let mut step = steps;
    while let Some(receiver) = (0..2).find(|&r| !world.in_flight[r].is_empty()) {
        let receiver = if world.in_flight[1 - receiver].is_empty() || rng.gen_bool(0.5) {
            receiver
        } else {
            1 - receiver
        };
        let at = rng.gen_range(0..world.in_flight[receiver].len());
        let context = format!(
            "seed {seed}, drain step {step}: to {}",
            world.parties[receiver].name
        );
        world.deliver(receiver, at, &context);
        step += 1;
    }
    assert_eq!(
        world.stats.sent,
        world.stats.delivered + world.stats.dropped,
        "seed {seed}: every message delivered or dropped"
    );
    world
}
