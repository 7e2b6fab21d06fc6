//! Property tests against a live server: generated sequences of creates, updates (valid
//! and not), toggles, reads, deletes, list and stored-list reads and the second client's
//! attempts. The model's decider predicts every answer; the server must agree.
//!
//! A failure hides nothing: every sequence runs whatever the others found, a sequence
//! goes on after a departure (its known state follows the server), and each failing rule
//! keeps its own minimal counterexample, shrunk while that rule still fails, printed as a
//! replayable contract and as curl commands with the seed to rerun it.

mod forged;
mod generate;
mod reach;
pub(crate) mod replay;
mod shapes;
mod shrink;
mod sweep;
mod world;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use proptest::strategy::Strategy as _;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use reportcheck_model::classes::Class;
use reportcheck_model::{Date, Id, Rule};

use self::generate::Op;
pub use self::shrink::DEFAULT_BUDGET as DEFAULT_SHRINK_BUDGET;
use self::shrink::{Counterexample, Generated};
pub(crate) use self::world::Sent;
use self::world::{Finding, World};
use crate::contract::Case;
use crate::error::Error;
use crate::outcome::{Check, Exchange, Failure, Outcome, Source};
use crate::session::{RECIPIENT, Session};

/// How the property tests run.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Generated sequences.
    pub cases: u32,
    pub seed: u64,
    /// Sequences sent at once.
    pub in_flight: usize,
    /// Candidates one failing rule's shrinking may send (speculation included).
    pub shrink_budget: u32,
}

/// How one sequence went.
struct Executed {
    findings: Vec<Finding>,
    sent: Vec<Sent>,
    exercised: BTreeSet<(Rule, Case)>,
    reached: BTreeMap<Class, u32>,
    /// From its first request to its cleanup.
    took: Duration,
}

/// What the property tests found: their checks, and the classes of the map their
/// requests reached out of those the run could reach.
#[derive(Debug, Default)]
pub struct Checked {
    pub checks: Vec<Check>,
    pub reached: BTreeMap<Class, u32>,
    pub reachable: Vec<Class>,
}

impl Checked {
    fn count(&mut self, reached: &BTreeMap<Class, u32>) {
        for (class, count) in reached {
            *self.reached.entry(*class).or_default() += count;
        }
    }
}

/// Sends one sequence and cleans up what it created, whatever happened. With `until`,
/// the sequence ends at the first finding of that rule (what follows cannot change it).
async fn execute(session: &Session, tenant: Id, ops: &[Op], until: Option<Rule>) -> Result<Executed, Error> {
    crate::pace::chain(async {
        let started = Instant::now();
        let mut world = World::new(session, tenant, recipients());
        let mut outcome = Ok(());
        for op in ops {
            outcome = world.run(op).await;
            let found = until.is_some_and(|rule| world.findings.iter().any(|finding| finding.rule == rule));
            if outcome.is_err() || found {
                break;
            }
        }
        world.clean_up().await?;
        // A request without an answer ended the sequence as a finding of its own.
        if !matches!(outcome, Err(Error::Unanswered(_))) {
            outcome?;
        }
        Ok(Executed {
            findings: world.findings,
            sent: world.sent,
            exercised: world.exercised,
            reached: world.reached,
            took: started.elapsed(),
        })
    })
    .await
}

fn recipients() -> [Id; 2] {
    let first = RECIPIENT.parse().unwrap_or_else(|_| Id::new_v4());
    let second = "5a0e3b8f-2c1d-4e6f-9a7b-8c9d0e1f2a3b".parse().unwrap_or_else(|_| Id::new_v4());
    [first, second]
}

/// A failing rule: its counterexample, and how many generated sequences failed it.
struct Failed {
    counterexample: Counterexample,
    sequences: usize,
    /// The first failing sequence and its shrinking.
    took: Duration,
}

