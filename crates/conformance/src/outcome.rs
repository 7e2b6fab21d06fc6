//! What a run found: one [`Check`] per expectation (or per rule and contract for the
//! implicit checks), and the run's verdict.

use std::collections::BTreeMap;
use std::time::Duration;

use reportcheck_model::Rule;
use reportcheck_model::rules::Level;
use serde::Serialize;

use crate::contract::Case;

/// Where a check came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Source {
    Contract(String),
    Property,
    Concurrency,
    Mock(String),
    Setup,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Contract(name) => write!(f, "{name}"),
            Source::Property => f.write_str("property tests"),
            Source::Concurrency => f.write_str("concurrent updates"),
            Source::Mock(name) => write!(f, "mock/{name}"),
            Source::Setup => f.write_str("setup"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub rule: Rule,
    pub source: Source,
    pub name: String,
    pub case: Case,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Outcome {
    Passed,
    Failed(Failure),
    Skipped { reason: String },
}

/// A failed check, every text already redacted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Failure {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
}

/// Which rule levels fail the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileMode {
    /// Documented and profile rules fail the run.
    #[default]
    Strict,
    /// Only documented rules fail it; profile deviations are warnings.
    Documented,
}

impl Check {
    /// A check that could not run because the caller's tenant is unknown (AUTH-4 failed).
    pub fn without_tenant(rule: Rule, source: Source, name: &str) -> Check {
        Check {
            rule,
            source,
            name: name.to_owned(),
            case: Case::Positive,
            outcome: Outcome::Skipped { reason: "the caller's tenant is unknown (AUTH-4)".to_owned() },
        }
    }

    pub fn is_failed(&self) -> bool {
        matches!(self.outcome, Outcome::Failed(_))
    }
}

/// Everything a run found.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Things worth knowing that are no check: stale recordings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub target: String,
    pub profile: ProfileMode,
    pub seed: u64,
    pub requests: u64,
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
    pub checks: Vec<Check>,
}

fn seconds<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}

/// Counts of one rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl RunReport {
    /// Whether a failure of `rule` fails the run under the chosen profile.
    pub fn blocks(&self, rule: Rule) -> bool {
        self.profile == ProfileMode::Strict || rule.level() == Level::Documented
    }

    /// Failed checks that fail the run.
    pub fn blocking_failures(&self) -> usize {
        self.checks.iter().filter(|check| check.is_failed() && self.blocks(check.rule)).count()
    }

    /// 0 when every selected check passed (or only warnings failed), else 1.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.blocking_failures() > 0)
    }

    pub fn tally(&self) -> BTreeMap<Rule, Tally> {
        let mut tally: BTreeMap<Rule, Tally> = BTreeMap::new();
        for check in &self.checks {
            let entry = tally.entry(check.rule).or_default();
            match check.outcome {
                Outcome::Passed => entry.passed += 1,
                Outcome::Failed(_) => entry.failed += 1,
                Outcome::Skipped { .. } => entry.skipped += 1,
            }
        }
        tally
    }

    /// The terminal summary: one line per rule, then every failure in full.
    pub fn summary(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(out, "reportcheck conformance of {} (profile: {:?})", self.target, self.profile);
        for (rule, tally) in self.tally() {
            let mark = if tally.failed > 0 {
                if self.blocks(rule) { "FAIL" } else { "WARN" }
            } else if tally.passed > 0 {
                "ok  "
            } else {
                "skip"
            };
            let _ = writeln!(
                out,
                "  {mark} {:<7} {:>4} passed {:>3} failed {:>3} skipped  {}",
                rule.id(),
                tally.passed,
                tally.failed,
                tally.skipped,
                rule.summary()
            );
        }
        let failures: Vec<&Check> = self.checks.iter().filter(|check| check.is_failed()).collect();
        for check in &failures {
            let Outcome::Failed(failure) = &check.outcome else { continue };
            let level = if self.blocks(check.rule) { "failed" } else { "warning" };
            let _ = writeln!(out, "\n{} {level}: {} — {}", check.rule, check.source, check.name);
            let _ = writeln!(out, "  rule: {}", check.rule.summary());
            let _ = writeln!(out, "  {}", failure.message.replace('\n', "\n  "));
            for (label, text) in
                [("request", &failure.request), ("expected", &failure.expected), ("actual", &failure.actual)]
            {
                if let Some(text) = text {
                    let _ = writeln!(out, "  {label}:\n    {}", text.replace('\n', "\n    "));
                }
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "\nnote: {note}");
        }
        let tally = self.tally();
        let total = |pick: fn(&Tally) -> usize| tally.values().map(pick).sum::<usize>();
        let _ = writeln!(
            out,
            "\n{} passed, {} failed, {} skipped ({} blocking) in {:.2} s, {} requests, seed {}",
            total(|t| t.passed),
            total(|t| t.failed),
            total(|t| t.skipped),
            self.blocking_failures(),
            self.duration.as_secs_f64(),
            self.requests,
            self.seed
        );
        out
    }

    /// JUnit XML: one test case per check, named with its rule ID.
    pub fn junit(&self) -> String {
        use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
        let mut report = Report::new("reportcheck");
        let mut suites: BTreeMap<String, TestSuite> = BTreeMap::new();
        for check in &self.checks {
            let status = match &check.outcome {
                Outcome::Passed => TestCaseStatus::success(),
                Outcome::Skipped { reason } => {
                    let mut status = TestCaseStatus::skipped();
                    status.set_message(reason.as_str());
                    status
                }
                Outcome::Failed(failure) => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status.set_message(failure.message.as_str());
                    status.set_type(check.rule.id());
                    let mut description = String::new();
                    for (label, text) in
                        [("request", &failure.request), ("expected", &failure.expected), ("actual", &failure.actual)]
                    {
                        if let Some(text) = text {
                            description.push_str(&format!("{label}:\n{text}\n"));
                        }
                    }
                    status.set_description(description);
                    status
                }
            };
            let mut case = TestCase::new(format!("{} {}: {}", check.rule.id(), check.source, check.name), status);
            case.set_classname(format!("reportcheck.{}", check.rule.id()));
            suites
                .entry(check.source.to_string())
                .or_insert_with(|| TestSuite::new(check.source.to_string()))
                .add_test_case(case);
        }
        report.add_test_suites(suites.into_values());
        report.to_string().unwrap_or_default()
    }
}
