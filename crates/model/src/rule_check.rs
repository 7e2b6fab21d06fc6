//! The rules of `PROFILE.md` as pure functions.
//!
//! Given a request body (and for updates the current report and today's date) these
//! functions say which rules it breaks. The reference server enforces exactly these; the
//! harness predicts with them what any server must answer.

use std::fmt;

use serde::de::DeserializeOwned;
use time::{Date, Duration, Month};

use crate::claim::Reading;
use crate::enums::{Format, ResultAction, ScheduleType};
use crate::error_body::{ErrorBody, ErrorCode};
use crate::freedom::Freedom;
use crate::id::Id;
use crate::report::{Period, PutParameters, Report, ReportParameters, ReportPost, ReportPut, Schedule};
use crate::rules::Rule;

/// A request that breaks a rule: which rule, why, and the answer the profile requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: Rule,
    /// The HTTP status the reference server answers.
    pub status: u16,
    /// The `error.code` the profile requires for it (ERR-2).
    pub code: i64,
    /// Human-readable, starting with the rule ID the answer names.
    pub message: String,
    /// Where PROFILE.md leaves the status open (400 or 404 for a malformed id, 403 or
    /// 404 for a foreign report): any status this freedom admits is conformant.
    pub freedom: Option<Freedom>,
    /// The rule the error body names: `rule`, except where naming it would leak (a
    /// foreign report answers exactly as an unknown one).
    pub named: Rule,
    /// No rule pins the status beyond "a refusal": any 4xx is conformant.
    pub any_client_error: bool,
    /// No rule pins the `error.code` of this refusal, whatever `pinned_code` says of its
    /// rule (a refusal the profile admits without naming its code).
    pub code_free: bool,
}

impl Violation {
    fn new(rule: Rule, status: u16, code: i64, reason: impl fmt::Display) -> Violation {
        Violation {
            rule,
            status,
            code,
            message: format!("{rule}: {reason}"),
            freedom: None,
            named: rule,
            any_client_error: false,
            code_free: false,
        }
    }

    /// A refusal the profile admits under `rule` without pinning its code: 400.
    pub fn refusal(rule: Rule, reason: impl fmt::Display) -> Violation {
        Violation { code_free: true, ..Violation::new(rule, 400, 400, reason) }
    }

    /// The same refusal, with any 4xx admitted (the reference answers `status`).
    pub fn any_client_error(self) -> Violation {
        Violation { any_client_error: true, code_free: true, ..self }
    }

    /// The same refusal, its code free: no rule states the refusal, so none pins its code.
    pub fn code_free(self) -> Violation {
        Violation { code_free: true, ..self }
    }

    /// Unknown (well-formed) id or tenant: 404 (GET-2, UPD-8, DEL-4, STO-4, ...).
    pub fn not_found(rule: Rule, what: &str) -> Violation {
        Violation::new(rule, 404, 404, format!("Not Found: no such {what}."))
    }

    /// A path id that is not a lower-case UUID (GET-3): the reference answers 404, as
    /// the published spec documents; 400 is as conformant.
    pub fn malformed_id(text: &str) -> Violation {
        let shown: String = text.chars().take(40).collect();
        let ellipsis = if shown.len() < text.len() { "…" } else { "" };
        Violation {
            freedom: Some(Freedom::MalformedId),
            ..Violation::new(Rule::Get3, 404, 404, format!("`{shown}{ellipsis}` is not a lower-case UUID"))
        }
    }

    /// Another tenant's report (SEC-1): answered exactly as an unknown one would be,
    /// under `unknown_rule`; 403 is as conformant.
    pub fn foreign_report(unknown_rule: Rule) -> Violation {
        let unknown = Violation::not_found(unknown_rule, "report");
        Violation { rule: Rule::Sec1, freedom: Some(Freedom::ForeignReport), ..unknown }
    }

    /// A tenant outside the caller's subtree (CRT-6 for a create, SEC-1 for a list).
    pub fn forbidden(rule: Rule) -> Violation {
        Violation::new(rule, 403, 403, "Current user is not authorized to access this endpoint or its method.")
    }

