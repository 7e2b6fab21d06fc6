//! Replaying contracts against a server: requests from templates, expectations into
//! checks, captures into variables, implicit checks on every answer, and cleanup of
//! every report a contract created, even when a check failed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use reportcheck_client::{RawRequest, RawResponse, RequestAuth, Secret};
use reportcheck_model::Rule;
use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;

use crate::checks::{self, Exchange};
use crate::contract::{AuthMode, Case, Expectation, LoadedContract, Party, Poll, Requirement, Step};
use crate::error::Error;
use crate::matcher;
use crate::openapi::Spec;
use crate::outcome::{Check, Failure, Outcome, Source};
use crate::session::{Session, Side};
use crate::template::{self, Vars};

/// Which checks to keep, and how long polling may last.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// A rule ID prefix (`UPD`, `UPD-2`) or part of a contract name.
    pub filter: Option<String>,
    /// Rule ID prefixes or parts of contract names left out, whatever `filter` says.
    pub exclude: Vec<String>,
    /// Caps every step's poll timeout.
    pub max_poll: Option<Duration>,
}

impl Selection {
    pub fn rule_selected(&self, rule: Rule) -> bool {
        self.filter.as_deref().is_none_or(|filter| rule_matches(rule, filter)) && !self.excluded(rule)
    }

    fn excluded(&self, rule: Rule) -> bool {
        self.exclude.iter().any(|pattern| rule_matches(rule, pattern))
    }

    /// Whether a check of `rule` counts in a contract selected with `all_rules`.
    pub fn keeps(&self, rule: Rule, all_rules: bool) -> bool {
        if all_rules { !self.excluded(rule) } else { self.rule_selected(rule) }
    }

    /// Whether a contract runs, and whether all its checks count (a name match) or only
    /// those of selected rules (`--exclude` applies to both).
    pub fn contract(&self, contract: &LoadedContract) -> Option<bool> {
        if self.exclude.iter().any(|pattern| contract.contract.name.contains(pattern.as_str())) {
            return None;
        }
        match self.filter.as_deref() {
            None if self.exclude.is_empty() => Some(true),
            None if contract.rules().into_iter().any(|rule| !self.excluded(rule)) => Some(true),
            None => None,
            Some(filter) if contract.contract.name.contains(filter) => Some(true),
            Some(_) if contract.rules().into_iter().any(|rule| self.rule_selected(rule)) => Some(false),
            Some(_) => None,
        }
    }
}

fn rule_matches(rule: Rule, prefix: &str) -> bool {
    rule.id().starts_with(&prefix.to_ascii_uppercase())
}

/// One request of a contract and its answer.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The index of the step in the contract.
    pub step: usize,
    pub party: Party,
    pub request: RawRequest,
    pub response: RawResponse,
}

/// What replaying one contract found, and every exchange it made.
#[derive(Debug, Default)]
pub struct ContractRun {
    pub checks: Vec<Check>,
    pub exchanges: Vec<Recorded>,
    /// Free values answered otherwise than when the contract was recorded: no failure.
    pub observed: Vec<Observed>,
}

/// A free value of one answer that departs from its recorded `observed` value.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub contract: String,
    /// The index of the step in the contract.
    pub step: usize,
    /// `METHOD path` of the request.
    pub request: String,
    /// What: `status`, `content type`, `header <name>`, or a JSON pointer into the body.
    pub at: String,
    pub observation: matcher::Observation,
}

impl Observed {
    /// `<contract> step <n>: <at> observed X when recorded, now Y (free: <freedom text>)`.
    pub fn note(&self) -> String {
        let show = |value: &Option<Value>| value.as_ref().map_or_else(|| "absent".to_owned(), Value::to_string);
        let observation = &self.observation;
        format!(
            "{} step {}: {} observed {} when recorded, now {} ({})",
            self.contract,
            self.step + 1,
            self.at,
            show(&observation.observed),
            show(&observation.now),
            observation.freedom.map_or("no rule claims it", |freedom| freedom.text())
        )
    }
}

/// The notes of a run's observations, repeats (same contract, place and freedom)
/// collapsed into one with a count.
pub fn notes(observed: &[Observed]) -> Vec<String> {
    let mut grouped: BTreeMap<(&str, &str, Option<reportcheck_model::Freedom>), (&Observed, usize)> = BTreeMap::new();
    for item in observed {
        grouped.entry((&item.contract, &item.at, item.observation.freedom)).or_insert((item, 0)).1 += 1;
    }
    let mut notes: Vec<(usize, String)> = grouped
        .into_values()
        .map(|(first, count)| {
            let note = first.note();
            (first.step, if count > 1 { format!("{note} ({count}×)") } else { note })
        })
        .collect();
    notes.sort();
    notes.into_iter().map(|(_, note)| note).collect()
}

