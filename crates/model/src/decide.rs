//! The decider: given what is known of the reports, a request and the server's today, what
//! a conformant server must answer.
//!
//! This is the one place a rule of PROFILE.md is decided. The reference server answers
//! with its decisions, the harness predicts with them (and checks the answer against the
//! prediction with [`Prediction::discrepancies`]), `record` and `drift` read which fields
//! a decision leaves free. The functions of [`crate::rule_check`] are its parts.
//!
//! Checks run in the order the profile implies: path id, existence and tenancy, media
//! type, body syntax, schema, tenant of a create, business rules. An early stage ends the
//! decision with one violation; the business rules report all they find, and any of them
//! is a conformant answer.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;
use time::Date;

use crate::claim::{Basis, Claim, Expect, Place, Reading};
use crate::enums::{Format, ScheduleType};
use crate::freedom::{self, Freedom};
use crate::id::Id;
use crate::report::{Report, ReportPost, ReportPut};
use crate::rule_check::{self, Violation};
use crate::rules::Rule;

/// The operations of the API, by their `openapi.json` operation ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    RequestTokens,
    FetchClient,
    CreateReport,
    FetchReport,
    UpdateReport,
    DeleteReport,
    FetchTenantReports,
    FetchStoredReports,
    DownloadStoredReport,
}

/// An HTTP method the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Operation {
    pub const ALL: &'static [Operation] = &[
        Operation::RequestTokens,
        Operation::FetchClient,
        Operation::CreateReport,
        Operation::FetchReport,
        Operation::UpdateReport,
        Operation::DeleteReport,
        Operation::FetchTenantReports,
        Operation::FetchStoredReports,
        Operation::DownloadStoredReport,
    ];

    /// The `operationId` in `openapi.json`.
    pub fn id(self) -> &'static str {
        match self {
            Operation::RequestTokens => "RequestTokens",
            Operation::FetchClient => "FetchClient",
            Operation::CreateReport => "CreateReport",
            Operation::FetchReport => "FetchReport",
            Operation::UpdateReport => "UpdateReport",
            Operation::DeleteReport => "DeleteReport",
            Operation::FetchTenantReports => "FetchTenantReports",
            Operation::FetchStoredReports => "FetchStoredReports",
            Operation::DownloadStoredReport => "DownloadStoredReport",
        }
    }

    /// The rule a successful answer of this operation answers to.
    pub fn success_rule(self) -> Rule {
        match self {
            Operation::RequestTokens => Rule::Auth1,
            Operation::FetchClient => Rule::Auth4,
            Operation::CreateReport => Rule::Crt1,
            Operation::FetchReport => Rule::Get1,
            Operation::UpdateReport => Rule::Upd6,
            Operation::DeleteReport => Rule::Del1,
            Operation::FetchTenantReports => Rule::Lst1,
            Operation::FetchStoredReports => Rule::Sto1,
            Operation::DownloadStoredReport => Rule::Sto3,
        }
    }

    pub fn method(self) -> Method {
        match self {
            Operation::RequestTokens | Operation::CreateReport => Method::Post,
            Operation::UpdateReport => Method::Put,
            Operation::DeleteReport => Method::Delete,
            _ => Method::Get,
        }
    }

    /// The path template below `/api/2`.
    pub fn template(self) -> &'static str {
        match self {
            Operation::RequestTokens => "/idp/token",
            Operation::FetchClient => "/clients/{client_id}",
            Operation::CreateReport => "/reports",
            Operation::FetchReport | Operation::UpdateReport | Operation::DeleteReport => "/reports/{report_id}",
            Operation::FetchTenantReports => "/tenants/{tenant_id}/reports",
            Operation::FetchStoredReports => "/reports/{report_id}/stored",
            Operation::DownloadStoredReport => "/reports/{report_id}/stored/{stored_id}",
        }
    }

    /// The operation a method and a concrete path (below `/api/2`, query ignored) name.
    pub fn find(method: &str, path: &str) -> Option<Operation> {
        let path = path.split('?').next().unwrap_or_default();
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let operation = match segments.as_slice() {
            ["idp", "token"] => Operation::RequestTokens,
            ["clients", _] => Operation::FetchClient,
            ["reports"] => Operation::CreateReport,
            ["reports", _] => match method.to_ascii_uppercase().as_str() {
                "PUT" => Operation::UpdateReport,
                "DELETE" => Operation::DeleteReport,
                _ => Operation::FetchReport,
            },
            ["tenants", _, "reports"] => Operation::FetchTenantReports,
            ["reports", _, "stored"] => Operation::FetchStoredReports,
            ["reports", _, "stored", _] => Operation::DownloadStoredReport,
            _ => return None,
        };
        operation.method().as_str().eq_ignore_ascii_case(method).then_some(operation)
    }

    /// The statuses a conformant server may answer for `operation` beyond the spec's list,
    /// read off the violations the decider can reject it with (and the freedoms over their
    /// statuses). 401 is AUTH-3's for every operation; 413 is the reading of ARCHITECTURE.md
    /// for oversized bodies.
    pub fn profile_statuses(self) -> BTreeSet<u16> {
        let operation = self;
        let unknown = operation.unknown_report_rule();
        let by_id = || {
            vec![
                Violation::malformed_id(""),
                Violation::not_found(unknown, "report"),
                Violation::foreign_report(unknown),
            ]
        };
        let violations = match operation {
            Operation::RequestTokens | Operation::FetchClient => vec![],
            Operation::CreateReport => vec![
                Violation::media_type(Rule::Crt5, ""),
                Violation::schema(Rule::Crt4, ""),
                Violation::business(Rule::Crt2, ""),
                Violation::forbidden(Rule::Crt6),
            ],
            Operation::FetchReport | Operation::FetchStoredReports => by_id(),
            Operation::UpdateReport => {
                let mut violations = by_id();
                violations.extend([
                    Violation::media_type(Rule::Upd8, ""),
                    Violation::schema(Rule::Upd5, ""),
                    Violation::business(Rule::Upd1, ""),
                ]);
                violations
            }
            Operation::DeleteReport => {
                let mut violations = by_id();
                violations.extend([
                    Violation::schema(Rule::Del2, ""),
                    rule_check::version_violation(Some("")).unwrap_or_else(|| Violation::schema(Rule::Del2, "")),
                    Violation::version_conflict(Rule::Del3, ""),
                ]);
                violations
            }
            Operation::FetchTenantReports => {
                vec![Violation::not_found(Rule::Lst1, "tenant"), Violation::forbidden(Rule::Sec1)]
            }
            Operation::DownloadStoredReport => {
                let mut violations = by_id();
                violations.push(Violation::not_found(Rule::Sto4, "stored report"));
                violations
            }
        };
        let mut statuses: BTreeSet<u16> = [401].into();
        if matches!(operation, Operation::CreateReport | Operation::UpdateReport) {
            statuses.insert(413);
        }
        let mut free = vec![];
        for violation in &violations {
            statuses.extend(violation.statuses());
            free.extend(violation.freedom);
        }
        if operation == Operation::DownloadStoredReport {
            free.push(Freedom::UnsavedDownload);
        }
        for freedom in free {
            statuses.extend((400..600).filter(|status| freedom.admits_status(0, *status)));
        }
        statuses
    }

    /// The rule an unknown report id breaks on this operation.
    pub fn unknown_report_rule(self) -> Rule {
        match self {
            Operation::UpdateReport => Rule::Upd8,
            Operation::DeleteReport => Rule::Del4,
            Operation::FetchStoredReports | Operation::DownloadStoredReport => Rule::Sto4,
            _ => Rule::Get2,
        }
    }
}