    /// Every status the profile admits for this violation (the reference one first).
    pub fn statuses(&self) -> Vec<u16> {
        let mut statuses = vec![self.status];
        if self.any_client_error {
            statuses.extend((400..500).filter(|status| *status != self.status));
            return statuses;
        }
        if let Some(crate::freedom::Comparison::StatusOneOf(others)) = self.freedom.map(Freedom::comparison) {
            statuses.extend(others.iter().filter(|status| **status != self.status));
        }
        statuses
    }

    /// Whether `status` is an answer the profile admits for this violation.
    pub fn admits_status(&self, status: u16) -> bool {
        if self.any_client_error {
            return (400..500).contains(&status);
        }
        match self.freedom {
            Some(freedom) => freedom.admits_status(self.status, status),
            None => self.status == status,
        }
    }

    /// A business-rule rejection: 400 with code 1027 (ERR-2).
    pub fn business(rule: Rule, reason: impl fmt::Display) -> Violation {
        Violation::new(rule, 400, ErrorCode::BUSINESS_RULES, reason)
    }

    /// A schema rejection: 400 with code 400 (ERR-2).
    pub fn schema(rule: Rule, reason: impl fmt::Display) -> Violation {
        Violation::new(rule, 400, SCHEMA_CODE, reason)
    }

    /// A write against another version than the current one: 409 with code 1001 (DEL-3).
    pub fn version_conflict(rule: Rule, reason: impl fmt::Display) -> Violation {
        Violation::new(rule, 409, ErrorCode::VERSION_MISMATCH, reason)
    }

    /// Whether the profile pins this violation's `error.code` (ERR-2, DEL-3); other
    /// codes are free.
    pub fn code_is_pinned(&self) -> bool {
        !self.code_free && pinned_code(self.rule) == Some(self.code)
    }

    /// A wrong media type: 415.
    pub fn media_type(rule: Rule, reason: impl fmt::Display) -> Violation {
        Violation::new(rule, 415, 415, reason)
    }

