//! Property tests against a live server: generated sequences of creates, updates (valid
//! and not), enables and disables, gets and deletes. The model predicts every answer and
//! the state after it; the server must agree. A failure shrinks to a minimal sequence,
//! printed as a replayable contract and as curl commands, with the seed to rerun it.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use reportcheck_client::RawRequest;
use reportcheck_model::rule_check::{self, Violation};
use reportcheck_model::strategies;
use reportcheck_model::{
    Date, Format, Id, PostParameters, PostSchedule, PutParameters, PutSchedule, Report, ReportPost, ReportPut,
    ResultAction, Rule,
};
use reqwest::Method;
use serde_json::{Value, json};
use time::Duration;

use crate::contract::Case;
use crate::error::Error;
use crate::outcome::{Check, Failure, Outcome, Source};
use crate::session::{RECIPIENT, Session};

const SLOTS: usize = 3;

/// How a generated PUT departs from the current report's unchangeable parameters.
#[derive(Debug, Clone)]
enum Change {
    SameFormats,
    OtherFormats(Vec<Format>),
    SameTenant,
    OtherTenant(Id),
    SamePeriod,
    OtherPeriod,
    HideZeroUsage(bool),
    ShowSkus(bool),
}

#[derive(Debug, Clone)]
enum Recipients {
    Keep,
    One,
    None,
}

#[derive(Debug, Clone)]
struct PutSpec {
    kind: Option<reportcheck_model::Kind>,
    level: Option<reportcheck_model::Level>,
    recipients: Recipients,
    enabled: Option<bool>,
    change: Option<Change>,
    /// A top-level key `reportPut` forbids (UPD-5).
    unknown_key: Option<&'static str>,
}

#[derive(Debug, Clone)]
enum Op {
    Create { slot: usize, post: ReportPost },
    Update { slot: usize, put: PutSpec },
    Get { slot: usize },
    Delete { slot: usize, stale: bool },
}

fn create(tenant: Id, today: Date) -> impl Strategy<Value = ReportPost> {
    let day = move |offset: i64| today + Duration::days(offset);
    (
        prop_oneof![8 => Just(true), 1 => Just(false)],
        strategies::result_action(),
        prop_oneof![Just(None), Just(Some(-3i64)), Just(Some(0)), Just(Some(1)), Just(Some(6))],
        strategies::schedule_type(),
        proptest::option::of(proptest::collection::vec(strategies::format(), 1..3)),
        prop_oneof![6 => Just(None), 2 => Just(Some((-40i64, -10i64))), 1 => Just(Some((-5, 3))), 1 => Just(Some((-2, -9)))],
        (strategies::kind(), strategies::level(), proptest::option::of(any::<bool>()), proptest::option::of(any::<bool>())),
    )
        .prop_map(move |(consistent, result_action, generation, schedule_type, formats, period, (kind, level, hide, skus))| {
            let wants_recipients = (result_action == ResultAction::Send) == consistent;
            ReportPost {
                recipients: if wants_recipients { vec![recipient()] } else { Vec::new() },
                result_action,
                parameters: PostParameters {
                    tenant_id: tenant,
                    level,
                    kind,
                    formats,
                    period: period.map(|(start, end)| reportcheck_model::Period { start: day(start), end: day(end) }),
                    hide_zero_usage: hide,
                    show_skus: skus,
                },
                schedule: PostSchedule { schedule_type, enabled: None },
                generation_date: generation.map(day),
            }
        })
}

fn put() -> impl Strategy<Value = PutSpec> {
    let change = prop_oneof![
        Just(Change::SameFormats),
        proptest::collection::vec(strategies::format(), 1..3).prop_map(Change::OtherFormats),
        Just(Change::SameTenant),
        strategies::id().prop_map(Change::OtherTenant),
        Just(Change::SamePeriod),
        Just(Change::OtherPeriod),
        any::<bool>().prop_map(Change::HideZeroUsage),
        any::<bool>().prop_map(Change::ShowSkus),
    ];
    (
        proptest::option::of(strategies::kind()),
        proptest::option::of(strategies::level()),
        prop_oneof![4 => Just(Recipients::Keep), 2 => Just(Recipients::One), 1 => Just(Recipients::None)],
        proptest::option::weighted(0.3, any::<bool>()),
        proptest::option::weighted(0.3, change),
        proptest::option::weighted(0.1, select(vec!["result_action", "version", "id"])),
    )
        .prop_map(|(kind, level, recipients, enabled, change, unknown_key)| PutSpec {
            kind,
            level,
            recipients,
            enabled,
            change,
            unknown_key,
        })
}

