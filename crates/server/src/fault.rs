//! Deliberate deviations, one rule each, to prove the harness catches every one (its
//! mutation score), and conformant variations, to prove it raises no false alarms.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use reportcheck_model::{Freedom, Rule};

macro_rules! faults {
    ($($variant:ident => $name:literal, $rule:ident, $class:ident, $what:literal;)*) => {
        /// One deliberate deviation from PROFILE.md.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Fault { $($variant,)* }

        impl Fault {
            pub const ALL: &'static [Fault] = &[$(Fault::$variant,)*];

            /// The name for `--fault NAME`.
            pub fn name(self) -> &'static str {
                match self { $(Fault::$variant => $name,)* }
            }

            /// The rule it breaks.
            pub fn rule(self) -> Rule {
                match self { $(Fault::$variant => Rule::$rule,)* }
            }

            /// What the server does wrong.
            pub fn description(self) -> &'static str {
                match self { $(Fault::$variant => $what,)* }
            }

            /// When it shows: always, or only under its condition.
            pub fn class(self) -> FaultClass {
                match self { $(Fault::$variant => FaultClass::$class,)* }
            }
        }
    };
}

faults! {
    TokenWithoutIdToken => "token-without-id-token", Auth1, Blatant, "the token response lacks id_token";
    WrongSecretIs400 => "wrong-secret-is-400", Auth2, Blatant, "a wrong client secret gets 400 instead of 401";
    AnonymousAccess => "anonymous-access", Auth3, Blatant, "requests without a token act as tenant A's client";
    ClientWithoutTenant => "client-without-tenant", Auth4, Blatant, "GET /clients/{id} omits tenant_id";
    CreateDropsFlags => "create-drops-flags", Crt1, Blatant, "a create does not echo hide_zero_usage and show_skus";
    SendWithoutRecipients => "send-without-recipients", Crt2, Blatant, "a send report without recipients is created";
    FuturePeriod => "future-period", Crt3, Blatant, "a period ending in the future is accepted";
    LaxCreateSchema => "lax-create-schema", Crt4, Blatant, "unknown top-level keys of a create are ignored";
    CreateAnyMediaType => "create-any-media-type", Crt5, Blatant, "a create in any media type is read as JSON";
    CreateForeignTenant => "create-foreign-tenant", Crt6, Blatant, "reports can be created for any tenant";
    NoDefaultFormats => "no-default-formats", Crt7, Blatant, "omitted formats default to [] instead of [\"csv\"]";
    StaleGet => "stale-get", Get1, Blatant, "GET returns the report as it was created";
    UnknownIdIs400 => "unknown-id-is-400", Get2, Blatant, "GET of an unknown report gets 400";
    MalformedIdIs500 => "malformed-id-is-500", Get3, Blatant, "a malformed report id gets 500";
    ListOmitsMonthly => "list-omits-monthly", Lst1, Blatant, "the tenant list leaves out monthly reports";
    UpdateAnyReport => "update-any-report", Upd1, Blatant, "reports that are not scheduled can be updated";
    UpdateFormats => "update-formats", Upd2, Blatant, "a PUT changes parameters.formats";
    RecipientsOnSave => "recipients-on-save", Upd3, Blatant, "recipients can be set on a save report";
    IgnoreEnabled => "ignore-enabled", Upd4, Blatant, "schedule.enabled is accepted but not applied";
    LaxUpdateSchema => "lax-update-schema", Upd5, Blatant, "unknown top-level keys of a PUT are ignored";
    UpdateEchoesOld => "update-echoes-old", Upd6, Blatant, "a PUT answers with the report as it was before";
    NoVersionBump => "no-version-bump", Upd7, Blatant, "a successful PUT keeps the version";
    UpdateAnyMediaType => "update-any-media-type", Upd8, Blatant, "a PUT in any media type is read as JSON";
    RacyUpdates => "racy-updates", Upd9, Blatant, "concurrent PUTs read and write the report separately";
    DeleteKeeps => "delete-keeps", Del1, Blatant, "DELETE answers 204 but keeps the report";
    DeleteWithoutVersion => "delete-without-version", Del2, Blatant, "DELETE without version deletes";
    IgnoreStaleVersion => "ignore-stale-version", Del3, Blatant, "DELETE with a stale version deletes";
    DeleteUnknownIs204 => "delete-unknown-is-204", Del4, Blatant, "DELETE of an unknown report answers 204";
    StoredWithoutStatus => "stored-without-status", Sto1, Blatant, "stored reports lack status";
    OneStoredReport => "one-stored-report", Sto2, Blatant, "only the first format is stored";
    CorruptDownload => "corrupt-download", Sto3, Blatant, "downloads are not in their format";
    UnknownStoredIs200 => "unknown-stored-is-200", Sto4, Blatant, "a download of an unknown stored id answers 200";
    CrossTenantReads => "cross-tenant-reads", Sec1, Blatant, "any caller can read any tenant's reports";
    EchoToken => "echo-token", Sec2, Blatant, "404 bodies echo the caller's bearer token";
    PlainTextErrors => "plain-text-errors", Err1, Blatant, "errors are text/plain";
    WrongBusinessCode => "wrong-business-code", Err2, Blatant, "business-rule rejections use code 400 instead of 1027";
    BadJsonIs500 => "bad-json-is-500", Err3, Blatant, "a body that is not JSON gets 500";
    NoGenerationDate => "no-generation-date", Sch1, Blatant, "reports lack generation_date";
    JsonAsText => "json-as-text", Sch2, Blatant, "JSON bodies are served as text/plain";
    VersionAsString => "version-as-string", Sch3, Blatant, "version is written as a string";
    // Conditional faults: each on only under its condition.
    PeriodEndOffByOne => "period-end-off-by-one", Crt3, Boundary, "a period ending tomorrow is accepted";
    StartAfterEndAccepted => "start-after-end-accepted", Crt3, Boundary, "a past period whose start is after its end is accepted";
    OnceTomorrowNotScheduled => "once-tomorrow-not-scheduled", Upd1, Boundary, "a once report generated tomorrow is refused as not scheduled";
    OnceTodayScheduled => "once-today-scheduled", Upd1, Boundary, "a once report generated today can still be updated";
    StaleByOneDeletes => "stale-by-one-deletes", Del3, Boundary, "DELETE with the version just before the current one deletes";
    VersionAheadDeletes => "version-ahead-deletes", Del3, Boundary, "DELETE with a version ahead of the current one deletes";
    MonthEndPeriodShifted => "month-end-period-shifted", Crt1, Boundary, "a period ending on a month's last day is stored ending on the next month's first";
    DefaultPeriodWrongOnLastDay => "default-period-wrong-on-last-day", Crt7, Boundary, "on a month's last day, an omitted period defaults to the current month";
    MonthlyDateTodayOnLastDay => "monthly-date-today-on-last-day", Crt7, Boundary, "on a month's last day, a monthly report created without generation_date runs today";
    DefaultPeriodWrongInJanuary => "default-period-wrong-in-january", Crt7, Boundary, "on the first of January, an omitted period defaults to December of the new year";
    UpperCaseKindAccepted => "upper-case-kind-accepted", Crt4, EveryValue, "an upper-case kind in a create is read as lower case";
    NullLevelAccepted => "null-level-accepted", Crt4, EveryValue, "a null level in a create defaults to accounts";
    AllPartnersEchoedWrong => "all-partners-echoed-wrong", Crt1, EveryValue, "a create with level all_partners answers all_customers";
    MonthlyDisabledIgnored => "monthly-disabled-ignored", Crt1, EveryValue, "a monthly report created disabled is stored enabled";
    UsageCurrentUpdateLost => "usage-current-update-lost", Upd6, EveryValue, "a PUT to kind usage_current keeps the old kind";
    UpperCaseLevelUpdateAccepted => "upper-case-level-update-accepted", Upd5, EveryValue, "an upper-case level in a PUT is read as lower case";
    SingletonParametersAccepted => "singleton-parameters-accepted", Crt4, EveryValue, "a create whose parameters is an array of one object is read as that object";
    StringifiedScheduleAccepted => "stringified-schedule-accepted", Upd5, EveryValue, "a PUT whose schedule is a JSON string is read as the object it holds";
    ThirdUpdateLost => "third-update-lost", Get1, Sequence, "the third successful PUT on a report is answered but not stored";
    ToggleResetsKind => "toggle-resets-kind", Upd6, Sequence, "a schedule toggle resets kind to the created one";
    ToggleKeepsVersion => "toggle-keeps-version", Upd7, Sequence, "a schedule toggle keeps the version";
    ListOmitsDisabled => "list-omits-disabled", Lst1, Sequence, "the tenant list leaves out disabled reports";
    ListStaleUntilCreate => "list-stale-until-create", Lst1, Quiet, "the tenant list is a copy refreshed only by the tenant's next create";
    RefusedPutAppliesKind => "refused-put-applies-kind", Upd2, Sequence, "a PUT refused for a fixed parameter still applies its kind and level";
    ShowSkusChangeAccepted => "show-skus-change-accepted", Upd2, FixedParameter, "a PUT changing show_skus alone is applied";
    HideZeroUsageChangeAccepted => "hide-zero-usage-change-accepted", Upd2, FixedParameter, "a PUT changing hide_zero_usage alone is applied";
    ForeignTenantIdMovesReport => "foreign-tenant-id-moves-report", Upd2, FixedParameter, "a PUT with another known tenant's id moves the report there";
    SameFormatsRefused => "same-formats-refused", Upd2, FixedParameter, "a PUT repeating the current formats is refused";
    SamePeriodRefused => "same-period-refused", Upd2, FixedParameter, "a PUT repeating the current period is refused";
    KindChangeClearsRecipients => "kind-change-clears-recipients", Upd6, Recipients, "a PUT changing kind empties the recipients";
    RecipientsUpdateIgnored => "recipients-update-ignored", Upd6, Recipients, "new recipients of a send report are accepted but not applied";
    RecipientsOnDisabledSave => "recipients-on-disabled-save", Upd3, Recipients, "recipients can be set on a disabled save report";
    ForeignDeleteWithVersion => "foreign-delete-with-version", Sec1, Isolation, "another tenant's DELETE with the right version deletes";
    ForeignStoredListLeaks => "foreign-stored-list-leaks", Sec1, Isolation, "another tenant can list a report's stored reports";
    ForeignListLeaks => "foreign-list-leaks", Sec1, Isolation, "another tenant can read a tenant's list";
    ForeignPutApplied => "foreign-put-applied", Sec1, Isolation, "another tenant's PUT is refused but applied";
    ForeignDownloadLeaks => "foreign-download-leaks", Sec1, Isolation, "another tenant can download a stored report";
    ChildCreateRefused => "child-create-refused", Crt6, Isolation, "a create for a tenant below the caller's is refused as foreign";
    ChildListRefused => "child-list-refused", Lst1, Isolation, "the list of a tenant below the caller's is refused as foreign";
    GzipBytesWithoutHeader => "gzip-bytes-without-header", Sto3, Download, "json_v1 files accepted as gzip are sent compressed without Content-Encoding";
    HtmlDownloadNotHtml => "html-download-not-html", Sto3, Download, "html files hold CSV";
    CsvV2WithoutHeader => "csv-v2-without-header", Sto3, Download, "csv_v2 files lack their header row";
    JsonV2NeverSaved => "json-v2-never-saved", Sto2, Download, "json_v2_0 stored reports never reach saved";
    DeepJson500 => "deep-json-500", Err3, Malformed, "JSON nested over a thousand levels gets 500";
    Bom500 => "bom-500", Err3, Malformed, "a body starting with a byte order mark gets 500";
    NonAscii500 => "non-ascii-500", Err3, Malformed, "a body with bytes beyond ASCII (text or not UTF-8) gets 500";
    HugeNumber500 => "huge-number-500", Err3, Malformed, "a number beyond 64 bits gets 500";
    BodyAtLimit500 => "body-at-limit-500", Err3, Malformed, "a body of exactly the size limit gets 500";
    RacyUnderHighOverlap => "racy-under-high-overlap", Upd9, Concurrency, "PUTs race once eight or more arrive within 100 ms";
    UnsignedJwtAccepted => "unsigned-jwt-accepted", Auth3, Credentials, "an unsigned JWT (alg none) naming a client is taken as that client's token";
    IdTokenAccepted => "id-token-accepted", Auth3, Credentials, "a client's id_token is taken as its access token";
}

