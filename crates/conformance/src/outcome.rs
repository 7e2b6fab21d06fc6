//! What a run found: one [`Check`] per expectation (or per rule and contract for the
//! implicit checks), and the run's verdict.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use reportcheck_model::Rule;
use reportcheck_model::rules::Level;
use serde::Serialize;

use crate::baseline::{Baseline, BaselineVerdict};
use crate::contract::Case;

/// Where a check came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Source {
    Contract(String),
    Property,
    Concurrency,
    Mock(String),
    Setup,
    /// Traffic judged by `reportcheck proxy`: the `client` side or the `server` side.
    Proxy(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Contract(name) => write!(f, "{name}"),
            Source::Property => f.write_str("property tests"),
            Source::Concurrency => f.write_str("concurrent updates"),
            Source::Mock(name) => write!(f, "mock/{name}"),
            Source::Setup => f.write_str("setup"),
            Source::Proxy(side) => write!(f, "proxy: {side} side"),
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
    /// How long the check took: from its first request to its verdict (JUnit's `time`).
    /// A check that stands for many (the passed rules of the property tests) took its
    /// phase's time.
    #[serde(skip)]
    pub duration: Duration,
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
    /// The requests that led to the failure with their answers, in the order sent: the
    /// minimal sequence of a property failure, the overlapping PUTs of UPD-9, the answer
    /// that broke an implicit check. Empty where `request` and `actual` say it all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Exchange>,
    /// A property failure as a replayable contract and curl commands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay: Option<String>,
}

/// One request with the answer it got, both already redacted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Exchange {
    /// The method and path, then the body sent, if any.
    pub request: String,
    /// The status and content type, then the body (cut), or why there was none.
    pub answer: String,
}

impl Failure {
    /// Every request of the failure with its answer: its steps, else its one request
    /// with the answer it got.
    pub fn exchanges(&self) -> Vec<Exchange> {
        if !self.steps.is_empty() {
            return self.steps.clone();
        }
        match &self.request {
            Some(request) => vec![Exchange {
                request: request.clone(),
                answer: self.actual.clone().unwrap_or_else(|| "no answer".to_owned()),
            }],
            None => Vec::new(),
        }
    }

    /// The failure's texts for JUnit and the summary: request, expected, actual, then the
    /// numbered steps and the replay.
    fn sections(&self) -> Vec<(String, String)> {
        let mut sections = Vec::new();
        for (label, text) in [("request", &self.request), ("expected", &self.expected), ("actual", &self.actual)] {
            if let Some(text) = text {
                sections.push((label.to_owned(), text.clone()));
            }
        }
        for (index, step) in self.steps.iter().enumerate() {
            sections.push((
                format!("step {}", index + 1),
                format!(
                    "{}
→ {}",
                    step.request, step.answer
                ),
            ));
        }
        if let Some(replay) = &self.replay {
            sections.push(("replay".to_owned(), replay.clone()));
        }
        sections
    }
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
    /// What names the check from run to run (baselines list it): see [`crate::baseline::key`].
    pub fn key(&self) -> String {
        crate::baseline::key(&self.source, &self.name)
    }

    /// A check that could not run because the caller's tenant is unknown (AUTH-4 failed).
    pub fn without_tenant(rule: Rule, source: Source, name: &str) -> Check {
        Check {
            rule,
            source,
            name: name.to_owned(),
            case: Case::Positive,
            outcome: Outcome::Skipped { reason: "the caller's tenant is unknown (AUTH-4)".to_owned() },
            duration: Duration::ZERO,
        }
    }

    pub fn is_failed(&self) -> bool {
        matches!(self.outcome, Outcome::Failed(_))
    }

    /// The check, having taken `duration`.
    pub fn took(self, duration: Duration) -> Check {
        Check { duration, ..self }
    }

    /// What JUnit's `source` property says: the contract file, or the kind of check.
    pub fn source_property(&self) -> String {
        match &self.source {
            Source::Contract(name) => format!("contracts/{name}.json"),
            Source::Property => "property tests".to_owned(),
            Source::Concurrency => "concurrency (UPD-9)".to_owned(),
            Source::Mock(name) => format!("mock mode: contracts/{name}.json"),
            Source::Setup => "setup".to_owned(),
            Source::Proxy(side) => format!("proxy ({side} side)"),
        }
    }
}