fn ops(tenant: Id, today: Date) -> impl Strategy<Value = Vec<Op>> {
    let slot = 0..SLOTS;
    let op = prop_oneof![
        3 => (slot.clone(), create(tenant, today)).prop_map(|(slot, post)| Op::Create { slot, post }),
        5 => (slot.clone(), put()).prop_map(|(slot, put)| Op::Update { slot, put }),
        1 => slot.clone().prop_map(|slot| Op::Get { slot }),
        1 => (slot, any::<bool>()).prop_map(|(slot, stale)| Op::Delete { slot, stale }),
    ];
    proptest::collection::vec(op, 1..14)
}

fn recipient() -> Id {
    RECIPIENT.parse().unwrap_or_else(|_| Id::new_v4())
}

/// The concrete PUT body for `spec` against the report as the model has it.
fn put_body(spec: &PutSpec, current: &Report, today: Date) -> (ReportPut, Value) {
    let mut parameters = PutParameters { kind: spec.kind, level: spec.level, ..PutParameters::default() };
    match &spec.change {
        None => {}
        Some(Change::SameFormats) => parameters.formats = Some(current.parameters.formats.clone()),
        Some(Change::OtherFormats(formats)) => parameters.formats = Some(formats.clone()),
        Some(Change::SameTenant) => parameters.tenant_id = Some(current.parameters.tenant_id),
        Some(Change::OtherTenant(id)) => parameters.tenant_id = Some(*id),
        Some(Change::SamePeriod) => parameters.period = Some(current.parameters.period),
        Some(Change::OtherPeriod) => {
            let start = today - Duration::days(90);
            parameters.period = Some(reportcheck_model::Period { start, end: start + Duration::days(3) })
        }
        Some(Change::HideZeroUsage(flag)) => parameters.hide_zero_usage = Some(*flag),
        Some(Change::ShowSkus(flag)) => parameters.show_skus = Some(*flag),
    }
    let has_parameters = parameters != PutParameters::default();
    let put = ReportPut {
        recipients: match spec.recipients {
            Recipients::Keep => None,
            Recipients::One => Some(vec![recipient()]),
            Recipients::None => Some(Vec::new()),
        },
        parameters: has_parameters.then_some(parameters),
        schedule: spec.enabled.map(|enabled| PutSchedule { enabled }),
    };
    let mut json = serde_json::to_value(&put).unwrap_or_else(|_| json!({}));
    if let (Some(key), Some(object)) = (spec.unknown_key, json.as_object_mut()) {
        object.insert(key.to_owned(), json!("save"));
    }
    (put, json)
}

/// One request of a sequence, for the replayable contract and the curl commands: what
/// was sent and what the model says a conformant server answers.
#[derive(Debug, Clone)]
struct Sent {
    method: &'static str,
    /// The concrete path, for curl.
    path: String,
    /// The path with `{{r0}}`-style variables, for the contract.
    template: String,
    body: Option<Value>,
    /// What the server answered.
    status: u16,
    /// The model's prediction, as contract expectations.
    expect: Vec<Value>,
    capture: Vec<(String, &'static str)>,
}

/// Whether a report's answer carries exactly what the model predicts, as a contract
/// body matcher: everything but the free `id` and `version`.
fn predicted_body(report: &Report) -> Value {
    let mut body = serde_json::to_value(report).unwrap_or_default();
    if let Some(object) = body.as_object_mut() {
        object.remove("id");
        object.remove("version");
    }
    body
}

/// A mismatch between the model and the server.
struct Mismatch {
    rule: Rule,
    message: String,
}

/// A request the model says is valid must be answered 200 with a report.
fn served_report(
    session: &Session,
    rule: Rule,
    what: &str,
    status: u16,
    answer: Option<Value>,
) -> Result<Report, Mismatch> {
    if status != 200 {
        return fail(
            rule,
            format!("a valid {what} answered {status}: {}", session.redact_json(&answer.unwrap_or_default())),
        );
    }
    answer
        .and_then(|answer| serde_json::from_value::<Report>(answer).ok())
        .map_or_else(|| fail(rule, format!("the {what} answer is not a report")), Ok)
}

fn fail<T>(rule: Rule, message: String) -> Result<T, Mismatch> {
    Err(Mismatch { rule, message })
}

struct Execution<'a> {
    session: &'a Session,
    slots: [Option<Report>; SLOTS],
    created: Vec<Value>,
    sent: Vec<Sent>,
    exercised: BTreeSet<(Rule, Case)>,
}

