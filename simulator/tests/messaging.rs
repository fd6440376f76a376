//! The messaging scenario: 50 real nodes over the simulated network (20 ms ± 5 ms links), 10
//! messaging agents, 3 of them offline while the others write to them, 8 mailbox nodes leaving
//! for 3 s while messages are in flight. Every message arrives, exactly once; the offline
//! agents' through their mailboxes.

use talos_simulator::messaging::{MessagingScenario, run};

#[test]
fn every_message_arrives_once_through_offline_recipients_and_mailbox_churn() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let scenario = MessagingScenario::default();
    let report = runtime.block_on(run(&scenario)).expect("the scenario runs");
    println!("{}", report.table());
    assert!(
        report.sent
            >= scenario.messages_per_agent * (scenario.agents - scenario.offline_agents) * 9 / 10
    );
    assert_eq!(report.delivery_ratio, 1.0, "{report:?}");
    assert_eq!(report.duplicates, 0);
    assert!(
        report.via_mailbox > 0,
        "the offline agents read their mailboxes"
    );
    assert!(report.direct.n > 0);
}