/// A request as sent, for failure reports.
struct Sent {
    method: String,
    path: String,
    text: String,
}

/// Runs one contract; `all_rules` keeps every check, else only selected rules.
pub async fn run_contract(
    session: &Session,
    spec: &Spec,
    loaded: &LoadedContract,
    selection: &Selection,
    all_rules: bool,
) -> Result<ContractRun, Error> {
    let contract = &loaded.contract;
    let source = Source::Contract(contract.name.clone());
    let keep = |rule: Rule| selection.keeps(rule, all_rules);
    let mut checks = Vec::new();
    if contract.requires.contains(&Requirement::SecondClient) && session.b.is_none() {
        for step in &contract.steps {
            for expectation in step.expect.iter().filter(|e| keep(e.rule)) {
                checks.push(skipped(&source, step, expectation, "needs a second client (--second-client-id)"));
            }
        }
        return Ok(ContractRun { checks, exchanges: Vec::new(), observed: Vec::new() });
    }
    if contract.requires.contains(&Requirement::ChildTenant) && session.child_tenant.is_none() {
        for step in &contract.steps {
            for expectation in step.expect.iter().filter(|e| keep(e.rule)) {
                checks.push(skipped(
                    &source,
                    step,
                    expectation,
                    "needs a tenant below the first client's (--child-tenant)",
                ));
            }
        }
        return Ok(ContractRun { checks, exchanges: Vec::new(), observed: Vec::new() });
    }
    let mut exchanges = Vec::new();
    let mut observed = Vec::new();
    let context = matcher::Context { today: Some(session.today) };
    let mut vars = session.vars();
    // Per implicit rule: the answers judged, the problems, the first answer that broke it.
    let mut implicit: BTreeMap<Rule, (usize, Vec<String>, Option<crate::outcome::Exchange>)> = BTreeMap::new();
    let contract_started = Instant::now();
    let mut created: Vec<(Party, Value)> = Vec::new();
    let mut blocked: Option<String> = None;
    // The first failed check of the contract, and what failed after it.
    let mut first_failure: Option<usize> = None;
    let mut consequences: Vec<String> = Vec::new();
    for (index, step) in contract.steps.iter().enumerate() {
        if let Some(reason) = &blocked {
            for expectation in step.expect.iter().filter(|e| keep(e.rule)) {
                checks.push(skipped(&source, step, expectation, reason));
            }
            continue;
        }
        let Some(side) = session.side(step.party) else {
            blocked = Some("needs a second client (--second-client-id)".to_owned());
            continue;
        };
        let (request, sent) = match build_request(session, side, step, &vars) {
            Ok(built) => built,
            Err(template::Undefined(name)) => {
                let reason = if name == "client_secret" {
                    "needs the client secret (the run has a bearer token only)".to_owned()
                } else {
                    format!("needs {{{{{name}}}}}, which no earlier step captured")
                };
                for expectation in step.expect.iter().filter(|e| keep(e.rule)) {
                    checks.push(skipped(&source, step, expectation, &reason));
                }
                blocked = Some(reason);
                continue;
            }
        };
        let step_started = Instant::now();
        let deadline = step.poll.map(|poll| {
            let timeout = Duration::from_millis(poll.timeout_ms);
            Instant::now() + selection.max_poll.map_or(timeout, |cap| cap.min(timeout))
        });
        let mut attempt = 0;
        let answered = loop {
            let response = match session.send(side, &request).await {
                Ok(response) => response,
                Err(Error::Unanswered(what)) => break Err(what),
                Err(err) => return Err(err),
            };
            let json: Option<Value> = serde_json::from_slice(&response.body).ok();
            let results: Vec<(&Expectation, Evaluated)> = step
                .expect
                .iter()
                .map(|expectation| {
                    (expectation, evaluate(session, expectation, &response, json.as_ref(), &vars, &sent, context))
                })
                .collect();
            let done = results.iter().all(|(_, result)| result.result.is_ok());
            match (deadline, step.poll) {
                (Some(deadline), Some(poll)) if !done && Instant::now() < deadline => {
                    let wait = poll_wait(poll, attempt, reportcheck_client::retry_after(&response.headers));
                    tokio::time::sleep(wait.min(deadline.saturating_duration_since(Instant::now()))).await;
                    attempt += 1;
                }
                _ => break Ok((response, json, results)),
            }
        };
        let (response, json, results) = match answered {
            Ok(answered) => answered,
            // The step's checks fail (the server answers other requests); what needs its
            // answer cannot run, and the contract's cleanup still does.
            Err(what) => {
                for expectation in step.expect.iter().filter(|e| keep(e.rule)) {
                    checks.push(Check {
                        rule: expectation.rule,
                        source: source.clone(),
                        name: step.name.clone(),
                        case: expectation.case(),
                        outcome: Outcome::Failed(Failure {
                            message: format!("no answer to {what}"),
                            request: Some(sent.text.clone()),
                            actual: Some(format!("no answer: {what}")),
                            ..Failure::default()
                        }),
                        duration: step_started.elapsed(),
                    });
                }
                blocked = Some(format!("an earlier step ({}) got no answer", step.name));
                continue;
            }
        };
        let exchange = Exchange {
            method: &sent.method,
            path: &sent.path,
            status: response.status.as_u16(),
            content_type: response.content_type(),
            body: &response.body,
            json: json.as_ref(),
            body_problem: response.body_problem.as_deref(),
        };
        for (rule, result) in checks::implicit(spec, &session.redactor, &exchange) {
            let entry = implicit.entry(rule).or_default();
            entry.0 += 1;
            let leaked = rule == Rule::Sec2 && session.leaks(&String::from_utf8_lossy(&response.body));
            match result {
                Err(problem) => entry.1.push(format!("{}: {}", step.name, session.redact(&problem))),
                Ok(()) if leaked => entry.1.push(format!("{}: the error body echoes a token or secret", step.name)),
                Ok(()) => continue,
            }
            if entry.2.is_none() {
                entry.2 = Some(crate::outcome::Exchange {
                    request: format!("{} ({})", sent.text, step.name),
                    answer: show_response(session, &response, json.as_ref()),
                });
            }
        }
        for (expectation, Evaluated { result, observations }) in results {
            observed.extend(observations.into_iter().map(|(at, observation)| Observed {
                contract: contract.name.clone(),
                step: index,
                request: format!("{} {}", sent.method, sent.path),
                at,
                observation,
            }));
            if !keep(expectation.rule) {
                continue;
            }
            match (result, first_failure) {
                // A failure after the contract's first is its consequence: listed under
                // the first, not filed as a failure of its own rule.
                (Err(failure), Some(_)) => consequences.push(format!(
                    "{} ({}): {}",
                    step.name,
                    expectation.rule,
                    failure.message.lines().next().unwrap_or_default()
                )),
                (result, _) => {
                    if result.is_err() {
                        first_failure = Some(checks.len());
                    }
                    checks.push(Check {
                        rule: expectation.rule,
                        source: source.clone(),
                        name: step.name.clone(),
                        case: expectation.case(),
                        outcome: result.map_or_else(|failure| Outcome::Failed(*failure), |()| Outcome::Passed),
                        duration: step_started.elapsed(),
                    });
                }
            }
        }
        if sent.method == "POST"
            && sent.path == "/reports"
            && response.status.is_success()
            && let Some(body) = &json
        {
            created.push((step.party, body.clone()));
        } else if response.status.is_success()
            && let Some(body) = &json
            && let Some(version) = body.get("version")
            && let Some((_, known)) = created.iter_mut().find(|(_, known)| known.get("id") == body.get("id"))
        {
            // The version the cleanup deletes at: the latest a report of this contract had.
            known["version"] = version.clone();
        }
        for (name, pointer) in &step.capture {
            if let Some(value) = json.as_ref().and_then(|body| body.pointer(pointer)) {
                vars.insert(name.clone(), value.clone());
            }
        }
        exchanges.push(Recorded { step: index, party: step.party, request, response });
    }
    if let Some(Check { outcome: Outcome::Failed(failure), .. }) = first_failure.and_then(|at| checks.get_mut(at))
        && !consequences.is_empty()
    {
        failure.message.push_str("\nconsequences in the steps after it (not filed under their own rules):");
        for consequence in &consequences {
            failure.message.push_str(&format!("\n  - {consequence}"));
        }
    }
    // All at once, each at the version last seen (a DELETE each, unless it moved on).
    let removals = created.iter().filter_map(|(party, report)| {
        let side = session.side(*party)?;
        let id = report["id"].as_str()?;
        Some(async move {
            match crate::session::version_of(report) {
                Some(version) => session.remove_known(side, id, &version).await,
                None => session.remove(side, report).await,
            }
        })
    });
    futures_util::future::join_all(removals).await.into_iter().collect::<Result<Vec<()>, Error>>()?;
    for (rule, (count, problems, first)) in implicit {
        if !keep(rule) || count == 0 {
            continue;
        }
        let outcome = if problems.is_empty() {
            Outcome::Passed
        } else {
            Outcome::Failed(Failure {
                message: format!("{} of {count} answers break it:\n{}", problems.len(), problems.join("\n")),
                steps: first.into_iter().collect(),
                ..Failure::default()
            })
        };
        checks.push(Check {
            rule,
            source: source.clone(),
            name: format!("every answer ({count})"),
            case: Case::Positive,
            outcome,
            duration: contract_started.elapsed(),
        });
    }
    Ok(ContractRun { checks, exchanges, observed })
}

