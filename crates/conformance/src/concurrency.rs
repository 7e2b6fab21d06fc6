//! UPD-9: parallel PUTs to one report, valid ones mixed with ones that break UPD-2, then
//! a search for lost or torn updates.

use reportcheck_client::RawRequest;
use reportcheck_model::{Kind, Level, Rule};
use reqwest::Method;
use serde_json::{Value, json};

use crate::contract::Case;
use crate::error::Error;
use crate::outcome::{Check, Failure, Outcome, Source};
use crate::session::{RECIPIENT, Session};

const WRITERS: usize = 24;

pub async fn check(session: &Session) -> Result<Vec<Check>, Error> {
    let check = |name: &str, case: Case, problem: Option<String>| Check {
        rule: Rule::Upd9,
        source: Source::Concurrency,
        name: name.to_owned(),
        case,
        outcome: match problem {
            None => Outcome::Passed,
            Some(message) => Outcome::Failed(Failure { message, ..Failure::default() }),
        },
    };
    let Some(tenant) = session.a.tenant else {
        return Ok(vec![Check::without_tenant(Rule::Upd9, Source::Concurrency, "parallel updates")]);
    };
    let body = json!({"recipients": [RECIPIENT], "result_action": "send", "schedule": {"type": "monthly"},
        "parameters": {"tenant_id": tenant, "kind": "usage_summary", "level": "accounts", "formats": ["csv"]}});
    let created = session.send(&session.a, &RawRequest::new(Method::POST, "/reports").json(&body)).await?;
    let Some(report) = serde_json::from_slice::<Value>(&created.body).ok().filter(|_| created.status.is_success())
    else {
        return Ok(vec![check(
            "parallel updates",
            Case::Positive,
            Some(format!("the report to update could not be created: {}", created.status)),
        )]);
    };
    let path = format!("/reports/{}", report["id"].as_str().unwrap_or_default());
    let writes: Vec<(bool, Value)> = (0..WRITERS)
        .map(|i| {
            if i % 4 == 3 {
                (false, json!({"parameters": {"formats": ["html"]}}))
            } else {
                let kind = Kind::ALL[i % Kind::ALL.len()];
                let level = Level::ALL[(i / 2) % Level::ALL.len()];
                (true, json!({"parameters": {"kind": kind, "level": level}}))
            }
        })
        .collect();
    let requests: Vec<RawRequest> =
        writes.iter().map(|(_, body)| RawRequest::new(Method::PUT, path.clone()).json(body)).collect();
    let answers =
        futures_util::future::join_all(requests.iter().map(|request| session.send(&session.a, request))).await;
    let mut accepted: Vec<(i64, Value)> = Vec::new();
    let mut problems = Vec::new();
    let mut mix_problems = Vec::new();
    for ((valid, body), answer) in writes.iter().zip(answers) {
        let answer = answer?;
        let json: Option<Value> = serde_json::from_slice(&answer.body).ok();
        match (valid, answer.status.as_u16(), json) {
            (true, 200, Some(json)) => match version(&json["version"]) {
                Some(version) => accepted.push((version, json)),
                None => problems.push(format!("a PUT answered version {}", json["version"])),
            },
            (true, status, _) => problems.push(format!("a valid PUT {body} answered {status}")),
            (false, 400, _) => {}
            (false, status, _) => mix_problems.push(format!("a PUT breaking UPD-2 answered {status}")),
        }
    }
    let mut versions: Vec<i64> = accepted.iter().map(|(version, _)| *version).collect();
    versions.sort_unstable();
    let distinct = versions.windows(2).all(|pair| pair[0] < pair[1]);
    if !distinct {
        problems.push(format!("accepted PUTs share versions: {versions:?}"));
    }
    let mut results = vec![check(
        &format!("{} parallel valid PUTs each get their own version", accepted.len()),
        Case::Positive,
        (!problems.is_empty()).then(|| problems.join("\n")),
    )];
    let current = session.send(&session.a, &RawRequest::new(Method::GET, path.clone())).await?;
    let current: Option<Value> = serde_json::from_slice(&current.body).ok();
    let last = accepted.iter().max_by_key(|(version, _)| *version).map(|(_, body)| body);
    let final_problem = match (current.as_ref(), last) {
        (Some(current), Some(last)) if current == last => None,
        (Some(current), Some(last)) => Some(format!(
            "the final state is not the last accepted PUT (lost or torn update):\nlast accepted: {}\nfinal GET: {}",
            session.redact_json(last),
            session.redact_json(current)
        )),
        _ => Some("no accepted PUT or no final state to compare".to_owned()),
    };
    results.push(check("the final state equals the last accepted PUT", Case::Positive, final_problem));
    if let (Some(current), Some(highest)) = (current.as_ref(), versions.last()) {
        if version(&current["version"]) != Some(*highest) {
            mix_problems.push(format!("rejected PUTs moved the version from {highest} to {}", current["version"]));
        }
        if current["parameters"]["formats"] != json!(["csv"]) {
            mix_problems.push("a rejected PUT changed parameters.formats".to_owned());
        }
    }
    results.push(check(
        "PUTs refused amid the parallel writes change nothing",
        Case::Negative,
        (!mix_problems.is_empty()).then(|| mix_problems.join("\n")),
    ));
    session.remove(&session.a, &report).await?;
    Ok(results)
}

/// A version as an integer (SCH-3 reports other spellings).
fn version(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| value.as_str().and_then(|text| text.parse().ok()))
}
