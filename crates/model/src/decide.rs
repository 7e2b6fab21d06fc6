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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;
use time::Date;

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
                violations.extend([Violation::schema(Rule::Del2, ""), Violation::version_conflict(Rule::Del3, "")]);
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
            statuses.insert(violation.status);
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
                let (mut want, mut got) = (formats.clone(), listed.to_vec());
                want.sort();
                got.sort();
                (want != got).then(|| {
                    Violation::not_found(Rule::Sto2, "stored report").with_message(format!(
                        "STO-2: the stored reports are in {listed:?}, one per requested format {formats:?} expected"
                    ))
                })
            }
            _ => None,
        }
    }
}

/// Decides `request` from `caller` against what is `known`.
pub fn decide(known: &impl Known, caller: Caller, request: Request<'_>) -> Decision {
    match decide_inner(known, caller, request) {
        Ok(decision) => decision,
        Err(violation) => Decision::Rejected(vec![violation]),
    }
}

fn decide_inner(known: &impl Known, caller: Caller, request: Request<'_>) -> Result<Decision, Violation> {
    let operation = request.operation();
    Ok(match request {
        Request::Create { content_type, body } => {
            rule_check::check_media_type(content_type, Rule::Crt5)?;
            let post = rule_check::parse_create(body)?;
            if !known.is_within(post.parameters.tenant_id, caller.tenant) {
                return Err(Violation::forbidden(Rule::Crt6));
            }
            let violations = rule_check::create_violations(&post, caller.today);
            if !violations.is_empty() {
                return Ok(Decision::Rejected(violations));
            }
            let prediction = Prediction::created(&post, caller.today);
            Decision::Created { post, prediction }
        }
        Request::Get { id } => Decision::Read(Prediction::read(visible(known, caller, id, operation)?)),
        Request::Update { id, content_type, body } => {
            let current = visible(known, caller, id, operation)?;
            rule_check::check_media_type(content_type, Rule::Upd8)?;
            let put = rule_check::parse_update(body)?;
            let violations = rule_check::update_violations(current, &put, caller.today);
            if !violations.is_empty() {
                return Ok(Decision::Rejected(violations));
            }
            let prediction = Prediction::updated(current, &put);
            Decision::Updated { put, prediction }
        }
        Request::Delete { id, version } => {
            let current = visible(known, caller, id, operation)?;
            if let Some(violation) = rule_check::delete_violation(current.version, version) {
                return Err(violation);
            }
            Decision::Deleted { id: current.id }
        }
        Request::List { tenant } => {
            let tenant: Id = tenant.parse().map_err(|_| Violation::not_found(Rule::Lst1, "tenant"))?;
            if !known.is_within(tenant, caller.tenant) {
                return Err(Violation { freedom: Some(Freedom::ForeignReport), ..Violation::forbidden(Rule::Sec1) });
            }
            Decision::Listed { tenant }
        }
        Request::Stored { id } => {
            let report = visible(known, caller, id, operation)?;
            let stored = if rule_check::generation_due(report, caller.today) {
                StoredExpectation::OnePerFormat(report.parameters.formats.clone())
            } else if rule_check::is_scheduled(report, caller.today) {
                StoredExpectation::Empty
            } else {
                StoredExpectation::Unpinned
            };
            Decision::StoredListed { report: report.id, stored }
        }
        Request::Download { id, stored_id } => {
            let report = visible(known, caller, id, operation)?;
            let stored_id: Id = stored_id.parse().map_err(|_| Violation::not_found(Rule::Sto4, "stored report"))?;
            Decision::Download { report: report.id, stored_id }
        }
    })
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

/// A predicted report: the values the reference server sends, which of them are free
/// (and by which freedom), and which rule a departure in each field breaks.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The reference values (id and version are placeholders where free).
    pub report: Report,
    /// Free fields by JSON pointer.
    pub free: BTreeMap<&'static str, Freedom>,
    /// The rule of each field that departs from the prediction, by JSON pointer prefix;
    /// `default_rule` for the rest.
    rules: Vec<(&'static str, Rule)>,
    default_rule: Rule,
    /// For the version freedom: the version before this write.
    previous_version: Option<i64>,
    /// The server's today, for date freedoms.
    today: Option<Date>,
}

/// A field of an answer that departs from the prediction.
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

/// The optional fields of `report`, which a prediction pins as absent unless free.
const OPTIONAL_FIELDS: &[&str] = &["/parameters/hide_zero_usage", "/parameters/show_skus"];

impl Prediction {
    /// CRT-1 and CRT-7: the submitted values echoed, the omitted ones defaulted.
    pub fn created(post: &ReportPost, today: Date) -> Prediction {
        let report = rule_check::new_report(post, Id::from_uuid(Default::default()), 0, today);
        let mut free = BTreeMap::from([("/id", Freedom::ReportId), ("/version", Freedom::Version)]);
        let parameters = &post.parameters;
        if parameters.hide_zero_usage.is_none() {
            free.insert("/parameters/hide_zero_usage", Freedom::OptionalFlags);
        }
        if parameters.show_skus.is_none() {
            free.insert("/parameters/show_skus", Freedom::OptionalFlags);
        }
        let mut defaulted = vec![];
        if post.generation_date.is_none() {
            match post.schedule.schedule_type {
                ScheduleType::Monthly => {
                    free.insert("/generation_date", Freedom::MonthlyGenerationDate);
                }
                ScheduleType::Once => defaulted.push("/generation_date"),
            }
        }
        if parameters.formats.is_none() {
            defaulted.push("/parameters/formats");
        }
        if parameters.period.is_none() {
            defaulted.push("/parameters/period");
        }
        if post.recipients.is_empty() {
            defaulted.push("/recipients");
        }
        if post.schedule.enabled.is_none() {
            defaulted.push("/schedule/enabled");
        }
        let mut rules: Vec<(&'static str, Rule)> = defaulted.into_iter().map(|pointer| (pointer, Rule::Crt7)).collect();
        rules.extend([
            ("/generation_date", if post.generation_date.is_none() { Rule::Crt7 } else { Rule::Crt1 }),
            ("/parameters/hide_zero_usage", if parameters.hide_zero_usage.is_none() { Rule::Crt7 } else { Rule::Crt1 }),
            ("/parameters/show_skus", if parameters.show_skus.is_none() { Rule::Crt7 } else { Rule::Crt1 }),
        ]);
        Prediction { report, free, rules, default_rule: Rule::Crt1, previous_version: None, today: Some(today) }
    }

    /// GET-1: the report as the last successful write left it, every field pinned.
    pub fn read(current: &Report) -> Prediction {
        Prediction {
            report: current.clone(),
            free: BTreeMap::new(),
            rules: Vec::new(),
            default_rule: Rule::Get1,
            previous_version: None,
            today: None,
        }
    }

    /// UPD-6 (the whole report, kind, level and recipients as sent), UPD-2 (the fixed
    /// parameters unchanged), UPD-4 (the flag), UPD-7 (a greater version).
    pub fn updated(current: &Report, put: &ReportPut) -> Prediction {
        let mut report = rule_check::apply_update(current, put);
        report.version = current.version;
        let rules = rule_check::FIXED_PARAMETERS
            .iter()
            .map(|pointer| (*pointer, Rule::Upd2))
            .chain([("/schedule/enabled", Rule::Upd4), ("/version", Rule::Upd7)])
            .collect();
        Prediction {
            report,
            free: BTreeMap::from([("/version", Freedom::Version)]),
            rules,
            default_rule: Rule::Upd6,
            previous_version: Some(current.version),
            today: None,
        }
    }

    /// Every rule this prediction checks.
    pub fn rules(&self) -> Vec<Rule> {
        let mut rules: Vec<Rule> = self.rules.iter().map(|(_, rule)| *rule).collect();
        rules.push(self.default_rule);
        rules.sort();
        rules.dedup();
        rules
    }

    /// The pointers of the answer free under a freedom (with it), for contracts.
    pub fn free_fields(&self) -> impl Iterator<Item = (&'static str, Freedom)> + '_ {
        self.free.iter().map(|(pointer, freedom)| (*pointer, *freedom))
    }

    /// The rule a departure at `pointer` breaks.
    pub fn rule_at(&self, pointer: &str) -> Rule {
        self.rules
            .iter()
            .filter(|(prefix, _)| pointer == *prefix || pointer.starts_with(&format!("{prefix}/")))
            .max_by_key(|(prefix, _)| prefix.len())
            .map_or(self.default_rule, |(_, rule)| *rule)
    }

    /// Where `actual` departs from the prediction. Free fields are compared by their
    /// freedom, the rest exactly; extra properties are free (the typed report drops them).
    pub fn discrepancies(&self, actual: &Report) -> Vec<Discrepancy> {
        let expected = serde_json::to_value(&self.report).unwrap_or_default();
        let seen = serde_json::to_value(actual).unwrap_or_default();
        let mut leaves = Vec::new();
        leaf_pointers(&expected, String::new(), &mut leaves);
        for optional in OPTIONAL_FIELDS {
            if !leaves.iter().any(|leaf| leaf == optional) {
                leaves.push((*optional).to_owned());
            }
        }
        let context = freedom::Context { today: self.today, previous: self.previous_version };
        let mut found = Vec::new();
        for pointer in leaves {
            let (want, got) = (expected.pointer(&pointer), seen.pointer(&pointer));
            let holds = match self.free.get(pointer.as_str()) {
                Some(freedom) => freedom.admits(want, got, context),
                None => want == got,
            };
            if !holds {
                let show = |value: Option<&Value>| value.map_or_else(|| "absent".to_owned(), Value::to_string);
                let expected = match self.free.get(pointer.as_str()) {
                    Some(freedom) => format!("{} ({freedom})", freedom.text()),
                    None => show(want),
                };
                found.push(Discrepancy { rule: self.rule_at(&pointer), pointer, expected, actual: show(got) });
            }
        }
        found
    }
}

/// The pointers of every leaf of `value`; arrays count as leaves (compared whole).
fn leaf_pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(object) if !object.is_empty() => {
            for (key, item) in object {
                leaf_pointers(item, format!("{at}/{key}"), out);
            }
        }
        _ => out.push(at),
    }
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
        let Decision::Rejected(violations) = &decision else { panic!("not rejected") };
        assert_eq!(violations[0].rule, Rule::Sec1);
        assert_eq!(violations[0].named, Rule::Get2);
        assert!(decision.admits_status(403) && decision.admits_status(404) && !decision.admits_status(400));
        let malformed = decide(&world, Caller { tenant: a, today }, Request::Get { id: "NOT-AN-ID" });
        assert!(malformed.admits_status(400) && malformed.admits_status(404) && !malformed.admits_status(500));
    }
}