/// When a fault shows: `Blatant` ones on every request they touch, the others only
/// under the condition their class names (the classes of hidden, conditional bugs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultClass {
    /// Always on.
    Blatant,
    /// At a boundary value: a date around today, a version one off.
    Boundary,
    /// For one enum value, or one invalid form of a value.
    EveryValue,
    /// After a sequence: the third write, a toggle after a change, a refusal between writes.
    Sequence,
    /// For one fixed parameter changed alone, or repeated with its value.
    FixedParameter,
    /// For recipients on send and save reports.
    Recipients,
    /// For one operation of another tenant's client.
    Isolation,
    /// For one file format or content coding of a download.
    Download,
    /// For one kind of malformed body.
    Malformed,
    /// Under enough concurrent requests.
    Concurrency,
    /// For one kind of forged credential.
    Credentials,
    /// Only while nothing else writes in the tenant (another writer hides it).
    Quiet,
}

impl FaultClass {
    pub const ALL: &'static [FaultClass] = &[
        FaultClass::Blatant,
        FaultClass::Boundary,
        FaultClass::EveryValue,
        FaultClass::Sequence,
        FaultClass::FixedParameter,
        FaultClass::Recipients,
        FaultClass::Isolation,
        FaultClass::Download,
        FaultClass::Malformed,
        FaultClass::Concurrency,
        FaultClass::Credentials,
        FaultClass::Quiet,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultClass::Blatant => "blatant",
            FaultClass::Boundary => "boundary",
            FaultClass::EveryValue => "every-value",
            FaultClass::Sequence => "sequence",
            FaultClass::FixedParameter => "fixed-parameter",
            FaultClass::Recipients => "recipients",
            FaultClass::Isolation => "isolation",
            FaultClass::Download => "download",
            FaultClass::Malformed => "malformed",
            FaultClass::Concurrency => "concurrency",
            FaultClass::Credentials => "credentials",
            FaultClass::Quiet => "quiet",
        }
    }
}