/// What the decider needs to know beyond the request: the reports (all of them for the
/// server; those a run made or saw for the harness) and the tenant tree.
pub trait Known {
    fn report(&self, id: Id) -> Option<&Report>;
    /// Whether `tenant` is `caller` or below it.
    fn is_within(&self, tenant: Id, caller: Id) -> bool;
}

/// A request to the reports API, as it arrives (path ids unparsed, body as bytes).
#[derive(Debug, Clone, Copy)]
pub enum Request<'a> {
    Create { content_type: Option<&'a str>, body: &'a [u8] },
    Get { id: &'a str },
    Update { id: &'a str, content_type: Option<&'a str>, body: &'a [u8] },
    Delete { id: &'a str, version: Option<&'a str> },
    List { tenant: &'a str },
    Stored { id: &'a str },
    Download { id: &'a str, stored_id: &'a str },
}

impl Request<'_> {
    /// The report the request is about, when its path names one (well formed).
    pub fn report_id(&self) -> Option<Id> {
        match self {
            Request::Get { id }
            | Request::Update { id, .. }
            | Request::Delete { id, .. }
            | Request::Stored { id }
            | Request::Download { id, .. } => id.parse().ok(),
            Request::Create { .. } | Request::List { .. } => None,
        }
    }

    pub fn operation(&self) -> Operation {
        match self {
            Request::Create { .. } => Operation::CreateReport,
            Request::Get { .. } => Operation::FetchReport,
            Request::Update { .. } => Operation::UpdateReport,
            Request::Delete { .. } => Operation::DeleteReport,
            Request::List { .. } => Operation::FetchTenantReports,
            Request::Stored { .. } => Operation::FetchStoredReports,
            Request::Download { .. } => Operation::DownloadStoredReport,
        }
    }
}

/// Who asks, and when.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub tenant: Id,
    /// The server's current date (UTC).
    pub today: Date,
}

/// What a conformant server answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Refused: the first violation is the reference answer; any of them is conformant.
    Rejected(Vec<Violation>),
    /// 200 with the new report.
    Created { post: ReportPost, prediction: Prediction },
    /// 200 with the report as the last successful write left it.
    Read(Prediction),
    /// 200 with the updated report, whose version must exceed the current one.
    Updated { put: ReportPut, prediction: Prediction },
    /// 204; afterwards GET answers 404 and the list leaves the id out.
    Deleted { id: Id },
    /// 200 with `{"items": [...]}`: the tenant's known reports are there, in any order.
    Listed { tenant: Id },
    /// 200 with the stored reports of this report.
    StoredListed { report: Id, stored: StoredExpectation },
    /// A stored report of this report: 200 with the file once it is `saved`, any 4xx
    /// before (free), 404 when the report has no such stored report (STO-4).
    Download { report: Id, stored_id: Id },
}