/// Everything a run found. Its JSON form is described in `spec/result.schema.json`.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Things worth knowing that are no check: stale recordings.
    pub notes: Vec<String>,
    pub target: String,
    pub profile: ProfileMode,
    pub seed: u64,
    pub requests: u64,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Requests started per second at most, when limited.
    pub rps: Option<f64>,
    /// When the run started (RFC 3339, UTC).
    pub started_at: SystemTime,
    pub duration: Duration,
    /// Why the run stopped before its end (a signal, the overall timeout), if it did.
    pub stopped: Option<String>,
    /// Reports the run created and could not delete (ids).
    pub left_behind: Vec<String>,
    /// How long each source (contract, property tests...) took, by its name.
    pub durations: BTreeMap<String, Duration>,
    pub totals: Totals,
    pub checks: Vec<Check>,
    /// The classes of the model's class map the run reached (none without property tests).
    pub classes: Option<ClassCoverage>,
    /// The known failures the run accepts (`--baseline`).
    pub baseline: Option<Baseline>,
}

/// The JSON result: the report's fields, each failed check marked `known` or not when
/// the run has a baseline, and what the baseline did. Written by hand because a check's
/// `known` depends on the report's baseline, which the check does not hold.
impl Serialize for RunReport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Json<'a> {
            #[serde(skip_serializing_if = "<[String]>::is_empty")]
            notes: &'a [String],
            target: &'a str,
            profile: ProfileMode,
            seed: u64,
            requests: u64,
            concurrency: usize,
            #[serde(skip_serializing_if = "Option::is_none")]
            rps: Option<f64>,
            /// RFC 3339, UTC.
            started_at: String,
            /// Seconds.
            duration: f64,
            #[serde(skip_serializing_if = "Option::is_none")]
            stopped: Option<&'a str>,
            left_behind: &'a [String],
            /// Seconds per source.
            durations: BTreeMap<&'a str, f64>,
            totals: Totals,
            checks: Vec<CheckJson<'a>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            classes: Option<&'a ClassCoverage>,
            #[serde(skip_serializing_if = "Option::is_none")]
            baseline: Option<BaselineVerdict>,
        }
        #[derive(Serialize)]
        struct CheckJson<'a> {
            #[serde(flatten)]
            check: &'a Check,
            #[serde(skip_serializing_if = "Option::is_none")]
            known: Option<bool>,
        }
        let checks = self
            .checks
            .iter()
            .map(|check| CheckJson {
                check,
                known: self.baseline.as_ref().filter(|_| check.is_failed()).map(|baseline| baseline.knows(check)),
            })
            .collect();
        Json {
            notes: &self.notes,
            target: &self.target,
            profile: self.profile,
            seed: self.seed,
            requests: self.requests,
            concurrency: self.concurrency,
            rps: self.rps,
            started_at: format_time(self.started_at),
            duration: self.duration.as_secs_f64(),
            stopped: self.stopped.as_deref(),
            left_behind: &self.left_behind,
            durations: self.durations.iter().map(|(name, took)| (name.as_str(), took.as_secs_f64())).collect(),
            totals: self.totals,
            checks,
            classes: self.classes.as_ref(),
            baseline: self.baseline_verdict(),
        }
        .serialize(serializer)
    }
}

