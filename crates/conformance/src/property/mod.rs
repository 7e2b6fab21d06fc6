//! Property tests against a live server: generated sequences of creates, updates (valid
//! and not), toggles, reads, deletes, list and stored-list reads and the second client's
//! attempts. The model's decider predicts every answer; the server must agree.
//!
//! A failure hides nothing: every sequence runs whatever the others found, a sequence
//! goes on after a departure (its known state follows the server), and each failing rule
//! keeps its own minimal counterexample, shrunk while that rule still fails, printed as a
//! replayable contract and as curl commands with the seed to rerun it.

mod generate;
mod replay;
mod sweep;
mod world;

use std::collections::{BTreeMap, BTreeSet};

use futures_util::StreamExt as _;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use reportcheck_model::{Date, Id, Rule};

use self::generate::Op;
use self::world::{Finding, Sent, World};
use crate::contract::Case;
use crate::error::Error;
use crate::outcome::{Check, Failure, Outcome, Source};
use crate::session::{RECIPIENT, Session};

/// Shrinking steps per failing rule, at most.
const MAX_SHRINK_ITERS: u32 = 128;

/// How one sequence went.
struct Executed {
    findings: Vec<Finding>,
    sent: Vec<Sent>,
    exercised: BTreeSet<(Rule, Case)>,
}

/// Sends one sequence and cleans up what it created, whatever happened.
async fn execute(session: &Session, tenant: Id, ops: &[Op]) -> Result<Executed, Error> {
    let mut world = World::new(session, tenant, recipients());
    let mut outcome = Ok(());
    for op in ops {
        outcome = world.run(op).await;
        if outcome.is_err() {
            break;
        }
    }
    world.clean_up().await?;
    outcome?;
    Ok(Executed { findings: world.findings, sent: world.sent, exercised: world.exercised })
}

fn recipients() -> [Id; 2] {
    let first = RECIPIENT.parse().unwrap_or_else(|_| Id::new_v4());
    let second = "5a0e3b8f-2c1d-4e6f-9a7b-8c9d0e1f2a3b".parse().unwrap_or_else(|_| Id::new_v4());
    [first, second]
}

/// The smallest sequence found that still fails one rule.
struct Counterexample {
    length: usize,
    finding: Finding,
    sent: Vec<Sent>,
    /// How many of the generated sequences failed this rule.
    sequences: usize,
}

/// Runs `cases` generated sequences from `seed`, up to `in_flight` at once: each works on
/// its own reports, so the verdict does not depend on the interleaving. Every rule that
/// fails gets its own minimal counterexample; the rest keep their checks.
pub async fn check(session: &Session, cases: u32, seed: u64, in_flight: usize) -> Result<Vec<Check>, Error> {
    let Some(tenant) = session.a.tenant else {
        return Ok(vec![Check::without_tenant(Rule::Upd6, Source::Property, "generated sequences")]);
    };
    let today = session.today;
    let mut runner = runner(seed, cases);
    let strategy =
        generate::ops(tenant, today, recipients()[0], session.b.as_ref().is_some_and(|b| b.tenant.is_some()));
    let mut trees = Vec::with_capacity(cases as usize);
    for _ in 0..cases {
        trees.push(
            strategy
                .new_tree(&mut runner)
                .map_err(|reason| Error::Options(format!("cannot generate a sequence: {reason}")))?,
        );
    }
    // The same seed gives the same sequences, whatever order they finish in.
    let sequences = futures_util::stream::iter(trees.iter().map(|tree| {
        let ops = tree.current();
        async move { execute(session, tenant, &ops).await }
    }))
    .buffered(in_flight.max(1))
    .collect::<Vec<Result<Executed, Error>>>();
    // The fixed sweeps run beside the sequences; they work on reports of their own.
    let (executed, downloads, malformed) =
        futures_util::join!(sequences, sweep::downloads(session, tenant), sweep::malformed(session, tenant));
    let swept = [downloads?, malformed?];
    let mut exercised = BTreeSet::new();
    let mut first_failure: BTreeMap<Rule, (usize, usize)> = BTreeMap::new();
    for (index, executed) in executed.into_iter().enumerate() {
        let executed = executed?;
        exercised.extend(executed.exercised);
        for finding in &executed.findings {
            first_failure.entry(finding.rule).or_insert((index, 0)).1 += 1;
        }
    }
    let mut counterexamples = BTreeMap::new();
    for (rule, (index, sequences)) in first_failure {
        let mut counterexample = shrink(session, tenant, &mut trees[index], rule).await?;
        counterexample.sequences = sequences;
        counterexamples.insert(rule, counterexample);
    }
    let mut checks = checks(session, cases, seed, today, exercised, counterexamples);
    checks.extend(swept.iter().flat_map(swept_checks));
    Ok(checks)
}

