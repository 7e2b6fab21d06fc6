//! The conformance harness: tells, rule by rule of `PROFILE.md`, whether a server keeps
//! the usage reports API contract.
//!
//! A run replays the contracts of `contracts/` ([`contract`], [`runner`]), checks every
//! answer against the published schemas ([`checks`], [`openapi`]), hammers one report
//! with parallel updates ([`concurrency`]) and runs generated operation sequences whose
//! answers the model predicts ([`property`]). Against the embedded reference server by
//! default, or any server given its base URL and client credentials.

pub mod baseline;
pub mod checks;
pub mod concurrency;
pub mod contract;
pub mod control;
pub mod drift;
pub mod error;
pub mod html;
mod known;
pub mod locate;
pub mod matcher;
pub mod mock;
pub mod openapi;
pub mod outcome;
pub mod pace;
pub mod property;
pub mod proxy;
pub mod record;
pub mod redact;
pub mod runner;
mod schema_error;
pub mod session;
mod stream;
pub mod template;
pub mod verdict;

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal as _;
use std::time::{Duration, Instant, SystemTime};

use futures_util::StreamExt as _;
use reportcheck_client::{ClientOptions, Secret};
use reportcheck_model::Rule;

pub use baseline::Baseline;
pub use contract::{Case, ContractSource, LoadedContract};
pub use control::RunControl;
pub use error::Error;
pub use outcome::{Check, Outcome, ProfileMode, RunReport, Source, Totals};
pub use session::ClientCredentials;

/// The server a run checks.
#[derive(Debug, Clone)]
pub enum Target {
    /// The embedded reference server, started for the run with this configuration.
    Embedded(reportcheck_server::Config),
    /// A server at `base_url` (ending in `/api/2`).
    Remote { base_url: String, client: ClientCredentials, second: Option<ClientCredentials> },
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub target: Target,
    pub contracts: ContractSource,
    /// Rule ID prefixes or parts of contract names to leave out (after `filter`).
    pub exclude: Vec<String>,
    /// A rule ID prefix or part of a contract name.
    pub filter: Option<String>,
    pub fail_fast: bool,
    /// Generated sequences for the property tests.
    pub cases: u32,
    /// Seed of the property tests; random when `None`.
    pub seed: Option<u64>,
    /// A tenant below the first client's, for the checks on its subtree (the embedded
    /// server's fixture has one).
    pub child_tenant: Option<reportcheck_model::Id>,
    /// Candidates one failing property rule's shrinking may send, speculation included;
    /// past it the counterexample is reported as smaller, not minimal.
    pub shrink_budget: u32,
    /// A class of the model's class map the run could reach and did not fails the run.
    pub fail_on_uncovered: bool,
    pub profile: ProfileMode,
    /// A progress line on standard error (only when it is a terminal).
    pub progress: bool,
    /// Caps how long a contract step polls (stored reports), below its own timeout.
    pub max_poll: Option<Duration>,
    /// Mock mode: also mount every answer on wiremock and check the typed client reads it.
    pub mock: bool,
    pub client: ClientOptions,
    /// Stops the run from outside, streams rule lines, tracks created reports.
    pub control: RunControl,
    /// Requests in flight at most; independent work (contracts, property sequences, the
    /// parallel-update check) runs side by side up to it.
    pub concurrency: usize,
    /// Requests started per second at most (gentle on production servers).
    pub rps: Option<f64>,
    /// Known failures: accepted, and marked known in every output.
    pub baseline: Option<Baseline>,
}

impl RunOptions {
    /// The defaults of `cargo xtask conformance`, against `target`.
    pub fn new(target: Target) -> RunOptions {
        RunOptions {
            target,
            contracts: ContractSource::Builtin,
            exclude: Vec::new(),
            filter: None,
            fail_fast: false,
            cases: 48,
            seed: None,
            child_tenant: None,
            shrink_budget: property::DEFAULT_SHRINK_BUDGET,
            fail_on_uncovered: false,
            profile: ProfileMode::Strict,
            progress: false,
            max_poll: None,
            mock: false,
            client: ClientOptions::default(),
            control: RunControl::default(),
            concurrency: DEFAULT_CONCURRENCY,
            rps: None,
            baseline: None,
        }
    }
}

