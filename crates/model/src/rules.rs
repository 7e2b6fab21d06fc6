//! The rule catalogue of `PROFILE.md`: every rule ID, its level and its one-line text.
//!
//! This is the only place the IDs are spelled. A test reads the repository's `spec/PROFILE.md`
//! and fails when the two disagree.

use std::fmt;
use std::str::FromStr;

/// Whether the published documentation states a rule or the profile chose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// Stated by the published documentation or schema.
    Documented,
    /// A choice the profile makes where the documents are silent.
    Profile,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Documented => "documented",
            Level::Profile => "profile",
        }
    }
}

macro_rules! rules {
    ($($variant:ident => $id:literal, $level:ident, $summary:literal;)*) => {
        /// A rule of `PROFILE.md`, named by its stable ID.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Rule { $($variant,)* }

        impl Rule {
            /// Every rule, in the order of `PROFILE.md`.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];

            /// The stable ID, e.g. `UPD-1`.
            pub fn id(self) -> &'static str {
                match self { $(Rule::$variant => $id,)* }
            }

            pub fn level(self) -> Level {
                match self { $(Rule::$variant => Level::$level,)* }
            }

            /// The rule in one line, for reports.
            pub fn summary(self) -> &'static str {
                match self { $(Rule::$variant => $summary,)* }
            }
        }
    };
}

rules! {
    Auth1 => "AUTH-1", Documented, "client credentials at POST /idp/token return 200 with access_token, token_type, id_token and an expiry";
    Auth2 => "AUTH-2", Documented, "a wrong secret or unknown client gets 401 with a tokenError body";
    Auth3 => "AUTH-3", Documented, "calls without a valid bearer token get 401 with an errorScheme body and change nothing";
    Auth4 => "AUTH-4", Documented, "GET /clients/{id} with the client's own token returns the client and its tenant";
    Crt1 => "CRT-1", Documented, "a valid create returns 200 and the report with a new id, an integer version and the submitted values";
    Crt2 => "CRT-2", Documented, "send needs non-empty recipients and save must not carry any: 400";
    Crt3 => "CRT-3", Documented, "a period that ends after today or starts after it ends: 400";
    Crt4 => "CRT-4", Documented, "a create body that breaks reportPost: 400";
    Crt5 => "CRT-5", Profile, "a create body that is not JSON gets 400; a media type other than application/json gets 415";
    Crt6 => "CRT-6", Profile, "creating a report for a tenant outside the caller's subtree: 403";
    Crt7 => "CRT-7", Profile, "omitted create fields get their defaults and the response carries every required field";
    Get1 => "GET-1", Documented, "GET /reports/{id} returns the report as the last successful write left it";
    Get2 => "GET-2", Documented, "an unknown report id: 404 with errorScheme";
    Get3 => "GET-3", Profile, "a malformed report id: 400 or 404, never 5xx";
    Lst1 => "LST-1", Documented, "GET /tenants/{id}/reports lists the tenant's report ids: created ones appear, deleted ones leave";
    Upd1 => "UPD-1", Documented, "only scheduled reports can be updated: 400 and nothing changes";
    Upd2 => "UPD-2", Documented, "only parameters.kind and parameters.level can change: 400 and nothing changes";
    Upd3 => "UPD-3", Documented, "recipients only on a send report: 400";
    Upd4 => "UPD-4", Documented, "schedule.enabled disables and enables a scheduled report, visible in GET";
    Upd5 => "UPD-5", Documented, "a PUT body that breaks reportPut: 400 and nothing changes";
    Upd6 => "UPD-6", Documented, "a successful PUT returns 200 and the whole updated report, equal to a following GET";
    Upd7 => "UPD-7", Profile, "a successful PUT increases version; a rejected one changes nothing";
    Upd8 => "UPD-8", Profile, "PUT on an unknown id: 404; wrong media type: 415; not JSON: 400";
    Upd9 => "UPD-9", Profile, "concurrent PUTs to one report are serialised: distinct versions, no lost or torn update";
    Del1 => "DEL-1", Documented, "DELETE with the current version returns 204; the report is gone from GET and the list";
    Del2 => "DEL-2", Documented, "DELETE without version: 400 and nothing is deleted";
    Del3 => "DEL-3", Profile, "DELETE with a stale version: 409 with code 1001 and nothing is deleted";
    Del4 => "DEL-4", Profile, "DELETE of an unknown id: 404";
    Sto1 => "STO-1", Documented, "GET /reports/{id}/stored returns items with report_format, created_at and status";
    Sto2 => "STO-2", Documented, "a generated save report yields one stored report per format, each reaching saved";
    Sto3 => "STO-3", Documented, "a saved stored report downloads as a file in its format, optionally gzip-encoded";
    Sto4 => "STO-4", Profile, "unknown report or stored id: 404; a report that has not run has no stored reports";
    Sec1 => "SEC-1", Profile, "a caller cannot read, list, update, delete or download another tenant's reports";
    Sec2 => "SEC-2", Profile, "error bodies never echo a bearer token or client secret";
    Err1 => "ERR-1", Documented, "every 4xx/5xx is application/json with an errorScheme body";
    Err2 => "ERR-2", Profile, "business-rule rejections use code 1027 naming the rule; schema rejections use code 400";
    Err3 => "ERR-3", Documented, "no request, however malformed, gets a 5xx";
    Sch1 => "SCH-1", Documented, "every 2xx JSON body validates against its openapi.json schema, read leniently";
    Sch2 => "SCH-2", Documented, "JSON responses are served as application/json";
    Sch3 => "SCH-3", Documented, "lower-case enum values, YYYY-MM-DD dates, integer versions, lower-case UUIDs";
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A string that is not a rule ID of `PROFILE.md`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a rule ID of PROFILE.md")]
pub struct UnknownRule(pub String);

impl FromStr for Rule {
    type Err = UnknownRule;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rule::ALL.iter().copied().find(|rule| rule.id() == s).ok_or_else(|| UnknownRule(s.to_owned()))
    }
}

impl serde::Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl<'de> serde::Deserialize<'de> for Rule {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        id.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalogue and `PROFILE.md` name the same rules at the same levels.
    #[test]
    fn catalogue_matches_profile() {
        let profile = include_str!("../PROFILE.md");
        let mut section_level = None;
        let mut seen = Vec::new();
        for line in profile.lines() {
            if line.starts_with("## ") {
                section_level = if line.contains("(profile") {
                    Some(Level::Profile)
                } else if line.contains("(documented") {
                    Some(Level::Documented)
                } else {
                    None
                };
            }
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let Some(rule) = cells.get(1).and_then(|id| id.parse::<Rule>().ok()) else { continue };
            let level = match cells.get(2).copied() {
                Some("documented") => Level::Documented,
                Some("profile") => Level::Profile,
                _ => section_level.unwrap_or(Level::Documented),
            };
            assert_eq!(rule.level(), level, "{rule} level differs from PROFILE.md");
            seen.push(rule);
        }
        assert_eq!(seen, Rule::ALL, "rule IDs differ from PROFILE.md");
    }

    #[test]
    fn ids_parse_back() {
        for rule in Rule::ALL {
            assert_eq!(rule.id().parse::<Rule>(), Ok(*rule));
        }
        assert!("UPD-99".parse::<Rule>().is_err());
    }
}