/// Runs `plan.cases` generated sequences from `plan.seed`, up to `plan.in_flight` at once:
/// each works on its own reports, so the verdict does not depend on the interleaving.
/// Every rule that fails gets its own minimal counterexample, shrunk as soon as the first
/// sequence (in generation order) that fails it is known, beside the sequences still
/// running and the other rules' shrinking; the rest keep their checks.
pub async fn check(session: &Session, plan: Plan) -> Result<Checked, Error> {
    let Some(tenant) = session.a.tenant else {
        let checks = vec![Check::without_tenant(Rule::Upd6, Source::Property, "generated sequences")];
        return Ok(Checked { checks, ..Checked::default() });
    };
    let today = session.today;
    let started = Instant::now();
    let ground = ground(session, tenant);
    let chains = reach::plan(&ground);
    let reached = futures_util::stream::iter(chains.iter().map(|ops| execute(session, tenant, ops, None)))
        .buffered(plan.in_flight.max(1))
        .collect::<Vec<_>>();
    let mut runner = runner(plan.seed, plan.cases);
    let strategy =
        generate::ops(tenant, today, recipients()[0], session.b.as_ref().is_some_and(|b| b.tenant.is_some())).boxed();
    let generated: Vec<Generated> = (0..plan.cases).map(|_| Generated::draw(&mut runner)).collect();
    let strategy = &strategy;
    let mut trees = Vec::with_capacity(generated.len());
    for sequence in &generated {
        trees.push(sequence.tree(strategy)?.current());
    }
    // The same seed gives the same sequences, whatever order they finish in; they are
    // read in generation order, so the sequence a rule's shrinking starts from is too.
    let mut sequences = futures_util::stream::iter(
        trees.iter().enumerate().map(|(index, ops)| async move { (index, execute(session, tenant, ops, None).await) }),
    )
    .buffered(plan.in_flight.max(1));
    let judged = async {
        let mut exercised = BTreeSet::new();
        let mut reached = BTreeMap::new();
        let mut failing: BTreeMap<Rule, usize> = BTreeMap::new();
        let mut shrinking = FuturesUnordered::new();
        let mut counterexamples = BTreeMap::new();
        let mut fatal: Option<Error> = None;
        let mut sequences_done = false;
        while !sequences_done || !shrinking.is_empty() {
            tokio::select! {
                next = sequences.next(), if !sequences_done => match next {
                    None => sequences_done = true,
                    Some((_, Err(err))) => fatal = fatal.or(Some(err)),
                    Some((index, Ok(executed))) => {
                        exercised.extend(executed.exercised);
                        for (class, count) in executed.reached {
                            *reached.entry(class).or_default() += count;
                        }
                        for finding in &executed.findings {
                            let count = failing.entry(finding.rule).or_default();
                            *count += 1;
                            if *count > 1 || fatal.is_some() {
                                continue;
                            }
                            // Printed at once; the minimal counterexample follows.
                            session.control.line(&format!(
                                "  found {:<7} by generated sequence {} of {} ({} operations), shrinking: {}",
                                finding.rule.id(),
                                index + 1,
                                plan.cases,
                                trees[index].len(),
                                finding.message.lines().next().unwrap_or_default()
                            ));
                            let steps: Vec<String> = executed
                                .sent
                                .iter()
                                .map(|sent| format!("{} {} {}", sent.method, sent.template, sent.status))
                                .collect();
                            session.control.line(&format!("    first counterexample: {}", steps.join(" → ")));
                            let rule = finding.rule;
                            let first = (finding.clone(), executed.sent.clone());
                            let sequence = &generated[index];
                            let found_in = executed.took;
                            shrinking.push(async move {
                                let shrinking = Instant::now();
                                let shrunk = shrink::shrink(
                                    session, tenant, strategy, sequence, rule, first, plan.shrink_budget,
                                )
                                .await;
                                (rule, shrunk.map(|shrunk| (shrunk, found_in + shrinking.elapsed())))
                            });
                        }
                    }
                },
                Some((rule, shrunk)) = shrinking.next(), if !shrinking.is_empty() => match shrunk {
                    Ok(counterexample) => {
                        counterexamples.insert(rule, counterexample);
                    }
                    Err(err) => fatal = fatal.or(Some(err)),
                },
            }
        }
        if let Some(err) = fatal {
            return Err(err);
        }
        let failed: BTreeMap<Rule, Failed> = counterexamples
            .into_iter()
            .map(|(rule, (counterexample, took))| {
                (rule, Failed { counterexample, sequences: failing.get(&rule).copied().unwrap_or_default(), took })
            })
            .collect();
        Ok((exercised, reached, failed))
    };
    // The fixed sweeps and the reach chains run beside the sequences; they work on
    // reports of their own.
    let (judged, reach, downloads, malformed, forged, shapes) = futures_util::join!(
        judged,
        reached,
        timed(crate::pace::chain(sweep::downloads(session, tenant))),
        timed(crate::pace::chain(sweep::malformed(session, tenant))),
        timed(crate::pace::chain(forged::check(session, tenant))),
        timed(crate::pace::chain(shapes::check(session, tenant)))
    );
    let took = started.elapsed();
    let mut swept = Vec::new();
    for (result, took) in [downloads, malformed, forged, shapes] {
        swept.push((result?, took));
    }
    let (exercised, reached, failed) = judged?;
    let mut checked = Checked {
        checks: checks(session, plan, today, exercised, failed, took),
        reached,
        reachable: reach::reachable(&ground),
    };
    let reach: Vec<Executed> = reach.into_iter().collect::<Result<_, _>>()?;
    for executed in &reach {
        checked.count(&executed.reached);
    }
    checked.checks.extend(chain_checks(session, plan, "chains built from the class map", &reach, took));
    checked.checks.extend(swept.iter().flat_map(|(swept, took)| swept_checks(swept, *took)));
    Ok(checked)
}

