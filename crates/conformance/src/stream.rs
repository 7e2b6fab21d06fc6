//! Each rule's line, printed as soon as every source that can check the rule is done.

use std::collections::{BTreeMap, BTreeSet};

use reportcheck_model::Rule;

use crate::baseline::Baseline;
use crate::control::RunControl;
use crate::outcome::{Check, ProfileMode, Tally, rule_line};

/// Rules every answer is checked against, whatever the contract.
pub(crate) const IMPLICIT_RULES: &[Rule] = &[Rule::Sch1, Rule::Sch2, Rule::Sch3, Rule::Err1, Rule::Err3, Rule::Sec2];

/// Where a run's checks come from, each with the rules it may report.
#[derive(Debug)]
pub(crate) struct RuleStream {
    control: RunControl,
    profile: ProfileMode,
    baseline: Option<Baseline>,
    /// How many unfinished sources may still report each rule.
    pending: BTreeMap<Rule, usize>,
    tally: BTreeMap<Rule, Tally>,
    printed: BTreeSet<Rule>,
}

impl RuleStream {
    pub(crate) fn new(control: RunControl, profile: ProfileMode, baseline: Option<Baseline>) -> RuleStream {
        RuleStream {
            control,
            profile,
            baseline,
            pending: BTreeMap::new(),
            tally: BTreeMap::new(),
            printed: BTreeSet::new(),
        }
    }

    /// A source that will report some of `rules`.
    pub(crate) fn expect(&mut self, rules: impl IntoIterator<Item = Rule>) {
        for rule in rules.into_iter().collect::<BTreeSet<_>>() {
            *self.pending.entry(rule).or_default() += 1;
        }
    }

    pub(crate) fn add(&mut self, checks: &[Check]) {
        for check in checks {
            let known = self.baseline.as_ref().is_some_and(|baseline| baseline.knows(check));
            self.tally.entry(check.rule).or_default().add(check, known);
        }
    }

    /// A source announced with `rules` is done: print the rules nothing else can report.
    pub(crate) fn finished(&mut self, rules: impl IntoIterator<Item = Rule>) {
        for rule in rules.into_iter().collect::<BTreeSet<_>>() {
            if let Some(count) = self.pending.get_mut(&rule) {
                *count = count.saturating_sub(1);
            }
        }
        let done: Vec<Rule> =
            self.tally.keys().filter(|rule| self.pending.get(rule).is_none_or(|count| *count == 0)).copied().collect();
        for rule in done {
            self.print(rule);
        }
    }

    /// Prints every rule not printed yet (the run is over, or stopped).
    pub(crate) fn flush(&mut self) {
        let rules: Vec<Rule> = self.tally.keys().copied().collect();
        for rule in rules {
            self.print(rule);
        }
    }

    fn print(&mut self, rule: Rule) {
        if self.printed.insert(rule)
            && let Some(tally) = self.tally.get(&rule)
        {
            let blocks =
                self.profile == ProfileMode::Strict || rule.level() == reportcheck_model::rules::Level::Documented;
            self.control.line(&rule_line(rule, *tally, blocks));
        }
    }
}
