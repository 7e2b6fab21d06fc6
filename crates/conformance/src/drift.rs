//! Drift: how what a server sends, or a new API description, departs from a baseline,
//! classified as breaking or not for clients.
//!
//! The baseline of a server's answers is the spec by default: only what departs from
//! `openapi.json` and the model beyond the freedoms of PROFILE.md (`freedom::FIELDS`,
//! the statuses the decider's violations may carry) is drift, so a conformant server
//! shows none. Or it is an earlier recording of the same server (`xtask record`,
//! `drift --recording DIR`): then free values answered otherwise than recorded are
//! reported too, as non-breaking.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use reportcheck_model::decide::Operation;
use reportcheck_model::freedom::{self, Comparison};
use serde::Serialize;
use serde_json::Value;

use crate::openapi::{Spec, ViolationKind};
use crate::record::answer_schema;
use crate::runner::{Observed, Recorded};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    Breaking,
    NonBreaking,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    MissingField,
    TypeChanged,
    UnknownEnumValue,
    FormatChanged,
    UndocumentedStatus,
    ContentTypeChanged,
    SchemaViolation,
    OperationRemoved,
    StatusRemoved,
    RequiredAdded,
    EnumValueRemoved,
    NewProperty,
    NewOptionalField,
    NewHeader,
    OperationAdded,
    EnumValueAdded,
    /// A free value answered otherwise than in the baseline recording.
    ObservedChanged,
    /// A pinned value answered otherwise than in the baseline recording.
    RecordedChanged,
}

/// One departure, counted over the answers that show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    pub class: Class,
    pub kind: Kind,
    /// `METHOD /template -> status`.
    pub operation: String,
    /// A JSON pointer (array indices as `*`), a header name, or empty.
    pub path: String,
    pub expected: String,
    pub seen: String,
    pub count: usize,
}

/// The schemas the model reads, by name, and a round trip through the model type.
fn model_round_trip(schema: &str, body: &Value) -> Option<Result<Value, String>> {
    fn through<T: serde::de::DeserializeOwned + Serialize>(body: &Value) -> Result<Value, String> {
        let typed: T =
            serde_path_to_error::deserialize(body.clone()).map_err(|err| format!("{}: {}", err.path(), err.inner()))?;
        serde_json::to_value(typed).map_err(|err| err.to_string())
    }
    use reportcheck_model::*;
    Some(match schema {
        "report" => through::<Report>(body),
        "storedReportParams" => through::<StoredReportList>(body),
        "uuidList" => through::<UuidList>(body),
        "client" => through::<ApiClient>(body),
        "token" => through::<Token>(body),
        "errorScheme" => through::<ErrorBody>(body),
        "tokenError" => through::<TokenError>(body),
        _ => return None,
    })
}

/// What makes two findings the same: class, kind, operation, normalized path.
type DriftKey = (Class, Kind, String, String);

/// A tally of drifts, merging repeats: the first expected and seen values, and a count.
#[derive(Debug, Default)]
struct Found(BTreeMap<DriftKey, (String, String, usize)>);

impl Found {
    fn add(
        &mut self,
        class: Class,
        kind: Kind,
        operation: &str,
        path: &str,
        expected: impl Into<String>,
        seen: impl Into<String>,
    ) {
        let entry = self.0.entry((class, kind, operation.to_owned(), freedom::pattern(path))).or_insert((
            expected.into(),
            seen.into(),
            0,
        ));
        entry.2 += 1;
    }

    fn into_drifts(self) -> Vec<Drift> {
        self.0
            .into_iter()
            .map(|((class, kind, operation, path), (expected, seen, count))| Drift {
                class,
                kind,
                operation,
                path,
                expected,
                seen,
                count,
            })
            .collect()
    }
}

/// How much a drift run compared: the answers it judged (none between two descriptions)
/// and the operations they, or the descriptions, hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Compared {
    pub answers: usize,
    pub operations: usize,
}

impl Compared {
    /// The answers to operations of `spec`, and those operations.
    pub fn answers(spec: &Spec, exchanges: &[Recorded]) -> Compared {
        let known: Vec<&crate::openapi::Operation> = exchanges
            .iter()
            .filter_map(|exchange| spec.operation(exchange.request.method.as_str(), &exchange.request.path))
            .collect();
        let operations: BTreeSet<(&str, &str)> =
            known.iter().map(|operation| (operation.method.as_str(), operation.template.as_str())).collect();
        Compared { answers: known.len(), operations: operations.len() }
    }