    /// The `errorScheme` body that reports this violation.
    pub fn to_error_body(&self) -> ErrorBody {
        ErrorBody::new(self.code, self.message.clone()).with_rule(self.named)
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Violation {}

/// The `error.code` of a schema rejection (ERR-2).
const SCHEMA_CODE: i64 = 400;

/// The `error.code` the profile pins for a rejection under `rule`: 1027 for the business
/// rules and 400 for the schema rules (ERR-2), 1001 for a version mismatch (DEL-3). Every
/// other code is free.
pub fn pinned_code(rule: Rule) -> Option<i64> {
    match rule {
        Rule::Crt2 | Rule::Crt3 | Rule::Upd1 | Rule::Upd2 | Rule::Upd3 => Some(ErrorCode::BUSINESS_RULES),
        Rule::Crt4 | Rule::Upd5 => Some(SCHEMA_CODE),
        Rule::Del3 => Some(ErrorCode::VERSION_MISMATCH),
        _ => None,
    }
}

/// A report is *scheduled* while it will still run: every `monthly` report, and a `once`
/// report whose `generation_date` lies after today (PROFILE.md, Terms).
pub fn is_scheduled(report: &Report, today: Date) -> bool {
    match report.schedule.schedule_type {
        ScheduleType::Monthly => true,
        ScheduleType::Once => report.generation_date > today,
    }
}

/// Whether a `Content-Type` header value names JSON (`application/json`, any parameters).
pub fn is_json_media_type(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// CRT-5 / UPD-8: the body must be sent as `application/json`.
pub fn check_media_type(content_type: Option<&str>, rule: Rule) -> Result<(), Violation> {
    if is_json_media_type(content_type) {
        Ok(())
    } else {
        let seen = content_type.unwrap_or("no Content-Type");
        Err(Violation::media_type(rule, format!("the body must be application/json, not {seen}")))
    }
}

/// Parses a `POST /reports` body: not JSON breaks CRT-5, not `reportPost` breaks CRT-4.
pub fn parse_create(body: &[u8]) -> Result<ReportPost, Violation> {
    parse_strict(body, "reportPost", &["", "/parameters", "/parameters/period", "/schedule"], Rule::Crt5, Rule::Crt4)
}

/// Parses a `PUT /reports/{id}` body: not JSON breaks UPD-8, not `reportPut` breaks UPD-5.
pub fn parse_update(body: &[u8]) -> Result<ReportPut, Violation> {
    parse_strict(body, "reportPut", &["", "/parameters", "/parameters/period", "/schedule"], Rule::Upd8, Rule::Upd5)
}

/// Parses JSON text as `T`, strictly. `objects` are the JSON pointers where the schema
/// has an object: serde's derived structs would also accept an array there, by position.
fn parse_strict<T: DeserializeOwned>(
    body: &[u8],
    schema: &str,
    objects: &[&str],
    not_json: Rule,
    not_schema: Rule,
) -> Result<T, Violation> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|err| Violation::schema(not_json, format!("the body is not JSON: {err}")))?;
    let mismatch = |at: &str, reason: &dyn fmt::Display| {
        let at = if at.is_empty() || at == "." { String::new() } else { format!(" at `{at}`") };
        Violation::schema(not_schema, format!("the body does not match {schema}{at}: {reason}"))
    };
    for pointer in objects {
        if let Some(found) = value.pointer(pointer).filter(|found| !found.is_object()) {
            let path = pointer.trim_start_matches('/').replace('/', ".");
            return Err(mismatch(&path, &format!("expected an object, found {}", json_type(found))));
        }
    }
    serde_path_to_error::deserialize(value).map_err(|err| mismatch(&err.path().to_string(), err.inner()))
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// A value at `pointer` of `value`, if it reads as a `T`.
fn readable<T: DeserializeOwned>(value: &serde_json::Value, pointer: &str) -> Option<T> {
    value.pointer(pointer).and_then(|found| serde_json::from_value(found.clone()).ok())
}

/// What a create body that breaks `reportPost` still says, for the business rules a
/// server may check first: its tenant, and a post holding only the fields that read
/// (neutral ones where they do not: a `save` report without recipients, no period).
pub fn readable_post(body: &[u8]) -> Option<(Option<Id>, ReportPost)> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let action: Option<ResultAction> = readable(&value, "/result_action");
    let recipients: Option<Vec<Id>> = match value.get("recipients") {
        None => Some(Vec::new()),
        Some(_) => readable(&value, "/recipients"),
    };
    let (result_action, recipients) = match (action, recipients) {
        (Some(action), Some(recipients)) => (action, recipients),
        _ => (ResultAction::Save, Vec::new()),
    };
    let tenant: Option<Id> = readable(&value, "/parameters/tenant_id");
    let post = ReportPost {
        recipients,
        result_action,
        parameters: crate::report::PostParameters {
            tenant_id: tenant.unwrap_or_else(|| Id::from_uuid(Default::default())),
            level: crate::enums::Level::ALL[0],
            kind: crate::enums::Kind::ALL[0],
            formats: None,
            period: readable(&value, "/parameters/period"),
            hide_zero_usage: None,
            show_skus: None,
        },
        schedule: crate::report::PostSchedule { schedule_type: ScheduleType::Once, enabled: None },
        generation_date: None,
    };
    Some((tenant, post))
}

/// What a PUT body that breaks `reportPut` still says, for the business rules a server
/// may check first (UPD-1, UPD-2, UPD-3): the fields that read.
pub fn readable_put(body: &[u8]) -> ReportPut {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else { return ReportPut::default() };
    let parameters = value.get("parameters").map(|_| PutParameters {
        kind: readable(&value, "/parameters/kind"),
        level: readable(&value, "/parameters/level"),
        tenant_id: readable(&value, "/parameters/tenant_id"),
        formats: readable(&value, "/parameters/formats"),
        period: readable(&value, "/parameters/period"),
        hide_zero_usage: readable(&value, "/parameters/hide_zero_usage"),
        show_skus: readable(&value, "/parameters/show_skus"),
    });
    ReportPut { recipients: readable(&value, "/recipients"), parameters, schedule: None }
}

/// The business rules a create breaks (CRT-2, CRT-3), in the profile's order.
pub fn create_violations(post: &ReportPost, today: Date) -> Vec<Violation> {
    let mut violations = Vec::new();
    match post.result_action {
        ResultAction::Send if post.recipients.is_empty() => {
            violations.push(Violation::business(Rule::Crt2, "result_action `send` needs non-empty recipients"));
        }
        ResultAction::Save if !post.recipients.is_empty() => {
            violations.push(Violation::business(Rule::Crt2, "result_action `save` must not carry recipients"));
        }
        _ => {}
    }
    if let Some(period) = &post.parameters.period {
        if period.start > period.end {
            violations.push(Violation::business(Rule::Crt3, "the period starts after it ends"));
        }
        if period.end > today {
            violations.push(Violation::business(Rule::Crt3, "the period ends in the future"));
        }
    }
    violations
}

/// The business rules an update of `current` breaks (UPD-1, UPD-2, UPD-3), in the
/// profile's order. Parse the body with [`parse_update`] first (UPD-5). What no rule
/// states is not here: see [`update_readings`].
pub fn update_violations(current: &Report, put: &ReportPut, today: Date) -> Vec<Violation> {
    let mut violations = Vec::new();
    if !is_scheduled(current, today) {
        violations.push(Violation::business(
            Rule::Upd1,
            format!(
                "only scheduled reports can be updated; this one-time report's generation date {} is not after today",
                crate::date::format_day(current.generation_date)
            ),
        ));
    }
    let changed = changed_fixed_parameters(&current.parameters, put);
    if !changed.is_empty() {
        violations.push(Violation::business(
            Rule::Upd2,
            format!(
                "only parameters.kind and parameters.level can be changed; the body changes {}",
                changed.join(", ")
            ),
        ));
    }
    if let Some(recipients) = &put.recipients {
        match current.result_action {
            ResultAction::Save if !recipients.is_empty() => violations.push(Violation::business(
                Rule::Upd3,
                "recipients can be set only on a report whose result_action is `send`",
            )),
            _ => {}
        }
    }
    violations
}

/// The refusals the reference server makes where no rule states one (readings): each is
/// one admissible branch, accepting is the other. Their codes are free.
pub fn update_readings(current: &Report, put: &ReportPut) -> Vec<(Reading, Violation)> {
    let mut readings = Vec::new();
    if current.result_action == ResultAction::Send && put.recipients.as_ref().is_some_and(Vec::is_empty) {
        readings.push((
            Reading::RecipientsEmptiedOnSend,
            Violation::business(Rule::Upd3, "a report whose result_action is `send` needs non-empty recipients")
                .code_free(),
        ));
    }
    if let Some(formats) = put.parameters.as_ref().and_then(|parameters| parameters.formats.as_ref())
        && *formats != current.parameters.formats
        && same_members(formats, &current.parameters.formats)
    {
        readings.push((
            Reading::FormatsOrderIsAChange,
            Violation::business(
                Rule::Upd2,
                "only parameters.kind and parameters.level can be changed; the body reorders parameters.formats",
            )
            .code_free(),
        ));
    }
    readings
}

/// The refusals the reference server does not make but a server reading the profile
/// otherwise may (each is one admissible branch, accepting is the reference's): an unset
/// flag sent as `false` (UPD-2), empty recipients on a `save` report (UPD-3).
pub fn update_alternatives(current: &Report, put: &ReportPut) -> Vec<(Reading, Violation)> {
    let mut alternatives = Vec::new();
    let unset = unset_flags_sent_false(&current.parameters, put);
    if !unset.is_empty() {
        alternatives.push((
            Reading::UnsetFlagIsFalse,
            Violation::business(
                Rule::Upd2,
                format!("only parameters.kind and parameters.level can be changed; the body sets {}", unset.join(", ")),
            ),
        ));
    }
    if current.result_action == ResultAction::Save && put.recipients.as_ref().is_some_and(Vec::is_empty) {
        alternatives.push((
            Reading::EmptyRecipientsOnSave,
            Violation::business(Rule::Upd3, "recipients can be set only on a report whose result_action is `send`")
                .code_free(),
        ));
    }
    alternatives
}

/// Whether two format lists hold the same members, in any order and multiplicity.
pub fn same_members(a: &[Format], b: &[Format]) -> bool {
    a.iter().all(|format| b.contains(format)) && b.iter().all(|format| a.contains(format))
}

/// The unset optional flags a PUT sends as `false`: the reference reads them as a no-op
/// (an unset flag reads as `false`); a server that reads them as a change refuses under
/// UPD-2, as conformant.
pub fn unset_flags_sent_false(current: &ReportParameters, put: &ReportPut) -> Vec<&'static str> {
    let Some(new) = &put.parameters else { return Vec::new() };
    let mut flags = Vec::new();
    if current.hide_zero_usage.is_none() && new.hide_zero_usage == Some(false) {
        flags.push("/parameters/hide_zero_usage");
    }
    if current.show_skus.is_none() && new.show_skus == Some(false) {
        flags.push("/parameters/show_skus");
    }
    flags
}