/// Requests in flight at most, by default: the run is a hundred-odd independent chains
/// (contracts, sequences, sweeps), so this, not any one chain, bounds the time to verdict
/// over a real network; 64 gives a 200 ms server its verdict in under 10 s, and is
/// modest for a server that serves many clients (`--concurrency` lowers it).
pub const DEFAULT_CONCURRENCY: usize = 64;

/// Contracts replayed at the same time by `record` and `drift`.
const CONTRACTS_IN_FLIGHT: usize = 8;

/// The rules the property tests can check (for `--filter` and the coverage table).
const PROPERTY_RULES: &[Rule] = &[
    Rule::Auth3,
    Rule::Crt1,
    Rule::Crt2,
    Rule::Crt3,
    Rule::Crt4,
    Rule::Crt5,
    Rule::Crt6,
    Rule::Crt7,
    Rule::Get1,
    Rule::Get2,
    Rule::Get3,
    Rule::Lst1,
    Rule::Upd8,
    Rule::Del4,
    Rule::Sto1,
    Rule::Sto2,
    Rule::Sto3,
    Rule::Err1,
    Rule::Err3,
    Rule::Upd1,
    Rule::Upd2,
    Rule::Upd3,
    Rule::Upd4,
    Rule::Upd5,
    Rule::Upd6,
    Rule::Upd7,
    Rule::Del1,
    Rule::Del2,
    Rule::Del3,
    Rule::Sto4,
    Rule::Sec1,
    Rule::Err2,
];

/// Runs every selected check against the target. `Err` means the run could not be
/// made (exit code 2); failed checks are in the report. A run stopped through
/// [`RunOptions::control`] returns what it found so far, with `stopped` set. Every report
/// the run created is deleted at the end, stopped or not; those that could not be are in
/// `left_behind`.
pub async fn run(options: RunOptions) -> Result<RunReport, Error> {
    let started = (Instant::now(), SystemTime::now());
    let contracts = options.contracts.load()?;
    let seed = options.seed.unwrap_or_else(|| {
        u64::from_le_bytes(*reportcheck_model::Id::new_v4().as_uuid().as_bytes().first_chunk().unwrap_or(&[0; 8]))
    });
    let Opened { server: _server, base_url, mut session, problems } =
        open_with(&options.target, options.client.clone(), options.control.clone()).await?;
    session.pace = pace::Pace::new(options.concurrency, options.rps);
    session.child_tenant = options.child_tenant.or(session.child_tenant);
    options.control.line(&RunReport::header(&base_url, options.profile));
    let mut found = Found::default();
    // The setup's last request, the today probe's deletion, goes beside the checks.
    let (result, ()) = futures_util::join!(
        run_checks(&options, &session, &contracts, &problems, seed, &mut found),
        session.remove_probe()
    );
    let checked = result.map(|()| found);
    // Whatever happened, what the run created goes.
    let left_behind = session.clean_up().await;
    let found = match checked {
        Ok(found) => found,
        Err(err) => return Err(err.leaving(&left_behind)),
    };
    let mut report = RunReport {
        notes: [record::stale(&contracts), runner::notes(&found.observed)].concat(),
        target: base_url,
        profile: options.profile,
        seed,
        requests: session.requests(),
        concurrency: session.pace.concurrency(),
        rps: session.pace.rps(),
        started_at: started.1,
        duration: started.0.elapsed(),
        stopped: found.stopped,
        left_behind,
        durations: found.durations,
        totals: Totals::default(),
        checks: found.checks,
        classes: found.reached.map(|(reachable, reached)| {
            let map = reportcheck_model::classes::map();
            outcome::ClassCoverage::new(&map, &reachable, &reached, options.fail_on_uncovered)
        }),
        baseline: options.baseline.clone(),
    };
    report.totals = report.totals();
    Ok(report)
}

/// What the checks found so far.
#[derive(Debug, Default)]
struct Found {
    checks: Vec<Check>,
    observed: Vec<runner::Observed>,
    durations: BTreeMap<String, Duration>,
    /// Why the run stopped early.
    stopped: Option<String>,
    /// The classes the property tests could reach, and those they did (with counts).
    reached: Option<(Vec<reportcheck_model::classes::Class>, BTreeMap<reportcheck_model::classes::Class, u32>)>,
}

