//! The class map: the input space of the reports API cut into classes, as data.
//!
//! Its dimensions are the operation, the field a body sets and the form of its value
//! (each valid enum value, each date boundary around today, each invalid form), the
//! state of the report the request goes to, the caller (the report's own tenant, a
//! tenant above it, another tenant) and the write the report saw last. A [`Class`] is
//! one operation with one value of one dimension, or (where the profile makes them
//! interact: a PUT's field and the state of its report) of two.
//!
//! [`map`] lists the classes the profile makes meaningful; [`observe`] tells which
//! classes a request falls in. The harness builds requests that reach every class every
//! run, whatever the seed, counts what each run reached, and the reference server's
//! mutants negate one claim under one class. No I/O here, like the rest of the model.

use std::fmt;

use serde_json::{Value, json};
use time::{Date, Duration};

use crate::decide::{Caller, Known, Request};
use crate::enums::{Format, Kind, Level, ResultAction, ScheduleType};
use crate::id::Id;
use crate::report::Report;
use crate::rule_check;

/// What a request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Create,
    Read,
    /// A PUT that sets anything but `schedule.enabled` alone.
    Update,
    /// A PUT of `schedule.enabled` alone.
    Toggle,
    /// A DELETE at the report's current version.
    Delete,
    /// A DELETE at any other version, or none.
    StaleDelete,
    List,
    Stored,
    Download,
}

impl Op {
    pub const ALL: [Op; 9] =
        [Op::Create, Op::Read, Op::Update, Op::Toggle, Op::Delete, Op::StaleDelete, Op::List, Op::Stored, Op::Download];

    pub fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Read => "read",
            Op::Update => "update",
            Op::Toggle => "toggle",
            Op::Delete => "delete",
            Op::StaleDelete => "delete at another version",
            Op::List => "list",
            Op::Stored => "stored list",
            Op::Download => "download",
        }
    }
}

/// The state of the report a request goes to. A report is in three at once: one of its
/// schedule, one of its flag, one of its action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// `once`, generated after today: still scheduled.
    Once,
    Monthly,
    /// `once`, generated today or before: no longer scheduled (UPD-1).
    Due,
    Enabled,
    Disabled,
    Send,
    Save,
}

impl State {
    pub const SCHEDULES: [State; 3] = [State::Once, State::Monthly, State::Due];
    pub const FLAGS: [State; 2] = [State::Enabled, State::Disabled];
    pub const ACTIONS: [State; 2] = [State::Send, State::Save];
    pub const ALL: [State; 7] =
        [State::Once, State::Monthly, State::Due, State::Enabled, State::Disabled, State::Send, State::Save];

    /// The three states `report` is in on `today`.
    pub fn of(report: &Report, today: Date) -> [State; 3] {
        let schedule = match report.schedule.schedule_type {
            ScheduleType::Monthly => State::Monthly,
            ScheduleType::Once if rule_check::is_scheduled(report, today) => State::Once,
            ScheduleType::Once => State::Due,
        };
        let flag = if report.schedule.enabled { State::Enabled } else { State::Disabled };
        let action = match report.result_action {
            ResultAction::Send => State::Send,
            ResultAction::Save => State::Save,
        };
        [schedule, flag, action]
    }

    pub fn name(self) -> &'static str {
        match self {
            State::Once => "once",
            State::Monthly => "monthly",
            State::Due => "once due",
            State::Enabled => "enabled",
            State::Disabled => "disabled",
            State::Send => "send",
            State::Save => "save",
        }
    }
}

/// Whose report (or tenant) it is, from the caller's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Who {
    Own,
    /// A tenant below the caller's.
    Child,
    /// A tenant outside the caller's subtree.
    Foreign,
}

impl Who {
    pub fn name(self) -> &'static str {
        match self {
            Who::Own => "own",
            Who::Child => "child tenant's",
            Who::Foreign => "foreign",
        }
    }
}

/// The last write a report saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Before {
    Created,
    Updated,
    Toggled,
    /// A PUT or DELETE the server refused.
    Refused,
}

