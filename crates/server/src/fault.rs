//! Deliberate deviations, one rule each, to prove the harness catches every one (its
//! mutation score), and conformant variations, to prove it raises no false alarms.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use reportcheck_model::Rule;

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

/// Conformant choices other than the reference server's: what PROFILE.md says a server
/// may do differently. The harness must pass a server with all of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Variations {
    /// Extra properties in every JSON body.
    pub extra_properties: bool,
    /// `error.code` as a string (`"1027"`).
    pub string_error_codes: bool,
    /// Other error messages, no `details.rule`, `domain: null`.
    pub other_messages: bool,
    /// Timestamps written with `Z`.
    pub zulu_timestamps: bool,
    /// 403 instead of 404 for another tenant's report.
    pub forbid_foreign: bool,
}

impl Variations {
    /// Every variation at once.
    pub fn all() -> Variations {
        Variations {
            extra_properties: true,
            string_error_codes: true,
            other_messages: true,
            zulu_timestamps: true,
            forbid_foreign: true,
        }
    }

    pub fn any(&self) -> bool {
        *self != Variations::default()
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
}
