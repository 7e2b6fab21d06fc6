//! What a rule pins, and nothing else.
//!
//! A [`Claim`] is one statement of a rule about an answer: at this place, this is
//! expected. The decider states the claims of every branch it admits; a check compares
//! claims and nothing else, so whatever no claim covers is free by construction (PROFILE.md,
//! "What a rule pins, and only that"). The reference server's answer is one answer that
//! satisfies the claims; it is never the yardstick.
//!
//! Where the profile is silent and the project had to choose, the choice is a [`Reading`]:
//! the reference server takes it, no other server is held to it. Every reading is listed
//! in ARCHITECTURE.md, and a test keeps the two lists equal.

use std::fmt;

use serde_json::Value;

use crate::freedom::{Context, Freedom};
use crate::rules::Rule;

/// Where in an answer a claim holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Place {
    /// A JSON pointer into the body.
    Body(&'static str),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Body(pointer) => f.write_str(pointer),
        }
    }
}

/// What a rule requires at a place. Every variant is checkable from the answer, the
/// request and what the server answered before; none needs the reference server.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// This value (CRT-1 echo, CRT-7 default, UPD-6 new value).
    Equals(Value),
    /// The same distinct members in any order and multiplicity (a create that lists a
    /// format twice: the server may keep one per entry or one per distinct format).
    SameMembers(Vec<Value>),
    /// As the last answer about this report had it, absent included (GET-1; UPD-6
    /// "every other field unchanged"). Always an *observed* value, never a predicted one.
    AsBefore(Option<Value>),
    /// An integer above this one (UPD-7).
    Greater(i64),
    /// Chosen by the server within a freedom of PROFILE.md, compared by its comparison.
    Free(Freedom),
}

impl Expect {
    /// Whether `actual` (absent when `None`) meets the expectation.
    pub fn holds(&self, actual: Option<&Value>, context: Context) -> bool {
        match self {
            Expect::Equals(want) => actual == Some(want),
            Expect::SameMembers(want) => actual.and_then(Value::as_array).is_some_and(|seen| {
                !seen.is_empty()
                    && seen.iter().all(|item| want.contains(item))
                    && want.iter().all(|item| seen.contains(item))
            }),
            Expect::AsBefore(before) => actual == before.as_ref(),
            Expect::Greater(before) => actual.and_then(Value::as_i64).is_some_and(|version| version > *before),
            Expect::Free(freedom) => freedom.admits(None, actual, context),
        }
    }

    /// What the expectation asks, for a failure message.
    pub fn describe(&self) -> String {
        let show = |value: Option<&Value>| value.map_or_else(|| "absent".to_owned(), Value::to_string);
        match self {
            Expect::Equals(want) => want.to_string(),
            Expect::SameMembers(want) => format!("the members of {}", Value::Array(want.clone())),
            Expect::AsBefore(before) => format!("{} (as the last answer had it)", show(before.as_ref())),
            Expect::Greater(before) => format!("an integer above {before}"),
            Expect::Free(freedom) => format!("{} ({freedom})", freedom.text()),
        }
    }
}

/// Why a claim or a branch exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Basis {
    /// A rule of PROFILE.md states it.
    Stated,
    /// The project's reading where the profile is silent: the reference server takes it,
    /// and another branch admits what a server reading it otherwise does.
    Reading(Reading),
}

macro_rules! readings {
    ($($variant:ident => $id:literal, [$($rule:ident),*], $text:literal;)*) => {
        /// A choice of the project where PROFILE.md is silent (ARCHITECTURE.md, "Readings
        /// the decider takes"). A branch based on one is never required of other servers.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Reading { $($variant,)* }

        impl Reading {
            pub const ALL: &'static [Reading] = &[$(Reading::$variant,)*];

            /// A stable name, as ARCHITECTURE.md lists it.
            pub fn id(self) -> &'static str {
                match self { $(Reading::$variant => $id,)* }
            }

            /// What the reference server does, in one line.
            pub fn text(self) -> &'static str {
                match self { $(Reading::$variant => $text,)* }
            }

            /// The rules whose silence the reading fills.
            pub fn rules(self) -> &'static [Rule] {
                match self { $(Reading::$variant => &[$(Rule::$rule),*],)* }
            }
        }
    };
}