/// How much of the class map a run reached.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClassCoverage {
    /// Classes in the map.
    pub size: usize,
    /// Classes this run could reach (the rest need a child tenant or a second client).
    pub reachable: usize,
    pub reached: usize,
    /// `--fail-on-uncovered`: a reachable class left unreached fails the run.
    pub required: bool,
    /// Per dimension: reached, then reachable.
    pub by_dimension: BTreeMap<String, [usize; 2]>,
    /// Every reachable class with the requests that fell in it (0: not reached).
    pub classes: Vec<ClassCount>,
    /// Classes the run could not try, each with why.
    pub skipped: Vec<ClassCount>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClassCount {
    pub class: String,
    pub dimension: &'static str,
    pub requests: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

impl ClassCoverage {
    /// `reached` over the `reachable` classes of `map`.
    pub fn new(
        map: &[reportcheck_model::classes::Class],
        reachable: &[reportcheck_model::classes::Class],
        reached: &BTreeMap<reportcheck_model::classes::Class, u32>,
        required: bool,
    ) -> ClassCoverage {
        let mut coverage = ClassCoverage { size: map.len(), reachable: reachable.len(), required, ..Self::default() };
        for class in map {
            let dimension = class.dimension();
            if reachable.contains(class) {
                let requests = reached.get(class).copied().unwrap_or_default();
                let entry = coverage.by_dimension.entry(dimension.to_owned()).or_default();
                entry[1] += 1;
                if requests > 0 {
                    entry[0] += 1;
                    coverage.reached += 1;
                }
                coverage.classes.push(ClassCount { class: class.to_string(), dimension, requests, reason: None });
            } else {
                let reason = if class.needs_child() {
                    "needs a tenant below the first client's (--child-tenant)"
                } else {
                    "needs a second client with a tenant"
                };
                coverage.skipped.push(ClassCount {
                    class: class.to_string(),
                    dimension,
                    requests: 0,
                    reason: Some(reason),
                });
            }
        }
        coverage
    }

    pub fn unreached(&self) -> impl Iterator<Item = &ClassCount> {
        self.classes.iter().filter(|class| class.requests == 0)
    }

    /// Whether the gap fails the run.
    pub fn fails(&self) -> bool {
        self.required && self.reached < self.reachable
    }

    /// The coverage lines of the summary.
    pub fn summary(&self) -> String {
        use std::fmt::Write as _;
        let by_dimension: Vec<String> = self
            .by_dimension
            .iter()
            .map(|(dimension, [reached, reachable])| format!("{dimension} {reached}/{reachable}"))
            .collect();
        let mut out = format!(
            "\nclasses reached: {} of {} reachable ({} in the map): {}\n",
            self.reached,
            self.reachable,
            self.size,
            by_dimension.join(", ")
        );
        let unreached: Vec<&ClassCount> = self.unreached().collect();
        if !unreached.is_empty() {
            let verdict = if self.required { "fails the run (--fail-on-uncovered)" } else { "does not fail the run" };
            let _ = writeln!(out, "  {} not reached ({verdict}):", unreached.len());
            for class in unreached.iter().take(20) {
                let _ = writeln!(out, "    {}", class.class);
            }
            if unreached.len() > 20 {
                let _ = writeln!(out, "    ... and {} more (--json lists them all)", unreached.len() - 20);
            }
        }
        let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
        for class in &self.skipped {
            *reasons.entry(class.reason.unwrap_or_default()).or_default() += 1;
        }
        for (reason, count) in reasons {
            let _ = writeln!(out, "  {count} not tried: {reason}");
        }
        out
    }
}

/// `2026-05-07T10:11:12.345Z`.
pub fn format_time(at: SystemTime) -> String {
    let at = time::OffsetDateTime::from(at);
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Counts of one rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Failed checks the baseline lists (counted in `failed` too).
    pub known: usize,
}

impl Tally {
    /// Counts `check`, `known` if the baseline lists it.
    pub fn add(&mut self, check: &Check, known: bool) {
        match check.outcome {
            Outcome::Passed => self.passed += 1,
            Outcome::Failed(_) => {
                self.failed += 1;
                self.known += usize::from(known);
            }
            Outcome::Skipped { .. } => self.skipped += 1,
        }
    }
}

/// Counts of a whole run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub checks: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Failed checks that fail the run under its profile.
    pub blocking: usize,
    /// Failed checks of profile rules under `--profile documented`.
    pub warnings: usize,
    /// Failed checks the baseline lists, which do not fail the run.
    pub known: usize,
}

/// One rule's line of the summary: `known` when every failure is one the baseline lists.
pub fn rule_line(rule: Rule, tally: Tally, blocks: bool) -> String {
    let mark = if tally.failed > 0 && !blocks {
        "WARN"
    } else if tally.failed > tally.known {
        "FAIL"
    } else if tally.failed > 0 {
        "known"
    } else if tally.passed > 0 {
        "ok"
    } else {
        "skip"
    };
    // The rule's column gives way to a longer mark, so the counts stay aligned.
    format!(
        "  {:<12} {:>4} passed {:>3} failed {:>3} skipped  {}",
        format!("{mark:<4} {}", rule.id()),
        tally.passed,
        tally.failed,
        tally.skipped,
        rule.summary()
    )
}