impl Decision {
    /// The status the reference server answers.
    pub fn status(&self) -> u16 {
        match self {
            Decision::Rejected(violations) => violations.first().map_or(400, |violation| violation.status),
            Decision::Deleted { .. } => 204,
            _ => 200,
        }
    }

    /// Whether `status` is conformant for this decision.
    pub fn admits_status(&self, status: u16) -> bool {
        match self {
            Decision::Rejected(violations) => violations.iter().any(|violation| violation.admits_status(status)),
            Decision::Download { .. } => status == 200 || Freedom::UnsavedDownload.admits_status(404, status),
            accepted => accepted.status() == status,
        }
    }

    /// The rule a wrong status breaks: the first violated rule, or the rule that
    /// requires the acceptance. A refused valid request is filed under the rule whose
    /// condition it sits on: a create with a period under CRT-3 (its boundary), a PUT
    /// repeating fixed parameters under UPD-2 (the no-op), one to a one-time report under
    /// UPD-1 (still scheduled), one setting recipients under UPD-3, a toggle under UPD-4.
    pub fn rule(&self) -> Rule {
        match self {
            Decision::Rejected(violations) => violations.first().map_or(Rule::Err2, |violation| violation.rule),
            Decision::Created { post, .. } if post.parameters.period.is_some() => Rule::Crt3,
            Decision::Created { .. } => Rule::Crt1,
            Decision::Read(_) => Rule::Get1,
            Decision::Updated { put, prediction } => {
                if rule_check::names_fixed_parameter(&prediction.report.parameters, put) {
                    Rule::Upd2
                } else if prediction.report.schedule.schedule_type == ScheduleType::Once {
                    Rule::Upd1
                } else if put.recipients.is_some() {
                    Rule::Upd3
                } else if put.schedule.is_some() {
                    Rule::Upd4
                } else {
                    Rule::Upd6
                }
            }
            Decision::Deleted { .. } => Rule::Del1,
            Decision::Listed { .. } => Rule::Lst1,
            Decision::StoredListed { .. } => Rule::Sto1,
            Decision::Download { .. } => Rule::Sto3,
        }
    }

    pub fn violations(&self) -> &[Violation] {
        match self {
            Decision::Rejected(violations) => violations,
            _ => &[],
        }
    }

    pub fn is_rejected(&self) -> bool {
        matches!(self, Decision::Rejected(_))
    }
}

/// What `GET /reports/{id}/stored` must list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredExpectation {
    /// The report has not run: an empty list (STO-4).
    Empty,
    /// One stored report per format, each reaching `saved` (STO-2).
    OnePerFormat(Vec<Format>),
    /// Not pinned by the profile (what a generated `send` report keeps).
    Unpinned,
}

impl StoredExpectation {
    /// STO-2 / STO-4 against the formats of the listed stored reports. An empty list of
    /// a report that is due may still be generating (clients poll): not a departure.
    pub fn violation(&self, listed: &[Format]) -> Option<Violation> {
        match self {
            StoredExpectation::Empty if !listed.is_empty() => Some(
                Violation::not_found(Rule::Sto4, "stored report")
                    .with_message(format!("STO-4: a report that has not run lists stored reports {listed:?}")),
            ),
            StoredExpectation::OnePerFormat(formats) if !listed.is_empty() => {
                // One per entry, or one per distinct format where a format is listed
                // twice: no rule says which.
                let (mut want, mut got) = (formats.clone(), listed.to_vec());
                want.sort();
                got.sort();
                let mut distinct = want.clone();
                distinct.dedup();
                (want != got && distinct != got).then(|| {
                    Violation::not_found(Rule::Sto2, "stored report").with_message(format!(
                        "STO-2: the stored reports are in {listed:?}, one per requested format {formats:?} expected"
                    ))
                })
            }
            _ => None,
        }
    }
}

/// Every outcome the rules admit for one request: one branch each, the reference
/// server's first. The harness finds the branch an answer took ([`Admissible::follow`])
/// and holds the server to it; the reference server takes the first, or any in its
/// seeded mode.
#[derive(Debug, Clone, PartialEq)]
pub struct Admissible {
    /// Never empty.
    branches: Vec<Branch>,
}

/// One admissible outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    pub decision: Decision,
    /// Whether a rule states this outcome, or it is the project's reading (taken by the
    /// reference server, never required of another).
    pub basis: Basis,
}