/// Whether a create lists a format more than once.
pub fn lists_a_format_twice(post: &ReportPost) -> bool {
    post.parameters
        .formats
        .as_ref()
        .is_some_and(|formats| formats.iter().enumerate().any(|(at, format)| formats[..at].contains(format)))
}

/// What an accepted PUT sets, as JSON pointers into a report and into its body alike
/// (UPD-6: kind and level, the recipients; UPD-4: the flag). Everything else stays.
pub const UPDATABLE_FIELDS: &[&str] = &["/parameters/kind", "/parameters/level", "/recipients", "/schedule/enabled"];

/// The parameters UPD-2 fixes, as JSON pointers into a report.
pub const FIXED_PARAMETERS: &[&str] = &[
    "/parameters/tenant_id",
    "/parameters/formats",
    "/parameters/period",
    "/parameters/hide_zero_usage",
    "/parameters/show_skus",
];

/// For each fixed parameter, in the order of [`FIXED_PARAMETERS`]: whether `new` names it,
/// and whether it names another value than `current` has. An unset flag reads as
/// `false`: sending `false` for it changes nothing.
fn fixed_parameters(current: &ReportParameters, new: &PutParameters) -> [(bool, bool); 5] {
    [
        (new.tenant_id.is_some(), new.tenant_id.is_some_and(|tenant| tenant != current.tenant_id)),
        // Reordered or repeated members are no stated change (the reading formats-order-is-a-change).
        (new.formats.is_some(), new.formats.as_ref().is_some_and(|formats| !same_members(formats, &current.formats))),
        (new.period.is_some(), new.period.is_some_and(|period| period != current.period)),
        (
            new.hide_zero_usage.is_some(),
            new.hide_zero_usage.is_some_and(|flag| flag != current.hide_zero_usage.unwrap_or(false)),
        ),
        (new.show_skus.is_some(), new.show_skus.is_some_and(|flag| flag != current.show_skus.unwrap_or(false))),
    ]
}

