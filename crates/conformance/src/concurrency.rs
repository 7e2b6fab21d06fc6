//! UPD-9: parallel PUTs to one report, valid ones mixed with ones the model refuses, then
//! a search for lost or torn updates, at several degrees of overlap (a server may
//! serialise two writers and lose updates only under many).

use std::time::Instant;

use reportcheck_client::{RawRequest, RawResponse};
use reportcheck_model::decide::{self, Admissible, Caller, Decision, Request};
use reportcheck_model::{Kind, Level, Prediction, Report, Rule, rule_check};
use reqwest::Method;
use serde_json::{Value, json};

use crate::contract::Case;
use crate::error::Error;
use crate::known::OwnReport;
use crate::outcome::{Check, Exchange, Failure, Outcome, Source};
use crate::session::{RECIPIENT, Session};

/// How many PUTs overlap, one round (and one report) per degree.
const DEGREES: &[usize] = &[2, 4, 8, 24];

pub async fn check(session: &Session) -> Result<Vec<Check>, Error> {
    // Each round works on its own report, so the rounds run side by side; the overlap
    // that matters is that of the PUTs to one report.
    let rounds = futures_util::future::join_all(DEGREES.iter().map(|writers| check_at(session, *writers))).await;
    let mut checks = Vec::new();
    for round in rounds {
        checks.extend(round?);
    }
    Ok(checks)
}