impl Admissible {
    fn only(decision: Decision) -> Admissible {
        Admissible { branches: vec![Branch { decision, basis: Basis::Stated }] }
    }

    /// What the reference server does.
    pub fn reference(&self) -> &Decision {
        &self.branches[0].decision
    }

    pub fn into_reference(self) -> Decision {
        self.branches.into_iter().next().map_or(Decision::Rejected(Vec::new()), |branch| branch.decision)
    }

    pub fn branches(&self) -> &[Branch] {
        &self.branches
    }

    /// The branch an answer with `status` took (the first that admits it), or the
    /// reference where none does: its claims then name what the answer broke.
    pub fn follow(&self, status: u16) -> &Decision {
        self.branches
            .iter()
            .map(|branch| &branch.decision)
            .find(|decision| decision.admits_status(status))
            .unwrap_or_else(|| self.reference())
    }

    /// Whether some branch admits `status`.
    pub fn admits_status(&self, status: u16) -> bool {
        self.branches.iter().any(|branch| branch.decision.admits_status(status))
    }

    /// The rule an answer outside every branch breaks: the reference's.
    pub fn rule(&self) -> Rule {
        self.reference().rule()
    }

    /// The accepting branch, if the rules admit one.
    pub fn accepting(&self) -> Option<&Decision> {
        self.branches.iter().map(|branch| &branch.decision).find(|decision| !decision.is_rejected())
    }

    /// The violations of the refusing branch, if the rules admit one.
    pub fn violations(&self) -> &[Violation] {
        self.branches.iter().map(|branch| branch.decision.violations()).find(|found| !found.is_empty()).unwrap_or(&[])
    }

    /// Every status some branch admits, for a message ("any 4xx" where a refusal may
    /// answer any).
    pub fn admitted_statuses(&self) -> String {
        let mut parts = Vec::new();
        for branch in &self.branches {
            let part = match &branch.decision {
                Decision::Rejected(violations) => admitted_statuses(violations),
                Decision::Download { .. } => "200 or any 4xx".to_owned(),
                accepted => accepted.status().to_string(),
            };
            if !parts.contains(&part) {
                parts.push(part);
            }
        }
        parts.join(" or ")
    }

    /// The readings the branches rest on.
    pub fn readings(&self) -> impl Iterator<Item = Reading> + '_ {
        self.branches.iter().filter_map(|branch| match branch.basis {
            Basis::Reading(reading) => Some(reading),
            Basis::Stated => None,
        })
    }
}

/// Decides `request` from `caller` against what is `known`: every admissible outcome.
/// What the rules refuse in `request` whatever the state of the reports and of the tenant
/// tree: a malformed path id, the media type, the body's syntax and schema, a create's
/// own business rules (CRT-2, CRT-3), a DELETE's missing version. A judge that does not
/// know the state (the proxy, for a report made before it started) holds a client to
/// these; [`decide`] refuses each of them too.
pub fn refused_whatever_the_state(today: Date, request: Request<'_>) -> Vec<Violation> {
    let malformed = |id: &str| id.parse::<Id>().err().map(|_| Violation::malformed_id(id));
    match request {
        Request::Create { content_type, body } => {
            let mut violations: Vec<Violation> =
                rule_check::check_media_type(content_type, Rule::Crt5).err().into_iter().collect();
            match rule_check::parse_create(body) {
                Ok(post) => violations.extend(rule_check::create_violations(&post, today)),
                Err(violation) => violations.push(violation),
            }
            violations
        }
        Request::Get { id } | Request::Stored { id } | Request::Download { id, .. } => {
            malformed(id).into_iter().collect()
        }
        Request::Update { id, content_type, body } => malformed(id)
            .into_iter()
            .chain(rule_check::check_media_type(content_type, Rule::Upd8).err())
            .chain(rule_check::parse_update(body).err())
            .collect(),
        Request::Delete { id, version } => {
            malformed(id).into_iter().chain(rule_check::version_violation(version)).collect()
        }
        Request::List { tenant } => tenant
            .parse::<Id>()
            .err()
            .map(|_| Violation { freedom: Some(Freedom::MalformedId), ..Violation::not_found(Rule::Lst1, "tenant") })
            .into_iter()
            .collect(),
    }
}

/// The refusals a server may answer `request` with when its state is not known: those
/// of [`refused_whatever_the_state`], and for a request about a report, the report being
/// unknown or another tenant's (404, or 403 for SEC-1).
pub fn refusals_without_state(today: Date, request: Request<'_>) -> Vec<Violation> {
    let mut refusals = refused_whatever_the_state(today, request);
    if !matches!(request, Request::Create { .. } | Request::List { .. }) {
        refusals.push(Violation::foreign_report(request.operation().unknown_report_rule()));
    }
    refusals
}

