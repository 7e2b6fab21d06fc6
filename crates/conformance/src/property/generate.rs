//! The input space of the property tests: operation sequences over a few report slots,
//! drawn from every enum value, the date boundaries around the server's today, invalid
//! forms of each field (upper case, `null`, wrong type, empty string), recipient changes,
//! schedule toggles, fixed parameters repeated or changed, stale and early versions, and
//! the second client's attempts on the first one's reports.

use proptest::prelude::*;
use proptest::sample::select;
use reportcheck_model::strategies;
use reportcheck_model::{
    Date, Format, Id, Kind, Level, Period, PostParameters, PostSchedule, ReportPost, ResultAction,
};
use serde_json::{Value, json};
use time::Duration;

/// Reports a sequence works on at once.
pub const SLOTS: usize = 3;

/// One step of a sequence.
#[derive(Debug, Clone)]
pub enum Op {
    Create {
        slot: usize,
        body: Value,
    },
    Update {
        slot: usize,
        put: PutSpec,
    },
    Get {
        slot: usize,
    },
    Delete {
        slot: usize,
        version: VersionPick,
    },
    /// The first client's tenant list.
    List,
    /// The list of the tenant below the first client's (`--child-tenant`).
    ListChild,
    /// A PUT setting one field of the class map to one form, the rest of the body what
    /// the field needs around it (`classes::body_with`).
    Set {
        slot: usize,
        field: Option<&'static str>,
        form: reportcheck_model::classes::Form,
        /// Read the report back at once (else a later read of the chain shows it).
        verify: bool,
    },
    /// A PUT of `schedule.enabled` alone, flipping the known flag.
    Toggle {
        slot: usize,
    },
    /// The stored reports of a report.
    Stored {
        slot: usize,
    },
    /// The second client tries an operation on the first client's report.
    Foreign {
        slot: usize,
        attempt: Attempt,
    },
}

/// What the second client tries.
#[derive(Debug, Clone, Copy)]
pub enum Attempt {
    Get,
    Put,
    Delete,
    Stored,
    Download,
    /// Lists the first client's tenant.
    List,
}

/// The `version` a DELETE sends, relative to the report's current one.
#[derive(Debug, Clone, Copy)]
pub enum VersionPick {
    Current,
    Stale,
    Ahead,
    Missing,
    NotANumber,
}

/// A PUT body, relative to the report it goes to.
#[derive(Debug, Clone)]
pub struct PutSpec {
    pub kind: Option<Kind>,
    pub level: Option<Level>,
    pub recipients: RecipientsPick,
    pub enabled: Option<bool>,
    pub fixed: Option<FixedPick>,
    pub breakage: Option<Breakage>,
}

#[derive(Debug, Clone, Copy)]
pub enum RecipientsPick {
    Keep,
    One,
    Two,
    Empty,
}

/// A fixed parameter (UPD-2) sent with its current value or another one.
#[derive(Debug, Clone)]
pub enum FixedPick {
    SameTenant,
    OtherTenant(Id),
    SameFormats,
    OtherFormats(Vec<Format>),
    SamePeriod,
    OtherPeriod,
    HideZeroUsage(bool),
    ShowSkus(bool),
}

/// An invalid form of one field (CRT-4, UPD-5), or a key the schema forbids.
#[derive(Debug, Clone)]
pub struct Breakage {
    pub pointer: &'static str,
    pub form: Form,
}

#[derive(Debug, Clone, Copy)]
pub enum Form {
    UpperCase,
    Null,
    Number,
    EmptyString,
    /// A top-level key the schema does not have (the pointer names it).
    UnknownKey,
}

impl Breakage {
    /// `body` with this field broken. A field the body lacks is added, broken (its
    /// parents made on the way), so a breakage never leaves a body as it was.
    pub fn apply(&self, body: &mut Value) {
        if let Form::UnknownKey = self.form {
            if let Some(object) = body.as_object_mut() {
                object.insert(self.pointer.trim_start_matches('/').to_owned(), json!("save"));
            }
            return;
        }
        match body.pointer_mut(self.pointer) {
            Some(field) => *field = self.form.applied(field),
            None => insert(body, self.pointer, self.form.applied(&valid_value(self.pointer))),
        }
    }
}

impl Form {
    /// This invalid form of `valid`.
    fn applied(self, valid: &Value) -> Value {
        match (self, valid) {
            // Upper case where there is a letter to raise (not a date or a number).
            (Form::UpperCase, Value::String(text)) if text.to_uppercase() != *text => {
                Value::String(text.to_uppercase())
            }
            (Form::UpperCase | Form::Number | Form::UnknownKey, _) => json!(7),
            (Form::Null, _) => Value::Null,
            (Form::EmptyString, _) => json!(""),
        }
    }
}