impl Execution<'_> {
    async fn request(
        &mut self,
        method: Method,
        path: String,
        body: Option<&Value>,
    ) -> Result<(u16, Option<Value>), Error> {
        let mut request = RawRequest::new(method, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = self.session.send(&self.session.a, &request).await?;
        Ok((response.status.as_u16(), serde_json::from_slice(&response.body).ok()))
    }

    #[expect(clippy::too_many_arguments, reason = "one recorded step: request, answer and prediction")]
    fn record(
        &mut self,
        method: &'static str,
        slot: usize,
        path: &str,
        body: Option<Value>,
        status: u16,
        expect: Vec<Value>,
        writes: bool,
    ) {
        let id = self.slots[slot].as_ref().map(|report| report.id.to_string());
        let mut template = path.to_owned();
        if let Some(id) = id.filter(|_| method != "POST") {
            template = template.replacen(&id, &format!("{{{{r{slot}}}}}"), 1);
            if let Some((base, version)) = template.clone().split_once("?version=")
                && version != "-1"
            {
                template = format!("{base}?version={{{{v{slot}}}}}");
            }
        }
        let mut capture = Vec::new();
        if method == "POST" {
            capture.push((format!("r{slot}"), "/id"));
        }
        if writes {
            capture.push((format!("v{slot}"), "/version"));
            capture.push((format!("s{slot}"), ""));
        }
        self.sent.push(Sent { method, path: path.to_owned(), template, body, status, expect, capture });
    }

    /// The server's answer must be the rejection the model predicts: a 4xx with the
    /// profile's status and error code for one of the broken rules.
    fn expect_rejection(
        &mut self,
        violations: &[Violation],
        status: u16,
        body: Option<&Value>,
    ) -> Result<(), Mismatch> {
        let rule = violations[0].rule;
        self.exercised.insert((rule, Case::Negative));
        let Some(matching) = violations.iter().find(|violation| violation.status == status) else {
            let rules: Vec<_> = violations.iter().map(|v| v.rule.id()).collect();
            return fail(
                rule,
                format!(
                    "the model says the request breaks {rules:?} ({}); the server answered {status}",
                    violations[0].message
                ),
            );
        };
        let code = body
            .and_then(|body| body.pointer("/error/code"))
            .and_then(|code| code.as_i64().or_else(|| code.as_str().and_then(|text| text.trim().parse().ok())));
        if code != Some(matching.code) && violations.iter().all(|violation| Some(violation.code) != code) {
            return fail(
                Rule::Err2,
                format!("{} should answer error code {}; the server sent {code:?}", matching.rule, matching.code),
            );
        }
        Ok(())
    }

    async fn run(&mut self, op: &Op, today: Date) -> Result<Result<(), Mismatch>, Error> {
        Ok(match op {
            Op::Create { slot, post } => self.create(*slot, post, today).await?,
            Op::Update { slot, put } => self.update(*slot, put, today).await?,
            Op::Get { slot } => self.get(*slot).await?,
            Op::Delete { slot, stale } => self.delete(*slot, *stale).await?,
        })
    }

    async fn create(&mut self, slot: usize, post: &ReportPost, today: Date) -> Result<Result<(), Mismatch>, Error> {
        let body = serde_json::to_value(post).unwrap_or_default();
        let violations = rule_check::create_violations(post, today);
        let (status, answer) = self.request(Method::POST, "/reports".to_owned(), Some(&body)).await?;
        if status == 200
            && let Some(answer) = &answer
        {
            self.created.push(answer.clone());
        }
        if let Some(violation) = violations.first() {
            let expect = vec![json!({"rule": violation.rule, "status": violation.status})];
            self.record("POST", slot, "/reports", Some(body), status, expect, false);
            return Ok(self.expect_rejection(&violations, status, answer.as_ref()));
        }
        let mut predicted = rule_check::new_report(post, Id::from_uuid(Default::default()), 0, today);
        let expect =
            vec![json!({"rule": "CRT-1", "status": 200}), json!({"rule": "CRT-7", "body": predicted_body(&predicted)})];
        self.record("POST", slot, "/reports", Some(body), status, expect, true);
        self.exercised.insert((Rule::Crt1, Case::Positive));
        let report = match served_report(self.session, Rule::Crt1, "create", status, answer) {
            Ok(report) => report,
            Err(mismatch) => return Ok(Err(mismatch)),
        };
        (predicted.id, predicted.version) = (report.id, report.version);
        if report != predicted {
            let defaulted = post.parameters.formats.is_none()
                && report.parameters.formats != predicted.parameters.formats
                || post.parameters.period.is_none() && report.parameters.period != predicted.parameters.period
                || post.generation_date.is_none() && report.generation_date != predicted.generation_date;
            let rule = if defaulted { Rule::Crt7 } else { Rule::Crt1 };
            return Ok(fail(rule, format!("created {}, the model predicts {}", show(&report), show(&predicted))));
        }
        if post.parameters.formats.is_none() || post.parameters.period.is_none() {
            self.exercised.insert((Rule::Crt7, Case::Positive));
        }
        self.slots[slot] = Some(report);
        Ok(Ok(()))
    }

    async fn update(&mut self, slot: usize, spec: &PutSpec, today: Date) -> Result<Result<(), Mismatch>, Error> {
        let Some(current) = self.slots[slot].clone() else { return Ok(Ok(())) };
        let (put, body) = put_body(spec, &current, today);
        let path = format!("/reports/{}", current.id);
        let mut violations = Vec::new();
        if let Some(key) = spec.unknown_key {
            violations.push(Violation::schema(Rule::Upd5, format!("`{key}` is not a key of reportPut")));
        }
        violations.extend(rule_check::update_violations(&current, &put, today));
        let (status, answer) = self.request(Method::PUT, path.clone(), Some(&body)).await?;
        if let Some(violation) = violations.first() {
            let expect = vec![json!({"rule": violation.rule, "status": violation.status})];
            self.record("PUT", slot, &path, Some(body), status, expect, false);
            if let Err(mismatch) = self.expect_rejection(&violations, status, answer.as_ref()) {
                return Ok(Err(mismatch));
            }
            // UPD-7: a rejected PUT changes nothing.
            let (after_status, after) = self.request(Method::GET, path.clone(), None).await?;
            let expect = vec![json!({"rule": "UPD-7", "status": 200, "body": {"$eq": format!("{{{{s{slot}}}}}")}})];
            self.record("GET", slot, &path, None, after_status, expect, false);
            self.exercised.insert((Rule::Upd7, Case::Negative));
            return Ok(match after.and_then(|after| serde_json::from_value::<Report>(after).ok()) {
                Some(after) if after == current => Ok(()),
                Some(after) => fail(
                    Rule::Upd7,
                    format!("a rejected PUT changed the report from {} to {}", show(&current), show(&after)),
                ),
                None => fail(Rule::Get1, "GET after a rejected PUT is not a report".to_owned()),
            });
        }
        let mut predicted = rule_check::apply_update(&current, &put);
        let expect = vec![
            json!({"rule": "UPD-6", "status": 200, "body": predicted_body(&predicted)}),
            json!({"rule": "UPD-7", "body": {"version": {"$gt": format!("{{{{v{slot}}}}}")}}}),
        ];
        self.record("PUT", slot, &path, Some(body), status, expect, true);
        self.exercised.insert((Rule::Upd6, Case::Positive));
        let updated = match served_report(self.session, Rule::Upd6, "PUT", status, answer) {
            Ok(report) => report,
            Err(mismatch) => return Ok(Err(mismatch)),
        };
        predicted.version = updated.version;
        if updated != predicted {
            let rule = if updated.parameters.formats != predicted.parameters.formats
                || updated.parameters.tenant_id != predicted.parameters.tenant_id
                || updated.parameters.period != predicted.parameters.period
            {
                Rule::Upd2
            } else if updated.schedule != predicted.schedule {
                Rule::Upd4
            } else {
                Rule::Upd6
            };
            return Ok(fail(
                rule,
                format!("the PUT answered {}, the model predicts {}", show(&updated), show(&predicted)),
            ));
        }
        if spec.enabled.is_some() {
            self.exercised.insert((Rule::Upd4, Case::Positive));
        }
        self.exercised.insert((Rule::Upd7, Case::Positive));
        if updated.version <= current.version {
            return Ok(fail(Rule::Upd7, format!("the version went from {} to {}", current.version, updated.version)));
        }
        self.slots[slot] = Some(updated);
        self.get(slot).await
    }

    async fn get(&mut self, slot: usize) -> Result<Result<(), Mismatch>, Error> {
        let Some(current) = self.slots[slot].clone() else { return Ok(Ok(())) };
        let path = format!("/reports/{}", current.id);
        let (status, answer) = self.request(Method::GET, path.clone(), None).await?;
        let expect = vec![json!({"rule": "GET-1", "status": 200, "body": {"$eq": format!("{{{{s{slot}}}}}")}})];
        self.record("GET", slot, &path, None, status, expect, false);
        self.exercised.insert((Rule::Get1, Case::Positive));
        Ok(match answer.and_then(|answer| serde_json::from_value::<Report>(answer).ok()) {
            Some(found) if status == 200 && found == current => Ok(()),
            Some(found) => fail(
                Rule::Get1,
                format!("GET answered {status} {}, the last write returned {}", show(&found), show(&current)),
            ),
            None => fail(Rule::Get1, format!("GET answered {status} without a report")),
        })
    }

    async fn delete(&mut self, slot: usize, stale: bool) -> Result<Result<(), Mismatch>, Error> {
        let Some(current) = self.slots[slot].clone() else { return Ok(Ok(())) };
        let version = if stale { -1 } else { current.version };
        let path = format!("/reports/{}?version={version}", current.id);
        let (status, _) = self.request(Method::DELETE, path.clone(), None).await?;
        // What the profile says: a refusal leaves the report, an accepted delete removes it.
        let violation = rule_check::delete_violation(current.version, Some(&version.to_string()));
        let (rule, expected, after_expected) = match &violation {
            Some(violation) => (violation.rule, violation.status, 200),
            None => (Rule::Del1, 204, 404),
        };
        self.record("DELETE", slot, &path, None, status, vec![json!({"rule": rule, "status": expected})], false);
        let get_path = format!("/reports/{}", current.id);
        let (after, _) = self.request(Method::GET, get_path.clone(), None).await?;
        self.record("GET", slot, &get_path, None, after, vec![json!({"rule": rule, "status": after_expected})], false);
        if let Some(violation) = violation {
            self.exercised.insert((violation.rule, Case::Negative));
            return Ok(if (status, after) == (violation.status, 200) {
                Ok(())
            } else {
                fail(violation.rule, format!("{}; the server answered {status}, then GET {after}", violation.message))
            });
        }
        self.exercised.insert((Rule::Del1, Case::Positive));
        self.slots[slot] = None;
        Ok(match (status, after) {
            (204, 404) => Ok(()),
            (status, after) => {
                fail(Rule::Del1, format!("DELETE at the current version answered {status}; GET then answered {after}"))
            }
        })
    }
}

