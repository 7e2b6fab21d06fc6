//! proptest generators of valid values, for property tests here and in the harness.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use time::{Date, Duration};

use crate::date::Timestamp;
use crate::enums::{Format, Kind, Level, ResultAction, ScheduleType, StoredStatus};
use crate::error_body::{ErrorBody, ErrorCode};
use crate::id::Id;
use crate::report::*;
use crate::stored::{StoredReport, StoredReportList};

pub fn id() -> impl Strategy<Value = Id> {
    any::<u128>().prop_map(|bits| Id::from_uuid(uuid::Uuid::from_u128(bits)))
}

/// A date within a few years of 2020 (whole days).
pub fn date() -> impl Strategy<Value = Date> {
    (0i64..3650).prop_map(|offset| epoch() + Duration::days(offset))
}

/// A date within `days` of `around`, either side.
pub fn date_near(around: Date, days: i64) -> impl Strategy<Value = Date> {
    (-days..=days).prop_map(move |offset| around + Duration::days(offset))
}

fn epoch() -> Date {
    Date::from_ordinal_date(2015, 1).unwrap_or(Date::MIN)
}

pub fn period() -> impl Strategy<Value = Period> {
    (date(), 0i64..62).prop_map(|(start, length)| Period { start, end: start + Duration::days(length) })
}

pub fn kind() -> impl Strategy<Value = Kind> {
    select(Kind::ALL)
}

pub fn level() -> impl Strategy<Value = Level> {
    select(Level::ALL)
}

pub fn format() -> impl Strategy<Value = Format> {
    select(Format::ALL)
}

pub fn formats() -> impl Strategy<Value = Vec<Format>> {
    vec(format(), 1..4)
}

pub fn schedule_type() -> impl Strategy<Value = ScheduleType> {
    select(ScheduleType::ALL)
}

pub fn result_action() -> impl Strategy<Value = ResultAction> {
    select(ResultAction::ALL)
}

pub fn recipients() -> impl Strategy<Value = Vec<Id>> {
    vec(id(), 0..3)
}

pub fn report_parameters() -> impl Strategy<Value = ReportParameters> {
    (id(), level(), formats(), kind(), period(), option::of(any::<bool>()), option::of(any::<bool>())).prop_map(
        |(tenant_id, level, formats, kind, period, hide_zero_usage, show_skus)| ReportParameters {
            tenant_id,
            level,
            formats,
            kind,
            period,
            hide_zero_usage,
            show_skus,
        },
    )
}

/// Any well-formed report a server may return.
pub fn report() -> impl Strategy<Value = Report> {
    (
        id(),
        1i64..i64::from(u32::MAX),
        result_action(),
        recipients(),
        report_parameters(),
        any::<bool>(),
        schedule_type(),
        date(),
    )
        .prop_map(
            |(id, version, result_action, recipients, parameters, enabled, schedule_type, generation_date)| Report {
                id,
                version,
                result_action,
                recipients,
                parameters,
                schedule: Schedule { enabled, schedule_type },
                generation_date,
            },
        )
}

/// Any body `reportPost` allows (valid or not by the business rules).
pub fn report_post() -> impl Strategy<Value = ReportPost> {
    (
        recipients(),
        result_action(),
        (
            id(),
            level(),
            kind(),
            option::of(formats()),
            option::of(period()),
            option::of(any::<bool>()),
            option::of(any::<bool>()),
        ),
        (schedule_type(), option::of(any::<bool>())),
        option::of(date()),
    )
        .prop_map(|(recipients, result_action, parameters, schedule, generation_date)| {
            let (tenant_id, level, kind, formats, period, hide_zero_usage, show_skus) = parameters;
            ReportPost {
                recipients,
                result_action,
                parameters: PostParameters { tenant_id, level, kind, formats, period, hide_zero_usage, show_skus },
                schedule: PostSchedule { schedule_type: schedule.0, enabled: schedule.1 },
                generation_date,
            }
        })
}

/// Any body `reportPut` allows, drawing unchangeable parameters either from `current`
/// (a no-op) or fresh (a change), so both sides of UPD-2 come up often.
pub fn report_put_for(current: &ReportParameters) -> impl Strategy<Value = ReportPut> + use<> {
    let current = current.clone();
    let same_or_other = |same: bool| option::of(Just(same));
    (
        option::of(recipients()),
        option::of((
            option::of(kind()),
            option::of(level()),
            same_or_other(true).prop_flat_map({
                let tenant = current.tenant_id;
                move |choice| match choice {
                    None => Just(None).boxed(),
                    Some(_) => prop_oneof![Just(Some(tenant)), id().prop_map(Some)].boxed(),
                }
            }),
            option::of(prop_oneof![Just(current.formats.clone()), formats()]),
            option::of(prop_oneof![Just(current.period), period()]),
            option::of(any::<bool>()),
            option::of(any::<bool>()),
        )),
        option::of(any::<bool>()),
    )
        .prop_map(|(recipients, parameters, enabled)| ReportPut {
            recipients,
            parameters: parameters.map(|(kind, level, tenant_id, formats, period, hide_zero_usage, show_skus)| {
                PutParameters { kind, level, tenant_id, formats, period, hide_zero_usage, show_skus }
            }),
            schedule: enabled.map(|enabled| PutSchedule { enabled }),
        })
}

pub fn timestamp() -> impl Strategy<Value = Timestamp> {
    (0i64..400_000_000, 0u32..1_000_000_000, -12i8..=12, select(&[0i8, 30][..])).prop_map(
        |(seconds, nanos, hours, minutes)| {
            let offset = time::UtcOffset::from_hms(hours, if hours < 0 { -minutes } else { minutes }, 0)
                .unwrap_or(time::UtcOffset::UTC);
            let instant = time::OffsetDateTime::from_unix_timestamp(1_400_000_000 + seconds)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
                .replace_nanosecond(nanos)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            Timestamp::from(instant.to_offset(offset))
        },
    )
}

pub fn stored_report_list() -> impl Strategy<Value = StoredReportList> {
    vec(
        (option::of(id()), format(), option::of(0i64..1 << 40), timestamp(), select(StoredStatus::ALL)).prop_map(
            |(id, report_format, size, created_at, status)| StoredReport {
                id,
                report_format,
                size,
                created_at,
                status,
            },
        ),
        0..4,
    )
    .prop_map(|items| StoredReportList { items })
}

pub fn error_body() -> impl Strategy<Value = ErrorBody> {
    (prop_oneof![any::<i64>().prop_map(ErrorCode::Number), "[a-z0-9_]{1,12}".prop_map(ErrorCode::Text)], ".{0,40}")
        .prop_map(|(code, message)| ErrorBody::new(code, message))
}
