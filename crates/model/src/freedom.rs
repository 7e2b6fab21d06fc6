//! What PROFILE.md leaves free, as data: one table, one entry per freedom, each saying
//! where it applies and how a check compares a value the server was free to choose.
//!
//! Every reader takes its knowledge of freedoms from here: the decider marks predicted
//! fields free with these entries, the harness's matchers compare by them, `record`
//! writes them as matchers, and `drift` never reports them. The reference server has a
//! variation for every entry (a test there fails when one is missing).

use std::fmt;
use std::str::FromStr;

use serde_json::Value;
use time::Date;

use crate::date::parse_day;
use crate::id::Id;

/// How a check compares a value the server chose freely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// Absent, or present with this value.
    AbsentOr(bool),
    /// A `YYYY-MM-DD` date after the server's today.
    DateAfterToday,
    /// An integer greater than the one before (any integer where there is none).
    IncreasingInteger,
    /// A lower-case UUID.
    LowerCaseUuid,
    /// At least one of these keys, each an integer.
    AtLeastOneIntegerOf(&'static [&'static str]),
    /// This text in any letter case.
    AnyCase(&'static str),
    /// Any string.
    AnyString,
    /// Any value, `null` included.
    AnyValue,
    /// An error code written as an integer or a string of digits: equal by number.
    CodeAsStringOrInteger,
    /// One of these HTTP statuses.
    StatusOneOf(&'static [u16]),
    /// Any 4xx status.
    AnyClientError,
    /// Compared by its essence (`type/subtype`), parameters ignored.
    MediaTypeEssence,
    /// Any media type: the bytes decide (STO-3).
    AnyMediaType,
    /// A list compared as a set: order is free.
    AnyOrder,
    /// Compared as a subset: more members or properties are free.
    Superset,
    /// RFC 3339 timestamps compared as instants (`Z` is `+00:00`).
    SameInstant,
    /// Never compared (whitespace, key order, timing, what existed before the run).
    NotCompared,
}

macro_rules! freedoms {
    ($($variant:ident => $id:literal, $comparison:expr, $text:literal;)*) => {
        /// One thing a conformant server may do differently (PROFILE.md, last section).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Freedom { $($variant,)* }

        impl Freedom {
            /// The whole table, in the order of PROFILE.md.
            pub const ALL: &'static [Freedom] = &[$(Freedom::$variant,)*];

            /// A stable name, used as `{"$free": "<id>"}` in contracts.
            pub fn id(self) -> &'static str {
                match self { $(Freedom::$variant => $id,)* }
            }

            /// How a value chosen under this freedom is compared.
            pub fn comparison(self) -> Comparison {
                match self { $(Freedom::$variant => $comparison,)* }
            }

            /// What PROFILE.md allows, in one line.
            pub fn text(self) -> &'static str {
                match self { $(Freedom::$variant => $text,)* }
            }
        }
    };
}