/// The rules a contract can report under the selection.
fn contract_rules(contract: &LoadedContract, all: bool, selection: &runner::Selection, mock: bool) -> Vec<Rule> {
    let mut rules: BTreeSet<Rule> = contract.rules();
    rules.extend(stream::IMPLICIT_RULES);
    if mock {
        rules.extend(Rule::ALL.iter().copied());
    }
    rules.into_iter().filter(|rule| selection.keeps(*rule, all)).collect()
}

/// Every selected check, in order: setup, contracts (side by side), concurrency,
/// properties. Stops early on `--fail-fast` or when the run is stopped; a fatal error
/// stops the other contracts before it is returned.
async fn run_checks(
    options: &RunOptions,
    session: &session::Session,
    contracts: &[LoadedContract],
    problems: &[(contract::Party, String)],
    seed: u64,
    found: &mut Found,
) -> Result<(), Error> {
    let spec = openapi::Spec::builtin();
    let selection = runner::Selection {
        filter: options.filter.clone(),
        exclude: options.exclude.clone(),
        max_poll: options.max_poll,
    };
    let control = &options.control;
    let mut stream = stream::RuleStream::new(control.clone(), options.profile, options.baseline.clone());
    let selected: Vec<(&LoadedContract, bool)> =
        contracts.iter().filter_map(|contract| selection.contract(contract).map(|all| (contract, all))).collect();
    let run_concurrency = selection.rule_selected(Rule::Upd9);
    let property_rules: Vec<Rule> =
        PROPERTY_RULES.iter().copied().filter(|rule| options.cases > 0 && selection.rule_selected(*rule)).collect();
    for (contract, all) in &selected {
        stream.expect(contract_rules(contract, *all, &selection, options.mock));
    }
    if run_concurrency {
        stream.expect([Rule::Upd9]);
    }
    stream.expect(property_rules.iter().copied());
    if selection.rule_selected(Rule::Auth4) {
        let setup = setup_checks(session, problems);
        stream.add(&setup);
        found.checks.extend(setup);
        stream.finished([]);
    }
    let result =
        run_sources(options, session, &spec, &selection, &selected, &property_rules, seed, &mut stream, found).await;
    stream.flush();
    match result {
        Err(Error::Stopped(reason)) => {
            found.stopped = Some(reason);
            Ok(())
        }
        other => other,
    }
}

