//! Fixed sweeps beside the generated sequences, where a condition must be reached every
//! run rather than by chance: every format generated and downloaded under every content
//! coding, decoded honestly (STO-2, STO-3), and every malformed body of the table in
//! `checks::malformed_bodies` sent to a create and an update (ERR-3). What a conformant
//! server answers is still the decider's: the sweep asks it for the stored list it
//! expects, and judges only what the profile pins (no 5xx; the file in its format).

use std::time::{Duration, Instant};

use reportcheck_client::RawRequest;
use reportcheck_model::decide::{self, Decision, Request, StoredExpectation};
use reportcheck_model::{Format, Id, Report, Rule, StoredReportList, StoredStatus};
use reqwest::Method;
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

use super::world::Finding;
use crate::checks;
use crate::error::Error;
use crate::known::OwnReport;
use crate::outcome::Exchange;
use crate::runner::show_exchange;
use crate::session::Session;

/// How long the sweep waits for stored reports to reach `saved` before it downloads
/// those that did. How long saving takes is free (within the run's polling budget); the
/// contracts judge it (STO-2) with that budget, the sweep only downloads what is saved.
const SAVE_BUDGET: Duration = Duration::from_secs(3);
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// `Accept-Encoding` values a download is fetched with: none asked, gzip alone, and a
/// browser's list.
const CODINGS: &[&str] = &["identity", "gzip", "gzip, deflate, br"];

