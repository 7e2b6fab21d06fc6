//! Reports: the response object and the two request bodies.
//!
//! Responses are read leniently (extra properties, a missing `recipients`); request
//! bodies are strict (`deny_unknown_fields`, no `null` for absent values), because the
//! reference server must reject what `reportPost` and `reportPut` forbid (CRT-4, UPD-5).

use serde::{Deserialize, Serialize};
use time::Date;

use crate::date::day;
use crate::enums::{Format, Kind, Level, ResultAction, ScheduleType};
use crate::id::Id;

/// `report`: what POST, GET and PUT return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub id: Id,
    /// Increases on every successful write; any integer scheme (1, 2, 3 or timestamps).
    pub version: i64,
    pub result_action: ResultAction,
    #[serde(default)]
    pub recipients: Vec<Id>,
    pub parameters: ReportParameters,
    pub schedule: Schedule,
    #[serde(with = "day")]
    pub generation_date: Date,
}

/// `report.parameters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportParameters {
    pub tenant_id: Id,
    pub level: Level,
    pub formats: Vec<Format>,
    pub kind: Kind,
    pub period: Period,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_zero_usage: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_skus: Option<bool>,
}

/// `report.schedule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub enabled: bool,
    #[serde(rename = "type")]
    pub schedule_type: ScheduleType,
}

/// A report period, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    #[serde(with = "day")]
    pub start: Date,
    #[serde(with = "day")]
    pub end: Date,
}

/// `reportPost`: the body of `POST /reports`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportPost {
    /// Required by the schema, optional by the documentation: absent means `[]` (CRT-7).
    #[serde(default)]
    pub recipients: Vec<Id>,
    pub result_action: ResultAction,
    pub parameters: PostParameters,
    pub schedule: PostSchedule,
    #[serde(default, with = "day::option", skip_serializing_if = "Option::is_none")]
    pub generation_date: Option<Date>,
}

/// `reportPost.parameters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostParameters {
    pub tenant_id: Id,
    pub level: Level,
    pub kind: Kind,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub formats: Option<Vec<Format>>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub hide_zero_usage: Option<bool>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub show_skus: Option<bool>,
}

/// `reportPost.schedule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostSchedule {
    #[serde(rename = "type")]
    pub schedule_type: ScheduleType,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `reportPut`: the body of `PUT /reports/{id}`. Every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportPut {
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Vec<Id>>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub parameters: Option<PutParameters>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub schedule: Option<PutSchedule>,
}

/// `reportPut.parameters`. Only `kind` and `level` may change (UPD-2); the other
/// parameters are read so that a PUT repeating their current value is a no-op and one
/// changing them is rejected by rule, not by schema.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutParameters {
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<Id>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub formats: Option<Vec<Format>>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub hide_zero_usage: Option<bool>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub show_skus: Option<bool>,
}

/// `reportPut.schedule`: only the flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutSchedule {
    pub enabled: bool,
}

/// `{"items": [...]}` of report ids (`uuidList`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UuidList {
    pub items: Vec<Id>,
}

/// Reads a present value as `Some`: with `#[serde(default)]`, an absent field is `None`
/// while an explicit `null` is a type error, as the schemas (nothing `nullable`) say.
fn some<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}