freedoms! {
    ReportId => "report-id", Comparison::LowerCaseUuid,
        "ids are any UUID version, written in lower case";
    Version => "version", Comparison::IncreasingInteger,
        "version numbering is free as long as it increases (1, 2, 3 or millisecond timestamps)";
    ErrorCodeType => "error-code-type", Comparison::CodeAsStringOrInteger,
        "error.code as a string or an integer (\"1027\" and 1027 are the same code)";
    ErrorMessage => "error-message", Comparison::AnyString,
        "error message texts";
    ErrorDomain => "error-domain", Comparison::AnyValue,
        "error domain values";
    ErrorDetails => "error-details", Comparison::AnyValue,
        "what error.details holds beyond the rule";
    KeyOrder => "key-order", Comparison::NotCompared,
        "key order and whitespace";
    ExtraProperties => "extra-properties", Comparison::Superset,
        "extra response properties";
    ExtraHeaders => "extra-headers", Comparison::NotCompared,
        "extra response headers";
    TimestampOffset => "timestamp-offset", Comparison::SameInstant,
        "RFC 3339 offsets written as Z or +00:00";
    PreexistingReports => "preexisting-reports", Comparison::NotCompared,
        "reports that already existed before the run (the tenant list is not empty at start)";
    ChildTenantReports => "child-tenant-reports", Comparison::Superset,
        "whether a tenant's list also holds its child tenants' reports";
    SaveDelay => "save-delay", Comparison::NotCompared,
        "how long stored reports take to reach saved (within the run's polling timeout)";
    UnsavedDownload => "unsaved-download", Comparison::AnyClientError,
        "what a download of a stored report that is not saved yet answers (any 4xx)";
    ForeignReport => "foreign-report", Comparison::StatusOneOf(&[403, 404]),
        "another tenant's report answers 403 or 404 (SEC-1)";
    OptionalFlags => "optional-flags", Comparison::AbsentOr(false),
        "hide_zero_usage and show_skus left out of a create come back absent or false, the same way every time";
    MonthlyGenerationDate => "monthly-generation-date", Comparison::DateAfterToday,
        "the generation_date of a monthly report whose create omitted it is any date after today";
    TokenExpiry => "token-expiry", Comparison::AtLeastOneIntegerOf(&["expires_in", "expires_on"]),
        "the token response's expiry field: expires_in, expires_on or both";
    TokenTypeCase => "token-type-case", Comparison::AnyCase("bearer"),
        "the letter case of token_type";
    TokenErrorString => "token-error-string", Comparison::AnyString,
        "the error string of a token error";
    MalformedId => "malformed-id", Comparison::StatusOneOf(&[400, 404]),
        "a malformed report id answers 400 or 404, on GET, PUT, DELETE and the stored-report paths";
    MediaTypeParameters => "media-type-parameters", Comparison::MediaTypeEssence,
        "media type parameters (application/json; charset=utf-8)";
    DownloadMediaType => "download-media-type", Comparison::AnyMediaType,
        "the media type of a stored-report download, as long as the bytes are the file in its format";
    ListOrder => "list-order", Comparison::AnyOrder,
        "the order of ids in a tenant's list";
    ListExtraMembers => "list-extra-members", Comparison::Superset,
        "extra members of the list object";
}

/// What a comparison needs to know besides the two values.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context {
    /// The server's today (for [`Comparison::DateAfterToday`]).
    pub today: Option<Date>,
    /// The value before this write (for [`Comparison::IncreasingInteger`]).
    pub previous: Option<i64>,
}

