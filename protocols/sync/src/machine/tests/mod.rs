//! Tests of the sync machine against simulated peers serving real mined chains.

mod catch_up;
mod chain;
mod faults;
mod net;
mod orphans;
mod units;