/// One check per rule a sweep exercised: failed with every finding, or passed.
fn swept_checks(swept: &sweep::Swept) -> Vec<Check> {
    let mut by_rule: BTreeMap<Rule, (Vec<&'static str>, Vec<&str>)> = BTreeMap::new();
    for (rule, what) in &swept.exercised {
        by_rule.entry(*rule).or_default().0.push(what);
    }
    for finding in &swept.findings {
        by_rule.entry(finding.rule).or_default().1.push(&finding.message);
    }
    by_rule
        .into_iter()
        .map(|(rule, (what, problems))| Check {
            rule,
            source: Source::Property,
            name: format!("fixed sweep: {}", if what.is_empty() { "found".to_owned() } else { what.join(", ") }),
            case: if rule == Rule::Err3 { Case::Negative } else { Case::Positive },
            outcome: if problems.is_empty() {
                Outcome::Passed
            } else {
                Outcome::Failed(Failure { message: problems.join("\n"), ..Failure::default() })
            },
        })
        .collect()
}

fn runner(seed: u64, cases: u32) -> TestRunner {
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes))
}

/// Simplifies the sequence while it still fails `rule`, as proptest's runner does
/// (simplify while it fails, complicate when it passes), driven from async code.
async fn shrink(
    session: &Session,
    tenant: Id,
    tree: &mut impl ValueTree<Value = Vec<Op>>,
    rule: Rule,
) -> Result<Counterexample, Error> {
    let fails = |executed: Executed| -> Option<(Finding, Vec<Sent>)> {
        let finding = executed.findings.into_iter().find(|finding| finding.rule == rule)?;
        Some((finding, executed.sent))
    };
    let first = execute(session, tenant, &tree.current()).await?;
    let length = tree.current().len();
    let Some((finding, sent)) = fails(first) else {
        // A departure that did not show again (a race on the server): report it as seen.
        let finding = Finding { rule, message: "the failure did not reproduce on a second run".to_owned() };
        return Ok(Counterexample { length, finding, sent: Vec::new(), sequences: 0 });
    };
    let mut minimal = Counterexample { length, finding, sent, sequences: 0 };
    if !tree.simplify() {
        return Ok(minimal);
    }
    for _ in 0..MAX_SHRINK_ITERS {
        let ops = tree.current();
        match fails(execute(session, tenant, &ops).await?) {
            Some((finding, sent)) => {
                minimal = Counterexample { length: ops.len(), finding, sent, sequences: 0 };
                if !tree.simplify() {
                    break;
                }
            }
            None => {
                if !tree.complicate() {
                    break;
                }
            }
        }
    }
    Ok(minimal)
}

fn checks(
    session: &Session,
    cases: u32,
    seed: u64,
    today: Date,
    exercised: BTreeSet<(Rule, Case)>,
    counterexamples: BTreeMap<Rule, Counterexample>,
) -> Vec<Check> {
    let mut checks: Vec<Check> = exercised
        .into_iter()
        .filter(|(rule, _)| !counterexamples.contains_key(rule))
        .map(|(rule, case)| Check {
            rule,
            source: Source::Property,
            name: format!("{cases} generated sequences ({case:?} cases)"),
            case,
            outcome: Outcome::Passed,
        })
        .collect();
    for (rule, counterexample) in counterexamples {
        let Counterexample { length, finding, sent, sequences } = counterexample;
        checks.push(Check {
            rule,
            source: Source::Property,
            name: format!("a generated sequence of {length} operations (minimal after shrinking)"),
            case: Case::Positive,
            outcome: Outcome::Failed(Failure {
                message: format!(
                    "{}\n{sequences} of {cases} generated sequences failed {rule}; rerun with --seed {seed}",
                    finding.message
                ),
                request: Some(replay::render(session, &sent, seed, today)),
                expected: None,
                actual: None,
            }),
        });
    }
    checks
}