impl Freedom {
    /// Whether `actual` (absent when `None`) is a value a conformant server may send
    /// under this freedom. `expected` is what the model would send where that matters
    /// (the code for [`Comparison::CodeAsStringOrInteger`]).
    pub fn admits(self, expected: Option<&Value>, actual: Option<&Value>, context: Context) -> bool {
        match (self.comparison(), actual) {
            (Comparison::AbsentOr(_), None) => true,
            (Comparison::AbsentOr(default), Some(value)) => value.as_bool() == Some(default),
            (Comparison::NotCompared, _) => true,
            (_, None) => false,
            (Comparison::DateAfterToday, Some(value)) => value
                .as_str()
                .and_then(|text| parse_day(text).ok())
                .is_some_and(|day| context.today.is_none_or(|today| day > today)),
            (Comparison::IncreasingInteger, Some(value)) => {
                value.as_i64().is_some_and(|version| context.previous.is_none_or(|previous| version > previous))
            }
            (Comparison::LowerCaseUuid, Some(value)) => value.as_str().is_some_and(|text| text.parse::<Id>().is_ok()),
            (Comparison::AtLeastOneIntegerOf(keys), Some(value)) => {
                keys.iter().any(|key| value.get(key).is_some_and(Value::is_i64))
                    && keys.iter().all(|key| value.get(key).is_none_or(Value::is_i64))
            }
            (Comparison::AnyCase(text), Some(value)) => {
                value.as_str().is_some_and(|seen| seen.eq_ignore_ascii_case(text))
            }
            (Comparison::AnyString, Some(value)) => value.is_string(),
            (Comparison::AnyValue, Some(_)) => true,
            (Comparison::CodeAsStringOrInteger, Some(value)) => {
                let number =
                    |value: &Value| value.as_i64().or_else(|| value.as_str().and_then(|text| text.trim().parse().ok()));
                number(value).is_some_and(|code| expected.is_none_or(|expected| number(expected) == Some(code)))
            }
            (Comparison::StatusOneOf(statuses), Some(value)) => {
                value.as_u64().is_some_and(|status| statuses.iter().any(|allowed| u64::from(*allowed) == status))
            }
            (Comparison::AnyClientError, Some(value)) => {
                value.as_u64().is_some_and(|status| (400..500).contains(&status))
            }
            (Comparison::MediaTypeEssence, Some(value)) => match (expected.and_then(Value::as_str), value.as_str()) {
                (Some(expected), Some(seen)) => essence(expected).eq_ignore_ascii_case(essence(seen)),
                (None, seen) => seen.is_some(),
                _ => false,
            },
            (Comparison::AnyMediaType, Some(value)) => value.is_string(),
            (Comparison::AnyOrder, Some(value)) => match (expected.and_then(Value::as_array), value.as_array()) {
                (Some(expected), Some(seen)) => {
                    expected.len() == seen.len() && expected.iter().all(|item| seen.contains(item))
                }
                (None, seen) => seen.is_some(),
                _ => false,
            },
            (Comparison::Superset, Some(value)) => match (expected, value) {
                (Some(Value::Array(expected)), Value::Array(seen)) => expected.iter().all(|item| seen.contains(item)),
                (Some(Value::Object(expected)), Value::Object(seen)) => {
                    expected.iter().all(|(key, item)| seen.get(key) == Some(item))
                }
                (None, _) => true,
                _ => false,
            },
            (Comparison::SameInstant, Some(value)) => match (expected.and_then(Value::as_str), value.as_str()) {
                (Some(expected), Some(seen)) => {
                    match (expected.parse::<crate::Timestamp>(), seen.parse::<crate::Timestamp>()) {
                        (Ok(a), Ok(b)) => a == b,
                        _ => false,
                    }
                }
                (None, Some(seen)) => seen.parse::<crate::Timestamp>().is_ok(),
                _ => false,
            },
        }
    }

    /// The statuses a conformant server may answer instead of `reference`, the model's
    /// own choice, under this freedom.
    pub fn admits_status(self, reference: u16, status: u16) -> bool {
        status == reference || self.admits(None, Some(&Value::from(status)), Context::default())
    }
}

fn essence(media_type: &str) -> &str {
    media_type.split(';').next().unwrap_or_default().trim()
}

impl fmt::Display for Freedom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A string that is not a freedom of the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a freedom of PROFILE.md")]
pub struct UnknownFreedom(pub String);

impl FromStr for Freedom {
    type Err = UnknownFreedom;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Freedom::ALL.iter().copied().find(|freedom| freedom.id() == s).ok_or_else(|| UnknownFreedom(s.to_owned()))
    }
}

impl serde::Serialize for Freedom {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl<'de> serde::Deserialize<'de> for Freedom {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        id.parse().map_err(serde::de::Error::custom)
    }
}