    /// The operations either description holds.
    pub fn specs(old: &Value, new: &Value) -> Compared {
        let mut operations = BTreeSet::new();
        for spec in [Spec::from_document(old), Spec::from_document(new)] {
            operations.extend(spec.operations.into_iter().map(|operation| (operation.method, operation.template)));
        }
        Compared { answers: 0, operations: operations.len() }
    }
}

/// What the answers depart from, beyond what the profile leaves free.
pub fn analyze(spec: &Spec, exchanges: &[Recorded]) -> Vec<Drift> {
    let mut found = Found::default();
    for exchange in exchanges {
        analyze_one(spec, exchange, &mut found);
    }
    found.into_drifts()
}

fn analyze_one(spec: &Spec, exchange: &Recorded, found: &mut Found) {
    let method = exchange.request.method.as_str();
    let path = exchange.request.path.as_str();
    let Some(operation) = spec.operation(method, path) else { return };
    let status = exchange.response.status.as_u16();
    let label = format!("{method} {} -> {status}", operation.template);
    let allowed = operation.documents(status)
        || Operation::find(method, path).is_some_and(|operation| operation.profile_statuses().contains(&status));
    if !allowed {
        let documented: Vec<String> = operation.responses.iter().map(|(status, _)| status.to_string()).collect();
        found.add(Class::Breaking, Kind::UndocumentedStatus, &label, "", documented.join(", "), status.to_string());
    }
    let content_type = exchange.response.content_type();
    // Media type parameters are free: the essence decides.
    let is_json = reportcheck_model::rule_check::is_json_media_type(content_type);
    let Some(schema) = answer_schema(spec, method, path, status) else { return };
    if !is_json {
        found.add(
            Class::Breaking,
            Kind::ContentTypeChanged,
            &label,
            "",
            "application/json",
            content_type.unwrap_or("nothing"),
        );
    }
    match serde_json::from_slice::<Value>(&exchange.response.body) {
        Err(_) => found.add(
            Class::Breaking,
            Kind::TypeChanged,
            &label,
            "",
            format!("a {schema} JSON body"),
            "a body that is not JSON",
        ),
        Ok(body) => body_drift(spec, schema, &body, &label, found),
    }
}

/// Whether the value at `pointer` of a `schema` body is one the profile leaves free
/// (absent when the pointer names a missing property).
fn freely_chosen(schema: &str, body: &Value, pointer: &str) -> bool {
    let Some(freedom) = freedom::field_freedom(schema, pointer) else { return false };
    let actual = match freedom.comparison() {
        // Judged on the object that holds the keys.
        Comparison::AtLeastOneIntegerOf(_) => body.pointer(pointer.rsplit_once('/').map_or("", |(parent, _)| parent)),
        _ => body.pointer(pointer),
    };
    freedom.admits(None, actual, freedom::Context::default())
}

/// Free values answered otherwise than in the baseline recording (non-breaking), and
/// recorded expectations that no longer hold (breaking), grouped.
pub fn against_recording(spec: &Spec, observed: &[Observed], failed: &[(String, String)]) -> Vec<Drift> {
    let mut found = Found::default();
    let show = |value: &Option<Value>| value.as_ref().map_or_else(|| "absent".to_owned(), Value::to_string);
    for item in observed {
        let (method, path) = item.request.split_once(' ').unwrap_or_default();
        let label = spec
            .operation(method, path)
            .map_or_else(|| item.request.clone(), |operation| format!("{method} {}", operation.template));
        let observation = &item.observation;
        found.add(
            Class::NonBreaking,
            Kind::ObservedChanged,
            &label,
            &item.at,
            match observation.freedom {
                Some(freedom) => format!("{} (free: {freedom})", show(&observation.observed)),
                None => format!("{} (claimed by no rule)", show(&observation.observed)),
            },
            show(&observation.now),
        );
    }
    for (check, message) in failed {
        found.add(Class::Breaking, Kind::RecordedChanged, check, "", "as recorded", message.clone());
    }
    found.into_drifts()
}