impl Before {
    pub const ALL: [Before; 4] = [Before::Created, Before::Updated, Before::Toggled, Before::Refused];

    pub fn name(self) -> &'static str {
        match self {
            Before::Created => "a create",
            Before::Updated => "an update",
            Before::Toggled => "a toggle",
            Before::Refused => "a refused write",
        }
    }

    /// The write `op` is, when the server accepted it or not; `None` for a read.
    pub fn after(op: Op, accepted: bool) -> Option<Before> {
        match (op, accepted) {
            (Op::Create, true) => Some(Before::Created),
            (Op::Update, true) => Some(Before::Updated),
            (Op::Toggle, true) => Some(Before::Toggled),
            (Op::Update | Op::Toggle | Op::StaleDelete | Op::Delete, false) => Some(Before::Refused),
            _ => None,
        }
    }
}

/// The form of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Form {
    /// A valid value: the enum member, the date boundary (`past`, `yesterday`, `today`,
    /// `tomorrow`, `later`), `true`/`false`, `uuid`, or the recipients' count.
    Valid(&'static str),
    Null,
    /// A number where a string, a flag or an array belongs.
    WrongType,
    UpperCase,
    EmptyString,
    /// A string that is no member, no UUID, no calendar day.
    Malformed,
    /// The valid value wrapped in an array.
    Wrapped,
    /// The valid value as its own JSON text.
    Stringified,
    /// A key the schema does not have (the field is then the key's place).
    UnknownKey,
}

impl fmt::Display for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Form::Valid(value) => write!(f, "{value}"),
            Form::Null => f.write_str("null"),
            Form::WrongType => f.write_str("a number"),
            Form::UpperCase => f.write_str("upper case"),
            Form::EmptyString => f.write_str("\"\""),
            Form::Malformed => f.write_str("malformed"),
            Form::Wrapped => f.write_str("wrapped in an array"),
            Form::Stringified => f.write_str("as a JSON string"),
            Form::UnknownKey => f.write_str("an unknown key"),
        }
    }
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    Kind,
    Level,
    Format,
    Action,
    ScheduleType,
    Uuid,
    Date,
    Flag,
    Recipients,
}