/// Whether a PUT names any fixed parameter (UPD-2), with its current value or not.
pub fn names_fixed_parameter(current: &ReportParameters, put: &ReportPut) -> bool {
    put.parameters.as_ref().is_some_and(|new| fixed_parameters(current, new).iter().any(|(named, _)| *named))
}

/// The names of the parameters other than `kind` and `level` that `put` would change.
fn changed_fixed_parameters(current: &ReportParameters, put: &ReportPut) -> Vec<String> {
    let Some(new) = &put.parameters else { return Vec::new() };
    FIXED_PARAMETERS
        .iter()
        .zip(fixed_parameters(current, new))
        .filter(|(_, (_, changed))| *changed)
        .map(|(pointer, _)| pointer[1..].replace('/', "."))
        .collect()
}

/// DEL-2: the `version` query parameter of `DELETE /reports/{id}` is required. One that
/// is not an integer is refused too, but no rule pins how: any 4xx (a reading gives 400).
pub fn version_violation(version: Option<&str>) -> Option<Violation> {
    match version.map(str::parse::<i64>) {
        None => Some(Violation::schema(Rule::Del2, "the query parameter `version` is required")),
        Some(Err(_)) => {
            Some(Violation::schema(Rule::Del2, "the query parameter `version` must be an integer").any_client_error())
        }
        Some(Ok(_)) => None,
    }
}

