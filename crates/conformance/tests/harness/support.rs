//! Runs of the harness against the embedded server.

use std::time::Duration;

use reportcheck_conformance::{RunOptions, RunReport, Target};
use reportcheck_server::Config;

/// A quick embedded configuration: stored reports save at once.
pub fn config() -> Config {
    Config { save_delay: Duration::from_millis(10), ..Config::default() }
}

pub fn options(config: Config) -> RunOptions {
    // Stored reports save within 10 ms here; a fault that keeps them from it should not
    // hold a run for the contracts' 30 s polling budget.
    RunOptions {
        cases: 16,
        seed: Some(7),
        max_poll: Some(Duration::from_secs(2)),
        ..RunOptions::new(Target::Embedded(config))
    }
}

pub async fn run(options: RunOptions) -> RunReport {
    reportcheck_conformance::run(options).await.expect("the run can be made")
}
