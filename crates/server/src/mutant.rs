//! Mutants generated from the decider's claims: each negates one claim under one class
//! of the model's class map, so the harness's mutation score covers what the decider
//! says, not only what someone thought of breaking by hand (`fault.rs` keeps those: races,
//! encodings, dates).
//!
//! - A **flip** gives every request of a class the other answer: an accepted one is
//!   refused, a refused one accepted (a body the class breaks read as its valid value).
//!   It negates the claim that the class's requests are accepted, or refused.
//! - A **negation** answers an accepted request of a class with another value at one
//!   place a rule claims there: the old version after a toggle that follows an update,
//!   another kind echoed for a create of `usage_current`.
//!
//! A mutant records the rules of the claims it negated as it applies them
//! ([`MutationLog`]), so a mutation test can require the harness to fail under those
//! rules, and can tell a mutant that was never applied from one that was missed.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex};

use reportcheck_model::classes::{self, Before, Class, Form, Op, State};
use reportcheck_model::decide::{self, Caller, Decision, Known, Request};
use reportcheck_model::{Expect, Id, Kind, Level, Place, Report, ResultAction, Rule, ScheduleType};
use time::Duration;

/// One claim negated under one class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mutant {
    pub class: Class,
    pub change: Change,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Change {
    /// Accept what the class's requests must be refused, refuse what they must be served.
    Flip,
    /// Answer an accepted request with another value at `place` than `rule` claims.
    Negate { rule: Rule, place: &'static str },
}

impl fmt::Display for Mutant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.change {
            Change::Flip => write!(f, "flip: {}", self.class),
            Change::Negate { rule, place } => write!(f, "negate {rule} {place}: {}", self.class),
        }
    }
}

/// The rules whose claims a mutant negated, as it applied them.
#[derive(Debug, Clone, Default)]
pub struct MutationLog(Arc<Mutex<BTreeSet<Rule>>>);

impl MutationLog {
    pub fn record(&self, rule: Rule) {
        if let Ok(mut rules) = self.0.lock() {
            rules.insert(rule);
        }
    }

    /// The rules negated so far (empty: the mutant never applied).
    pub fn rules(&self) -> BTreeSet<Rule> {
        self.0.lock().map(|rules| rules.clone()).unwrap_or_default()
    }
}

/// A day and tenant to build the representative requests of the classes with.
const SAMPLE_TODAY: time::Date = time::macros::date!(2026 - 06 - 15);

