//! Shrinking a failing sequence with candidates side by side, to the same minimal
//! counterexample proptest's own (serial) shrinking finds.
//!
//! Proptest shrinks by a walk: try the tree's current value; if it still fails, simplify,
//! else complicate. Every state of the walk is a function of the decisions before it,
//! so a state can be rebuilt from the sequence's RNG and its path of decisions, and the
//! states the walk is likely to reach next can be tried before it gets there. Each round
//! sends up to [`WIDTH`] candidates at once, each on its own reports: the paths most
//! likely from where the walk stands (still failing is as likely as it has been so
//! far). The walk then follows the answers, in its own order, as far as the round
//! reaches. Answers arriving in another order change nothing: the walk, and so the
//! minimal counterexample, depends on the verdicts only. Speculation that the walk did not
//! take finishes in the background (its reports are cleaned up) and only its requests
//! are lost.

use std::collections::{BinaryHeap, HashMap, HashSet};

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use proptest::strategy::{BoxedStrategy, Strategy as _, ValueTree};
use proptest::test_runner::{Config, TestRng, TestRunner};
use reportcheck_model::{Id, Rule};

use super::generate::Op;
use super::world::{Finding, Sent};
use super::{Executed, execute};
use crate::error::Error;
use crate::session::Session;

/// Decisions the walk takes at most: far past where proptest's walks over these
/// sequences end (the budget stops a walk first), a bound on one that would not.
pub const MAX_STEPS: usize = 1024;

/// Candidates a round sends at once, at most.
pub const WIDTH: usize = 24;

/// Candidates (speculation included) one failing rule may send, by default.
pub const DEFAULT_BUDGET: u32 = 400;

/// One generated sequence: rebuilt on demand from its RNG.
#[derive(Clone)]
pub struct Generated {
    rng: TestRng,
}

impl Generated {
    /// Draws the next sequence's RNG from the run's.
    pub fn draw(runner: &mut TestRunner) -> Generated {
        Generated { rng: runner.new_rng() }
    }

    /// The sequence's value tree, as generated.
    pub fn tree(&self, strategy: &BoxedStrategy<Vec<Op>>) -> Result<Box<dyn ValueTree<Value = Vec<Op>>>, Error> {
        let mut runner = TestRunner::new_with_rng(Config::default(), self.rng.clone());
        strategy
            .new_tree(&mut runner)
            .map(|tree| Box::new(tree) as Box<dyn ValueTree<Value = Vec<Op>>>)
            .map_err(|reason| Error::Options(format!("cannot generate a sequence: {reason}")))
    }

    /// The candidate after `path` (true: the one before still failed), or `None` where
    /// proptest's walk ends.
    fn candidate(&self, strategy: &BoxedStrategy<Vec<Op>>, path: &[bool]) -> Result<Option<Vec<Op>>, Error> {
        let mut tree = self.tree(strategy)?;
        if !tree.simplify() {
            return Ok(None);
        }
        for &fails in path {
            let more = if fails { tree.simplify() } else { tree.complicate() };
            if !more {
                return Ok(None);
            }
        }
        Ok(Some(tree.current()))
    }
}

/// The smallest sequence found that still fails one rule.
pub struct Counterexample {
    pub length: usize,
    pub finding: Finding,
    pub sent: Vec<Sent>,
    /// Whether the walk ended (`true`), or stopped at its budget or step limit.
    pub minimal: bool,
    /// Candidates sent, speculation included.
    pub candidates: u32,
    /// Rounds of candidates sent side by side.
    pub rounds: u32,
    /// Whether the first failing sequence failed again when run once more.
    pub reproduced: bool,
}

/// A candidate's verdict: the finding of the rule and what was sent, or `None` (passes).
type Verdict = Option<(Finding, Vec<Sent>)>;

/// Shrinks `generated` (whose first run found `first`) while it fails `rule`, sending at
/// most `budget` candidates.
pub async fn shrink(
    session: &Session,
    tenant: Id,
    strategy: &BoxedStrategy<Vec<Op>>,
    generated: &Generated,
    rule: Rule,
    first: (Finding, Vec<Sent>),
    budget: u32,
) -> Result<Counterexample, Error> {
    let original = generated.tree(strategy)?.current();
    let run = |ops: Vec<Op>| async move {
        execute(session, tenant, &ops, Some(rule)).await.map(|executed| verdict(executed, rule))
    };
    let walked = walk(strategy, generated, budget, run).await?;
    let (length, (finding, sent)) = match walked.smallest {
        Some((ops, failing)) => (ops.len(), failing),
        None => (original.len(), first),
    };
    Ok(Counterexample {
        length,
        finding,
        sent,
        minimal: walked.ended,
        candidates: walked.candidates,
        rounds: walked.rounds,
        reproduced: walked.reproduced,
    })
}