#[expect(clippy::too_many_arguments, reason = "the run's parts, borrowed")]
async fn run_sources(
    options: &RunOptions,
    session: &session::Session,
    spec: &openapi::Spec,
    selection: &runner::Selection,
    selected: &[(&LoadedContract, bool)],
    property_rules: &[Rule],
    seed: u64,
    stream: &mut stream::RuleStream,
    found: &mut Found,
) -> Result<(), Error> {
    let control = &options.control;
    let show_progress = options.progress && std::io::stderr().is_terminal();
    // Contracts, the parallel-update check and the property sequences are independent
    // (each works on its own reports), so they run side by side, their requests bounded by
    // the session's pace; inside each, the order stays. --fail-fast runs them one by one
    // to stop at the first failure.
    // Contracts run side by side; the one order-sensitive check (a tenant list right
    // after a write, which another writer could refresh) is the property tests' quiet
    // phase.
    let busy = selected;
    let parallel = if options.fail_fast { 1 } else { busy.len().max(1) };
    let done = std::sync::atomic::AtomicUsize::new(0);
    let total = selected.len();
    let done_ref = &done;
    let mut runs = futures_util::stream::iter(busy.iter().map(|&(contract, all_rules)| async move {
        let started = Instant::now();
        let result = pace::chain(runner::run_contract(session, spec, contract, selection, all_rules)).await;
        let finished = done_ref.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if show_progress {
            eprint!("\r\x1b[2K[{finished}/{total}] {}", contract.contract.name);
        }
        (contract, all_rules, result, started.elapsed())
    }))
    .buffered(parallel);
    let run_updates = selection.rule_selected(Rule::Upd9);
    let updates = async {
        let started = Instant::now();
        let checks = if run_updates { Some(pace::chain(concurrency::check(session)).await) } else { None };
        (checks, started.elapsed())
    };
    let plan = property::Plan {
        cases: options.cases,
        seed,
        in_flight: options.concurrency,
        shrink_budget: options.shrink_budget,
    };
    let properties = async {
        let started = Instant::now();
        let checks = if property_rules.is_empty() { None } else { Some(property::check(session, plan).await) };
        (checks, started.elapsed())
    };
    let contracts = async {
        // A fatal error stops the other contracts, which then finish (their requests
        // that may create something included) before the error is returned.
        let mut fatal: Option<Error> = None;
        while let Some((contract, all_rules, result, elapsed)) = runs.next().await {
            let rules = contract_rules(contract, all_rules, selection, options.mock);
            let run = match result {
                Ok(run) => run,
                Err(err) => {
                    if !matches!(err, Error::Stopped(_)) && fatal.is_none() {
                        control.stop(format!("fatal: {err}"));
                        fatal = Some(err);
                    }
                    stream.finished(rules);
                    continue;
                }
            };
            if fatal.is_some() {
                continue;
            }
            absorb(options, session, spec, selection, stream, found, (contract, all_rules, run, elapsed)).await;
            if options.fail_fast && found.checks.iter().any(Check::is_failed) {
                break;
            }
        }
        fatal
    };
    let (fatal, (updates, updates_took), (properties, properties_took)) = if options.fail_fast {
        // One after the other: a failure stops what has not started.
        let fatal = contracts.await;
        let failed = |checks: &Option<Result<Vec<Check>, Error>>| matches!(checks, Some(Ok(checks)) if checks.iter().any(Check::is_failed));
        let updates = if fatal.is_some() || found.checks.iter().any(Check::is_failed) {
            (None, Duration::ZERO)
        } else {
            updates.await
        };
        let properties = if fatal.is_some() || found.checks.iter().any(Check::is_failed) || failed(&updates.0) {
            (None, Duration::ZERO)
        } else {
            properties.await
        };
        (fatal, updates, properties)
    } else {
        futures_util::future::join3(contracts, updates, properties).await
    };
    drop(runs);
    if let Some(err) = fatal {
        return Err(err);
    }
    // The quiet phase: what depends on nobody else writing, once nothing else is in flight.
    let properties = match properties {
        Some(Ok(mut checked))
            if control.stop_reason().is_none()
                && !(options.fail_fast && checked.checks.iter().any(Check::is_failed)) =>
        {
            let started = Instant::now();
            let quiet = property::quiet(session, plan).await;
            match quiet {
                Ok(quiet) => {
                    checked.checks.extend(quiet.checks);
                    for (class, count) in quiet.reached {
                        *checked.reached.entry(class).or_default() += count;
                    }
                    found.durations.insert("quiet phase".to_owned(), started.elapsed());
                    Some(Ok(checked))
                }
                Err(err) => Some(Err(err)),
            }
        }
        other => other,
    };
    let properties = properties.map(|checked| {
        checked.map(|checked| {
            found.reached = Some((checked.reachable, checked.reached));
            checked.checks
        })
    });
    for (checks, rules, source, took) in [
        (updates, vec![Rule::Upd9], Source::Concurrency, updates_took),
        (properties, property_rules.to_vec(), Source::Property, properties_took),
    ] {
        let Some(checks) = checks else { continue };
        let checks: Vec<Check> = checks?.into_iter().filter(|check| selection.rule_selected(check.rule)).collect();
        // A rule's line is printed once no source that can still report it is running:
        // a source reports only the rules it announced (the sweeps' STO-1/2/3 and ERR-3
        // among the properties'), else a line could read `ok` before a failure.
        debug_assert!(
            checks.iter().all(|check| rules.contains(&check.rule)),
            "{source} reported rules it did not announce: {:?}",
            checks.iter().map(|check| check.rule).filter(|rule| !rules.contains(rule)).collect::<Vec<_>>()
        );
        found.durations.insert(source.to_string(), took);
        stream.add(&checks);
        stream.finished(rules);
        found.checks.extend(checks);
    }
    if let Some(reason) = control.stop_reason() {
        return Err(Error::Stopped(reason));
    }
    if show_progress {
        eprint!("\r\x1b[2K");
    }
    Ok(())
}