/// A valid value of a field a breakage targets, to break where the body lacks it.
fn valid_value(pointer: &str) -> Value {
    match pointer {
        "/result_action" => json!("send"),
        "/parameters/kind" => json!("usage_current"),
        "/parameters/level" => json!("accounts"),
        "/parameters/formats/0" => json!("csv"),
        "/schedule/type" => json!("once"),
        "/schedule/enabled" | "/parameters/hide_zero_usage" => json!(false),
        "/recipients" => json!([]),
        // A tenant, a recipient, a date: a lower-case UUID stands for each.
        _ => json!("0d6f3a52-8c1e-4b7a-9f2d-3e5c7a9b1d4f"),
    }
}

/// Sets `value` at `pointer`, making the objects (and, for an index, the array) on the way.
fn insert(body: &mut Value, pointer: &str, value: Value) {
    let tokens: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let mut at = body;
    for (index, token) in tokens.iter().enumerate() {
        let last = index + 1 == tokens.len();
        let next = tokens.get(index + 1).is_some_and(|next| next.parse::<usize>().is_ok());
        let fresh = || if next { json!([]) } else { json!({}) };
        at = match at {
            Value::Array(items) => {
                if last {
                    items.push(value);
                    return;
                }
                items.push(fresh());
                items.last_mut().unwrap_or_else(|| unreachable!("just pushed"))
            }
            Value::Object(object) if last => {
                object.insert((*token).to_owned(), value);
                return;
            }
            Value::Object(object) => object.entry((*token).to_owned()).or_insert_with(fresh),
            _ => return,
        };
    }
}

fn form() -> impl Strategy<Value = Form> {
    prop_oneof![Just(Form::UpperCase), Just(Form::Null), Just(Form::Number), Just(Form::EmptyString)]
}

const CREATE_FIELDS: &[&str] = &[
    "/result_action",
    "/parameters/kind",
    "/parameters/level",
    "/parameters/formats/0",
    "/parameters/tenant_id",
    "/schedule/type",
    "/generation_date",
    "/recipients/0",
    "/parameters/hide_zero_usage",
];

const UPDATE_FIELDS: &[&str] =
    &["/parameters/kind", "/parameters/level", "/schedule/enabled", "/recipients/0", "/recipients"];

fn breakage(fields: &'static [&'static str], unknown_keys: &'static [&'static str]) -> impl Strategy<Value = Breakage> {
    prop_oneof![
        4 => (select(fields), form()).prop_map(|(pointer, form)| Breakage { pointer, form }),
        1 => select(unknown_keys).prop_map(|pointer| Breakage { pointer, form: Form::UnknownKey }),
    ]
}

/// A create for `tenant`: valid most of the time, at the date boundaries around `today`.
fn create(tenant: Id, today: Date, recipient: Id) -> impl Strategy<Value = Value> {
    let day = move |offset: i64| today + Duration::days(offset);
    let period = prop_oneof![
        6 => Just(None),
        2 => Just(Some((-40i64, -10i64))),
        1 => Just(Some((-3, 0))),
        1 => Just(Some((0, 0))),
        1 => Just(Some((-3, 1))),
        1 => Just(Some((-2, -9))),
        1 => Just(Some((-1, -1))),
    ];
    let generation = prop_oneof![Just(None), Just(Some(-3i64)), Just(Some(0)), Just(Some(1)), Just(Some(6))];
    (
        prop_oneof![8 => Just(true), 1 => Just(false)],
        strategies::result_action(),
        generation,
        strategies::schedule_type(),
        proptest::option::of(proptest::collection::vec(strategies::format(), 1..3)),
        period,
        (
            strategies::kind(),
            strategies::level(),
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
        ),
        proptest::option::of(any::<bool>()),
        proptest::option::weighted(0.15, breakage(CREATE_FIELDS, &["/version", "/id", "/status"])),
    )
        .prop_map(
            move |(
                consistent,
                result_action,
                generation,
                schedule_type,
                formats,
                period,
                (kind, level, hide, skus),
                enabled,
                broken,
            )| {
                let wants_recipients = (result_action == ResultAction::Send) == consistent;
                let post = ReportPost {
                    recipients: if wants_recipients { vec![recipient] } else { Vec::new() },
                    result_action,
                    parameters: PostParameters {
                        tenant_id: tenant,
                        level,
                        kind,
                        formats,
                        period: period.map(|(start, end)| Period { start: day(start), end: day(end) }),
                        hide_zero_usage: hide,
                        show_skus: skus,
                    },
                    schedule: PostSchedule { schedule_type, enabled },
                    generation_date: generation.map(day),
                };
                let mut body = serde_json::to_value(&post).unwrap_or_default();
                if let Some(broken) = broken {
                    broken.apply(&mut body);
                }
                body
            },
        )
}