/// Where in an answer of the API a freedom applies regardless of the request: a field of
/// a schema by JSON pointer (`*` for any array index). Freedoms that depend on the
/// request (a defaulted flag, a monthly report's defaulted date) come from the decider's
/// predictions instead.
pub const FIELDS: &[(&str, &str, Freedom)] = &[
    ("report", "/id", Freedom::ReportId),
    ("report", "/version", Freedom::Version),
    ("errorScheme", "/error/code", Freedom::ErrorCodeType),
    ("errorScheme", "/error/message", Freedom::ErrorMessage),
    ("errorScheme", "/error/domain", Freedom::ErrorDomain),
    ("errorScheme", "/error/details", Freedom::ErrorDetails),
    ("errorScheme", "/error/context", Freedom::ExtraProperties),
    ("token", "/expires_in", Freedom::TokenExpiry),
    ("token", "/expires_on", Freedom::TokenExpiry),
    ("token", "/token_type", Freedom::TokenTypeCase),
    ("tokenError", "/error", Freedom::TokenErrorString),
    ("tokenError", "/error_description", Freedom::ErrorMessage),
    ("storedReportParams", "/items/*/id", Freedom::ReportId),
    ("storedReportParams", "/items/*/created_at", Freedom::TimestampOffset),
    ("uuidList", "/items", Freedom::ListOrder),
    ("client", "/created_at", Freedom::TimestampOffset),
];

/// A JSON pointer with its array indices as `*`, as [`FIELDS`] writes them.
pub fn pattern(pointer: &str) -> String {
    pointer
        .split('/')
        .map(|segment| if segment.parse::<usize>().is_ok() { "*" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

/// The freedom that applies to `pointer` of a `schema` answer whatever the request was.
pub fn field_freedom(schema: &str, pointer: &str) -> Option<Freedom> {
    let normalized = pattern(pointer);
    FIELDS.iter().find(|(in_schema, at, _)| *in_schema == schema && *at == normalized).map(|(_, _, freedom)| *freedom)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ids_parse_back() {
        for freedom in Freedom::ALL {
            assert_eq!(freedom.id().parse::<Freedom>(), Ok(*freedom));
        }
    }

    #[test]
    fn comparisons() {
        let today = Some(time::macros::date!(2026 - 11 - 26));
        let context = Context { today, previous: Some(5) };
        let cases = [
            (Freedom::OptionalFlags, None, None, true),
            (Freedom::OptionalFlags, None, Some(json!(false)), true),
            (Freedom::OptionalFlags, None, Some(json!(true)), false),
            (Freedom::MonthlyGenerationDate, None, Some(json!("2026-11-27")), true),
            (Freedom::MonthlyGenerationDate, None, Some(json!("2026-11-26")), false),
            (Freedom::Version, None, Some(json!(6)), true),
            (Freedom::Version, None, Some(json!(5)), false),
            (Freedom::Version, None, Some(json!("6")), false),
            (Freedom::ErrorCodeType, Some(json!(1027)), Some(json!("1027")), true),
            (Freedom::ErrorCodeType, Some(json!(1027)), Some(json!(400)), false),
            (Freedom::TokenExpiry, None, Some(json!({"expires_on": 1})), true),
            (Freedom::TokenExpiry, None, Some(json!({"expires_in": "1"})), false),
            (Freedom::TokenExpiry, None, Some(json!({})), false),
            (Freedom::TokenTypeCase, None, Some(json!("Bearer")), true),
            (Freedom::MalformedId, None, Some(json!(404)), true),
            (Freedom::MalformedId, None, Some(json!(500)), false),
            (
                Freedom::MediaTypeParameters,
                Some(json!("application/json")),
                Some(json!("application/json; charset=utf-8")),
                true,
            ),
            (Freedom::ListOrder, Some(json!(["a", "b"])), Some(json!(["b", "a"])), true),
            (Freedom::ListOrder, Some(json!(["a", "b"])), Some(json!(["b"])), false),
            (
                Freedom::TimestampOffset,
                Some(json!("2026-01-01T00:00:00+00:00")),
                Some(json!("2026-01-01T00:00:00Z")),
                true,
            ),
        ];
        for (freedom, expected, actual, admitted) in cases {
            assert_eq!(freedom.admits(expected.as_ref(), actual.as_ref(), context), admitted, "{freedom} {actual:?}");
        }
    }

    #[test]
    fn fields_are_found_with_indices() {
        assert_eq!(field_freedom("storedReportParams", "/items/3/id"), Some(Freedom::ReportId));
        assert_eq!(field_freedom("report", "/parameters/kind"), None);
    }
}