impl Fault {
    /// The server date on which the fault shows, for faults that show only on some days
    /// (a month's last day, New Year): the mutation test runs them on a server fixed
    /// there. `None` for faults that show any day.
    pub fn server_today(self) -> Option<reportcheck_model::Date> {
        match self {
            Fault::DefaultPeriodWrongOnLastDay | Fault::MonthlyDateTodayOnLastDay => {
                reportcheck_model::Date::from_calendar_date(2026, time::Month::December, 31).ok()
            }
            Fault::DefaultPeriodWrongInJanuary => {
                reportcheck_model::Date::from_calendar_date(2027, time::Month::January, 1).ok()
            }
            _ => None,
        }
    }
}

impl fmt::Display for FaultClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{name}` is not a fault; known faults: {known}", name = .0, known = Fault::ALL.iter().map(|f| f.name()).collect::<Vec<_>>().join(", "))]
pub struct UnknownFault(pub String);

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fault::ALL.iter().copied().find(|fault| fault.name() == s).ok_or_else(|| UnknownFault(s.to_owned()))
    }
}

/// The faults a server runs with (none for the reference behaviour).
pub type Faults = BTreeSet<Fault>;

/// Conformant choices other than the reference server's: one per freedom of PROFILE.md
/// (`Freedom::ALL`). The harness must pass a server with any set of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variations(BTreeSet<Freedom>);

impl Variations {
    /// Every variation at once.
    pub fn all() -> Variations {
        Variations(Freedom::ALL.iter().copied().collect())
    }

    /// Just the variation for `freedom`.
    pub fn only(freedom: Freedom) -> Variations {
        Variations::default().with(freedom)
    }

    /// These variations and the one for `freedom`.
    pub fn with(mut self, freedom: Freedom) -> Variations {
        self.0.insert(freedom);
        self
    }

    /// Whether the variation for `freedom` is on.
    pub fn has(&self, freedom: Freedom) -> bool {
        self.0.contains(&freedom)
    }

    /// Whether any variation is on.
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }

    /// The freedoms whose variation is on, in table order.
    pub fn iter(&self) -> impl Iterator<Item = Freedom> + '_ {
        self.0.iter().copied()
    }

    /// What the server does differently for `freedom`, in one line. Exhaustive on
    /// purpose: a freedom added to the model does not compile without its variation.
    pub fn description(freedom: Freedom) -> &'static str {
        match freedom {
            Freedom::ReportId => "new report ids are time-ordered version 7 UUIDs instead of version 4",
            Freedom::Version => "versions are Unix milliseconds instead of 1, 2, 3",
            Freedom::ErrorCodeType => "error.code is written as a string (\"1027\")",
            Freedom::ErrorMessage => "every error.message reads \"The request was rejected.\"",
            Freedom::ErrorDomain => "error.domain is null",
            Freedom::ErrorDetails => "error.details.info is null and details carries a trace id",
            Freedom::KeyOrder => "JSON bodies are pretty-printed with their keys in reverse order",
            Freedom::ExtraProperties => "JSON bodies, reports' parameters and errors carry extra properties",
            Freedom::ExtraHeaders => "every answer carries `server` and `x-request-id` headers",
            Freedom::TimestampOffset => "timestamps are written with `Z` instead of `+00:00`",
            Freedom::PreexistingReports => "a monthly report of tenant A and one of its child exist from the start",
            Freedom::ChildTenantReports => "a tenant's list also holds the reports of the tenants below it",
            Freedom::SaveDelay => "stored reports take about 900 ms to reach saved",
            Freedom::UnsavedDownload => "a download of a stored report still in progress answers 425",
            Freedom::ForeignReport => "another tenant's report answers 403 instead of 404",
            Freedom::OptionalFlags => "hide_zero_usage and show_skus left out of a create are stored as false",
            Freedom::MonthlyGenerationDate => {
                "a monthly report created without generation_date runs on the 15th of next month"
            }
            Freedom::TokenExpiry => "the token response has expires_on and no expires_in",
            Freedom::TokenTypeCase => "token_type is \"Bearer\"",
            Freedom::TokenErrorString => {
                "refused client credentials answer error \"invalid_client\" (outside the spec's enum, as servers in the field send it)"
            }
            Freedom::MalformedId => "a malformed report id answers 400 instead of 404",
            Freedom::MediaTypeParameters => "JSON answers are application/json; charset=utf-8",
            Freedom::DownloadMediaType => "downloads are application/octet-stream",
            Freedom::ListOrder => "a tenant's list holds the newest report first",
            Freedom::ListExtraMembers => "a tenant's list object also carries \"total\"",
        }
    }
}

impl FromIterator<Freedom> for Variations {
    fn from_iter<I: IntoIterator<Item = Freedom>>(iter: I) -> Self {
        Variations(iter.into_iter().collect())
    }
}

/// `all`, `none`, or freedom ids separated by commas (`--variations`).
impl FromStr for Variations {
    type Err = reportcheck_model::freedom::UnknownFreedom;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "all" => Ok(Variations::all()),
            "" | "none" => Ok(Variations::default()),
            list => list.split(',').map(|id| id.trim().parse::<Freedom>()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_a_fault_and_names_parse() {
        for rule in Rule::ALL {
            assert!(Fault::ALL.iter().any(|fault| fault.rule() == *rule), "no fault for {rule}");
        }
        for fault in Fault::ALL {
            assert_eq!(fault.name().parse::<Fault>(), Ok(*fault));
        }
        for class in FaultClass::ALL {
            assert!(Fault::ALL.iter().any(|fault| fault.class() == *class), "no fault of class {class}");
        }
        let conditional = Fault::ALL.iter().filter(|fault| fault.class() != FaultClass::Blatant).count();
        assert!(conditional >= 30, "{conditional} conditional faults");
    }

    #[test]
    fn variations_are_a_set_of_freedoms() {
        let all = Variations::all();
        assert!(Freedom::ALL.iter().all(|freedom| all.has(*freedom)));
        assert!(!Variations::default().any());
        let one = Variations::only(Freedom::Version);
        assert!(one.any() && one.has(Freedom::Version) && !one.has(Freedom::KeyOrder));
        assert!(one.clone().with(Freedom::KeyOrder).has(Freedom::KeyOrder));
        assert_eq!("all".parse::<Variations>(), Ok(all));
        assert_eq!("version, key-order".parse::<Variations>(), Ok(one.with(Freedom::KeyOrder)));
        assert!("nonsense".parse::<Variations>().is_err());
        for freedom in Freedom::ALL {
            assert!(!Variations::description(*freedom).is_empty());
        }
    }
}