impl Holds {
    fn members(self) -> Vec<&'static str> {
        match self {
            Holds::Kind => Kind::ALL.iter().map(|kind| kind.as_str()).collect(),
            Holds::Level => Level::ALL.iter().map(|level| level.as_str()).collect(),
            Holds::Format => Format::ALL.iter().map(|format| format.as_str()).collect(),
            Holds::Action => ResultAction::ALL.iter().map(|action| action.as_str()).collect(),
            Holds::ScheduleType => ScheduleType::ALL.iter().map(|schedule| schedule.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    /// Every form of the map for a field of this kind.
    pub fn forms(self) -> Vec<Form> {
        let invalid: &[Form] = match self {
            Holds::Uuid => &[Form::Null, Form::WrongType, Form::UpperCase, Form::EmptyString, Form::Malformed],
            Holds::Date => &[Form::Null, Form::WrongType, Form::EmptyString, Form::Malformed],
            Holds::Flag => &[Form::Null, Form::WrongType, Form::Stringified],
            Holds::Recipients => &[Form::Null, Form::WrongType, Form::Stringified],
            _ => &[Form::Null, Form::WrongType, Form::UpperCase, Form::EmptyString, Form::Malformed, Form::Wrapped],
        };
        let valid: Vec<&'static str> = match self {
            Holds::Uuid => vec!["uuid"],
            Holds::Date => DATE_BOUNDARIES.iter().map(|(name, _)| *name).collect(),
            Holds::Flag => vec!["true", "false"],
            Holds::Recipients => vec!["none", "one", "two"],
            _ => self.members(),
        };
        valid.into_iter().map(Form::Valid).chain(invalid.iter().copied()).collect()
    }

    /// The form of `value`.
    fn form_of(self, value: &Value, today: Date) -> Form {
        match (self, value) {
            (_, Value::Null) => Form::Null,
            (Holds::Flag, Value::Bool(flag)) => Form::Valid(if *flag { "true" } else { "false" }),
            (Holds::Flag, Value::String(text)) if text == "true" || text == "false" => Form::Stringified,
            (Holds::Recipients, Value::Array(items)) => {
                Form::Valid(["none", "one"].get(items.len()).copied().unwrap_or("two"))
            }
            (Holds::Recipients, Value::String(text)) if text.starts_with('[') => Form::Stringified,
            (Holds::Flag | Holds::Recipients, _) => Form::WrongType,
            (_, Value::Array(_)) => Form::Wrapped,
            (_, Value::String(text)) if text.is_empty() => Form::EmptyString,
            (Holds::Uuid, Value::String(text)) => match text.parse::<Id>() {
                Ok(_) => Form::Valid("uuid"),
                Err(_) if text.to_lowercase().parse::<Id>().is_ok() => Form::UpperCase,
                Err(_) => Form::Malformed,
            },
            (Holds::Date, Value::String(text)) => match crate::date::parse_day(text) {
                Ok(day) => Form::Valid(boundary(day, today)),
                Err(_) => Form::Malformed,
            },
            (_, Value::String(text)) => {
                let members = self.members();
                match members.iter().find(|member| **member == text.as_str()) {
                    Some(member) => Form::Valid(member),
                    None if members.contains(&text.to_lowercase().as_str()) => Form::UpperCase,
                    None => Form::Malformed,
                }
            }
            _ => Form::WrongType,
        }
    }

    /// A valid example: the first member, today's date, the given id.
    fn example(self, id: Id, today: Date) -> Value {
        match self {
            Holds::Uuid => json!(id),
            Holds::Date => json!(crate::date::format_day(today)),
            Holds::Flag => json!(true),
            Holds::Recipients => json!([id]),
            _ => json!(self.members().first().copied().unwrap_or_default()),
        }
    }

    /// The value of `form` for a field of this kind; `id` stands for a valid UUID.
    pub fn value(self, form: Form, id: Id, today: Date, recipients: [Id; 2]) -> Value {
        let example = self.example(id, today);
        match form {
            Form::Valid(name) => match self {
                Holds::Uuid => json!(id),
                Holds::Date => {
                    let offset =
                        DATE_BOUNDARIES.iter().find(|(boundary, _)| *boundary == name).map_or(0, |(_, days)| *days);
                    json!(crate::date::format_day(today + Duration::days(offset)))
                }
                Holds::Flag => json!(name == "true"),
                Holds::Recipients => match name {
                    "none" => json!([]),
                    "one" => json!([recipients[0]]),
                    _ => json!(recipients),
                },
                _ => json!(name),
            },
            Form::Null => Value::Null,
            Form::WrongType => json!(7),
            Form::UpperCase => json!(example.as_str().unwrap_or_default().to_uppercase()),
            Form::EmptyString => json!(""),
            Form::Malformed => match self {
                Holds::Uuid => json!("not-a-uuid"),
                Holds::Date => json!("2026-02-30"),
                _ => json!("unknown_value"),
            },
            Form::Wrapped => json!([example]),
            Form::Stringified => json!(example.to_string()),
            Form::UnknownKey => json!("save"),
        }
    }
}

/// The date boundaries around today, by name and offset in days.
pub const DATE_BOUNDARIES: [(&str, i64); 5] =
    [("past", -40), ("yesterday", -1), ("today", 0), ("tomorrow", 1), ("later", 40)];

fn boundary(day: Date, today: Date) -> &'static str {
    match (day - today).whole_days() {
        ..-1 => "past",
        -1 => "yesterday",
        0 => "today",
        1 => "tomorrow",
        _ => "later",
    }
}

/// A field a body can set.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub pointer: &'static str,
    pub holds: Holds,
    pub on_create: bool,
    pub on_update: bool,
}

const fn field(pointer: &'static str, holds: Holds, on_create: bool, on_update: bool) -> Field {
    Field { pointer, holds, on_create, on_update }
}