readings! {
    RecipientsEmptiedOnSend => "recipients-emptied-on-send", [Upd3],
        "a PUT with `recipients: []` on a `send` report is refused under UPD-3 (accepting it is as conformant)";
    EmptyRecipientsOnSave => "empty-recipients-on-save", [Upd3],
        "a PUT with `recipients: []` on a `save` report is accepted (refusing it under UPD-3 is as conformant)";
    FormatsOrderIsAChange => "formats-order-is-a-change", [Upd2],
        "a PUT whose `parameters.formats` reorders or repeats the current ones is refused under UPD-2 (a no-op is as conformant)";
    VersionAheadIsStale => "version-ahead-is-stale", [Del3],
        "a DELETE at a version ahead of the current one is refused with 409 and code 1001, as a stale one (any 4xx is as conformant)";
    UnsetFlagIsFalse => "unset-flag-is-false", [Upd2],
        "a PUT sending `false` for an unset optional flag is a no-op (refusing it under UPD-2 is as conformant)";
    DuplicateFormatsPerEntry => "duplicate-formats-per-entry", [Crt1, Sto2],
        "a create that lists a format twice is accepted with one stored report per entry (one per distinct format, or a 400, is as conformant)";
    CheckOrder => "check-order", [Err2],
        "a request that breaks several rules is refused under the first in the profile's order (any of them is as conformant)";
    MalformedVersionIs400 => "malformed-version-is-400", [Del2],
        "a DELETE whose `version` is not an integer is refused with 400 under DEL-2 (any 4xx is as conformant)";
    EnabledByDefault => "enabled-by-default", [Crt7],
        "a create that omits `schedule.enabled` makes an enabled report (no rule states a default)";
    MonthlyNextRun => "monthly-next-run", [Crt7],
        "a monthly report whose create omits `generation_date` is generated on the first of next month";
    MalformedIdIs404 => "malformed-id-is-404", [Get3],
        "a malformed path id answers 404, as the spec documents (400 is as conformant)";
    ForeignIs404 => "foreign-is-404", [Sec1],
        "another tenant's report answers 404, as if unknown (403 is as conformant)";
}

impl fmt::Display for Reading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One statement of a rule about an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub rule: Rule,
    pub place: Place,
    pub expect: Expect,
}

impl Claim {
    pub fn body(rule: Rule, pointer: &'static str, expect: Expect) -> Claim {
        Claim { rule, place: Place::Body(pointer), expect }
    }

    /// The claim against an answer body, `None` when it holds.
    pub fn broken_by(&self, body: &Value, context: Context) -> Option<Broken> {
        let Place::Body(pointer) = self.place;
        let found = body.pointer(pointer);
        (!self.expect.holds(found, context)).then(|| Broken { claim: self.clone(), found: found.cloned() })
    }
}

/// A claim an answer broke, with what it found.
#[derive(Debug, Clone, PartialEq)]
pub struct Broken {
    pub claim: Claim,
    pub found: Option<Value>,
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let found = self.found.as_ref().map_or_else(|| "absent".to_owned(), Value::to_string);
        write!(f, "{}: {} should be {}, found {found}", self.claim.rule, self.claim.place, self.claim.expect.describe())
    }
}

/// What AUTH-4 pins of the `client` object of `GET /clients/{id}`: its id and the
/// caller's tenant. Everything else it holds is free (timestamps such as `last_access_at`
/// change from call to call).
pub const CLIENT_CLAIMS: &[(Rule, &str)] = &[(Rule::Auth4, "/client_id"), (Rule::Auth4, "/tenant_id")];

/// The reviewed table of every (rule, place) a claim may pin, one per line:
/// `crates/model/claims.txt`. A test fails when the decider states a claim the table does
/// not hold, or the table holds a pair no claim states.
pub const REVIEWED: &str = include_str!("../claims.txt");