pub fn decide(known: &impl Known, caller: Caller, request: Request<'_>) -> Admissible {
    let operation = request.operation();
    let refused = |violations: Vec<Violation>| Admissible::only(Decision::Rejected(violations));
    match request {
        Request::Create { content_type, body } => {
            // A request that breaks several rules may be refused under any of them: every
            // stage is checked, and the reference answers the first (CheckOrder).
            let mut violations: Vec<Violation> =
                rule_check::check_media_type(content_type, Rule::Crt5).err().into_iter().collect();
            let post = match rule_check::parse_create(body) {
                Ok(post) => post,
                Err(violation) => {
                    violations.push(violation);
                    // The business rules hold whatever else is wrong: a server may check them first.
                    if let Some((tenant, post)) = rule_check::readable_post(body) {
                        if tenant.is_some_and(|tenant| !known.is_within(tenant, caller.tenant)) {
                            violations.push(Violation::forbidden(Rule::Crt6));
                        }
                        violations.extend(rule_check::create_violations(&post, caller.today));
                    }
                    return refused(violations);
                }
            };
            if !known.is_within(post.parameters.tenant_id, caller.tenant) {
                violations.push(Violation::forbidden(Rule::Crt6));
            }
            violations.extend(rule_check::create_violations(&post, caller.today));
            if !violations.is_empty() {
                return refused(violations);
            }
            let duplicates = rule_check::lists_a_format_twice(&post);
            let prediction = Prediction::created(&post, caller.today);
            let created = Admissible::only(Decision::Created { post, prediction });
            if !duplicates {
                return created;
            }
            // Accepted with one stored report per entry (the reference) or per distinct
            // format (StoredExpectation admits both), or refused: no rule states either.
            let refusal = Violation::refusal(Rule::Crt1, "the formats list a format twice");
            let mut branches = created.branches;
            branches.push(Branch { decision: Decision::Rejected(vec![refusal]), basis: Basis::Stated });
            Admissible { branches }
        }
        Request::Get { id } => match visible(known, caller, id, operation) {
            Ok(current) => Admissible::only(Decision::Read(Prediction::read(current))),
            Err(violation) => refused(vec![violation]),
        },
        Request::Update { id, content_type, body } => {
            let current = visible(known, caller, id, operation);
            let mut violations: Vec<Violation> = current.as_ref().err().cloned().into_iter().collect();
            violations.extend(rule_check::check_media_type(content_type, Rule::Upd8).err());
            let put = rule_check::parse_update(body);
            let (current, put) = match (current, put) {
                (Ok(current), Ok(put)) => (current, put),
                (current, put) => {
                    violations.extend(put.err());
                    // The business rules hold whatever else is wrong with the body: a
                    // server may check them first.
                    if let Ok(current) = current {
                        let readable = rule_check::readable_put(body);
                        violations.extend(rule_check::update_violations(current, &readable, caller.today));
                    }
                    return refused(violations);
                }
            };
            violations.extend(rule_check::update_violations(current, &put, caller.today));
            // Refusals no rule states: those the reference makes (readings; accepting is
            // the other branch) and those it does not (accepting is its reading).
            let readings = rule_check::update_readings(current, &put);
            let alternatives = rule_check::update_alternatives(current, &put);
            let unstated = || readings.iter().chain(&alternatives).map(|(_, violation)| violation.clone());
            if !violations.is_empty() {
                violations.extend(unstated());
                return refused(violations);
            }
            let refusal = Decision::Rejected(unstated().collect());
            let updated = Decision::Updated { prediction: Prediction::updated(current, &put), put };
            match (readings.first(), alternatives.first()) {
                (Some((reading, _)), _) => Admissible {
                    branches: vec![
                        Branch { decision: refusal, basis: Basis::Reading(*reading) },
                        Branch { decision: updated, basis: Basis::Stated },
                    ],
                },
                (None, Some((reading, _))) => Admissible {
                    branches: vec![
                        Branch { decision: updated, basis: Basis::Reading(*reading) },
                        Branch { decision: refusal, basis: Basis::Stated },
                    ],
                },
                (None, None) => Admissible::only(updated),
            }
        }
        Request::Delete { id, version } => match visible(known, caller, id, operation) {
            Ok(current) => match rule_check::delete_violation(current.version, version) {
                Some(violation) => refused(vec![violation]),
                None => Admissible::only(Decision::Deleted { id: current.id }),
            },
            Err(violation) => {
                refused([Some(violation), rule_check::version_violation(version)].into_iter().flatten().collect())
            }
        },
        Request::List { tenant } => match tenant.parse::<Id>() {
            // A malformed id: 400 or 404, as on every path with an id.
            Err(_) => refused(vec![Violation {
                freedom: Some(Freedom::MalformedId),
                ..Violation::not_found(Rule::Lst1, "tenant")
            }]),
            Ok(tenant) if !known.is_within(tenant, caller.tenant) => {
                refused(vec![Violation { freedom: Some(Freedom::ForeignReport), ..Violation::forbidden(Rule::Sec1) }])
            }
            Ok(tenant) => Admissible::only(Decision::Listed { tenant }),
        },
        Request::Stored { id } => match visible(known, caller, id, operation) {
            Ok(report) => {
                let stored = if rule_check::generation_due(report, caller.today) {
                    StoredExpectation::OnePerFormat(report.parameters.formats.clone())
                } else if rule_check::is_scheduled(report, caller.today) {
                    StoredExpectation::Empty
                } else {
                    StoredExpectation::Unpinned
                };
                Admissible::only(Decision::StoredListed { report: report.id, stored })
            }
            Err(violation) => refused(vec![violation]),
        },
        Request::Download { id, stored_id } => {
            // A malformed stored id: 400 or 404 (GET-3, "the same for the stored-report paths").
            let stored: Result<Id, Violation> = stored_id.parse().map_err(|_| Violation {
                freedom: Some(Freedom::MalformedId),
                ..Violation::not_found(Rule::Sto4, "stored report")
            });
            match (visible(known, caller, id, operation), stored) {
                (Ok(report), Ok(stored_id)) => Admissible::only(Decision::Download { report: report.id, stored_id }),
                (report, stored) => refused(report.err().into_iter().chain(stored.err()).collect()),
            }
        }
    }
}

