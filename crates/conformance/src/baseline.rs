//! Known failures (`--baseline FILE`): a run accepts them, fails on any other, names the
//! new ones as new and those that pass now as fixed, in every output. The file is JSON:
//!
//! ```json
//! {"known_failures": [{"rule": "UPD-2", "check": "update-fixed-parameters: change the formats"}]}
//! ```
//!
//! `check` is a check's [key](key): its source and name, with what varies from run to run
//! left out, so that the same failure keeps its entry.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;
use reportcheck_model::Rule;
use serde::{Deserialize, Serialize};

use crate::outcome::{Check, Outcome, Source};

/// The known failures of a baseline file, their keys as [`key`] makes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub known_failures: Vec<KnownFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownFailure {
    pub rule: Rule,
    pub check: String,
}

/// What a run did with its baseline: the entries that failed again are the checks marked
/// known; `fixed` passed this time, `unchecked` were not run (a filter, a skip).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BaselineVerdict {
    /// Entries in the file.
    pub entries: usize,
    /// Failed checks the baseline lists.
    pub known: usize,
    /// Failed checks it does not list (each fails the run, unless a warning).
    pub new: usize,
    pub fixed: Vec<KnownFailure>,
    pub unchecked: Vec<KnownFailure>,
}

impl Baseline {
    /// A baseline file's text; every key is brought to the form [`key`] gives, so files
    /// written by an earlier version (shrink lengths, answer counts in the keys) still match.
    pub fn parse(text: &str) -> Result<Baseline, serde_json::Error> {
        let mut baseline: Baseline = serde_json::from_str(text)?;
        for known in &mut baseline.known_failures {
            known.check = normalise(&known.check);
        }
        Ok(baseline)
    }

    /// Every failed check of a run's `--json` result, once each, sorted.
    pub fn from_result(result: &serde_json::Value) -> Result<Baseline, String> {
        #[derive(Deserialize)]
        struct Check {
            rule: Rule,
            source: Source,
            name: String,
            status: String,
        }
        let checks: Vec<Check> = serde_json::from_value(result["checks"].clone())
            .map_err(|err| format!("not a `reportcheck conformance --json` result: {err}"))?;
        let known: BTreeSet<KnownFailure> = checks
            .into_iter()
            .filter(|check| check.status == "failed")
            .map(|check| KnownFailure { rule: check.rule, check: key(&check.source, &check.name) })
            .collect();
        Ok(Baseline { known_failures: known.into_iter().collect() })
    }

    /// Whether `check` is a failure the baseline lists.
    pub fn knows(&self, check: &Check) -> bool {
        check.is_failed() && self.lists(check.rule, &check.key())
    }

    fn lists(&self, rule: Rule, key: &str) -> bool {
        self.known_failures.iter().any(|known| known.rule == rule && known.check == key)
    }

    /// What the baseline did in a run of `checks`: a listed failure that did not fail
    /// again is fixed when a check of its rule and source passed, else unchecked.
    pub fn verdict(&self, checks: &[Check]) -> BaselineVerdict {
        let failed: BTreeSet<(Rule, String)> =
            checks.iter().filter(|check| check.is_failed()).map(|check| (check.rule, check.key())).collect();
        let known = checks.iter().filter(|check| self.knows(check)).count();
        let mut verdict = BaselineVerdict {
            entries: self.known_failures.len(),
            known,
            new: failed_count(checks) - known,
            ..Default::default()
        };
        for entry in &self.known_failures {
            if failed.contains(&(entry.rule, entry.check.clone())) {
                continue;
            }
            let passed = checks.iter().any(|check| {
                let source = crate::outcome::stable(&check.source.to_string());
                check.rule == entry.rule
                    && matches!(check.outcome, Outcome::Passed)
                    && (entry.check == check.key() || entry.check.starts_with(&format!("{source}: ")))
            });
            if passed { &mut verdict.fixed } else { &mut verdict.unchecked }.push(entry.clone());
        }
        verdict
    }
}

fn failed_count(checks: &[Check]) -> usize {
    checks.iter().filter(|check| check.is_failed()).count()
}

/// The key of a check: `source: name` with ids as `{id}` and without what varies from
/// run to run while the failure stays the same. A count in parentheses at the end goes
/// (`every answer (12)`); the parallel-update check's writer count becomes `{n}` (a race
/// shows at any of them); and a property-test failure is keyed by its rule alone, as
/// `property tests`: which sequence or chain found it, and the length shrinking left,
/// depend on the seed and `--shrink-budget`, not on the failure.
pub fn key(source: &Source, name: &str) -> String {
    normalise(&format!("{source}: {name}"))
}

/// [`key`] of a `source: name` text; a key is its own normal form.
fn normalise(text: &str) -> String {
    static TRAILING_COUNT: LazyLock<Regex> = LazyLock::new(|| regex(r" \(\d+\)$"));
    static NUMBER: LazyLock<Regex> = LazyLock::new(|| regex(r"\d+"));
    let text = crate::outcome::stable(text);
    let property = Source::Property.to_string();
    if text == property || text.starts_with(&format!("{property}: ")) {
        return property;
    }
    if text.starts_with(&format!("{}: ", Source::Concurrency)) {
        return NUMBER.replace_all(&text, "{n}").into_owned();
    }
    TRAILING_COUNT.replace(&text, "").into_owned()
}

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|err| unreachable!("{pattern}: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (source, name as a run names it, the key). Names that differ only in what varies
    /// between runs of the same failure share a key.
    const KEYS: &[(&str, &str, &str)] = &[
        (
            "update-fixed-parameters",
            "change 1b4e28ba-2fa1-41d2-883f-0016d3cca427",
            "update-fixed-parameters: change {id}",
        ),
        ("stored-reports", "every answer (12)", "stored-reports: every answer"),
        ("stored-reports", "every answer (7)", "stored-reports: every answer"),
        ("create", "step 2 (monthly)", "create: step 2 (monthly)"),
        ("", "a generated sequence of 7 operations (minimal after shrinking)", "property tests"),
        (
            "",
            "a generated sequence of 31 operations (smaller, not minimal: shrinking stopped after 3 candidates (--shrink-budget))",
            "property tests",
        ),
        ("", "chains built from the class map: a chain of 5 requests", "property tests"),
        ("", "fixed sweep: malformed bodies", "property tests"),
        ("concurrency", "24 overlapping PUTs: lost update", "concurrent updates: {n} overlapping PUTs: lost update"),
        ("concurrency", "4 overlapping PUTs: lost update", "concurrent updates: {n} overlapping PUTs: lost update"),
    ];

    #[test]
    fn keys_leave_out_what_varies_between_runs() {
        let mut wrong = Vec::new();
        for (contract, name, wanted) in KEYS {
            let source = match *contract {
                "" => Source::Property,
                "concurrency" => Source::Concurrency,
                contract => Source::Contract(contract.to_owned()),
            };
            let found = key(&source, name);
            if found != *wanted || normalise(&found) != found {
                wrong.push(format!("{source}: {name}: {found:?}, wanted {wanted:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn an_older_file_is_read_with_todays_keys() {
        let baseline = Baseline::parse(
            r#"{"known_failures": [{"rule": "UPD-7", "check": "property tests: a generated sequence of 9 operations (minimal after shrinking)"}]}"#,
        )
        .expect("a baseline");
        assert_eq!(baseline.known_failures[0].check, "property tests");
        assert!(Baseline::parse(r#"{"known_failures": [{"rule": "NOPE-1", "check": "x"}]}"#).is_err());
    }
}
