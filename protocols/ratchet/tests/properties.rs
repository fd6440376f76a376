//! Property tests: arbitrary and mutated inputs never panic and never change the state; any
//! order of a chain's messages decrypts each exactly once.

mod common;

use common::{pair, reject, rng};
use proptest::prelude::*;
use talos_ratchet::{InitialMessage, MessageRef};

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_are_rejected_without_state_change(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut rng = rng(40);
        let (_, mut bob) = pair(&mut rng, true);
        reject(&mut bob, &bytes);
        if let Ok(message) = MessageRef::decode(&bytes) {
            prop_assert_eq!(message.to_bytes(), bytes.clone());
        }
        if let Ok(initial) = InitialMessage::decode(&bytes) {
            prop_assert_eq!(initial.encode(), bytes);
        }
    }

    #[test]
    fn mutated_messages_are_rejected_without_state_change(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..), 1..4),
        cut in any::<prop::sample::Index>(),
        len in 0usize..200,
    ) {
        let mut rng = rng(41);
        let (mut alice, mut bob) = pair(&mut rng, true);
        let message = alice.encrypt(&vec![0x5A; len]).expect("encrypt");
        let mut flipped = message.clone();
        for (at, mask) in &flips {
            flipped[at.index(message.len())] ^= mask;
        }
        if flipped != message {
            reject(&mut bob, &flipped);
        }
        let cut = cut.index(message.len());
        reject(&mut bob, &message[..cut]);
        prop_assert_eq!(bob.decrypt(&message).expect("genuine"), vec![0x5A; len]);
    }

    #[test]
    fn any_order_decrypts_each_message_once(order in Just((0..24usize).collect::<Vec<_>>()).prop_shuffle()) {
        let mut rng = rng(42);
        let (mut alice, mut bob) = pair(&mut rng, false);
        let messages: Vec<Vec<u8>> = (0..24u8).map(|i| alice.encrypt(&[i]).expect("encrypt")).collect();
        for &i in &order {
            prop_assert_eq!(bob.decrypt(&messages[i]).expect("in bound"), vec![i as u8]);
            reject(&mut bob, &messages[i]);
        }
        prop_assert_eq!(bob.skipped_key_count(), 0);
    }
}
