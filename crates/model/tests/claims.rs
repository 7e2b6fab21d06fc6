//! The allow-list, audited, and the decider against the request cases: every claim the decider states over the request cases of
//! `cases/requests.json` is a reviewed (rule, place) pair of `claims.txt`, and every pair
//! there is stated by some case; every reading of the model is listed in ARCHITECTURE.md
//! and every listed one exists. Add a request case, not a test here.

use std::collections::BTreeSet;

use reportcheck_model::claim::{self, Reading};
use reportcheck_model::decide::{Admissible, Caller, Decision, Known, Request, decide};
use reportcheck_model::{Id, Place, Report, date};

mod support;

use support::{Operation, cases};

/// One report, and every tenant is the caller's.
struct One(Option<Report>);

impl Known for One {
    fn report(&self, id: Id) -> Option<&Report> {
        self.0.as_ref().filter(|report| report.id == id)
    }

    fn is_within(&self, _tenant: Id, _caller: Id) -> bool {
        true
    }
}

fn stated(admissible: &Admissible, pairs: &mut BTreeSet<(String, String)>, readings: &mut BTreeSet<Reading>) {
    readings.extend(admissible.readings());
    for branch in admissible.branches() {
        let prediction = match &branch.decision {
            Decision::Created { prediction, .. }
            | Decision::Updated { prediction, .. }
            | Decision::Read(prediction) => prediction,
            _ => continue,
        };
        for claim in &prediction.claims {
            let Place::Body(pointer) = claim.place;
            pairs.insert((claim.rule.id().to_owned(), pointer.to_owned()));
        }
    }
}

#[test]
fn every_claim_is_reviewed_and_every_reviewed_pair_is_stated() {
    let cases = cases();
    let mut pairs = BTreeSet::new();
    let mut readings = BTreeSet::new();
    for case in &cases {
        let today = date::parse_day(case.today.as_deref().unwrap_or("2017-05-07")).expect("today");
        let body = match (&case.body, &case.raw) {
            (Some(json), _) => json.to_string(),
            (None, Some(raw)) => raw.clone(),
            (None, None) => String::new(),
        };
        let known = One(case.current.clone());
        let tenant = Id::new_v4();
        let caller = Caller { tenant, today };
        let id = case.current.as_ref().map(|report| report.id.to_string()).unwrap_or_default();
        let json = Some("application/json");
        let admissible = match case.operation {
            Operation::Create => decide(&known, caller, Request::Create { content_type: json, body: body.as_bytes() }),
            Operation::Update => {
                decide(&known, caller, Request::Update { id: &id, content_type: json, body: body.as_bytes() })
            }
            Operation::Delete => decide(&known, caller, Request::Delete { id: &id, version: case.raw.as_deref() }),
        };
        // The decider agrees with the case: a valid request has an accepting branch, a
        // breaking one is refused under its rule (among any others it breaks).
        match &case.expect {
            None => assert!(admissible.accepting().is_some(), "{}: valid, yet no branch accepts it", case.name),
            Some(rule) => assert!(
                admissible.violations().iter().any(|violation| violation.rule.id() == rule),
                "{}: no branch refuses it under {rule}: {:?}",
                case.name,
                admissible.branches()
            ),
        }
        stated(&admissible, &mut pairs, &mut readings);
        if case.current.is_some() {
            stated(&decide(&known, caller, Request::Get { id: &id }), &mut pairs, &mut readings);
        }
    }
    pairs.extend(claim::CLIENT_CLAIMS.iter().map(|(rule, pointer)| (rule.id().to_owned(), (*pointer).to_owned())));
    let reviewed: BTreeSet<(String, String)> = claim::reviewed().into_iter().collect();
    let unreviewed: Vec<_> = pairs.difference(&reviewed).collect();
    let unstated: Vec<_> = reviewed.difference(&pairs).collect();
    assert!(
        unreviewed.is_empty(),
        "the decider states claims that crates/model/claims.txt does not hold (review each against PROFILE.md, \
         then add it): {unreviewed:?}"
    );
    assert!(
        unstated.is_empty(),
        "claims.txt holds pairs no request case states (add a case or drop the line): {unstated:?}"
    );
    for reading in [Reading::RecipientsEmptiedOnSend, Reading::UnsetFlagIsFalse] {
        assert!(readings.contains(&reading), "no request case takes the branch of the reading {reading}");
    }
}

/// The readings of ARCHITECTURE.md's "Readings the decider takes", as `- \`id\`: text`.
fn documented_readings() -> BTreeSet<String> {
    let text = include_str!("../../../ARCHITECTURE.md");
    let section = text.split("### Readings the decider takes").nth(1).expect("ARCHITECTURE.md has the section");
    let section = section.split("\n#").next().unwrap_or_default();
    section
        .lines()
        .filter_map(|line| line.strip_prefix("- `"))
        .filter_map(|line| line.split('`').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_readings_are_the_documented_ones() {
    let model: BTreeSet<String> = Reading::ALL.iter().map(|reading| reading.id().to_owned()).collect();
    let documented = documented_readings();
    assert_eq!(
        model, documented,
        "claim::Reading and ARCHITECTURE.md (\"Readings the decider takes\") must list the same readings"
    );
}