fn skipped(source: &Source, step: &Step, expectation: &Expectation, reason: &str) -> Check {
    Check {
        rule: expectation.rule,
        source: source.clone(),
        name: step.name.clone(),
        case: expectation.case(),
        outcome: Outcome::Skipped { reason: reason.to_owned() },
        duration: Duration::ZERO,
    }
}

fn build_request(
    session: &Session,
    side: &Side,
    step: &Step,
    vars: &Vars,
) -> Result<(RawRequest, Sent), template::Undefined> {
    let spec = &step.request;
    let path = template::render_text(&spec.path, vars)?;
    let method = Method::from_bytes(spec.method.as_bytes()).unwrap_or(Method::GET);
    let mut request = RawRequest::new(method, path.clone());
    let mut shown_headers = Vec::new();
    let mut content_type = None;
    let mut body: Option<Vec<u8>> = None;
    if let Some(json) = &spec.json {
        body = Some(serde_json::to_vec(&template::render(json, vars)?).unwrap_or_default());
        content_type = Some("application/json".to_owned());
    } else if let Some(text) = &spec.text {
        body = Some(template::render_text(text, vars)?.into_bytes());
    } else if let Some(form) = &spec.form {
        let mut serializer = form_urlencoded_serializer();
        for (key, value) in form {
            serializer.append_pair(key, &template::render_text(value, vars)?);
        }
        body = Some(serializer.finish().into_bytes());
        content_type = Some("application/x-www-form-urlencoded".to_owned());
    }
    if let Some(content_type) = content_type {
        request.headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("application/json")),
        );
    }
    for (name, value) in &spec.headers {
        let value = template::render_text(value, vars)?;
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value)) {
            request.headers.insert(name, value);
        }
    }
    request.auth = match spec.auth {
        AuthMode::Token => RequestAuth::Client,
        AuthMode::None => RequestAuth::Anonymous,
        AuthMode::Bogus => RequestAuth::Header(Secret::new(format!("Bearer {}", session.bogus_token()))),
        AuthMode::Basic => {
            let (user, password) = match &spec.basic {
                Some(basic) => {
                    (template::render_text(&basic.user, vars)?, template::render_text(&basic.password, vars)?)
                }
                None => {
                    // With a bearer token alone there is no secret to send.
                    let secret =
                        side.credentials.secret().ok_or_else(|| template::Undefined("client_secret".to_owned()))?;
                    (side.credentials.client_id.clone(), secret.expose().to_owned())
                }
            };
            let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            RequestAuth::Header(Secret::new(format!("Basic {encoded}")))
        }
    };
    match &request.auth {
        RequestAuth::Client => shown_headers.push("authorization: Bearer [redacted]".to_owned()),
        RequestAuth::Header(value) => {
            shown_headers.push(format!("authorization: {}", session.redactor.header("authorization", value.expose())))
        }
        RequestAuth::Anonymous => {}
    }
    for (name, value) in &request.headers {
        shown_headers.push(format!("{name}: {}", session.redact(value.to_str().unwrap_or("?"))));
    }
    request.body = body.map(Bytes::from);
    let mut text = format!("{} {}{}", spec.method, session.base_url, path);
    for header in shown_headers {
        text.push_str(&format!("\n{header}"));
    }
    if let Some(body) = &request.body {
        let shown = match serde_json::from_slice::<Value>(body) {
            Ok(json) => session.redact_json(&json).to_string(),
            Err(_) => session.redact(&String::from_utf8_lossy(body)),
        };
        text.push_str(&format!("\n\n{}", truncate(&shown, 2000)));
    }
    let path_only = path.split('?').next().unwrap_or(&path).to_owned();
    let sent =
        Sent { method: spec.method.clone(), path: if path.contains('?') { path.clone() } else { path_only }, text };
    Ok((request, sent))
}

