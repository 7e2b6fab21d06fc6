//! The mutation score: every fault of the reference server is caught, under its rule;
//! the correct server and a differently conformant one pass.

use std::time::Duration;

use futures_util::StreamExt as _;
use reportcheck_conformance::{Outcome, RunOptions};
use reportcheck_server::{Config, Fault, Variations, VersionScheme};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_server_passes_everything() {
    let report = run(options(config())).await;
    let failed: Vec<_> = report.checks.iter().filter(|check| check.is_failed()).collect();
    assert!(failed.is_empty(), "{}", report.summary());
    let skipped = report.checks.iter().filter(|check| matches!(check.outcome, Outcome::Skipped { .. })).count();
    assert_eq!(skipped, 0, "{}", report.summary());
    for rule in reportcheck_model::Rule::ALL {
        assert!(report.checks.iter().any(|check| check.rule == *rule), "no check of {rule}");
    }
    assert_eq!(report.exit_code(), 0);
}

/// What PROFILE.md leaves free, all at once: millisecond versions, extra properties,
/// string error codes, other messages, `Z` timestamps, 403 for foreign reports, slow
/// stored reports. No false alarm.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_differently_conformant_server_passes() {
    let config = Config {
        versions: VersionScheme::UnixMillis,
        variations: Variations::all(),
        save_delay: Duration::from_millis(900),
        ..Config::default()
    };
    // The 900 ms stored reports need a longer poll than the quick default.
    let report = run(RunOptions { max_poll: None, ..options(config) }).await;
    assert_eq!(report.blocking_failures(), 0, "{}", report.summary());
    // Not a vacuous pass: everything ran.
    let skipped = report.checks.iter().filter(|check| matches!(check.outcome, Outcome::Skipped { .. })).count();
    assert_eq!(skipped, 0, "{}", report.summary());
    assert!(report.checks.len() > 300, "{} checks", report.checks.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_is_caught_under_its_rule() {
    let runs = futures_util::stream::iter(Fault::ALL.iter().copied())
        .map(|fault| async move {
            let report = run(options(Config { faults: [fault].into(), ..config() })).await;
            (fault, report)
        })
        .buffer_unordered(6)
        .collect::<Vec<_>>()
        .await;
    let mut missed = Vec::new();
    for (fault, report) in &runs {
        let caught = report.checks.iter().any(|check| check.is_failed() && check.rule == fault.rule());
        if !caught || report.exit_code() != 1 {
            let failed: Vec<_> = report.checks.iter().filter(|c| c.is_failed()).map(|c| c.rule.id()).collect();
            missed.push(format!("{} ({}): failed rules {failed:?}", fault.name(), fault.rule()));
        }
    }
    let score = 100.0 * (runs.len() - missed.len()) as f64 / runs.len() as f64;
    println!(
        "mutation score: {score:.0}% ({} of {} faults caught under their rule)",
        runs.len() - missed.len(),
        runs.len()
    );
    assert!(missed.is_empty(), "faults not caught under their rule:\n{}", missed.join("\n"));
}