/// The report at a path id, if the caller may see it: GET-3 for a malformed id, the
/// operation's unknown-id rule, SEC-1 for another tenant's report.
fn visible<'k>(known: &'k impl Known, caller: Caller, id: &str, operation: Operation) -> Result<&'k Report, Violation> {
    let id: Id = id.parse().map_err(|_| Violation::malformed_id(id))?;
    let report = known.report(id).ok_or_else(|| Violation::not_found(operation.unknown_report_rule(), "report"))?;
    if !known.is_within(report.parameters.tenant_id, caller.tenant) {
        return Err(Violation::foreign_report(operation.unknown_report_rule()));
    }
    Ok(report)
}

/// The fields of `report` the rules speak of, by JSON pointer: what "unchanged" and "the
/// same object" compare (GET-1, UPD-6). Extra properties are free, so not here.
pub const REPORT_FIELDS: &[&str] = &[
    "/id",
    "/version",
    "/result_action",
    "/recipients",
    "/parameters/tenant_id",
    "/parameters/level",
    "/parameters/formats",
    "/parameters/kind",
    "/parameters/period",
    "/parameters/hide_zero_usage",
    "/parameters/show_skus",
    "/schedule/enabled",
    "/schedule/type",
    "/generation_date",
];

/// An accepted answer as the rules pin it: the claims, and the report the reference
/// server sends (one answer that satisfies them; never compared).
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The reference server's values (id and version are placeholders).
    pub report: Report,
    /// Everything the rules pin about the answer; nothing else is compared.
    pub claims: Vec<Claim>,
    /// The server's today, for date freedoms.
    today: Option<Date>,
}

/// A field of an answer that breaks a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discrepancy {
    pub rule: Rule,
    /// JSON pointer into the report.
    pub pointer: String,
    pub expected: String,
    pub actual: String,
}

impl fmt::Display for Discrepancy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} should be {}, found {}", self.rule, self.pointer, self.expected, self.actual)
    }
}

fn value(of: &impl serde::Serialize) -> Value {
    serde_json::to_value(of).unwrap_or_default()
}

impl Prediction {
    /// CRT-1 (the submitted values echoed, a new id, an integer version) and CRT-7 (the
    /// four named defaults). An omitted `schedule.enabled` or optional flag is stated by
    /// no default: not claimed, or claimed only as PROFILE.md's freedom has it.
    pub fn created(post: &ReportPost, today: Date) -> Prediction {
        let report = rule_check::new_report(post, Id::from_uuid(Default::default()), 0, today);
        let parameters = &post.parameters;
        let echo = |pointer: &'static str, sent: Value| Claim::body(Rule::Crt1, pointer, Expect::Equals(sent));
        let default = |pointer: &'static str, value: Value| Claim::body(Rule::Crt7, pointer, Expect::Equals(value));
        let mut claims = vec![
            Claim::body(Rule::Crt1, "/id", Expect::Free(Freedom::ReportId)),
            Claim::body(Rule::Crt1, "/version", Expect::Free(Freedom::Version)),
            echo("/result_action", value(&post.result_action)),
            echo("/parameters/tenant_id", value(&parameters.tenant_id)),
            echo("/parameters/kind", value(&parameters.kind)),
            echo("/parameters/level", value(&parameters.level)),
            echo("/schedule/type", value(&post.schedule.schedule_type)),
        ];
        claims.push(if post.recipients.is_empty() {
            default("/recipients", Value::Array(Vec::new()))
        } else {
            echo("/recipients", value(&post.recipients))
        });
        claims.push(match &parameters.formats {
            None => default("/parameters/formats", value(&report.parameters.formats)),
            Some(formats) if rule_check::lists_a_format_twice(post) => {
                Claim::body(Rule::Crt1, "/parameters/formats", Expect::SameMembers(formats.iter().map(value).collect()))
            }
            Some(formats) => echo("/parameters/formats", value(formats)),
        });
        claims.push(match &parameters.period {
            None => default("/parameters/period", value(&report.parameters.period)),
            Some(period) => echo("/parameters/period", value(period)),
        });
        for (pointer, flag) in [
            ("/parameters/hide_zero_usage", parameters.hide_zero_usage),
            ("/parameters/show_skus", parameters.show_skus),
        ] {
            claims.push(match flag {
                Some(flag) => echo(pointer, Value::Bool(flag)),
                None => Claim::body(Rule::Crt7, pointer, Expect::Free(Freedom::OptionalFlags)),
            });
        }
        if let Some(enabled) = post.schedule.enabled {
            claims.push(echo("/schedule/enabled", Value::Bool(enabled)));
        }
        claims.push(match (post.generation_date, post.schedule.schedule_type) {
            (Some(date), _) => echo("/generation_date", value(&crate::date::format_day(date))),
            (None, ScheduleType::Once) => default("/generation_date", value(&crate::date::format_day(today))),
            (None, ScheduleType::Monthly) => {
                Claim::body(Rule::Crt7, "/generation_date", Expect::Free(Freedom::MonthlyGenerationDate))
            }
        });
        Prediction { report, claims, today: Some(today) }
    }