/// Every field of a create or an update body, with what it holds. `result_action` on a
/// PUT is the update's unknown key.
pub const FIELDS: &[Field] = &[
    field("/result_action", Holds::Action, true, false),
    field("/recipients", Holds::Recipients, true, true),
    field("/recipients/0", Holds::Uuid, true, true),
    field("/parameters/tenant_id", Holds::Uuid, true, true),
    field("/parameters/kind", Holds::Kind, true, true),
    field("/parameters/level", Holds::Level, true, true),
    field("/parameters/formats/0", Holds::Format, true, true),
    field("/parameters/period/start", Holds::Date, true, true),
    field("/parameters/period/end", Holds::Date, true, true),
    field("/parameters/hide_zero_usage", Holds::Flag, true, true),
    field("/parameters/show_skus", Holds::Flag, true, true),
    field("/schedule/type", Holds::ScheduleType, true, false),
    field("/schedule/enabled", Holds::Flag, true, true),
    field("/generation_date", Holds::Date, true, false),
];

/// The top-level keys of each body; any other is an unknown key.
const CREATE_KEYS: &[&str] = &["result_action", "recipients", "parameters", "schedule", "generation_date"];
const UPDATE_KEYS: &[&str] = &["recipients", "parameters", "schedule"];

/// The fields `op` takes.
pub fn fields(op: Op) -> impl Iterator<Item = &'static Field> {
    FIELDS.iter().filter(move |field| match op {
        Op::Create => field.on_create,
        Op::Update => field.on_update,
        _ => false,
    })
}

/// One class: an operation, and a value of one dimension, or (`field`/`form` with
/// `state`) of two that interact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Class {
    pub op: Op,
    /// With `form`: the field's pointer (`None` with [`Form::UnknownKey`]).
    pub field: Option<&'static str>,
    pub form: Option<Form>,
    pub state: Option<State>,
    pub who: Option<Who>,
    pub before: Option<Before>,
}

impl Class {
    pub const fn op(op: Op) -> Class {
        Class { op, field: None, form: None, state: None, who: None, before: None }
    }

    pub fn with_field(self, field: Option<&'static str>, form: Form) -> Class {
        Class { field, form: Some(form), ..self }
    }

    pub fn in_state(self, state: State) -> Class {
        Class { state: Some(state), ..self }
    }

    pub fn by(self, who: Who) -> Class {
        Class { who: Some(who), ..self }
    }

    pub fn after(self, before: Before) -> Class {
        Class { before: Some(before), ..self }
    }

    /// The dimensions it fixes besides the operation: 1 for a single class, 2 for a pair.
    pub fn order(&self) -> usize {
        usize::from(self.form.is_some())
            + usize::from(self.state.is_some())
            + usize::from(self.who.is_some())
            + usize::from(self.before.is_some())
    }

    /// The dimension it is counted under in the coverage table.
    pub fn dimension(&self) -> &'static str {
        match (self.form, self.state, self.who, self.before) {
            (Some(_), Some(_), _, _) => "field × state",
            (Some(_), _, _, _) => "field and form",
            (_, Some(_), _, _) => "state",
            (_, _, Some(_), _) => "caller",
            (_, _, _, Some(_)) => "write before",
            _ => "operation",
        }
    }

    /// Whether the class needs a tenant below the caller's to be reached.
    pub fn needs_child(&self) -> bool {
        self.who == Some(Who::Child)
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.op.name())?;
        match (self.field, self.form) {
            (Some(field), Some(form)) => write!(f, " {field}={form}")?,
            (None, Some(form)) => write!(f, " with {form}")?,
            _ => {}
        }
        if let Some(who) = self.who {
            write!(f, " by the {} caller", who.name())?;
        }
        if let Some(state) = self.state {
            write!(f, " on a {} report", state.name())?;
        }
        if let Some(before) = self.before {
            write!(f, " after {}", before.name())?;
        }
        Ok(())
    }
}

/// The operations a report's state, the caller and the write before matter to.
const ON_A_REPORT: [Op; 6] = [Op::Read, Op::Update, Op::Toggle, Op::Delete, Op::StaleDelete, Op::Stored];