/// Where a walk got to.
struct Walked<T> {
    /// The last candidate that still failed, with what its failure carries.
    smallest: Option<(Vec<Op>, T)>,
    /// Whether proptest's walk ended, rather than the budget or the step limit.
    ended: bool,
    candidates: u32,
    /// Rounds of candidates sent side by side: the walk's length in round trips of
    /// sequences.
    rounds: u32,
    /// Whether the generated sequence, run once more, failed again.
    reproduced: bool,
}

/// Proptest's shrinking walk over `generated`, each candidate judged by `run` (a failure
/// is `Some`), up to [`WIDTH`] candidates at once and at most `budget` in all.
async fn walk<T, F, Fut>(
    strategy: &BoxedStrategy<Vec<Op>>,
    generated: &Generated,
    budget: u32,
    run: F,
) -> Result<Walked<T>, Error>
where
    T: Clone,
    F: Fn(Vec<Op>) -> Fut,
    Fut: Future<Output = Result<Option<T>, Error>>,
{
    let key = |ops: &[Op]| format!("{ops:?}");
    let judge = |ops: Vec<Op>| {
        let key = key(&ops);
        let verdict = run(ops);
        async move { (key, verdict.await) }
    };
    let original = generated.tree(strategy)?.current();
    let mut verdicts: HashMap<String, Option<T>> = HashMap::new();
    let mut launched: HashSet<String> = HashSet::new();
    let mut running = FuturesUnordered::new();
    // The first sequence once more, beside the first round: a failure that does not show
    // again is reported as such (a race on the server).
    launched.insert(key(&original));
    running.push(judge(original.clone()));
    let mut candidates = 1;
    let mut rounds = 0;
    let mut smallest = None;
    let mut path: Vec<bool> = Vec::new();
    let mut ended = false;
    let mut failed = None;
    // The walk's own state, one decision at a time; speculation rebuilds the states ahead.
    let mut live = generated.tree(strategy)?;
    let mut more = live.simplify();
    while path.len() < MAX_STEPS {
        if !more {
            ended = true;
            break;
        }
        let candidate = live.current();
        let wanted = key(&candidate);
        if !launched.contains(&wanted) {
            if candidates >= budget {
                break;
            }
            // A new round from here: the walk's likely next states, most likely first;
            // a candidate still fails as often as candidates have so far.
            let fails = path.iter().filter(|fails| **fails).count();
            let odds = (fails as f64 + 1.0) / (path.len() as f64 + 2.0);
            rounds += 1;
            let mut sent = 0;
            // Paths that end the walk or repeat a candidate are looked past, a bounded way.
            for next in likely_paths(&path, odds.clamp(0.3, 0.9)).take(4 * WIDTH) {
                if candidates >= budget || sent == WIDTH {
                    break;
                }
                let Some(ops) = generated.candidate(strategy, &next)? else { continue };
                if launched.insert(key(&ops)) {
                    running.push(judge(ops));
                    candidates += 1;
                    sent += 1;
                }
            }
        }
        let verdict = loop {
            if let Some(verdict) = verdicts.get(&wanted) {
                break Some(verdict.clone());
            }
            match running.next().await {
                Some((done, Ok(verdict))) => {
                    verdicts.insert(done, verdict);
                }
                Some((_, Err(err))) => {
                    failed = Some(err);
                    break None;
                }
                None => break None,
            }
        };
        match verdict {
            None => break,
            Some(Some(failure)) => {
                smallest = Some((candidate, failure));
                path.push(true);
                more = live.simplify();
            }
            Some(None) => {
                path.push(false);
                more = live.complicate();
            }
        }
    }
    // Speculation the walk did not need finishes, and cleans up after itself.
    while let Some((done, verdict)) = running.next().await {
        match verdict {
            Ok(verdict) => {
                verdicts.insert(done, verdict);
            }
            Err(err) => failed = failed.or(Some(err)),
        }
    }
    if let Some(err) = failed {
        return Err(err);
    }
    let reproduced = verdicts.get(&key(&original)).is_none_or(Option::is_some);
    Ok(Walked { smallest, ended, candidates, rounds, reproduced })
}

fn verdict(executed: Executed, rule: Rule) -> Verdict {
    let finding = executed.findings.into_iter().find(|finding| finding.rule == rule)?;
    Some((finding, executed.sent))
}