    /// GET-1: every field the rules speak of as the last successful write left it.
    pub fn read(current: &Report) -> Prediction {
        let before = value(current);
        let claims = REPORT_FIELDS
            .iter()
            .map(|pointer| Claim::body(Rule::Get1, pointer, Expect::AsBefore(before.pointer(pointer).cloned())))
            .collect();
        Prediction { report: current.clone(), claims, today: None }
    }

    /// UPD-6 (kind, level, recipients as sent, every other field unchanged), UPD-4 (the
    /// flag), UPD-2 (the fixed parameters unchanged), UPD-7 (a greater version).
    pub fn updated(current: &Report, put: &ReportPut) -> Prediction {
        let mut report = rule_check::apply_update(current, put);
        report.version = current.version;
        let (before, after) = (value(current), value(&report));
        let sent = value(put);
        let unset_flags = rule_check::unset_flags_sent_false(&current.parameters, put);
        let claims = REPORT_FIELDS
            .iter()
            .map(|pointer| {
                let rule = if *pointer == "/version" {
                    Rule::Upd7
                } else if *pointer == "/schedule/enabled" {
                    Rule::Upd4
                } else if rule_check::FIXED_PARAMETERS.contains(pointer) {
                    Rule::Upd2
                } else {
                    Rule::Upd6
                };
                let expect = if *pointer == "/version" {
                    Expect::Greater(current.version)
                } else if unset_flags.contains(pointer) {
                    // The reading's no-op, or a server that stores the `false` it was sent.
                    Expect::Free(Freedom::OptionalFlags)
                } else if *pointer == "/parameters/formats" && sent.pointer(pointer).is_some() {
                    // Accepted, the formats sent are the current members (reordered or
                    // repeated at most): kept as they were, or as sent.
                    Expect::SameMembers(current.parameters.formats.iter().map(value).collect())
                } else if rule_check::UPDATABLE_FIELDS.contains(pointer) && sent.pointer(pointer).is_some() {
                    Expect::Equals(after.pointer(pointer).cloned().unwrap_or_default())
                } else {
                    Expect::AsBefore(before.pointer(pointer).cloned())
                };
                Claim::body(rule, pointer, expect)
            })
            .collect();
        Prediction { report, claims, today: None }
    }

    /// Every rule this prediction checks.
    pub fn rules(&self) -> Vec<Rule> {
        let mut rules: Vec<Rule> = self.claims.iter().map(|claim| claim.rule).collect();
        rules.sort();
        rules.dedup();
        rules
    }