/// `UUID`s replaced by `{id}`: names that stay the same from run to run.
pub fn stable(text: &str) -> String {
    static UUID: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
            .unwrap_or_else(|_| regex::Regex::new("$^").unwrap_or_else(|_| unreachable!()))
    });
    UUID.replace_all(text, "{id}").into_owned()
}

impl RunReport {
    /// The result of a run that could not be made or was cut short before it had a
    /// report (exit 2): no check, and why in `stopped` (`aborted: …`), so that every
    /// output file tells the truth about the run that wrote it.
    pub fn aborted(target: &str, profile: ProfileMode, started_at: SystemTime, error: &str) -> RunReport {
        RunReport {
            notes: Vec::new(),
            target: target.to_owned(),
            profile,
            seed: 0,
            requests: 0,
            concurrency: 0,
            rps: None,
            started_at,
            duration: started_at.elapsed().unwrap_or_default(),
            stopped: Some(format!("aborted: {error}")),
            left_behind: Vec::new(),
            durations: BTreeMap::new(),
            totals: Totals::default(),
            checks: Vec::new(),
            classes: None,
            baseline: None,
        }
    }

    /// Whether a failure of `rule` fails the run under the chosen profile.
    pub fn blocks(&self, rule: Rule) -> bool {
        self.profile == ProfileMode::Strict || rule.level() == Level::Documented
    }

    /// The rules with a failed check.
    pub fn failed_rules(&self) -> std::collections::BTreeSet<Rule> {
        self.checks.iter().filter(|check| check.is_failed()).map(|check| check.rule).collect()
    }

    /// Whether `check` is a failure the baseline lists.
    pub fn is_known(&self, check: &Check) -> bool {
        self.baseline.as_ref().is_some_and(|baseline| baseline.knows(check))
    }

    /// What the baseline did in this run, if the run has one.
    pub fn baseline_verdict(&self) -> Option<BaselineVerdict> {
        self.baseline.as_ref().map(|baseline| baseline.verdict(&self.checks))
    }

    /// Failed checks that fail the run: not warnings, not known.
    pub fn blocking_failures(&self) -> usize {
        self.checks.iter().filter(|check| check.is_failed() && self.blocks(check.rule) && !self.is_known(check)).count()
    }

    /// 0 when every selected check passed (or only warnings failed), 1 when a check
    /// failed, 2 for a run that was aborted.
    pub fn exit_code(&self) -> u8 {
        if self.stopped.as_deref().is_some_and(|reason| reason.starts_with("aborted: ")) {
            return 2;
        }
        u8::from(self.blocking_failures() > 0 || self.classes.as_ref().is_some_and(ClassCoverage::fails))
    }

    pub fn tally(&self) -> BTreeMap<Rule, Tally> {
        let mut tally: BTreeMap<Rule, Tally> = BTreeMap::new();
        for check in &self.checks {
            tally.entry(check.rule).or_default().add(check, self.is_known(check));
        }
        tally
    }

    /// The counts of the whole run.
    pub fn totals(&self) -> Totals {
        let mut totals = Totals { checks: self.checks.len(), ..Totals::default() };
        for check in &self.checks {
            match check.outcome {
                Outcome::Passed => totals.passed += 1,
                Outcome::Failed(_) => {
                    totals.failed += 1;
                    if !self.blocks(check.rule) {
                        totals.warnings += 1;
                    } else if self.is_known(check) {
                        totals.known += 1;
                    } else {
                        totals.blocking += 1;
                    }
                }
                Outcome::Skipped { .. } => totals.skipped += 1,
            }
        }
        totals
    }

    /// The first line of the summary.
    pub fn header(target: &str, profile: ProfileMode) -> String {
        format!("reportcheck conformance of {target} (profile: {profile:?})")
    }

    /// The terminal summary: one line per rule, then every failure in full.
    pub fn summary(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(out, "{}", RunReport::header(&self.target, self.profile));
        for (rule, tally) in self.tally() {
            let _ = writeln!(out, "{}", rule_line(rule, tally, self.blocks(rule)));
        }
        out.push_str(&self.details());
        out
    }