/// Every class the profile makes meaningful, singles first, then pairs. A PUT's field
/// and form interact with its report's state (UPD-1 on the schedule, UPD-3 on the action,
/// UPD-4 on the flag), so those pairs are in; the callers are those the API lets a
/// request name.
pub fn map() -> Vec<Class> {
    let mut classes: Vec<Class> = Op::ALL.iter().map(|op| Class::op(*op)).collect();
    for op in [Op::Create, Op::Update] {
        for (field, form) in field_forms(op) {
            classes.push(Class::op(op).with_field(field, form));
        }
    }
    for op in ON_A_REPORT {
        classes.extend(State::ALL.iter().map(|state| Class::op(op).in_state(*state)));
        classes.extend(Before::ALL.iter().map(|before| Class::op(op).after(*before)));
    }
    let callers: [(Op, &[Who]); 8] = [
        (Op::Create, &[Who::Own, Who::Child]),
        (Op::Read, &[Who::Own, Who::Child, Who::Foreign]),
        (Op::Update, &[Who::Own, Who::Child, Who::Foreign]),
        (Op::Delete, &[Who::Own, Who::Child, Who::Foreign]),
        (Op::StaleDelete, &[Who::Own]),
        (Op::List, &[Who::Own, Who::Child, Who::Foreign]),
        (Op::Stored, &[Who::Own, Who::Foreign]),
        (Op::Download, &[Who::Foreign]),
    ];
    for (op, whos) in callers {
        classes.extend(whos.iter().map(|who| Class::op(op).by(*who)));
    }
    for (field, form) in field_forms(Op::Update) {
        let class = Class::op(Op::Update).with_field(field, form);
        classes.extend(State::ALL.iter().map(|state| class.in_state(*state)));
    }
    classes
}

