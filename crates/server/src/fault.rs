//! Deliberate deviations, one rule each, to prove the harness catches every one (its
//! mutation score), and conformant variations, to prove it raises no false alarms.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use reportcheck_model::{Freedom, Rule};

macro_rules! faults {
    ($($variant:ident => $name:literal, $rule:ident, $what:literal;)*) => {
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
        }
    };
}

faults! {
    TokenWithoutIdToken => "token-without-id-token", Auth1, "the token response lacks id_token";
    WrongSecretIs400 => "wrong-secret-is-400", Auth2, "a wrong client secret gets 400 instead of 401";
    AnonymousAccess => "anonymous-access", Auth3, "requests without a token act as tenant A's client";
    ClientWithoutTenant => "client-without-tenant", Auth4, "GET /clients/{id} omits tenant_id";
    CreateDropsFlags => "create-drops-flags", Crt1, "a create does not echo hide_zero_usage and show_skus";
    SendWithoutRecipients => "send-without-recipients", Crt2, "a send report without recipients is created";
    FuturePeriod => "future-period", Crt3, "a period ending in the future is accepted";
    LaxCreateSchema => "lax-create-schema", Crt4, "unknown top-level keys of a create are ignored";
    CreateAnyMediaType => "create-any-media-type", Crt5, "a create in any media type is read as JSON";
    CreateForeignTenant => "create-foreign-tenant", Crt6, "reports can be created for any tenant";
    NoDefaultFormats => "no-default-formats", Crt7, "omitted formats default to [] instead of [\"csv\"]";
    StaleGet => "stale-get", Get1, "GET returns the report as it was created";
    UnknownIdIs400 => "unknown-id-is-400", Get2, "GET of an unknown report gets 400";
    MalformedIdIs500 => "malformed-id-is-500", Get3, "a malformed report id gets 500";
    ListOmitsMonthly => "list-omits-monthly", Lst1, "the tenant list leaves out monthly reports";
    UpdateAnyReport => "update-any-report", Upd1, "reports that are not scheduled can be updated";
    UpdateFormats => "update-formats", Upd2, "a PUT changes parameters.formats";
    RecipientsOnSave => "recipients-on-save", Upd3, "recipients can be set on a save report";
    IgnoreEnabled => "ignore-enabled", Upd4, "schedule.enabled is accepted but not applied";
    LaxUpdateSchema => "lax-update-schema", Upd5, "unknown top-level keys of a PUT are ignored";
    UpdateEchoesOld => "update-echoes-old", Upd6, "a PUT answers with the report as it was before";
    NoVersionBump => "no-version-bump", Upd7, "a successful PUT keeps the version";
    UpdateAnyMediaType => "update-any-media-type", Upd8, "a PUT in any media type is read as JSON";
    RacyUpdates => "racy-updates", Upd9, "concurrent PUTs read and write the report separately";
    DeleteKeeps => "delete-keeps", Del1, "DELETE answers 204 but keeps the report";
    DeleteWithoutVersion => "delete-without-version", Del2, "DELETE without version deletes";
    IgnoreStaleVersion => "ignore-stale-version", Del3, "DELETE with a stale version deletes";
    DeleteUnknownIs204 => "delete-unknown-is-204", Del4, "DELETE of an unknown report answers 204";
    StoredWithoutStatus => "stored-without-status", Sto1, "stored reports lack status";
    OneStoredReport => "one-stored-report", Sto2, "only the first format is stored";
    CorruptDownload => "corrupt-download", Sto3, "downloads are not in their format";
    UnknownStoredIs200 => "unknown-stored-is-200", Sto4, "a download of an unknown stored id answers 200";
    CrossTenantReads => "cross-tenant-reads", Sec1, "any caller can read any tenant's reports";
    EchoToken => "echo-token", Sec2, "404 bodies echo the caller's bearer token";
    PlainTextErrors => "plain-text-errors", Err1, "errors are text/plain";
    WrongBusinessCode => "wrong-business-code", Err2, "business-rule rejections use code 400 instead of 1027";
    BadJsonIs500 => "bad-json-is-500", Err3, "a body that is not JSON gets 500";
    NoGenerationDate => "no-generation-date", Sch1, "reports lack generation_date";
    JsonAsText => "json-as-text", Sch2, "JSON bodies are served as text/plain";
    VersionAsString => "version-as-string", Sch3, "version is written as a string";
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
            Freedom::TokenErrorString => "refused client credentials answer error \"unauthorized_client\"",
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