/// `future`'s output and how long it took. The future is boxed: the sweeps beside the
/// sequences are large state machines, and a debug build's test thread has a small stack.
async fn timed<T>(future: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let output = Box::pin(future).await;
    (output, started.elapsed())
}

/// The chains whose verdict depends on nobody else writing in the tenant, sent one after
/// the other once every other check is done (the run calls this last).
pub async fn quiet(session: &Session, plan: Plan) -> Result<Checked, Error> {
    let Some(tenant) = session.a.tenant else { return Ok(Checked::default()) };
    let chains = reach::quiet(&ground(session, tenant));
    let started = Instant::now();
    let executed: Vec<Executed> =
        futures_util::future::join_all(chains.iter().map(|ops| execute(session, tenant, ops, None)))
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
    let mut checked = Checked {
        checks: chain_checks(session, plan, "chains sent alone", &executed, started.elapsed()),
        ..Checked::default()
    };
    for executed in &executed {
        checked.count(&executed.reached);
    }
    Ok(checked)
}

fn ground(session: &Session, tenant: Id) -> reach::Ground {
    reach::Ground {
        tenant,
        child: session.child_tenant,
        today: session.today,
        recipients: recipients(),
        foreign: session.b.as_ref().is_some_and(|b| b.tenant.is_some()),
    }
}

/// The checks of fixed chains: one passed check per rule and case they exercised, one
/// failed check per rule they found broken, with the first chain that broke it as a
/// replayable contract and every finding of that rule listed.
fn chain_checks(session: &Session, plan: Plan, what: &str, executed: &[Executed], took: Duration) -> Vec<Check> {
    let mut failed: BTreeMap<Rule, (Vec<&str>, &Executed)> = BTreeMap::new();
    let mut exercised = BTreeSet::new();
    let mut messages: Vec<String> = Vec::with_capacity(executed.len());
    for chain in executed {
        // A chain's first finding names its failure; what it found after that is a
        // consequence, listed under it.
        let mut message = chain.findings.first().map(|finding| finding.message.clone()).unwrap_or_default();
        for consequence in chain.findings.iter().skip(1) {
            let first_line = consequence.message.lines().next().unwrap_or_default();
            message.push_str(&format!("\n  and then, in the same chain: {first_line}"));
        }
        messages.push(message);
    }
    for (chain, message) in executed.iter().zip(&messages) {
        exercised.extend(chain.exercised.iter().copied());
        if let Some(first) = chain.findings.first() {
            failed.entry(first.rule).or_insert_with(|| (Vec::new(), chain)).0.push(message);
        }
    }
    let mut checks = passed(exercised, |rule| failed.contains_key(&rule), &format!("{} {what}", executed.len()), took);
    for (rule, (messages, chain)) in failed {
        let mut message = messages[0].to_owned();
        if messages.len() > 1 {
            message.push_str(&format!("\n{} findings of {rule} in all; the others:", messages.len()));
            for other in messages.iter().skip(1).take(4) {
                message.push_str(&format!("\n  - {}", other.lines().next().unwrap_or_default()));
            }
        }
        checks.push(Check {
            rule,
            source: Source::Property,
            name: format!("{what}: a chain of {} requests", chain.sent.len()),
            case: Case::Positive,
            outcome: Outcome::Failed(Failure {
                message,
                steps: replay::steps(session, &chain.sent),
                replay: Some(replay::render(session, &chain.sent, plan.seed, session.today)),
                ..Failure::default()
            }),
            duration: chain.took,
        });
    }
    checks
}