    /// The pointers the claims leave to a freedom (with it), for contracts.
    pub fn free_fields(&self) -> impl Iterator<Item = (&'static str, Freedom)> + '_ {
        self.claims.iter().filter_map(|claim| match (claim.place, &claim.expect) {
            (Place::Body(pointer), Expect::Free(freedom)) => Some((pointer, *freedom)),
            _ => None,
        })
    }

    /// Where `actual` breaks a claim. Nothing else is compared.
    pub fn discrepancies(&self, actual: &Report) -> Vec<Discrepancy> {
        let seen = value(actual);
        let context = freedom::Context { today: self.today, previous: None };
        self.claims
            .iter()
            .filter_map(|claim| claim.broken_by(&seen, context))
            .map(|broken| Discrepancy {
                rule: broken.claim.rule,
                pointer: broken.claim.place.to_string(),
                expected: broken.claim.expect.describe(),
                actual: broken.found.as_ref().map_or_else(|| "absent".to_owned(), Value::to_string),
            })
            .collect()
    }
}

/// The statuses any of `violations` admits, for a message: "any 4xx" where a refusal
/// may answer any.
pub fn admitted_statuses(violations: &[Violation]) -> String {
    if violations.iter().any(|violation| violation.any_client_error) {
        return "any 4xx".to_owned();
    }
    let mut statuses: Vec<u16> = violations.iter().flat_map(Violation::statuses).collect();
    statuses.sort_unstable();
    statuses.dedup();
    format!("{statuses:?}")
}

/// LST-1 against what a caller knows: the ids it made and has not deleted must be
/// listed, the ones it deleted must not. Order and other members are free.
pub fn list_discrepancies(present: &[Id], deleted: &[Id], items: &[Id]) -> Option<Violation> {
    let missing: Vec<String> = present.iter().filter(|id| !items.contains(id)).map(Id::to_string).collect();
    let stale: Vec<String> = deleted.iter().filter(|id| items.contains(id)).map(Id::to_string).collect();
    if missing.is_empty() && stale.is_empty() {
        return None;
    }
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!("missing {}", missing.join(", ")));
    }
    if !stale.is_empty() {
        problems.push(format!("still listing deleted {}", stale.join(", ")));
    }
    Some(
        Violation::not_found(Rule::Lst1, "report")
            .with_message(format!("LST-1: the tenant list is wrong: {}", problems.join("; "))),
    )
}

impl Violation {
    fn with_message(mut self, message: String) -> Violation {
        self.message = message;
        self
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use time::macros::date;

    use super::*;

    struct World {
        reports: HashMap<Id, Report>,
        tenants: Vec<(Id, Option<Id>)>,
    }

    impl Known for World {
        fn report(&self, id: Id) -> Option<&Report> {
            self.reports.get(&id)
        }

        fn is_within(&self, tenant: Id, caller: Id) -> bool {
            let mut at = Some(tenant);
            while let Some(current) = at {
                if current == caller {
                    return true;
                }
                at = self.tenants.iter().find(|(id, _)| *id == current).and_then(|(_, parent)| *parent);
            }
            false
        }
    }

    fn world() -> (World, Id, Id) {
        let (a, b) = (Id::new_v4(), Id::new_v4());
        (World { reports: HashMap::new(), tenants: vec![(a, None), (b, None)] }, a, b)
    }

    #[test]
    fn operations_are_found_by_method_and_path() {
        for operation in Operation::ALL {
            let path = operation.template().replace("{report_id}", "x").replace("{stored_id}", "y");
            assert_eq!(Operation::find(operation.method().as_str(), &path), Some(*operation));
        }
        assert_eq!(Operation::find("PATCH", "/reports/x"), None);
    }

    #[test]
    fn a_monthly_create_leaves_its_date_and_flags_free() {
        let (world, a, _) = world();
        let today = date!(2026 - 11 - 26);
        let body = format!(
            r#"{{"result_action":"save","parameters":{{"tenant_id":"{a}","kind":"usage_daily","level":"itself"}},"schedule":{{"type":"monthly"}}}}"#
        );
        let caller = Caller { tenant: a, today };
        let Decision::Created { prediction, .. } =
            decide(&world, caller, Request::Create { content_type: Some("application/json"), body: body.as_bytes() })
                .into_reference()
        else {
            panic!("not created")
        };
        let mut answer = prediction.report.clone();
        answer.id = Id::new_v4();
        answer.version = 7;
        answer.generation_date = date!(2026 - 12 - 15);
        answer.parameters.hide_zero_usage = Some(false);
        assert_eq!(prediction.discrepancies(&answer), vec![]);
        answer.generation_date = today;
        answer.parameters.show_skus = Some(true);
        let rules: Vec<Rule> = prediction.discrepancies(&answer).iter().map(|found| found.rule).collect();
        assert_eq!(rules, vec![Rule::Crt7, Rule::Crt7]);
    }

    #[test]
    fn a_foreign_report_answers_as_unknown() {
        let (mut world, a, b) = world();
        let today = date!(2026 - 11 - 26);
        let post: ReportPost = serde_json::from_value(serde_json::json!({"result_action": "save",
            "parameters": {"tenant_id": b, "kind": "usage_daily", "level": "itself"}, "schedule": {"type": "monthly"}}))
        .unwrap_or_else(|_| unreachable!());
        let report = rule_check::new_report(&post, Id::new_v4(), 1, today);
        let id = report.id.to_string();
        world.reports.insert(report.id, report);
        let decision = decide(&world, Caller { tenant: a, today }, Request::Get { id: &id });
        let Decision::Rejected(violations) = decision.reference() else { panic!("not rejected") };
        assert_eq!(violations[0].rule, Rule::Sec1);
        assert_eq!(violations[0].named, Rule::Get2);
        assert!(decision.admits_status(403) && decision.admits_status(404) && !decision.admits_status(400));
        let malformed = decide(&world, Caller { tenant: a, today }, Request::Get { id: "NOT-AN-ID" });
        assert!(malformed.admits_status(400) && malformed.admits_status(404) && !malformed.admits_status(500));
    }
}