fn form_urlencoded_serializer() -> form_urlencoded::Serializer<'static, String> {
    form_urlencoded::Serializer::new(String::new())
}

/// One expectation against an answer: whether it holds, and the free values that
/// depart from what was observed when recorded (where, what).
struct Evaluated {
    /// A failure is boxed: it is large, and most expectations pass.
    result: Result<(), Box<Failure>>,
    observations: Vec<(String, matcher::Observation)>,
}

/// The longest wait between two polls.
const MAX_POLL_WAIT: Duration = Duration::from_secs(2);

/// The wait before poll `attempt + 1`: the server's `Retry-After` when it sends one, else
/// the contract's interval doubled on every attempt (a short first wait finds a fast
/// server's result at once; a slow one is not hammered), at most [`MAX_POLL_WAIT`].
fn poll_wait(poll: Poll, attempt: u32, retry_after: Option<Duration>) -> Duration {
    retry_after
        .unwrap_or_else(|| Duration::from_millis(poll.interval_ms).saturating_mul(1 << attempt.min(16)))
        .min(MAX_POLL_WAIT)
}

/// Checks one expectation against an answer.
fn evaluate(
    session: &Session,
    expectation: &Expectation,
    response: &RawResponse,
    json: Option<&Value>,
    vars: &Vars,
    sent: &Sent,
    context: matcher::Context,
) -> Evaluated {
    let mut observations = Vec::new();
    let result = evaluate_into(session, expectation, response, json, vars, sent, context, &mut observations);
    Evaluated { result, observations }
}