/// DEL-2 and DEL-3: the `version` query parameter of `DELETE /reports/{id}` against the
/// report's current version.
pub fn delete_violation(current_version: i64, version: Option<&str>) -> Option<Violation> {
    if let Some(violation) = version_violation(version) {
        return Some(violation);
    }
    match version.map(str::parse::<i64>) {
        Some(Ok(version)) if version < current_version => Some(Violation::version_conflict(
            Rule::Del3,
            format!("version mismatch: the report is at version {current_version}, not {version}"),
        )),
        // DEL-3 states a *stale* version; one ahead of the current is refused too, but no
        // rule pins how (the reading version-ahead-is-stale answers as for a stale one).
        Some(Ok(version)) if version > current_version => Some(
            Violation::version_conflict(
                Rule::Del3,
                format!("version mismatch: the report is at version {current_version}, not {version}"),
            )
            .any_client_error(),
        ),
        _ => None,
    }
}

/// The report a valid create makes, with the defaults of CRT-7: formats `["csv"]`, the
/// previous calendar month, no recipients, enabled, and for a `once` report generated
/// today. A `monthly` report's `generation_date` is its next run, the first of next
/// month (the documents leave it open; see ARCHITECTURE.md).
pub fn new_report(post: &ReportPost, id: Id, version: i64, today: Date) -> Report {
    let parameters = &post.parameters;
    let generation_date = post.generation_date.unwrap_or_else(|| match post.schedule.schedule_type {
        ScheduleType::Once => today,
        ScheduleType::Monthly => first_of_next_month(today),
    });
    Report {
        id,
        version,
        result_action: post.result_action,
        recipients: post.recipients.clone(),
        parameters: ReportParameters {
            tenant_id: parameters.tenant_id,
            level: parameters.level,
            formats: parameters.formats.clone().unwrap_or_else(|| vec![Format::Csv]),
            kind: parameters.kind,
            period: parameters.period.unwrap_or_else(|| previous_month(today)),
            hide_zero_usage: parameters.hide_zero_usage,
            show_skus: parameters.show_skus,
        },
        schedule: Schedule {
            enabled: post.schedule.enabled.unwrap_or(true),
            schedule_type: post.schedule.schedule_type,
        },
        generation_date,
    }
}

/// `current` with an accepted PUT applied; the version is left to the caller. Only call
/// it when [`update_violations`] found nothing.
pub fn apply_update(current: &Report, put: &ReportPut) -> Report {
    let mut updated = current.clone();
    if let Some(parameters) = &put.parameters {
        if let Some(kind) = parameters.kind {
            updated.parameters.kind = kind;
        }
        if let Some(level) = parameters.level {
            updated.parameters.level = level;
        }
    }
    if let Some(recipients) = &put.recipients {
        updated.recipients = recipients.clone();
    }
    if let Some(schedule) = put.schedule {
        updated.schedule.enabled = schedule.enabled;
    }
    updated
}

/// The calendar month before the one `today` falls in.
pub fn previous_month(today: Date) -> Period {
    let first_of_this_month = today.replace_day(1).unwrap_or(today);
    let end = first_of_this_month - Duration::days(1);
    let start = end.replace_day(1).unwrap_or(end);
    Period { start, end }
}

/// The first day of the month after the one `today` falls in.
pub fn first_of_next_month(today: Date) -> Date {
    let (year, month) = match today.month() {
        Month::December => (today.year() + 1, Month::January),
        month => (today.year(), month.next()),
    };
    Date::from_calendar_date(year, month, 1).unwrap_or(today)
}

/// Whether a report has been generated by `today` and so has stored reports (STO-2): a
/// one-time `save` report on or after its generation date. A scheduled report has not
/// run yet and has none (STO-4); what a generated `send` report keeps is not pinned.
pub fn generation_due(report: &Report, today: Date) -> bool {
    report.result_action == ResultAction::Save && !is_scheduled(report, today)
}