fn show(report: &Report) -> String {
    serde_json::to_string(report).unwrap_or_default()
}

/// Shrinking steps after a failure, at most.
const MAX_SHRINK_ITERS: u32 = 256;

/// How one generated sequence went.
enum Verdict {
    /// Every answer was the predicted one; these rules and cases were exercised.
    Held(BTreeSet<(Rule, Case)>),
    /// The first answer the model did not predict, and the sequence as sent up to it.
    Broke(Mismatch, Vec<Sent>),
}

/// Sends one sequence and cleans up what it created, whatever happened.
async fn execute(session: &Session, ops: &[Op], today: Date) -> Result<Verdict, Error> {
    let mut execution = Execution {
        session,
        slots: Default::default(),
        created: Vec::new(),
        sent: Vec::new(),
        exercised: BTreeSet::new(),
    };
    let mut broke = None;
    for op in ops {
        if let Err(mismatch) = execution.run(op, today).await? {
            broke = Some(mismatch);
            break;
        }
    }
    for report in std::mem::take(&mut execution.created) {
        session.remove(&session.a, &report).await?;
    }
    Ok(match broke {
        None => Verdict::Held(execution.exercised),
        Some(mismatch) => Verdict::Broke(mismatch, execution.sent),
    })
}

/// Runs `cases` generated sequences from `seed`; the first that breaks is shrunk as
/// proptest's runner does (simplify while it still fails, complicate when it passes),
/// but driven from async code, so no thread ever blocks on the runtime.
pub async fn check(session: &Session, cases: u32, seed: u64) -> Result<Vec<Check>, Error> {
    let Some(tenant) = session.a.tenant else {
        return Ok(vec![Check::without_tenant(Rule::Upd6, Source::Property, "generated sequences")]);
    };
    let today = session.today;
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes));
    let strategy = ops(tenant, today);
    let mut exercised = BTreeSet::new();
    let mut failure = None;
    for _ in 0..cases {
        let mut tree = strategy
            .new_tree(&mut runner)
            .map_err(|reason| Error::Options(format!("cannot generate a sequence: {reason}")))?;
        match execute(session, &tree.current(), today).await? {
            Verdict::Held(seen) => exercised.extend(seen),
            Verdict::Broke(mismatch, sent) => {
                let mut minimal = (tree.current().len(), mismatch, sent);
                if tree.simplify() {
                    for _ in 0..MAX_SHRINK_ITERS {
                        match execute(session, &tree.current(), today).await? {
                            Verdict::Broke(mismatch, sent) => {
                                minimal = (tree.current().len(), mismatch, sent);
                                if !tree.simplify() {
                                    break;
                                }
                            }
                            Verdict::Held(_) => {
                                if !tree.complicate() {
                                    break;
                                }
                            }
                        }
                    }
                }
                failure = Some(minimal);
                break;
            }
        }
    }
    let mut checks: Vec<Check> = exercised
        .into_iter()
        .map(|(rule, case)| Check {
            rule,
            source: Source::Property,
            name: format!("{cases} generated sequences ({case:?} cases)"),
            case,
            outcome: Outcome::Passed,
        })
        .collect();
    if let Some((length, mismatch, sent)) = failure {
        checks.retain(|check| check.rule != mismatch.rule);
        checks.push(Check {
            rule: mismatch.rule,
            source: Source::Property,
            name: format!("a generated sequence of {length} operations (minimal after shrinking)"),
            case: Case::Positive,
            outcome: Outcome::Failed(Failure {
                message: format!("{}\nrerun with --seed {seed}", session.redact(&mismatch.message)),
                request: Some(replay(session, &sent, seed)),
                expected: None,
                actual: None,
            }),
        });
    }
    Ok(checks)
}