fn body_drift(spec: &Spec, schema: &str, body: &Value, label: &str, found: &mut Found) {
    let violations = spec.violations(schema, body);
    let violations: Vec<_> = violations
        .into_iter()
        .filter(|violation| {
            let pointer = match &violation.kind {
                ViolationKind::Missing(property) => format!("{}/{property}", violation.pointer),
                _ => violation.pointer.clone(),
            };
            !freely_chosen(schema, body, &pointer)
        })
        .collect();
    for violation in &violations {
        let (class, kind, path, expected) = match &violation.kind {
            ViolationKind::Missing(property) => (
                Class::Breaking,
                Kind::MissingField,
                format!("{}/{property}", violation.pointer),
                "required".to_owned(),
            ),
            ViolationKind::Type => {
                (Class::Breaking, Kind::TypeChanged, violation.pointer.clone(), violation.message.clone())
            }
            ViolationKind::Enum => {
                (Class::Breaking, Kind::UnknownEnumValue, violation.pointer.clone(), violation.message.clone())
            }
            ViolationKind::Format => {
                (Class::Breaking, Kind::FormatChanged, violation.pointer.clone(), violation.message.clone())
            }
            ViolationKind::Other => {
                (Class::Breaking, Kind::SchemaViolation, violation.pointer.clone(), violation.message.clone())
            }
        };
        let seen = match kind {
            Kind::MissingField => "absent".to_owned(),
            _ => body.pointer(&violation.pointer).map_or_else(|| "absent".to_owned(), |value| value.to_string()),
        };
        found.add(class, kind, label, &path, expected, seen);
    }
    // Properties the model does not read, declared or not, are free (extra response
    // properties): only a body the model cannot read is drift.
    let Some(round_trip) = model_round_trip(schema, body) else { return };
    if let Err(problem) = round_trip
        && violations.is_empty()
    {
        // The schema passed but the model cannot read it: a date or id written another way.
        found.add(Class::Breaking, Kind::FormatChanged, label, "", "what the model reads", problem);
    }
}

/// How two API descriptions differ, classified for clients.
pub fn diff_specs(old: &Value, new: &Value) -> Vec<Drift> {
    let (old_spec, new_spec) = (Spec::from_document(old), Spec::from_document(new));
    let mut found = Found::default();
    for operation in &old_spec.operations {
        let label = format!("{} {}", operation.method, operation.template);
        let Some(current) =
            new_spec.operations.iter().find(|o| o.method == operation.method && o.template == operation.template)
        else {
            found.add(Class::Breaking, Kind::OperationRemoved, &label, "", "present", "removed");
            continue;
        };
        for (status, schema) in &operation.responses {
            let at = format!("{label} -> {status}");
            match current.responses.iter().find(|(s, _)| s == status) {
                None => found.add(Class::NonBreaking, Kind::StatusRemoved, &at, "", "documented", "removed"),
                Some((_, new_schema)) => {
                    if let (Some(old_schema), Some(new_schema)) = (schema, new_schema) {
                        let (a, b) = (old_spec.schema(old_schema), new_spec.schema(new_schema));
                        if let (Some(a), Some(b)) = (a, b) {
                            schema_diff(&old_spec, a, &new_spec, b, "", &at, Direction::Response, &mut found);
                        }
                    }
                }
            }
        }
        for (status, _) in current.responses.iter().filter(|(s, _)| !operation.documents(*s)) {
            found.add(
                Class::Breaking,
                Kind::UndocumentedStatus,
                &format!("{label} -> {status}"),
                "",
                "not documented before",
                "documented now",
            );
        }
        // Request bodies.
        let body = |document: &Value| {
            document
                .pointer(&format!(
                    "/paths/{}/{}/requestBody/content/application~1json/schema/$ref",
                    operation.template.replace('/', "~1"),
                    operation.method.to_lowercase()
                ))
                .and_then(Value::as_str)
                .and_then(|reference| reference.rsplit('/').next())
                .map(str::to_owned)
        };
        if let (Some(a), Some(b)) = (body(old), body(new))
            && let (Some(a), Some(b)) = (old_spec.schema(&a), new_spec.schema(&b))
        {
            schema_diff(&old_spec, a, &new_spec, b, "", &format!("{label} request"), Direction::Request, &mut found);
        }
    }
    for operation in &new_spec.operations {
        if !old_spec.operations.iter().any(|o| o.method == operation.method && o.template == operation.template) {
            found.add(
                Class::NonBreaking,
                Kind::OperationAdded,
                &format!("{} {}", operation.method, operation.template),
                "",
                "absent",
                "added",
            );
        }
    }
    found.into_drifts()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// What servers send: clients break on less or on the unknown.
    Response,
    /// What clients send: clients break on more demands.
    Request,
}