/// What a check of `rule` holds a server to, for a reader (`--explain`, the HTML report):
/// the rule's text, every place its claims pin (from the reviewed table, with why), and
/// the readings where the reference server chose and another outcome is as conformant.
pub fn explain(rule: Rule) -> String {
    let mut text = format!("{} ({}): {}\n", rule.id(), rule.level().as_str(), rule.summary());
    let pinned: Vec<String> = REVIEWED
        .lines()
        .filter(|line| line.split_whitespace().next() == Some(rule.id()))
        .map(|line| {
            let (pair, why) = line.split_once('#').unwrap_or((line, ""));
            let place = pair.split_whitespace().nth(1).unwrap_or_default();
            if why.trim().is_empty() { format!("  {place}") } else { format!("  {place:<28} {}", why.trim()) }
        })
        .collect();
    if pinned.is_empty() {
        text.push_str("Pins of an answer body: none (its checks compare statuses, codes and effects)\n");
    } else {
        text.push_str("Pins of an answer body (nothing else is compared):\n");
        for line in pinned {
            text.push_str(&line);
            text.push('\n');
        }
    }
    if let Some(code) = crate::rule_check::pinned_code(rule) {
        text.push_str(&format!("A refusal under it: error.code {code} (ERR-2/DEL-3), as a string or an integer\n"));
    }
    let readings: Vec<&Reading> = Reading::ALL.iter().filter(|reading| reading.rules().contains(&rule)).collect();
    if !readings.is_empty() {
        text.push_str("Readings (the reference server's choice; never required of another server):\n");
        for reading in readings {
            text.push_str(&format!("  {}: {}\n", reading.id(), reading.text()));
        }
    }
    text
}

/// The (rule, place) pairs of [`REVIEWED`], comments and blank lines skipped.
pub fn reviewed() -> Vec<(String, String)> {
    REVIEWED
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty())
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            Some((words.next()?.to_owned(), words.next()?.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn expectations_hold_only_for_what_they_state() {
        let context = Context::default();
        let cases = [
            (Expect::Equals(json!("a")), Some(json!("a")), true),
            (Expect::Equals(json!("a")), None, false),
            (Expect::SameMembers(vec![json!("csv"), json!("csv")]), Some(json!(["csv"])), true),
            (Expect::SameMembers(vec![json!("csv"), json!("csv")]), Some(json!(["csv", "csv"])), true),
            (Expect::SameMembers(vec![json!("csv")]), Some(json!(["csv", "html"])), false),
            (Expect::SameMembers(vec![json!("csv")]), Some(json!([])), false),
            (Expect::AsBefore(None), None, true),
            (Expect::AsBefore(None), Some(json!(false)), false),
            (Expect::Greater(3), Some(json!(4)), true),
            (Expect::Greater(3), Some(json!(3)), false),
            (Expect::Free(Freedom::OptionalFlags), Some(json!(false)), true),
            (Expect::Free(Freedom::OptionalFlags), Some(json!(true)), false),
        ];
        for (expect, actual, holds) in cases {
            assert_eq!(expect.holds(actual.as_ref(), context), holds, "{expect:?} {actual:?}");
        }
    }

    #[test]
    fn explain_shows_the_pins_and_the_readings() {
        let text = explain(Rule::Upd3);
        assert!(text.starts_with("UPD-3 (documented)"), "{text}");
        assert!(text.contains("recipients-emptied-on-send"), "{text}");
        assert!(explain(Rule::Crt1).contains("/schedule/enabled"), "{}", explain(Rule::Crt1));
    }

    #[test]
    fn the_reviewed_table_names_known_rules() {
        for (rule, place) in reviewed() {
            assert!(rule.parse::<Rule>().is_ok(), "claims.txt: unknown rule {rule}");
            assert!(place.starts_with('/'), "claims.txt: {place} is not a JSON pointer");
        }
    }
}