/// What one sweep found, and the rules it exercised.
#[derive(Default)]
pub struct Swept {
    pub findings: Vec<Finding>,
    pub exercised: Vec<(Rule, &'static str)>,
    /// The requests behind the findings, each with its answer, under the finding's rule.
    pub exchanges: Vec<(Rule, Exchange)>,
}

async fn create(session: &Session, body: &Value) -> Result<Option<Report>, Error> {
    let response = match session.send(&session.a, &RawRequest::new(Method::POST, "/reports").json(body)).await {
        Ok(response) => response,
        // The create itself is judged by the sequences and contracts.
        Err(Error::Unanswered(_)) => return Ok(None),
        Err(err) => return Err(err),
    };
    Ok(response.status.is_success().then(|| serde_json::from_slice::<Report>(&response.body).ok()).flatten())
}

/// STO-2 and STO-3: a save report in every format, generated now; each stored report
/// reaches `saved` and downloads, under each coding, as its file.
pub async fn downloads(session: &Session, tenant: Id) -> Result<Swept, Error> {
    let mut swept = Swept::default();
    let body = json!({"result_action": "save", "schedule": {"type": "once"},
        "parameters": {"tenant_id": tenant, "kind": "usage_daily", "level": "itself", "formats": Format::ALL}});
    let Some(report) = create(session, &body).await? else {
        // The create itself is judged by the sequences and contracts.
        return Ok(swept);
    };
    let result = downloads_of(session, tenant, &report, &mut swept).await;
    session.remove(&session.a, &json!({"id": report.id})).await?;
    result?;
    Ok(swept)
}

async fn downloads_of(session: &Session, tenant: Id, report: &Report, swept: &mut Swept) -> Result<(), Error> {
    let caller = decide::Caller { tenant, today: session.today };
    let id = report.id.to_string();
    let formats = match decide::decide(&OwnReport(Some(report)), caller, Request::Stored { id: &id }).into_reference() {
        Decision::StoredListed { stored: StoredExpectation::OnePerFormat(formats), .. } => formats,
        _ => return Ok(()),
    };
    swept.exercised.push((Rule::Sto2, "every format reaches saved"));
    let deadline = Instant::now() + SAVE_BUDGET;
    let stored = RawRequest::new(Method::GET, format!("/reports/{id}/stored"));
    let (list, shown) = loop {
        let response = match session.send(&session.a, &stored).await {
            Ok(response) => response,
            Err(Error::Unanswered(what)) => {
                swept.exchanges.push((Rule::Sto2, show_exchange(session, &stored, Err(&what), None)));
                swept.findings.push(Finding { rule: Rule::Sto2, message: format!("STO-2: no answer to {what}") });
                return Ok(());
            }
            Err(err) => return Err(err),
        };
        let list = serde_json::from_slice::<StoredReportList>(&response.body).ok().filter(|_| response.status == 200);
        let done = list.as_ref().is_none_or(|list| {
            !list.items.is_empty() && list.items.iter().all(|item| item.status != StoredStatus::InProgress)
        });
        if done || Instant::now() >= deadline {
            break (list, show_exchange(session, &stored, Ok(&response), None));
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    };
    let Some(list) = list else {
        swept.exchanges.push((Rule::Sto1, shown));
        swept.findings.push(Finding { rule: Rule::Sto1, message: "the stored list is not {\"items\": [...]}".into() });
        return Ok(());
    };
    let listed: Vec<Format> = list.items.iter().map(|item| item.report_format).collect();
    if let Some(violation) = StoredExpectation::OnePerFormat(formats.clone()).violation(&listed) {
        swept.exchanges.push((violation.rule, shown.clone()));
        swept.findings.push(Finding { rule: violation.rule, message: violation.message });
    }
    for item in list.items.iter().filter(|item| item.status == StoredStatus::Failed) {
        swept.exchanges.push((Rule::Sto2, shown.clone()));
        swept.findings.push(Finding {
            rule: Rule::Sto2,
            message: format!("STO-2: the {} stored report failed", item.report_format),
        });
    }
    swept.exercised.push((Rule::Sto3, "every format under every content coding"));
    // Every file under every coding at once: the downloads are independent reads, each
    // through the session (retries, token refresh, timeouts, the stop, the pace, TLS
    // options and headers). A request naming its own Accept-Encoding gets the bytes as
    // sent, which STO-3 decodes honestly.
    let downloads = list
        .items
        .iter()
        .filter(|item| item.status == StoredStatus::Saved)
        .filter_map(|item| item.id.map(|stored| (item, stored)))
        .flat_map(|(item, stored)| CODINGS.iter().map(move |coding| (item, stored, *coding)))
        .map(|(item, stored, coding)| {
            let id = &id;
            async move {
                let path = format!("/reports/{id}/stored/{stored}");
                let mut request = RawRequest::new(Method::GET, path.clone());
                request.headers.insert(reqwest::header::ACCEPT_ENCODING, HeaderValue::from_static(coding));
                let response = match session.send(&session.a, &request).await {
                    Ok(response) => response,
                    Err(Error::Stopped(reason)) => return Err(Error::Stopped(reason)),
                    // One download without an answer is that download's finding, not the run's end.
                    Err(err) => {
                        let finding = Finding {
                            rule: Rule::Sto3,
                            message: session.redact(&format!(
                                "STO-3: GET {path} with Accept-Encoding {coding:?} ({}): no answer: {err}",
                                item.report_format
                            )),
                        };
                        return Ok(Some((finding, show_exchange(session, &request, Err(&err.to_string()), None))));
                    }
                };
                let encoding =
                    response.headers.get(reqwest::header::CONTENT_ENCODING).and_then(|value| value.to_str().ok());
                let problem = match &response.body_problem {
                    Some(problem) => Some(problem.clone()),
                    None if response.status != 200 => {
                        Some(format!("a saved stored report answered {}", response.status))
                    }
                    None => checks::decoded(encoding, &response.body)
                        .and_then(|plain| checks::file_format(checks::file_format_of(item.report_format), &plain))
                        .err(),
                };
                Ok::<_, Error>(problem.map(|problem| {
                    let finding = Finding {
                        rule: Rule::Sto3,
                        message: session.redact(&format!(
                            "STO-3: GET {path} with Accept-Encoding {coding:?} ({}): {problem}",
                            item.report_format
                        )),
                    };
                    (finding, show_exchange(session, &request, Ok(&response), None))
                }))
            }
        });
    for found in futures_util::future::join_all(downloads).await {
        if let Some((finding, exchange)) = found? {
            swept.exchanges.push((finding.rule, exchange));
            swept.findings.push(finding);
        }
    }
    Ok(())
}

/// ERR-3: every malformed body of the table, to a create and to an update of a scheduled
/// report, answered below 500.
pub async fn malformed(session: &Session, tenant: Id) -> Result<Swept, Error> {
    let mut swept = Swept::default();
    let valid = json!({"recipients": [crate::session::RECIPIENT], "result_action": "send",
        "schedule": {"type": "monthly"},
        "parameters": {"tenant_id": tenant, "kind": "usage_summary", "level": "accounts"}});
    let target = create(session, &valid).await?;
    swept.exercised.push((Rule::Err3, "malformed bodies"));
    let mut paths = vec![(Method::POST, "/reports".to_owned())];
    if let Some(report) = &target {
        paths.push((Method::PUT, format!("/reports/{}", report.id)));
    }
    // Every body to every path at once: each request stands alone.
    let bodies = checks::malformed_bodies(&valid, checks::BODY_LIMIT_READING);
    let sends = bodies
        .iter()
        .flat_map(|(name, body)| paths.iter().map(move |(method, path)| (name, body, method, path)))
        .map(|(name, body, method, path)| async move {
            let mut request = RawRequest::new(method.clone(), path.clone());
            request.headers.insert(reqwest::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            request.body = Some(body.clone().into());
            let response = match session.send(&session.a, &request).await {
                Ok(response) => response,
                Err(Error::Unanswered(what)) => {
                    let message = format!("ERR-3: {name} ({} bytes): no answer to {what}", body.len());
                    let exchange = show_exchange(session, &request, Err(&what), Some(name));
                    return Ok((Some((Finding { rule: Rule::Err3, message }, exchange)), None));
                }
                Err(err) => return Err(err),
            };
            let status = response.status.as_u16();
            let finding = (status >= 500).then(|| {
                let finding = Finding {
                    rule: Rule::Err3,
                    message: format!("ERR-3: {method} {path} with {name} ({} bytes) answered {status}", body.len()),
                };
                (finding, show_exchange(session, &request, Ok(&response), Some(name)))
            });
            let created = (*method == Method::POST && response.status.is_success())
                .then(|| serde_json::from_slice::<Value>(&response.body).ok())
                .flatten();
            Ok::<_, Error>((finding, created))
        });
    let mut created = Vec::new();
    for sent in futures_util::future::join_all(sends).await {
        let (finding, report) = sent?;
        if let Some((finding, exchange)) = finding {
            swept.exchanges.push((finding.rule, exchange));
            swept.findings.push(finding);
        }
        created.extend(report);
    }
    created.extend(target.as_ref().map(|report| json!({"id": report.id})));
    let removals = created.iter().map(|report| session.remove(&session.a, report));
    for removed in futures_util::future::join_all(removals).await {
        removed?;
    }
    Ok(swept)
}