#[expect(clippy::too_many_arguments, reason = "evaluate's arguments and where the observations go")]
fn evaluate_into(
    session: &Session,
    expectation: &Expectation,
    response: &RawResponse,
    json: Option<&Value>,
    vars: &Vars,
    sent: &Sent,
    context: matcher::Context,
    observations: &mut Vec<(String, matcher::Observation)>,
) -> Result<(), Box<Failure>> {
    let render = |value: &Value| template::render(value, vars).map_err(|template::Undefined(name)| name);
    let mut problems = Vec::new();
    let mut matched = |expected: &Value, actual: Option<&Value>, at: &dyn Fn(&str) -> String| {
        let found = matcher::diff_in(expected, actual, context);
        observations.extend(found.observations.into_iter().map(|observation| (at(&observation.path), observation)));
        found.mismatches
    };
    let mut expected_parts = Vec::new();
    if let Some(status) = &expectation.status {
        match render(status) {
            Ok(status) => {
                expected_parts.push(format!("status {status}"));
                for mismatch in matched(&status, Some(&Value::from(response.status.as_u16())), &|_| "status".to_owned())
                {
                    problems.push(format!(
                        "status: expected {}, found {}",
                        mismatch.expected,
                        response.status.as_u16()
                    ));
                }
            }
            Err(name) => problems.push(format!("the expectation needs {{{{{name}}}}}")),
        }
    }
    if let Some(content_type) = &expectation.content_type {
        // Media type parameters are free (PROFILE.md): matchers see the essence.
        let found = response
            .content_type()
            .and_then(|value| value.split(';').next())
            .map(|essence| Value::String(essence.trim().to_owned()));
        let ok = match content_type {
            Value::String(wanted) => response
                .content_type()
                .and_then(|value| value.split(';').next())
                .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(wanted)),
            matcher => matched(matcher, found.as_ref(), &|_| "content type".to_owned()).is_empty(),
        };
        expected_parts.push(format!("content type {content_type}"));
        if !ok {
            problems.push(format!("content type: expected {content_type}, found {:?}", response.content_type()));
        }
    }
    for (name, wanted) in &expectation.headers {
        let found = response
            .headers
            .get(name.as_str())
            .and_then(|value| value.to_str().ok())
            .map(|value| Value::String(value.to_owned()));
        match render(wanted) {
            Ok(wanted) => {
                for mismatch in matched(&wanted, found.as_ref(), &|_| format!("header {name}")) {
                    problems.push(format!("header {name}: expected {}, found {}", mismatch.expected, mismatch.actual));
                }
            }
            Err(name) => problems.push(format!("the expectation needs {{{{{name}}}}}")),
        }
    }
    if let Some(body) = &expectation.body {
        match (render(body), json) {
            (Err(name), _) => problems.push(format!("the expectation needs {{{{{name}}}}}")),
            (Ok(_), None) => problems.push("the body is not JSON".to_owned()),
            (Ok(body), Some(json)) => {
                expected_parts.push(format!("body {}", truncate(&session.redact_json(&body).to_string(), 1000)));
                for mismatch in
                    matched(&body, Some(json), &|path| if path.is_empty() { "/".to_owned() } else { path.to_owned() })
                {
                    problems.push(session.redact(&mismatch.to_string()));
                }
            }
        }
    }
    if let Some(format) = expectation.format {
        expected_parts.push(format!("a {format:?} file"));
        if let Err(problem) = checks::file_format(format, &response.body) {
            problems.push(problem);
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Box::new(Failure {
        message: problems.join("\n"),
        request: Some(sent.text.clone()),
        expected: Some(expected_parts.join("\n")),
        actual: Some(show_response(session, response, json)),
        ..Failure::default()
    }))
}