    /// The summary without its header and rule lines (printed as the run went): every
    /// failure in full, the skipped checks with their reasons, notes, and the totals.
    pub fn details(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let failures: Vec<&Check> = self.checks.iter().filter(|check| check.is_failed()).collect();
        for check in &failures {
            let Outcome::Failed(failure) = &check.outcome else { continue };
            let level = match (self.blocks(check.rule), &self.baseline) {
                (false, _) => "warning",
                (true, None) => "failed",
                (true, Some(_)) if self.is_known(check) => "failed (known)",
                (true, Some(_)) => "failed (new)",
            };
            let _ = writeln!(out, "\n{} {level}: {} — {}", check.rule, check.source, check.name);
            let _ = writeln!(out, "  rule: {}", check.rule.summary());
            let _ = writeln!(out, "  {}", failure.message.replace('\n', "\n  "));
            for (label, text) in failure.sections() {
                let _ = writeln!(out, "  {label}:\n    {}", text.replace('\n', "\n    "));
            }
        }
        let mut skipped: BTreeMap<(Rule, &str), usize> = BTreeMap::new();
        for check in &self.checks {
            if let Outcome::Skipped { reason } = &check.outcome {
                *skipped.entry((check.rule, reason.as_str())).or_default() += 1;
            }
        }
        if !skipped.is_empty() {
            let _ = writeln!(out, "\nskipped:");
            for ((rule, reason), count) in skipped {
                let _ = writeln!(out, "  {:<7} {count:>4}× {reason}", rule.id());
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "\nnote: {note}");
        }
        if let Some(classes) = &self.classes {
            out.push_str(&classes.summary());
        }
        if let Some(reason) = &self.stopped {
            let _ = writeln!(out, "\nstopped early ({reason}): these counts are partial");
        }
        if !self.left_behind.is_empty() {
            let _ = writeln!(
                out,
                "\n{} reports created by the run could not be deleted: {}",
                self.left_behind.len(),
                self.left_behind.join(", ")
            );
        }
        if let Some(verdict) = self.baseline_verdict() {
            out.push_str(&self.baseline_lines(&verdict));
        }
        let totals = self.totals();
        let known = if self.baseline.is_some() { format!(", {} known", totals.known) } else { String::new() };
        let _ = writeln!(
            out,
            "\n{} passed, {} failed, {} skipped ({} blocking{known}) in {:.2} s, {} requests ({} in flight at most{}), seed {}",
            totals.passed,
            totals.failed,
            totals.skipped,
            totals.blocking,
            self.duration.as_secs_f64(),
            self.requests,
            self.concurrency,
            self.rps.map(|rps| format!(", {rps} per second at most")).unwrap_or_default(),
            self.seed
        );
        out
    }

    /// The summary's baseline paragraph: the counts, then each new failure, each fixed
    /// entry and each entry this run did not check.
    pub(crate) fn baseline_lines(&self, verdict: &BaselineVerdict) -> String {
        use std::fmt::Write as _;
        let mut out = format!(
            "\nbaseline: {} known failures accepted, {} new, {} fixed, {} not checked ({} entries)\n",
            verdict.known,
            verdict.new,
            verdict.fixed.len(),
            verdict.unchecked.len(),
            verdict.entries
        );
        for check in self.checks.iter().filter(|check| check.is_failed() && !self.is_known(check)) {
            let _ = writeln!(out, "  new:         {} {}", check.rule, check.key());
        }
        for entry in &verdict.fixed {
            let _ = writeln!(
                out,
                "  fixed:       {} {} (passes now: remove it from the baseline)",
                entry.rule, entry.check
            );
        }
        for entry in &verdict.unchecked {
            let _ = writeln!(
                out,
                "  not checked: {} {} (left out, skipped, or behind an earlier failure)",
                entry.rule, entry.check
            );
        }
        out
    }