impl Mutant {
    /// Every mutant: a flip of every single class of the map (a class of one dimension),
    /// and a negation of each claim the rules state about an accepted answer, under the
    /// classes that reach it: a create's claims of the field it sets (where the model
    /// accepts the class's representative create), the version and the changed field
    /// of an update or a toggle after each kind of write and in each state that is still
    /// scheduled, a read's after each accepted write.
    pub fn all() -> Vec<Mutant> {
        let map = classes::map();
        let mut mutants: Vec<Mutant> = map
            .iter()
            .filter(|class| class.order() <= 1 && class.op != Op::Download)
            .map(|class| Mutant { class: *class, change: Change::Flip })
            .collect();
        for (field, form) in classes::field_forms(Op::Create) {
            if matches!(form, Form::Valid(_)) {
                let class = Class::op(Op::Create).with_field(field, form);
                mutants.extend(
                    create_claims(field, form)
                        .into_iter()
                        .map(|(rule, place)| Mutant { class, change: Change::Negate { rule, place } }),
                );
            }
        }
        let writes: [(Op, &[(Rule, &'static str)]); 3] = [
            (Op::Update, &[(Rule::Upd7, "/version"), (Rule::Upd6, "/parameters/level")]),
            (Op::Toggle, &[(Rule::Upd7, "/version"), (Rule::Upd4, "/schedule/enabled")]),
            (Op::Read, &[(Rule::Get1, "/version"), (Rule::Get1, "/parameters/kind")]),
        ];
        for (op, claims) in writes {
            let befores = Before::ALL.iter().filter(|before| op != Op::Read || **before != Before::Refused);
            let states = State::ALL.iter().filter(|state| op == Op::Read || **state != State::Due);
            let classes: Vec<Class> = befores
                .map(|before| Class::op(op).after(*before))
                .chain(states.map(|state| Class::op(op).in_state(*state)))
                .collect();
            for class in classes {
                mutants.extend(
                    claims.iter().map(|(rule, place)| Mutant { class, change: Change::Negate { rule: *rule, place } }),
                );
            }
        }
        mutants
    }

    /// The mutant named `name` (its `Display`).
    pub fn named(name: &str) -> Option<Mutant> {
        Mutant::all().into_iter().find(|mutant| mutant.to_string() == name)
    }
}

/// The claims a create's answer makes about the field `field` sets, for the class's
/// representative create, where the model accepts it (a refused create has none).
fn create_claims(field: Option<&'static str>, form: Form) -> Vec<(Rule, &'static str)> {
    let tenant = Id::new_v4();
    let recipients = [Id::new_v4(), Id::new_v4()];
    let Some(body) = classes::body_with(Op::Create, field, form, tenant, SAMPLE_TODAY, recipients, None) else {
        return Vec::new();
    };
    let bytes = body.to_string();
    let known = Nothing(tenant);
    let request = Request::Create { content_type: Some("application/json"), body: bytes.as_bytes() };
    let Decision::Created { prediction, .. } =
        decide::decide(&known, Caller { tenant, today: SAMPLE_TODAY }, request).into_reference()
    else {
        return Vec::new();
    };
    let Some(field) = field else { return Vec::new() };
    prediction
        .claims
        .iter()
        .filter(|claim| !matches!(claim.expect, Expect::Free(_)))
        .filter_map(|claim| {
            let Place::Body(place) = claim.place;
            (claim.rule == Rule::Crt1 && field.starts_with(place) && negatable(place)).then_some((claim.rule, place))
        })
        .collect()
}

/// The places [`negate`] knows another value for.
fn negatable(place: &str) -> bool {
    matches!(
        place,
        "/version"
            | "/result_action"
            | "/recipients"
            | "/parameters/tenant_id"
            | "/parameters/kind"
            | "/parameters/level"
            | "/parameters/formats"
            | "/parameters/period"
            | "/parameters/hide_zero_usage"
            | "/parameters/show_skus"
            | "/schedule/type"
            | "/schedule/enabled"
            | "/generation_date"
    )
}

/// `report` with another value at `place`: the version before the write (or one above
/// the current one for a read), the next member of an enum, the other flag, ...
pub fn negate(report: &mut Report, place: &str, before: Option<&Report>) {
    let next = |all: &[Kind], at: Kind| all[(all.iter().position(|kind| *kind == at).unwrap_or(0) + 1) % all.len()];
    let parameters = &mut report.parameters;
    match place {
        "/version" => report.version = before.map_or(report.version + 1, |before| before.version),
        "/result_action" => {
            report.result_action = match report.result_action {
                ResultAction::Save => ResultAction::Send,
                ResultAction::Send => ResultAction::Save,
            }
        }
        "/recipients" if report.recipients.is_empty() => report.recipients.push(Id::new_v4()),
        "/recipients" => report.recipients.clear(),
        "/parameters/tenant_id" => parameters.tenant_id = Id::new_v4(),
        "/parameters/kind" => parameters.kind = next(Kind::ALL, parameters.kind),
        "/parameters/level" => {
            let all = Level::ALL;
            parameters.level =
                all[(all.iter().position(|level| *level == parameters.level).unwrap_or(0) + 1) % all.len()];
        }
        "/parameters/formats" => {
            parameters.formats = if parameters.formats == [reportcheck_model::Format::Html] {
                vec![reportcheck_model::Format::Csv]
            } else {
                vec![reportcheck_model::Format::Html]
            }
        }
        "/parameters/period" => parameters.period.start -= Duration::days(1),
        "/parameters/hide_zero_usage" => {
            parameters.hide_zero_usage = Some(!parameters.hide_zero_usage.unwrap_or(false))
        }
        "/parameters/show_skus" => parameters.show_skus = Some(!parameters.show_skus.unwrap_or(false)),
        "/schedule/type" => {
            report.schedule.schedule_type = match report.schedule.schedule_type {
                ScheduleType::Once => ScheduleType::Monthly,
                ScheduleType::Monthly => ScheduleType::Once,
            }
        }
        "/schedule/enabled" => report.schedule.enabled = !report.schedule.enabled,
        "/generation_date" => report.generation_date += Duration::days(1),
        _ => {}
    }
}

/// A decider view with no reports, where only the tenant itself is within.
struct Nothing(Id);

impl Known for Nothing {
    fn report(&self, _: Id) -> Option<&Report> {
        None
    }

    fn is_within(&self, tenant: Id, caller: Id) -> bool {
        tenant == caller && tenant == self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hundreds of mutants, every name distinct, so `--mutant NAME` finds each.
    #[test]
    fn every_mutant_has_its_own_name() {
        let all = Mutant::all();
        let names: BTreeSet<String> = all.iter().map(Mutant::to_string).collect();
        assert_eq!(names.len(), all.len());
        assert!(all.len() > 300, "{} mutants", all.len());
        assert!(all.iter().any(|mutant| matches!(mutant.change, Change::Negate { rule: Rule::Crt1, .. })));
    }
}