/// A contract's checks into the run (with mock mode's client checks), its rules' lines
/// printed once no other source can report them.
async fn absorb(
    options: &RunOptions,
    session: &session::Session,
    spec: &openapi::Spec,
    selection: &runner::Selection,
    stream: &mut stream::RuleStream,
    found: &mut Found,
    (contract, all_rules, run, elapsed): (&LoadedContract, bool, runner::ContractRun, Duration),
) {
    let rules = contract_rules(contract, all_rules, selection, options.mock);
    let mut checks = run.checks;
    found.observed.extend(run.observed);
    found.durations.insert(Source::Contract(contract.contract.name.clone()).to_string(), elapsed);
    if options.mock {
        let started = Instant::now();
        let redact = |text: &str| session.redact(text);
        let mocked = mock::check_client(spec, &run.exchanges, &contract.contract.name, &redact).await;
        let took = started.elapsed();
        checks.extend(
            mocked.into_iter().filter(|check| selection.keeps(check.rule, all_rules)).map(|check| check.took(took)),
        );
        found.durations.insert(Source::Mock(contract.contract.name.clone()).to_string(), started.elapsed());
    }
    stream.add(&checks);
    stream.finished(rules);
    found.checks.extend(checks);
}

/// A connected run: the embedded server (kept alive while this lives) and the session.
pub struct Opened {
    pub server: Option<reportcheck_server::RunningServer>,
    pub base_url: String,
    pub session: session::Session,
    /// Clients whose `GET /clients/{id}` failed, and why.
    pub problems: Vec<(contract::Party, String)>,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

/// Starts the embedded server if that is the target, and connects both clients.
pub async fn open(target: &Target, client: ClientOptions) -> Result<Opened, Error> {
    open_with(target, client, RunControl::default()).await
}

/// [`open`], the session steered by `control`.
pub async fn open_with(target: &Target, client: ClientOptions, control: RunControl) -> Result<Opened, Error> {
    let (server, base_url, first, second) = match target {
        Target::Embedded(config) => {
            let server = reportcheck_server::spawn(config.clone()).await.map_err(Error::Server)?;
            let credentials = |index: usize| {
                server.fixture().clients.get(index).map(|client| ClientCredentials {
                    client_id: client.client_id.to_string(),
                    client_secret: client.client_secret.clone(),
                    bearer: None,
                })
            };
            let (first, second) = (credentials(0), credentials(1));
            let first = first.ok_or_else(|| Error::Options("the fixture has no client".to_owned()))?;
            let base_url = server.base_url().to_owned();
            (Some(server), base_url, first, second)
        }
        Target::Remote { base_url, client, second } => (None, base_url.clone(), client.clone(), second.clone()),
    };
    let (mut session, problems) = session::Session::connect_with(&base_url, first, second, client, control).await?;
    // An embedded server fixed at a date (a month's last day, New Year) runs on that
    // date; a live server's today is probed and trusted only near the UTC date.
    if let Target::Embedded(reportcheck_server::Config { today: Some(today), .. }) = target {
        session.today = *today;
    }
    // The embedded fixture's tenant below the first client's.
    if let Some(server) = &server {
        session.child_tenant = server
            .fixture()
            .tenants
            .iter()
            .find(|tenant| tenant.parent.is_some() && tenant.parent == session.a.tenant)
            .map(|tenant| tenant.id);
    }
    Ok(Opened { server, base_url, session, problems })
}

/// Replays every contract, eight at a time, keeping each one's checks and exchanges.
pub async fn replay_all<'c>(
    session: &session::Session,
    spec: &openapi::Spec,
    contracts: &'c [LoadedContract],
    max_poll: Option<Duration>,
) -> Result<Vec<(&'c LoadedContract, runner::ContractRun)>, Error> {
    let selection = runner::Selection { filter: None, exclude: Vec::new(), max_poll };
    let runs =
        futures_util::stream::iter(
            contracts.iter().map(|contract| {
                let selection = &selection;
                async move {
                    runner::run_contract(session, spec, contract, selection, true).await.map(|run| (contract, run))
                }
            }),
        )
        .buffered(CONTRACTS_IN_FLIGHT)
        .collect::<Vec<_>>()
        .await;
    // Whatever happened (a stop, a failure), what the contracts created goes; what could
    // not be deleted is named in the error.
    let left_behind = session.clean_up().await;
    runs.into_iter().collect::<Result<Vec<_>, Error>>().map_err(|err| err.leaving(&left_behind))
}