#[expect(clippy::too_many_arguments, reason = "a recursive walk that carries both specs and its position")]
fn schema_diff(
    old_spec: &Spec,
    old: &Value,
    new_spec: &Spec,
    new: &Value,
    path: &str,
    label: &str,
    direction: Direction,
    found: &mut Found,
) {
    if path.matches('/').count() > 12 {
        return;
    }
    let old = old_spec.resolved(old);
    let new = new_spec.resolved(new);
    let kind_of = |schema: &Value| schema.get("type").map(Value::to_string);
    if let (Some(a), Some(b)) = (kind_of(old), kind_of(new))
        && a != b
    {
        found.add(Class::Breaking, Kind::TypeChanged, label, path, a, b);
        return;
    }
    for keyword in ["pattern", "format", "minLength", "maxLength"] {
        let (before, after) = (old.get(keyword), new.get(keyword));
        if before == after {
            continue;
        }
        // A constraint dropped from what clients send only loosens it.
        let class =
            if direction == Direction::Request && after.is_none() { Class::NonBreaking } else { Class::Breaking };
        let show = |value: Option<&Value>| value.map_or_else(|| "none".to_owned(), Value::to_string);
        found.add(class, Kind::FormatChanged, label, &format!("{path} ({keyword})"), show(before), show(after));
    }
    let values = |schema: &Value| -> Option<BTreeSet<String>> {
        Some(schema.get("enum")?.as_array()?.iter().map(Value::to_string).collect())
    };
    if let (Some(a), Some(b)) = (values(old), values(new)) {
        for added in b.difference(&a) {
            let class = if direction == Direction::Response { Class::Breaking } else { Class::NonBreaking };
            found.add(class, Kind::EnumValueAdded, label, path, "absent", added.clone());
        }
        for removed in a.difference(&b) {
            let class = if direction == Direction::Request { Class::Breaking } else { Class::NonBreaking };
            found.add(class, Kind::EnumValueRemoved, label, path, removed.clone(), "removed");
        }
    }
    let required = |schema: &Value| -> BTreeSet<String> {
        schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    let (old_required, new_required) = (required(old), required(new));
    let properties = |schema: &Value| schema.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    let (old_properties, new_properties) = (properties(old), properties(new));
    for (name, old_property) in &old_properties {
        let at = format!("{path}/{name}");
        match new_properties.get(name) {
            None => {
                let class = if direction == Direction::Response && !old_required.contains(name) {
                    Class::NonBreaking
                } else {
                    Class::Breaking
                };
                found.add(class, Kind::MissingField, label, &at, "declared", "removed");
            }
            Some(new_property) => {
                if direction == Direction::Response && old_required.contains(name) && !new_required.contains(name) {
                    found.add(Class::Breaking, Kind::MissingField, label, &at, "required", "optional");
                }
                schema_diff(old_spec, old_property, new_spec, new_property, &at, label, direction, found);
            }
        }
    }
    for (name, _) in new_properties.iter().filter(|(name, _)| !old_properties.contains_key(*name)) {
        let at = format!("{path}/{name}");
        if direction == Direction::Request && new_required.contains(name) {
            found.add(Class::Breaking, Kind::RequiredAdded, label, &at, "absent", "required");
        } else {
            found.add(Class::NonBreaking, Kind::NewProperty, label, &at, "absent", "added");
        }
    }
    if direction == Direction::Request {
        for name in new_required.difference(&old_required).filter(|name| old_properties.contains_key(*name)) {
            found.add(Class::Breaking, Kind::RequiredAdded, label, &format!("{path}/{name}"), "optional", "required");
        }
    }
    if let (Some(a), Some(b)) = (old.get("items"), new.get("items")) {
        schema_diff(old_spec, a, new_spec, b, &format!("{path}/*"), label, direction, found);
    }
}

/// Exercises every operation on `target` with the standard contracts and compares the
/// answers with the spec, beyond the profile's freedoms; with a `recording` (a directory
/// of contracts `xtask record` wrote from the same server), replays those instead and
/// also reports what changed since. Returns the drift and how much was compared.
pub async fn server_drift(
    target: &crate::Target,
    contracts: &crate::ContractSource,
    client: reportcheck_client::ClientOptions,
    max_poll: Option<std::time::Duration>,
    recording: Option<&std::path::Path>,
    control: crate::RunControl,
) -> Result<(Vec<Drift>, Compared), crate::Error> {
    let contracts = match recording {
        Some(dir) => crate::contract::load_dir(dir)?,
        None => contracts.load()?,
    };
    if let Some(unrecorded) = recording.and(contracts.iter().find(|loaded| loaded.contract.recorded.is_none())) {
        return Err(crate::Error::Options(format!(
            "{} is no recording: --recording is a directory `record` wrote",
            unrecorded.path.display()
        )));
    }
    let spec = Spec::builtin();
    let opened = crate::open_with(target, client, control).await?;
    let runs = crate::replay_all(&opened.session, &spec, &contracts, max_poll).await?;
    let mut exchanges = Vec::new();
    let mut observed = Vec::new();
    let mut failed = Vec::new();
    for (loaded, run) in runs {
        exchanges.extend(run.exchanges);
        observed.extend(run.observed);
        for check in run.checks {
            if let crate::Outcome::Failed(failure) = &check.outcome {
                let first = failure.message.lines().next().unwrap_or_default().to_owned();
                failed.push((format!("{}: {} ({})", loaded.contract.name, check.name, check.rule), first));
            }
        }
    }
    let mut drifts = analyze(&spec, &exchanges);
    if recording.is_some() {
        drifts.extend(against_recording(&spec, &observed, &failed));
    }
    Ok((drifts, Compared::answers(&spec, &exchanges)))
}

/// The readable report, ending with the totals.
pub fn text(drifts: &[Drift], against: &str, compared: Compared) -> String {
    let mut out = format!("drift of {against}\n");
    for drift in drifts {
        let class = match drift.class {
            Class::Breaking => "BREAKING    ",
            Class::NonBreaking => "non-breaking",
        };
        let kind =
            serde_json::to_value(drift.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        let _ = writeln!(
            out,
            "  {class} {kind:<22} {}  {}",
            drift.operation,
            if drift.path.is_empty() { "-" } else { &drift.path }
        );
        let _ = writeln!(out, "{:<40}expected: {}", "", drift.expected);
        let _ = writeln!(out, "{:<40}seen: {} ({}×)", "", drift.seen, drift.count);
    }
    let totals = Totals::of(drifts, compared);
    let over = match (compared.answers, totals.seen) {
        (0, _) => format!(" over {} operations", compared.operations),
        (answers, 0) => format!(" in {answers} answers to {} operations", compared.operations),
        (answers, seen) => format!(", seen {seen} times in {answers} answers to {} operations", compared.operations),
    };
    let _ = writeln!(out, "{} breaking, {} non-breaking{over}", totals.breaking, totals.non_breaking);
    out
}

/// The counts of a drift run (`--json`'s `totals`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub breaking: usize,
    pub non_breaking: usize,
    /// Occurrences of all findings.
    pub seen: usize,
    pub answers: usize,
    pub operations: usize,
}

impl Totals {
    pub fn of(drifts: &[Drift], compared: Compared) -> Totals {
        let breaking = drifts.iter().filter(|drift| drift.class == Class::Breaking).count();
        Totals {
            breaking,
            non_breaking: drifts.len() - breaking,
            seen: drifts.iter().map(|drift| drift.count).sum(),
            answers: compared.answers,
            operations: compared.operations,
        }
    }
}

/// 1 with breaking drift, else 0.
pub fn exit_code(drifts: &[Drift]) -> u8 {
    u8::from(drifts.iter().any(|drift| drift.class == Class::Breaking))
}