/// A request the harness built itself with the answer it got, as the outputs show it:
/// the method, the URL, the headers it set and the body (cut), redacted; never the
/// `Authorization` value (a forged token is made from the real one). `note` says what
/// else the reader needs (which forged token, that the PUTs went at once).
pub(crate) fn show_exchange(
    session: &Session,
    request: &RawRequest,
    answer: Result<&RawResponse, &str>,
    note: Option<&str>,
) -> crate::outcome::Exchange {
    let mut text = format!("{} {}{}", request.method, session.base_url, request.path);
    for (name, value) in &request.headers {
        text.push_str(&format!("\n{name}: {}", value.to_str().unwrap_or("?")));
    }
    if let Some(note) = note {
        text.push_str(&format!("\n({note})"));
    }
    if let Some(body) = request.body.as_deref() {
        text.push_str(&format!("\n\n{}", truncate(&String::from_utf8_lossy(body), 2000)));
    }
    let answer = match answer {
        Ok(response) => show_response(session, response, serde_json::from_slice(&response.body).ok().as_ref()),
        Err(what) => format!("no answer: {what}"),
    };
    crate::outcome::Exchange { request: session.redact(&text), answer }
}

/// An answer as the outputs show it: status, content type, the redacted body (cut).
/// A body that is no JSON is read only as far as it is shown (and a little further, so a
/// secret across the cut is still redacted): a download of megabytes costs what its first
/// 2000 characters do.
pub(crate) fn show_response(session: &Session, response: &RawResponse, json: Option<&Value>) -> String {
    const SHOWN: usize = 2000;
    const READ: usize = SHOWN * 4 + 1024;
    let body = match json {
        Some(json) => truncate(&session.redact_json(json).to_string(), SHOWN),
        None if response.body.len() > READ => {
            let head = session.redact(&String::from_utf8_lossy(&response.body[..READ]));
            format!("{}… ({} bytes)", head.chars().take(SHOWN).collect::<String>(), response.body.len())
        }
        None => truncate(&session.redact(&String::from_utf8_lossy(&response.body)), SHOWN),
    };
    format!("{} {}\n{body}", response.status.as_u16(), response.content_type().unwrap_or("(no content type)"))
}

fn truncate(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        text.to_owned()
    } else {
        format!("{}… ({} characters)", text.chars().take(limit).collect::<String>(), text.chars().count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_back_off_and_honour_retry_after() {
        let poll = Poll { timeout_ms: 30_000, interval_ms: 50 };
        let waits: Vec<u128> = (0..8).map(|attempt| poll_wait(poll, attempt, None).as_millis()).collect();
        assert_eq!(waits, [50, 100, 200, 400, 800, 1600, 2000, 2000]);
        assert_eq!(poll_wait(poll, 0, Some(Duration::from_secs(1))), Duration::from_secs(1));
        assert_eq!(poll_wait(poll, 0, Some(Duration::from_secs(60))), MAX_POLL_WAIT);
    }
}