fn put() -> impl Strategy<Value = PutSpec> {
    let fixed = prop_oneof![
        Just(FixedPick::SameTenant),
        strategies::id().prop_map(FixedPick::OtherTenant),
        Just(FixedPick::SameFormats),
        proptest::collection::vec(strategies::format(), 1..3).prop_map(FixedPick::OtherFormats),
        Just(FixedPick::SamePeriod),
        Just(FixedPick::OtherPeriod),
        any::<bool>().prop_map(FixedPick::HideZeroUsage),
        any::<bool>().prop_map(FixedPick::ShowSkus),
    ];
    let recipients = prop_oneof![
        5 => Just(RecipientsPick::Keep),
        2 => Just(RecipientsPick::One),
        1 => Just(RecipientsPick::Two),
        1 => Just(RecipientsPick::Empty),
    ];
    (
        proptest::option::of(strategies::kind()),
        proptest::option::of(strategies::level()),
        recipients,
        proptest::option::weighted(0.3, any::<bool>()),
        proptest::option::weighted(0.3, fixed),
        proptest::option::weighted(0.12, breakage(UPDATE_FIELDS, &["/result_action", "/version", "/id"])),
    )
        .prop_map(|(kind, level, recipients, enabled, fixed, breakage)| PutSpec {
            kind,
            level,
            recipients,
            enabled,
            fixed,
            breakage,
        })
}

/// A schedule toggle alone.
fn toggle() -> impl Strategy<Value = PutSpec> {
    any::<bool>().prop_map(|enabled| PutSpec {
        kind: None,
        level: None,
        recipients: RecipientsPick::Keep,
        enabled: Some(enabled),
        fixed: None,
        breakage: None,
    })
}

fn version() -> impl Strategy<Value = VersionPick> {
    prop_oneof![
        4 => Just(VersionPick::Current),
        1 => Just(VersionPick::Stale),
        1 => Just(VersionPick::Ahead),
        1 => Just(VersionPick::Missing),
        1 => Just(VersionPick::NotANumber),
    ]
}

fn attempt() -> impl Strategy<Value = Attempt> {
    prop_oneof![
        Just(Attempt::Get),
        Just(Attempt::Put),
        Just(Attempt::Delete),
        Just(Attempt::Stored),
        Just(Attempt::Download),
        Just(Attempt::List),
    ]
}

/// Sequences of 1 to 12 operations; `foreign` adds the second client's attempts.
pub fn ops(tenant: Id, today: Date, recipient: Id, foreign: bool) -> impl Strategy<Value = Vec<Op>> {
    let slot = 0..SLOTS;
    let foreign_weight = if foreign { 1 } else { 0 };
    let op = prop_oneof![
        3 => (slot.clone(), create(tenant, today, recipient)).prop_map(|(slot, body)| Op::Create { slot, body }),
        5 => (slot.clone(), put()).prop_map(|(slot, put)| Op::Update { slot, put }),
        1 => (slot.clone(), toggle()).prop_map(|(slot, put)| Op::Update { slot, put }),
        1 => slot.clone().prop_map(|slot| Op::Get { slot }),
        1 => (slot.clone(), version()).prop_map(|(slot, version)| Op::Delete { slot, version }),
        1 => Just(Op::List),
        1 => slot.clone().prop_map(|slot| Op::Stored { slot }),
        foreign_weight => (slot, attempt()).prop_map(|(slot, attempt)| Op::Foreign { slot, attempt }),
    ];
    proptest::collection::vec(op, 1..13)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every breakage changes every body, whether the field is there or not, and the
    /// broken field is then where its pointer says.
    #[test]
    fn a_breakage_never_leaves_a_body_as_it_was() {
        let full_create = json!({"recipients": ["ca451758-b48a-45d9-9ae6-8f1059f67619"], "result_action": "send",
            "parameters": {"tenant_id": "ede9f834-70b3-476c-83d9-736f9f8c7dae", "kind": "usage_current",
                "level": "accounts", "formats": ["csv"], "hide_zero_usage": true},
            "schedule": {"type": "once"}, "generation_date": "2026-12-01"});
        let bodies =
            [full_create, json!({}), json!({"recipients": []}), json!({"parameters": {"kind": "usage_daily"}})];
        let forms = [Form::UpperCase, Form::Null, Form::Number, Form::EmptyString];
        for pointer in CREATE_FIELDS.iter().chain(UPDATE_FIELDS) {
            for form in forms {
                for body in &bodies {
                    let mut broken = body.clone();
                    Breakage { pointer, form }.apply(&mut broken);
                    assert_ne!(&broken, body, "{pointer} {form:?} left {body} as it was");
                    assert!(broken.pointer(pointer).is_some(), "{pointer} {form:?} on {body}: {broken}");
                }
            }
        }
    }
}