/// One round: `writers` PUTs to one fresh report at once.
async fn check_at(session: &Session, writers: usize) -> Result<Vec<Check>, Error> {
    let started = Instant::now();
    // Every request of the round with its answer, in the order sent (the PUTs at once).
    let mut steps: Vec<Exchange> = Vec::new();
    let check = |name: &str, case: Case, problem: Option<String>, steps: &[Exchange]| Check {
        rule: Rule::Upd9,
        source: Source::Concurrency,
        name: format!("{writers} overlapping PUTs: {name}"),
        case,
        outcome: match problem {
            None => Outcome::Passed,
            Some(message) => Outcome::Failed(Failure { message, steps: steps.to_vec(), ..Failure::default() }),
        },
        duration: started.elapsed(),
    };
    let at_once = format!("one of {writers} PUTs sent at once");
    let shown = |request: &RawRequest, answer: Result<&RawResponse, &str>| {
        let note = (request.method == Method::PUT).then_some(at_once.as_str());
        crate::runner::show_exchange(session, request, answer, note)
    };
    let Some(tenant) = session.a.tenant else {
        return Ok(vec![Check::without_tenant(Rule::Upd9, Source::Concurrency, "parallel updates")]);
    };
    let body = json!({"recipients": [RECIPIENT], "result_action": "send", "schedule": {"type": "monthly"},
        "parameters": {"tenant_id": tenant, "kind": "usage_summary", "level": "accounts", "formats": ["csv"]}});
    let create = RawRequest::new(Method::POST, "/reports").json(&body);
    let created = match session.send(&session.a, &create).await {
        Ok(created) => created,
        Err(Error::Unanswered(what)) => {
            steps.push(shown(&create, Err(&what)));
            return Ok(vec![check("parallel updates", Case::Positive, Some(format!("no answer to {what}")), &steps)]);
        }
        Err(err) => return Err(err),
    };
    steps.push(shown(&create, Ok(&created)));
    let Some(report) = serde_json::from_slice::<Value>(&created.body).ok().filter(|_| created.status.is_success())
    else {
        return Ok(vec![check(
            "parallel updates",
            Case::Positive,
            Some(format!("the report to update could not be created: {}", created.status)),
            &steps,
        )]);
    };
    let Ok(created) = serde_json::from_value::<Report>(report.clone()) else {
        session.remove(&session.a, &report).await?;
        return Ok(vec![check(
            "parallel updates",
            Case::Positive,
            Some("the created report is not a report".to_owned()),
            &steps,
        )]);
    };
    let path = format!("/reports/{}", created.id);
    let known = OwnReport(Some(&created));
    let caller = Caller { tenant, today: session.today };
    // Valid kind/level changes mixed with writes the model refuses (a fixed parameter).
    let writes: Vec<(Admissible, Value)> = (0..writers)
        .map(|i| {
            let body = if i % 4 == 3 {
                json!({"parameters": {"formats": ["html"]}})
            } else {
                let kind = Kind::ALL[i % Kind::ALL.len()];
                let level = Level::ALL[(i / 2) % Level::ALL.len()];
                json!({"parameters": {"kind": kind, "level": level}})
            };
            let bytes = body.to_string();
            let id = created.id.to_string();
            let request = Request::Update { id: &id, content_type: Some("application/json"), body: bytes.as_bytes() };
            (decide::decide(&known, caller, request), body)
        })
        .collect();
    let requests: Vec<RawRequest> =
        writes.iter().map(|(_, body)| RawRequest::new(Method::PUT, path.clone()).json(body)).collect();
    let answers =
        futures_util::future::join_all(requests.iter().map(|request| session.send(&session.a, request))).await;
    let mut accepted: Vec<(i64, Value)> = Vec::new();
    let mut problems = Vec::new();
    let mut mix_problems = Vec::new();
    for (((admissible, body), answer), request) in writes.iter().zip(answers).zip(&requests) {
        let answer = match answer {
            Ok(answer) => answer,
            Err(Error::Unanswered(what)) => {
                steps.push(shown(request, Err(&what)));
                problems.push(format!("no answer to {what}"));
                continue;
            }
            Err(err) => return Err(err),
        };
        steps.push(shown(request, Ok(&answer)));
        let status = answer.status.as_u16();
        let decision = admissible.follow(status);
        let json: Option<Value> = serde_json::from_slice(&answer.body).ok();
        match (decision, json) {
            (Decision::Rejected(violations), _) if !decision.admits_status(status) => {
                mix_problems.push(format!("{} answered {status}", violations[0].message));
            }
            (Decision::Rejected(_), _) => {}
            (_, _) if !decision.admits_status(status) => problems.push(format!("a valid PUT {body} answered {status}")),
            (_, Some(json)) => match version(&json["version"]) {
                Some(version) => accepted.push((version, json)),
                None => problems.push(format!("a PUT answered version {}", json["version"])),
            },
            (_, None) => problems.push(format!("a valid PUT {body} answered no JSON")),
        }
    }
    let mut versions: Vec<i64> = accepted.iter().map(|(version, _)| *version).collect();
    versions.sort_unstable();
    let distinct = versions.windows(2).all(|pair| pair[0] < pair[1]);
    if !distinct {
        problems.push(format!("accepted PUTs share versions: {versions:?}"));
    }
    let mut results = vec![check(
        "the valid PUTs each get their own version",
        Case::Positive,
        (!problems.is_empty()).then(|| problems.join("\n")),
        &steps,
    )];
    let read = RawRequest::new(Method::GET, path.clone());
    let (current, unanswered) = match session.send(&session.a, &read).await {
        Ok(current) => {
            steps.push(shown(&read, Ok(&current)));
            (serde_json::from_slice::<Report>(&current.body).ok(), None)
        }
        Err(Error::Unanswered(what)) => {
            steps.push(shown(&read, Err(&what)));
            (None, Some(format!("no answer to {what}")))
        }
        Err(err) => return Err(err),
    };
    // The last accepted PUT in version order. Where versions tie (already a failure
    // above), any of the tied ones may be last: the one the final state matches, so the
    // verdict does not depend on the order the answers arrived in.
    let highest = accepted.iter().map(|(version, _)| *version).max();
    let tied: Vec<Report> = accepted
        .iter()
        .filter(|(version, _)| Some(*version) == highest)
        .filter_map(|(_, body)| serde_json::from_value::<Report>(body.clone()).ok())
        .collect();
    let last = tied
        .iter()
        .find(|candidate| {
            current.as_ref().is_some_and(|current| Prediction::read(candidate).discrepancies(current).is_empty())
        })
        .or(tied.first())
        .cloned();
    // The final state is the last accepted PUT in version order; a refused PUT that left
    // a trace shows up in a fixed parameter.
    let (mut lost, mut refused_left) = (Vec::new(), Vec::new());
    match (current.as_ref(), last.as_ref()) {
        (Some(current), Some(last)) => {
            for found in Prediction::read(last).discrepancies(current) {
                // A version past the last accepted one, or a fixed parameter changed,
                // is a refused PUT's trace.
                if found.pointer == "/version" || rule_check::FIXED_PARAMETERS.contains(&found.pointer.as_str()) {
                    refused_left.push(found.to_string());
                } else {
                    lost.push(found.to_string());
                }
            }
        }
        _ => lost.push("no accepted PUT or no final state to compare".to_owned()),
    }
    let final_problem = (!lost.is_empty()).then(|| {
        format!(
            "the final state is not the last accepted PUT (lost or torn update):\n{}\nlast accepted: {}\nfinal GET: {}",
            lost.join("\n"),
            session.redact_json(&serde_json::to_value(&last).unwrap_or_default()),
            session.redact_json(&serde_json::to_value(&current).unwrap_or_default())
        )
    });
    // Without the final state there is nothing to compare: the lost answer is the finding.
    let final_problem = unanswered.or(final_problem);
    results.push(check("the final state equals the last accepted PUT", Case::Positive, final_problem, &steps));
    mix_problems.extend(refused_left);
    results.push(check(
        "PUTs refused amid the parallel writes change nothing",
        Case::Negative,
        (!mix_problems.is_empty()).then(|| mix_problems.join("\n")),
        &steps,
    ));
    session.remove(&session.a, &report).await?;
    Ok(results)
}

/// A version as an integer (SCH-3 reports other spellings).
fn version(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| value.as_str().and_then(|text| text.parse().ok()))
}