/// How many of a sweep's failing requests a failure shows (its message lists every finding).
const SWEPT_STEPS: usize = 8;

/// One check per rule a sweep exercised: failed with every finding, or passed.
fn swept_checks(swept: &sweep::Swept, took: Duration) -> Vec<Check> {
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
            case: if matches!(rule, Rule::Err3 | Rule::Auth3 | Rule::Crt4 | Rule::Upd5) {
                Case::Negative
            } else {
                Case::Positive
            },
            outcome: if problems.is_empty() {
                Outcome::Passed
            } else {
                // The first requests behind the findings, each with its answer.
                let steps: Vec<Exchange> = swept
                    .exchanges
                    .iter()
                    .filter(|(of, _)| *of == rule)
                    .map(|(_, exchange)| exchange.clone())
                    .take(SWEPT_STEPS)
                    .collect();
                Outcome::Failed(Failure { message: problems.join("\n"), steps, ..Failure::default() })
            },
            duration: took,
        })
        .collect()
}

fn runner(seed: u64, cases: u32) -> TestRunner {
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes))
}

/// One passed check per rule and case `what` exercised, but for the rules it failed.
fn passed(exercised: BTreeSet<(Rule, Case)>, failed: impl Fn(Rule) -> bool, what: &str, took: Duration) -> Vec<Check> {
    exercised
        .into_iter()
        .filter(|(rule, _)| !failed(*rule))
        .map(|(rule, case)| Check {
            rule,
            source: Source::Property,
            name: format!("{what} ({case:?} cases)"),
            case,
            outcome: Outcome::Passed,
            duration: took,
        })
        .collect()
}

fn checks(
    session: &Session,
    plan: Plan,
    today: Date,
    exercised: BTreeSet<(Rule, Case)>,
    failed: BTreeMap<Rule, Failed>,
    took: Duration,
) -> Vec<Check> {
    let Plan { cases, seed, .. } = plan;
    let mut checks =
        passed(exercised, |rule| failed.contains_key(&rule), &format!("{cases} generated sequences"), took);
    for (rule, Failed { counterexample, sequences, took }) in failed {
        let Counterexample { length, finding, sent, minimal, candidates, rounds, reproduced } = counterexample;
        let shrunk = if minimal {
            "minimal after shrinking".to_owned()
        } else {
            format!("smaller, not minimal: shrinking stopped after {candidates} candidates (--shrink-budget)")
        };
        let mut message = format!(
            "{}\n{sequences} of {cases} generated sequences failed {rule}; rerun with --seed {seed}\n\
             shrunk with {candidates} candidates in {rounds} rounds sent side by side",
            finding.message
        );
        if !reproduced {
            message.push_str("\nthe first failing sequence passed when run once more: the server may be racy");
        }
        checks.push(Check {
            rule,
            source: Source::Property,
            name: format!("a generated sequence of {length} operations ({shrunk})"),
            case: Case::Positive,
            outcome: Outcome::Failed(Failure {
                message,
                steps: replay::steps(session, &sent),
                replay: Some(replay::render(session, &sent, seed, today)),
                ..Failure::default()
            }),
            duration: took,
        });
    }
    checks
}