/// The steps of a sequence as a contract for `contracts/` and as curl commands.
fn replay(session: &Session, sent: &[Sent], seed: u64) -> String {
    let vars = session.vars();
    let steps: Vec<Value> = sent
        .iter()
        .enumerate()
        .map(|(index, step)| {
            let mut request = json!({"method": step.method, "path": step.template});
            if let Some(body) = &step.body {
                request["json"] = templated(body, &vars);
            }
            let expect: Vec<Value> = step.expect.iter().map(|expectation| templated(expectation, &vars)).collect();
            let mut contract_step =
                json!({"name": format!("step {}", index + 1), "request": request, "expect": expect});
            if !step.capture.is_empty() {
                contract_step["capture"] = step
                    .capture
                    .iter()
                    .map(|(name, pointer)| (name.clone(), json!(pointer)))
                    .collect::<serde_json::Map<_, _>>()
                    .into();
            }
            contract_step
        })
        .collect();
    let contract = json!({
        "description": format!("A minimal failing sequence found by the property tests (seed {seed}, server date {}).", reportcheck_model::date::format_day(session.today)),
        "steps": steps,
    });
    let curls: Vec<String> = sent
        .iter()
        .map(|step| {
            let mut curl =
                format!("curl -sS -X {} \"$BASE_URL{}\" -H \"Authorization: Bearer $TOKEN\"", step.method, step.path);
            if let Some(body) = &step.body {
                curl.push_str(&format!(" -H 'Content-Type: application/json' -d '{body}'"));
            }
            curl
        })
        .collect();
    format!(
        "replayable contract (save under contracts/):\n{}\n\ncurl commands (observed server answers: {}):\n{}",
        serde_json::to_string_pretty(&contract).unwrap_or_default(),
        sent.iter().map(|step| step.status.to_string()).collect::<Vec<_>>().join(", "),
        curls.join("\n")
    )
}

/// Strings equal to a built-in variable (the tenant, today, tomorrow, ...) become that
/// variable, so the contract replays on another server and another day.
fn templated(value: &Value, vars: &crate::template::Vars) -> Value {
    match value {
        Value::String(text) => vars
            .iter()
            .filter(|(name, _)| {
                !matches!(
                    name.as_str(),
                    "unknown_id" | "bogus_token" | "client_secret" | "client_id" | "other_client_id"
                )
            })
            .find(|(_, var)| var.as_str() == Some(text))
            .map_or_else(|| value.clone(), |(name, _)| Value::String(format!("{{{{{name}}}}}"))),
        Value::Array(items) => Value::Array(items.iter().map(|item| templated(item, vars)).collect()),
        Value::Object(object) => {
            Value::Object(object.iter().map(|(key, item)| (key.clone(), templated(item, vars))).collect())
        }
        other => other.clone(),
    }
}