    /// JUnit XML: one test case per check, named with its rule ID, names unique and the
    /// same from run to run (ids replaced by `{id}`, repeats numbered), with the check's
    /// `time` and the properties `rule`, `seed` and `source` (the contract file, property
    /// tests, concurrency (UPD-9), ...). A warning (a
    /// profile rule under `--profile documented`) is no failure: it passes, with the
    /// finding as a property and in its system-out. A known failure (`--baseline`) is
    /// skipped, "known failure" in its message and a `known-failure` property; a failure
    /// the baseline does not list has a `new-failure` property.
    pub fn junit(&self) -> String {
        use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
        let timestamp = {
            let since = self.started_at.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
            chrono::DateTime::from_timestamp(i64::try_from(since.as_secs()).unwrap_or_default(), since.subsec_nanos())
                .unwrap_or_default()
                .fixed_offset()
        };
        let mut report = Report::new("reportcheck");
        report.set_timestamp(timestamp);
        report.set_time(self.duration);
        let mut suites: BTreeMap<String, TestSuite> = BTreeMap::new();
        let mut names: BTreeMap<String, usize> = BTreeMap::new();
        for check in &self.checks {
            let details = |failure: &Failure| {
                let mut description = String::new();
                for (label, text) in failure.sections() {
                    description.push_str(&format!("{label}:\n{text}\n"));
                }
                description
            };
            let mut warning = None;
            let mut baseline = None;
            let status = match &check.outcome {
                Outcome::Passed => TestCaseStatus::success(),
                Outcome::Skipped { reason } => {
                    let mut status = TestCaseStatus::skipped();
                    status.set_message(reason.as_str());
                    status
                }
                Outcome::Failed(failure) if !self.blocks(check.rule) => {
                    warning = Some(format!("warning: {}\n{}", failure.message, details(failure)));
                    TestCaseStatus::success()
                }
                // Accepted, so no failure a CI counts; skipped says it did not pass.
                Outcome::Failed(failure) if self.is_known(check) => {
                    baseline = Some(("known-failure", format!("{}\n{}", failure.message, details(failure))));
                    let mut status = TestCaseStatus::skipped();
                    status.set_message(format!("known failure (in the baseline): {}", failure.message));
                    status
                }
                Outcome::Failed(failure) => {
                    if self.baseline.is_some() {
                        baseline = Some(("new-failure", String::new()));
                    }
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status.set_message(failure.message.as_str());
                    status.set_type(check.rule.id());
                    status.set_description(details(failure));
                    status
                }
            };
            let base = stable(&format!("{} {}: {}", check.rule.id(), check.source, check.name));
            let seen = names.entry(base.clone()).or_default();
            *seen += 1;
            let name = if *seen == 1 { base } else { format!("{base} (#{seen})") };
            let mut case = TestCase::new(name, status);
            case.set_classname(format!("reportcheck.{}", check.rule.id()));
            case.set_time(check.duration);
            case.properties.push(Property::new("rule", check.rule.id()));
            case.properties.push(Property::new("seed", self.seed.to_string()));
            case.properties.push(Property::new("source", check.source_property()));
            if let Some(warning) = warning {
                case.properties.push(Property::new("warning", check.rule.id()));
                case.set_system_out(warning);
            }
            if let Some((property, out)) = baseline {
                case.properties.push(Property::new(property, check.rule.id()));
                if !out.is_empty() {
                    case.set_system_out(out);
                }
            }
            let suite_name = stable(&check.source.to_string());
            suites
                .entry(suite_name.clone())
                .or_insert_with(|| {
                    let mut suite = TestSuite::new(suite_name);
                    suite.set_timestamp(timestamp);
                    if let Some(duration) = self.durations.get(&check.source.to_string()) {
                        suite.set_time(*duration);
                    }
                    suite
                })
                .add_test_case(case);
        }
        if let Some(classes) = self.classes.as_ref().filter(|classes| classes.fails()) {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let unreached: Vec<&str> = classes.unreached().map(|class| class.class.as_str()).collect();
            status.set_message(format!("{} classes not reached (--fail-on-uncovered)", unreached.len()));
            status.set_description(unreached.join("\n"));
            let mut suite = TestSuite::new("class coverage");
            suite.add_test_case(TestCase::new("every reachable class of the class map was reached", status));
            suites.insert("class coverage".to_owned(), suite);
        }
        if let Some(reason) = &self.stopped {
            // A run cut short says so as an error, so a CI reading only JUnit sees it.
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(reason.as_str());
            let mut suite = TestSuite::new("reportcheck run");
            suite.add_test_case(TestCase::new("the run ended early", status));
            suites.insert("reportcheck run".to_owned(), suite);
        }
        report.add_test_suites(suites.into_values());
        report.to_string().unwrap_or_default()
    }
}
