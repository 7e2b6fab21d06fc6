//! A baseline written from one run, applied to another: every output (summary, JUnit,
//! HTML, JSON) marks the known failures, names the new ones, lists the fixed entries;
//! keys hold across seeds and shrink budgets. One case per row.

use std::collections::BTreeSet;

use reportcheck_conformance::{Baseline, RunOptions, RunReport};
use reportcheck_server::{Config, Fault};

use crate::support::*;

struct Case {
    name: &'static str,
    /// The faults and seed of the run the baseline is written from.
    recorded: (&'static [Fault], u64),
    /// Those of the run checked against it, with its shrink budget (a small one cuts
    /// shrinking short: another length, "not minimal").
    checked: (&'static [Fault], u64, u32),
    /// Rules with a new failure.
    new: &'static [&'static str],
    /// Rules with a fixed entry.
    fixed: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "the same fault, another seed and a cut shrinking: every failure is known",
        recorded: (&[Fault::ToggleKeepsVersion], 1),
        checked: (&[Fault::ToggleKeepsVersion], 2, 3),
        new: &[],
        fixed: &[],
    },
    Case {
        name: "a second fault: its failures are new, the first one's known",
        recorded: (&[Fault::ToggleKeepsVersion], 1),
        checked: (&[Fault::ToggleKeepsVersion, Fault::UpdateFormats], 1, 400),
        new: &["UPD-2", "UPD-9"],
        fixed: &[],
    },
    Case {
        name: "a fault mended: its entries are fixed",
        recorded: (&[Fault::ToggleKeepsVersion, Fault::UpdateFormats], 1),
        checked: (&[Fault::ToggleKeepsVersion], 1, 400),
        new: &[],
        fixed: &["UPD-2", "UPD-9"],
    },
];

async fn faulty(faults: &[Fault], seed: u64, shrink_budget: u32, baseline: Option<Baseline>) -> RunReport {
    let config = Config { faults: faults.iter().copied().collect(), ..config() };
    run(RunOptions { seed: Some(seed), shrink_budget, baseline, ..options(config) }).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_baseline_shows_in_every_output() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../../spec/result.schema.json")).expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let mut wrong = Vec::new();
    for case in CASES {
        let (faults, seed) = case.recorded;
        let recorded = faulty(faults, seed, 400, None).await;
        let json = serde_json::to_value(&recorded).expect("the report serialises");
        let baseline = Baseline::from_result(&json).expect("a result");
        let (faults, seed, budget) = case.checked;
        let report = faulty(faults, seed, budget, Some(baseline)).await;
        let mut problem = |text: String| wrong.push(format!("{}: {text}", case.name));

        let totals = report.totals();
        let failed: Vec<_> = report.checks.iter().filter(|check| check.is_failed()).collect();
        let new: BTreeSet<&str> =
            failed.iter().filter(|check| !report.is_known(check)).map(|check| check.rule.id()).collect();
        let verdict = report.baseline_verdict().expect("a baseline");
        let fixed: BTreeSet<&str> = verdict.fixed.iter().map(|entry| entry.rule.id()).collect();
        if new != case.new.iter().copied().collect() || fixed != case.fixed.iter().copied().collect() {
            problem(format!("new {new:?}, fixed {fixed:?}"));
        }
        if totals.known == 0 || totals.known + totals.blocking != totals.failed {
            problem(format!("totals {totals:?}"));
        }
        if report.exit_code() != u8::from(!case.new.is_empty()) {
            problem(format!("exit {} with {} blocking", report.exit_code(), totals.blocking));
        }

        let summary = report.summary();
        let counts = format!("({} blocking, {} known)", totals.blocking, totals.known);
        if !summary.contains(&counts) || !summary.contains(" failed (known): ") {
            problem(format!("the summary lacks {counts} or a known failure:\n{summary}"));
        }
        for rule in case.new {
            if !summary.contains(&format!("{rule} failed (new): "))
                || !summary.contains(&format!("  new:         {rule} "))
            {
                problem(format!("the summary does not name {rule}'s failure as new"));
            }
        }
        for rule in case.fixed {
            if !summary.contains(&format!("  fixed:       {rule} ")) {
                problem(format!("the summary does not list {rule} as fixed"));
            }
        }
        if case.new.is_empty() && summary.lines().any(|line| line.starts_with("  FAIL ")) {
            problem("a rule line says FAIL for known failures only".to_owned());
        }

        let junit = report.junit();
        let failures = format!("failures=\"{}\"", totals.blocking);
        let junit_known = junit.matches("known failure (in the baseline): ").count();
        if !junit.contains(&failures)
            || junit_known != totals.known
            || junit.matches("name=\"known-failure\"").count() != totals.known
        {
            problem(format!("JUnit: {failures}? {junit_known} known of {}", totals.known));
        }

        let html = reportcheck_conformance::html::render(&report, &Default::default());
        let verdict_html = if totals.blocking > 0 { "id=\"verdict\">failed<" } else { "id=\"verdict\">passed<" };
        if !html.contains(verdict_html)
            || !html.contains("<td class=\"known\">")
            || !html.contains(&format!("({} known)", totals.known))
        {
            problem("the HTML report does not show the known failures".to_owned());
        }

        let json = serde_json::to_value(&report).expect("the report serialises");
        let errors: Vec<String> =
            validator.iter_errors(&json).map(|error| format!("{}: {error}", error.instance_path())).collect();
        let marked = json["checks"].as_array().into_iter().flatten().filter(|check| check["known"] == true).count();
        if !errors.is_empty() || json["totals"]["known"] != totals.known || marked != totals.known {
            problem(format!("JSON: {marked} checks marked known of {}; {errors:?}", totals.known));
        }
        if json["baseline"]["new"] != failed.len() - totals.known {
            problem(format!("JSON baseline: {}", json["baseline"]));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}
