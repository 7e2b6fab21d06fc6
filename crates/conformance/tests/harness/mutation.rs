//! The mutation score: every fault of the reference server is caught, under its rule;
//! the correct server and a differently conformant one pass.

use futures_util::StreamExt as _;
use reportcheck_conformance::{Outcome, RunOptions};
use reportcheck_server::{Config, Fault, Mutant, MutationLog, Variations};

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
    // Reach by construction: every class of the map the run can reach, reached.
    let classes = report.classes.as_ref().expect("the property tests ran");
    let unreached: Vec<&str> = classes.unreached().map(|class| class.class.as_str()).collect();
    assert!(unreached.is_empty(), "classes not reached: {unreached:#?}");
    assert_eq!(classes.reachable, classes.size, "{:?}", classes.skipped);
}

/// A gap in the reach is visible, and with `--fail-on-uncovered` fails the run: a server
/// that refuses every monthly create leaves the monthly classes unreached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_class_the_server_made_unreachable_fails_the_run_when_coverage_is_required() {
    let mutant = Mutant::named("flip: create /schedule/type=monthly").expect("a generated mutant");
    let config = Config { mutant: Some(mutant), ..config() };
    let report = run(RunOptions { fail_on_uncovered: true, ..options(config) }).await;
    let classes = report.classes.as_ref().expect("the property tests ran");
    let unreached: Vec<&str> = classes.unreached().map(|class| class.class.as_str()).collect();
    assert!(unreached.iter().any(|class| class.contains("on a monthly report")), "{unreached:?}");
    assert!(classes.fails() && report.exit_code() == 1);
    assert!(report.summary().contains("fails the run (--fail-on-uncovered)"), "{}", report.summary());
}

/// Mutants generated from the decider's claims (a fixed sample of `Mutant::all()`; the
/// bench runs them all with three seeds): each is caught under a rule it negated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_mutants_are_caught_under_their_rules() {
    let sample: Vec<Mutant> = Mutant::all().into_iter().step_by(23).collect();
    let runs = futures_util::stream::iter(sample.iter().copied())
        .map(|mutant| async move {
            let mutations = MutationLog::default();
            let config = Config { mutant: Some(mutant), mutations: mutations.clone(), ..config() };
            let report = run(options(config)).await;
            (mutant, report.failed_rules(), mutations.rules())
        })
        .buffer_unordered(4)
        .collect::<Vec<_>>()
        .await;
    let missed: Vec<String> = runs
        .iter()
        .filter(|(_, failed, negated)| !negated.iter().any(|rule| failed.contains(rule)))
        .map(|(mutant, failed, negated)| format!("{mutant}: negated {negated:?}, failed {failed:?}"))
        .collect();
    println!("generated mutants: {} of {} sampled caught under their rules", runs.len() - missed.len(), runs.len());
    assert!(missed.is_empty(), "generated mutants not caught under their rules:\n{}", missed.join("\n"));
}

/// What PROFILE.md leaves free, all at once: a variation of every entry of the freedoms
/// table (`Variations::all()`), over several seeds. No false alarm, nothing skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_differently_conformant_server_passes() {
    // Seeds, and the days around a month's and a year's end.
    let last_day = time::macros::date!(2026 - 12 - 31);
    let new_year = time::macros::date!(2027 - 01 - 01);
    for (seed, today) in [(7, None), (11, Some(last_day)), (23, Some(new_year))] {
        let config = Config { variations: Variations::all(), today, ..Config::default() };
        // The slow stored reports of the variations need the contracts' own polling budget.
        let report = run(RunOptions { max_poll: None, cases: 100, seed: Some(seed), ..options(config) }).await;
        assert_eq!(report.blocking_failures(), 0, "seed {seed}, today {today:?}:\n{}", report.summary());
        // Not a vacuous pass: everything ran.
        let skipped = report.checks.iter().filter(|check| matches!(check.outcome, Outcome::Skipped { .. })).count();
        assert_eq!(skipped, 0, "{}", report.summary());
        assert!(report.checks.len() > 300, "{} checks", report.checks.len());
    }
}

/// The any-branch server (`Pick::Seeded`): every request takes any outcome the decider
/// admits, and every value no claim covers is drawn at random (a refusal under any broken
/// rule with any admitted status and a free code, an omitted flag's value, version steps,
/// one stored report per entry or per distinct format, a property new on every answer).
/// Derived from the decider's branches and claims, so a pass tests the allow-list itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_taking_any_admissible_branch_passes() {
    let last_day = time::macros::date!(2026 - 12 - 31);
    let new_year = time::macros::date!(2027 - 01 - 01);
    for (seed, today) in [(1, None), (2, None), (3, Some(last_day)), (4, Some(new_year))] {
        let config = Config { today, ..Config::any_branch(seed) };
        let report = run(RunOptions { max_poll: None, cases: 100, seed: Some(seed), ..options(config) }).await;
        assert_eq!(report.blocking_failures(), 0, "any-branch seed {seed}, today {today:?}:\n{}", report.summary());
        let skipped = report.checks.iter().filter(|check| matches!(check.outcome, Outcome::Skipped { .. })).count();
        assert_eq!(skipped, 0, "{}", report.summary());
        assert!(report.checks.len() > 300, "{} checks", report.checks.len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_is_caught_under_its_rule() {
    let runs = futures_util::stream::iter(Fault::ALL.iter().copied())
        .map(|fault| async move {
            // A fault that shows only on some days runs on a server fixed at such a day.
            let config = Config { faults: [fault].into(), today: fault.server_today(), ..config() };
            let report = run(options(config)).await;
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

/// A failure hides nothing: with a fault that trips nearly every sequence and another one
/// behind it, the property tests report both, each with its own counterexample.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_hides_nothing() {
    let faults = [Fault::CreateDropsFlags, Fault::NoVersionBump, Fault::IgnoreStaleVersion];
    let empty = std::env::temp_dir().join(format!("reportcheck-hides-nothing-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("dir");
    let config = Config { faults: faults.into_iter().collect(), ..config() };
    let report = run(RunOptions { contracts: empty.clone().into(), cases: 64, ..options(config) }).await;
    let _ = std::fs::remove_dir_all(&empty);
    for fault in faults {
        let caught = report.checks.iter().any(|check| {
            check.is_failed() && check.rule == fault.rule() && check.source == reportcheck_conformance::Source::Property
        });
        assert!(caught, "{} ({}) hidden behind the others:\n{}", fault.name(), fault.rule(), report.summary());
    }
}