/// AUTH-4, from connecting: each client must learn its tenant from `GET /clients/{id}`.
fn setup_checks(session: &session::Session, problems: &[(contract::Party, String)]) -> Vec<Check> {
    let mut checks = Vec::new();
    for (party, side) in [(contract::Party::A, Some(&session.a)), (contract::Party::B, session.b.as_ref())] {
        let Some(side) = side else { continue };
        let problem = problems.iter().find(|(failed, _)| *failed == party).map(|(_, problem)| problem.clone());
        checks.push(Check {
            rule: Rule::Auth4,
            source: Source::Setup,
            name: format!("GET /clients/{} names the client's tenant", side.credentials.client_id),
            case: Case::Positive,
            outcome: match (side.tenant, problem) {
                (Some(_), _) => Outcome::Passed,
                (None, problem) => Outcome::Failed(outcome::Failure {
                    message: problem.unwrap_or_else(|| "no tenant".to_owned()),
                    ..outcome::Failure::default()
                }),
            },
            duration: Duration::ZERO,
        });
    }
    checks
}

/// Which contracts and built-in checks cover each rule, positively and negatively.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Coverage {
    pub positive: Vec<String>,
    pub negative: Vec<String>,
    /// Deliberate deviations of the reference server that the harness must catch.
    pub faults: Vec<String>,
}

/// The coverage table (rule ID -> sources) of these contracts and the built-in checks.
pub fn coverage(contracts: &[LoadedContract]) -> BTreeMap<Rule, Coverage> {
    let mut table: BTreeMap<Rule, Coverage> = Rule::ALL.iter().map(|rule| (*rule, Coverage::default())).collect();
    for contract in contracts {
        let mut seen: BTreeSet<(Rule, Case)> = BTreeSet::new();
        for expectation in contract.contract.steps.iter().flat_map(|step| &step.expect) {
            seen.insert((expectation.rule, expectation.case()));
        }
        for (rule, case) in seen {
            let entry = table.entry(rule).or_default();
            let list = if case == Case::Positive { &mut entry.positive } else { &mut entry.negative };
            list.push(contract.contract.name.clone());
        }
    }
    let builtin = |table: &mut BTreeMap<Rule, Coverage>, rule: Rule, case: Case, name: &str| {
        let entry = table.entry(rule).or_default();
        let list = if case == Case::Positive { &mut entry.positive } else { &mut entry.negative };
        list.push(format!("({name})"));
    };
    for rule in [Rule::Sch1, Rule::Sch2, Rule::Sch3, Rule::Err3] {
        builtin(&mut table, rule, Case::Positive, "every answer");
    }
    for rule in [Rule::Err1, Rule::Err3, Rule::Sec2] {
        builtin(&mut table, rule, Case::Negative, "every error answer");
    }
    builtin(&mut table, Rule::Auth4, Case::Positive, "setup");
    builtin(&mut table, Rule::Upd9, Case::Positive, "concurrency");
    builtin(&mut table, Rule::Upd9, Case::Negative, "concurrency");
    for rule in PROPERTY_RULES {
        builtin(&mut table, *rule, Case::Positive, "properties");
    }
    for fault in reportcheck_server::Fault::ALL {
        table.entry(fault.rule()).or_default().faults.push(fault.name().to_owned());
    }
    table
}

/// The coverage table as text.
pub fn coverage_text(table: &BTreeMap<Rule, Coverage>) -> String {
    let mut out = String::from("rule     level       positive cases / negative cases / deviations caught\n");
    for (rule, coverage) in table {
        let list = |items: &[String]| if items.is_empty() { "NONE".to_owned() } else { items.join(", ") };
        out.push_str(&format!(
            "{:<8} {:<11} + {}\n{:<21}- {}\n{:<21}! {}\n",
            rule.id(),
            rule.level().as_str(),
            list(&coverage.positive),
            "",
            list(&coverage.negative),
            "",
            list(&coverage.faults)
        ));
    }
    out
}

/// Client credentials from plain strings.
pub fn credentials(client_id: impl Into<String>, client_secret: impl Into<String>) -> ClientCredentials {
    ClientCredentials { client_id: client_id.into(), client_secret: Secret::new(client_secret.into()), bearer: None }
}

/// A client id with a ready bearer token instead of its secret.
pub fn bearer_credentials(client_id: impl Into<String>, token: impl Into<String>) -> ClientCredentials {
    ClientCredentials {
        client_id: client_id.into(),
        client_secret: Secret::new(String::new()),
        bearer: Some(Secret::new(token.into())),
    }
}