/// Every (field, form) of `op`'s body in the map, the unknown key last. A PUT of a valid
/// `schedule.enabled` alone is a toggle, an operation of its own.
pub fn field_forms(op: Op) -> Vec<(Option<&'static str>, Form)> {
    let mut forms: Vec<(Option<&'static str>, Form)> = fields(op)
        .flat_map(|field| field.holds.forms().into_iter().map(|form| (Some(field.pointer), form)))
        .filter(|(field, form)| {
            !(op == Op::Update && *field == Some("/schedule/enabled") && matches!(form, Form::Valid(_)))
        })
        .collect();
    forms.push((None, Form::UnknownKey));
    forms
}

/// What a request was, in the map's terms.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    pub op: Option<Op>,
    /// The fields the body sets, each with its form; unknown keys as `(None, UnknownKey)`.
    pub fields: Vec<(Option<&'static str>, Form)>,
    pub states: Vec<State>,
    pub who: Option<Who>,
    pub before: Option<Before>,
}

impl Observation {
    /// Every class of [`map`] (and beyond) this request falls in.
    pub fn classes(&self) -> Vec<Class> {
        let Some(op) = self.op else { return Vec::new() };
        let base = Class::op(op);
        let mut classes = vec![base];
        for (field, form) in &self.fields {
            let class = base.with_field(*field, *form);
            classes.push(class);
            classes.extend(self.states.iter().map(|state| class.in_state(*state)));
        }
        classes.extend(self.states.iter().map(|state| base.in_state(*state)));
        classes.extend(self.who.map(|who| base.by(who)));
        classes.extend(self.before.map(|before| base.after(before)));
        classes
    }
}

/// The classes `request` falls in, from what `known` holds: its operation, the fields
/// of its body with their forms, the state of its report, whose report it is, and
/// `before`, the last write the report saw (which the caller tracks).
pub fn observe(known: &impl Known, caller: Caller, request: Request<'_>, before: Option<Before>) -> Observation {
    let report = |id: &str| id.parse::<Id>().ok().and_then(|id| known.report(id));
    let who = |tenant: Id| {
        if tenant == caller.tenant {
            Who::Own
        } else if known.is_within(tenant, caller.tenant) {
            Who::Child
        } else {
            Who::Foreign
        }
    };
    let mut observation = Observation { before, ..Observation::default() };
    let target = match request {
        Request::Create { body, .. } => {
            let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            observation.op = Some(Op::Create);
            observation.fields = body_fields(Op::Create, &body, caller.today);
            observation.who = body
                .pointer("/parameters/tenant_id")
                .and_then(Value::as_str)
                .and_then(|tenant| tenant.parse::<Id>().ok())
                .map(who);
            observation.before = None;
            None
        }
        Request::Get { id } => {
            observation.op = Some(Op::Read);
            report(id)
        }
        Request::Update { id, body, .. } => {
            let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let toggle = body.as_object().is_some_and(|object| object.len() == 1)
                && body.pointer("/schedule").and_then(Value::as_object).is_some_and(|schedule| {
                    schedule.len() == 1 && schedule.get("enabled").is_some_and(Value::is_boolean)
                });
            observation.op = Some(if toggle { Op::Toggle } else { Op::Update });
            if !toggle {
                observation.fields = body_fields(Op::Update, &body, caller.today);
            }
            report(id)
        }
        Request::Delete { id, version } => {
            let current = report(id);
            let at_current = current.is_some_and(|report| version == Some(report.version.to_string().as_str()));
            observation.op = Some(if at_current { Op::Delete } else { Op::StaleDelete });
            current
        }
        Request::List { tenant } => {
            observation.op = Some(Op::List);
            observation.who = tenant.parse::<Id>().ok().map(who);
            observation.before = None;
            None
        }
        Request::Stored { id } => {
            observation.op = Some(Op::Stored);
            report(id)
        }
        Request::Download { id, .. } => {
            observation.op = Some(Op::Download);
            report(id)
        }
    };
    if let Some(report) = target {
        observation.states = State::of(report, caller.today).to_vec();
        observation.who = Some(who(report.parameters.tenant_id));
    } else if !matches!(observation.op, Some(Op::Create | Op::List)) {
        observation.before = None;
    }
    observation
}

/// The fields of `body` the map knows, with their forms, and its unknown keys.
fn body_fields(op: Op, body: &Value, today: Date) -> Vec<(Option<&'static str>, Form)> {
    let mut found: Vec<(Option<&'static str>, Form)> = fields(op)
        .filter_map(|field| {
            body.pointer(field.pointer).map(|value| (Some(field.pointer), field.holds.form_of(value, today)))
        })
        .collect();
    let keys = if op == Op::Create { CREATE_KEYS } else { UPDATE_KEYS };
    if body.as_object().is_some_and(|object| object.keys().any(|key| !keys.contains(&key.as_str()))) {
        found.push((None, Form::UnknownKey));
    }
    found
}

/// A body that sets `field` to `form` and is otherwise valid: for a create, a full
/// valid create for `tenant` (a `send` one where the field is about recipients); for a
/// PUT, what the field needs around it from `current` (the rest of its period, its
/// formats). `None` for a field the operation does not take.
pub fn body_with(
    op: Op,
    field: Option<&'static str>,
    form: Form,
    tenant: Id,
    today: Date,
    recipients: [Id; 2],
    current: Option<&Report>,
) -> Option<Value> {
    let mut body = match (op, current) {
        (Op::Create, _) => {
            let send = field.is_some_and(|field| field.starts_with("/recipients")) || form == Form::Valid("send");
            json!({
                "result_action": if send { "send" } else { "save" },
                "recipients": if send { json!([recipients[0]]) } else { json!([]) },
                "parameters": {
                    "tenant_id": tenant, "kind": "usage_daily", "level": "accounts", "formats": ["csv"],
                    "period": {"start": crate::date::format_day(today - Duration::days(40)),
                               "end": crate::date::format_day(today - Duration::days(10))},
                },
                "schedule": {"type": "once"},
                "generation_date": crate::date::format_day(today + Duration::days(1)),
            })
        }
        (Op::Update, Some(current)) => match field {
            Some(pointer) if pointer.starts_with("/parameters/period/") => {
                json!({"parameters": {"period": current.parameters.period}})
            }
            Some("/parameters/formats/0") => json!({"parameters": {"formats": current.parameters.formats}}),
            Some("/recipients/0") => json!({"recipients": [recipients[0]]}),
            _ => json!({}),
        },
        _ => return None,
    };
    let Some(pointer) = field else {
        let key = if op == Op::Create { "x_unknown" } else { "result_action" };
        body.as_object_mut()?.insert(key.to_owned(), Value::from("save"));
        return Some(body);
    };
    let holds = fields(op).find(|known| known.pointer == pointer)?.holds;
    let uuid = if pointer == "/recipients/0" {
        recipients[0]
    } else {
        current.map_or(tenant, |report| report.parameters.tenant_id)
    };
    set(&mut body, pointer, holds.value(form, uuid, today, recipients));
    Some(body)
}

/// `body` with the field `field` (or, for `None`, every unknown key) put right: a valid
/// value of the field (`tenant` for an id; a period ending ten days before `today`).
/// What a server that reads a broken value leniently stores.
pub fn repaired(op: Op, body: &[u8], field: Option<&'static str>, tenant: Id, today: Date) -> Vec<u8> {
    let Ok(mut body) = serde_json::from_slice::<Value>(body) else { return body.to_vec() };
    match field.and_then(|pointer| fields(op).find(|known| known.pointer == pointer)) {
        Some(field) => {
            let value = match field.pointer {
                "/parameters/period/start" => json!(crate::date::format_day(today - Duration::days(40))),
                "/parameters/period/end" => json!(crate::date::format_day(today - Duration::days(10))),
                "/generation_date" => json!(crate::date::format_day(today + Duration::days(1))),
                _ => field.holds.example(tenant, today),
            };
            set(&mut body, field.pointer, value);
        }
        None => {
            let keys = if op == Op::Create { CREATE_KEYS } else { UPDATE_KEYS };
            if let Some(object) = body.as_object_mut() {
                object.retain(|key, _| keys.contains(&key.as_str()));
            }
        }
    }
    body.to_string().into_bytes()
}

/// Sets `value` at `pointer`, making the objects on the way (an index replaces or
/// appends to its array).
fn set(body: &mut Value, pointer: &str, value: Value) {
    let tokens: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    set_at(body, &tokens, value);
}

fn set_at(at: &mut Value, tokens: &[&str], value: Value) {
    let Some((token, rest)) = tokens.split_first() else {
        *at = value;
        return;
    };
    match at {
        Value::Array(items) => {
            let Ok(position) = token.parse::<usize>() else { return };
            let position = position.min(items.len());
            if position == items.len() {
                items.push(Value::Null);
            }
            if let Some(item) = items.get_mut(position) {
                set_at(item, rest, value);
            }
        }
        Value::Object(object) => {
            let next_is_index = rest.first().is_some_and(|next| next.parse::<usize>().is_ok());
            let child =
                object.entry((*token).to_owned()).or_insert_with(|| if next_is_index { json!([]) } else { json!({}) });
            set_at(child, rest, value);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nothing;

    impl Known for Nothing {
        fn report(&self, _: Id) -> Option<&Report> {
            None
        }

        fn is_within(&self, tenant: Id, caller: Id) -> bool {
            tenant == caller
        }
    }

    /// Every create body the map builds falls in the class it was built for: the
    /// builder and the classifier agree, so reach is by construction.
    #[test]
    fn every_built_create_body_is_observed_in_its_class() {
        let today = time::macros::date!(2026 - 12 - 01);
        let tenant = Id::new_v4();
        let recipients = [Id::new_v4(), Id::new_v4()];
        let caller = Caller { tenant, today };
        for class in map().into_iter().filter(|class| class.op == Op::Create && class.form.is_some()) {
            let Class { field, form: Some(form), .. } = class else { continue };
            let body = body_with(Op::Create, field, form, tenant, today, recipients, None).unwrap_or_default();
            let bytes = body.to_string();
            let observed =
                observe(&Nothing, caller, Request::Create { content_type: None, body: bytes.as_bytes() }, None);
            assert!(observed.classes().contains(&class), "{class}: {body} is observed as {:?}", observed.fields);
        }
    }

    #[test]
    fn the_map_has_no_class_twice() {
        let classes = map();
        let distinct: std::collections::BTreeSet<_> = classes.iter().collect();
        assert_eq!(distinct.len(), classes.len());
    }
}
