//! Tests of the sync machine against simulated peers serving real mined chains (the chain and
//! the virtual-time network are [`crate::testkit`]'s).

mod catch_up;
mod claims;
mod faults;
mod headers_only;
mod orphans;
mod units;