/// The paths below `from` the walk most likely takes, most likely first, when a candidate
/// still fails with probability `odds`: best first over the tree of decisions.
fn likely_paths(from: &[bool], odds: f64) -> impl Iterator<Item = Vec<bool>> {
    #[derive(PartialEq)]
    struct Node(f64, Vec<bool>);
    impl Eq for Node {}
    impl PartialOrd for Node {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Node {
        // Most likely first; among equals, the one that still fails first (true > false).
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            self.0.total_cmp(&other.0).then_with(|| self.1.cmp(&other.1))
        }
    }
    let mut heap = BinaryHeap::from([Node(1.0, from.to_vec())]);
    std::iter::from_fn(move || {
        let Node(likelihood, path) = heap.pop()?;
        if path.len() < MAX_STEPS {
            for (fails, chance) in [(true, odds), (false, 1.0 - odds)] {
                let mut next = path.clone();
                next.push(fails);
                heap.push(Node(likelihood * chance, next));
            }
        }
        Some(path)
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::property::generate;

    #[test]
    fn the_likely_paths_start_where_the_walk_stands_and_follow_the_odds() {
        let paths: Vec<Vec<bool>> = likely_paths(&[false], 0.8).take(4).collect();
        assert_eq!(paths, [vec![false], vec![false, true], vec![false, true, true], vec![false, true, true, true]]);
        let even: Vec<Vec<bool>> = likely_paths(&[], 0.5).take(3).collect();
        assert_eq!(even, [vec![], vec![true], vec![false]]);
    }

    /// Proptest's own walk, one candidate after the other.
    fn serial(mut tree: Box<dyn ValueTree<Value = Vec<Op>>>, fails: impl Fn(&[Op]) -> bool) -> Vec<Op> {
        let mut smallest = tree.current();
        if !tree.simplify() {
            return smallest;
        }
        for _ in 0..MAX_STEPS {
            let candidate = tree.current();
            if fails(&candidate) {
                smallest = candidate;
                if !tree.simplify() {
                    break;
                }
            } else if !tree.complicate() {
                break;
            }
        }
        smallest
    }

    /// A kind change on a slot after a create on it.
    fn changes_a_created_kind(ops: &[Op]) -> bool {
        ops.iter().enumerate().any(|(at, op)| match op {
            Op::Update { slot, put } if put.kind.is_some() => {
                ops[..at].iter().any(|before| matches!(before, Op::Create { slot: created, .. } if created == slot))
            }
            _ => false,
        })
    }

    /// Three reads of the tenant list or more.
    fn lists_thrice(ops: &[Op]) -> bool {
        ops.iter().filter(|op| matches!(op, Op::List)).count() >= 3
    }

    /// A delay from the candidate and `order`: every `order` answers in another order.
    fn delay(ops: &[Op], order: u64) -> Duration {
        let hash = format!("{ops:?}").bytes().fold(0xcbf2_9ce4_8422_2325_u64 ^ order, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
        Duration::from_millis(hash % 200)
    }

    #[tokio::test(start_paused = true)]
    async fn side_by_side_the_walk_ends_where_proptests_own_does_whatever_the_answer_order() {
        let tenant: Id = "0d6f3a52-8c1e-4b7a-9f2d-3e5c7a9b1d4f".parse().expect("id");
        let today = time::macros::date!(2026 - 12 - 01);
        let strategy = generate::ops(tenant, today, tenant, true).boxed();
        let mut runner = super::super::runner(11, 60);
        let mut compared = 0;
        for _ in 0..60 {
            let generated = Generated::draw(&mut runner);
            for fails in [changes_a_created_kind as fn(&[Op]) -> bool, lists_thrice] {
                let tree = generated.tree(&strategy).expect("tree");
                if !fails(&tree.current()) {
                    continue;
                }
                let expected = format!("{:?}", serial(tree, fails));
                for order in 0..3 {
                    let run = |ops: Vec<Op>| async move {
                        tokio::time::sleep(delay(&ops, order)).await;
                        Ok(fails(&ops).then_some(()))
                    };
                    let walked = walk(&strategy, &generated, u32::MAX, run).await.expect("walk");
                    let smallest = walked.smallest.map(|(ops, ())| format!("{ops:?}"));
                    assert_eq!(smallest.as_deref(), Some(expected.as_str()), "answer order {order}");
                    assert!(walked.ended && walked.reproduced, "the walk ends, with its budget unbounded");
                }
                compared += 1;
            }
        }
        assert!(compared >= 8, "only {compared} failing sequences were compared");
    }

    #[tokio::test(start_paused = true)]
    async fn a_walk_stops_at_its_budget_and_says_so() {
        let tenant: Id = "0d6f3a52-8c1e-4b7a-9f2d-3e5c7a9b1d4f".parse().expect("id");
        let strategy = generate::ops(tenant, time::macros::date!(2026 - 12 - 01), tenant, true).boxed();
        let mut runner = super::super::runner(3, 200);
        let generated = std::iter::repeat_with(|| Generated::draw(&mut runner))
            .find(|generated| generated.tree(&strategy).is_ok_and(|tree| tree.current().len() >= 6))
            .expect("a long sequence");
        let walked = walk(&strategy, &generated, 5, |_| async { Ok(Some(())) }).await.expect("walk");
        assert_eq!(walked.candidates, 5);
        assert!(!walked.ended, "a walk cut at its budget is not minimal");
    }
}
