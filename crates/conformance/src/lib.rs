//! The conformance harness: tells, rule by rule of `PROFILE.md`, whether a server keeps
//! the usage reports API contract.
//!
//! A run replays the contracts of `contracts/` ([`contract`], [`runner`]), checks every
//! answer against the published schemas ([`checks`], [`openapi`]), hammers one report
//! with parallel updates ([`concurrency`]) and runs generated operation sequences whose
//! answers the model predicts ([`property`]). Against the embedded reference server by
//! default, or any server given its base URL and client credentials.

pub mod checks;
pub mod concurrency;
pub mod contract;
pub mod drift;
pub mod error;
pub mod html;
pub mod locate;
pub mod matcher;
pub mod mock;
pub mod openapi;
pub mod outcome;
pub mod property;
pub mod record;
pub mod redact;
pub mod runner;
pub mod session;
pub mod template;

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Instant;

use futures_util::StreamExt as _;
use reportcheck_client::{ClientOptions, Secret};
use reportcheck_model::Rule;

pub use contract::{Case, LoadedContract};
pub use error::Error;
pub use outcome::{Check, Outcome, ProfileMode, RunReport, Source};
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
    pub contracts: PathBuf,
    /// A rule ID prefix or part of a contract name.
    pub filter: Option<String>,
    pub fail_fast: bool,
    /// Generated sequences for the property tests.
    pub cases: u32,
    /// Seed of the property tests; random when `None`.
    pub seed: Option<u64>,
    pub profile: ProfileMode,
    /// A progress line on standard error (only when it is a terminal).
    pub progress: bool,
    /// Caps how long a contract step polls (stored reports), below its own timeout.
    pub max_poll: Option<std::time::Duration>,
    /// Mock mode: also mount every answer on wiremock and check the typed client reads it.
    pub mock: bool,
    pub client: ClientOptions,
}

impl RunOptions {
    /// The defaults of `cargo xtask conformance`, against `target`.
    pub fn new(target: Target) -> RunOptions {
        RunOptions {
            target,
            contracts: default_contracts_dir(),
            filter: None,
            fail_fast: false,
            cases: 48,
            seed: None,
            profile: ProfileMode::Strict,
            progress: false,
            max_poll: None,
            mock: false,
            client: ClientOptions::default(),
        }
    }
}

/// `contracts/` of this repository.
pub fn default_contracts_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../contracts"))
}

/// Contracts replayed at the same time.
const CONTRACTS_IN_FLIGHT: usize = 8;

/// The rules the property tests can check (for `--filter` and the coverage table).
const PROPERTY_RULES: &[Rule] = &[
    Rule::Crt1,
    Rule::Crt2,
    Rule::Crt3,
    Rule::Crt4,
    Rule::Crt7,
    Rule::Get1,
    Rule::Lst1,
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
/// made (exit code 2); failed checks are in the report.
pub async fn run(options: RunOptions) -> Result<RunReport, Error> {
    let started = Instant::now();
    let contracts = contract::load_dir(&options.contracts)?;
    let spec = openapi::Spec::builtin();
    let selection = runner::Selection { filter: options.filter.clone(), max_poll: options.max_poll };
    let seed = options.seed.unwrap_or_else(|| {
        u64::from_le_bytes(*reportcheck_model::Id::new_v4().as_uuid().as_bytes().first_chunk().unwrap_or(&[0; 8]))
    });
    let Opened { server: _server, base_url, session, problems } = open(&options.target, options.client.clone()).await?;
    let mut checks = Vec::new();
    let mut observed = Vec::new();
    if selection.rule_selected(Rule::Auth4) {
        checks.extend(setup_checks(&session, &problems));
    }
    let selected: Vec<(&LoadedContract, bool)> =
        contracts.iter().filter_map(|contract| selection.contract(contract).map(|all| (contract, all))).collect();
    let show_progress = options.progress && std::io::stderr().is_terminal();
    // Contracts are independent, so they run side by side (most of their time is spent
    // waiting for stored reports); --fail-fast runs them one by one to stop at once.
    let parallel = if options.fail_fast { 1 } else { CONTRACTS_IN_FLIGHT };
    let done = std::sync::atomic::AtomicUsize::new(0);
    let total = selected.len();
    let (session_ref, spec_ref, selection_ref, done_ref) = (&session, &spec, &selection, &done);
    let mut runs = futures_util::stream::iter(selected.iter().map(|&(contract, all_rules)| async move {
        let found = runner::run_contract(session_ref, spec_ref, contract, selection_ref, all_rules).await;
        let finished = done_ref.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if show_progress {
            eprint!("\r\x1b[2K[{finished}/{total}] {}", contract.contract.name);
        }
        (contract, all_rules, found)
    }))
    .buffered(parallel);
    while let Some((contract, all_rules, found)) = runs.next().await {
        let found = found?;
        checks.extend(found.checks);
        observed.extend(found.observed);
        if options.mock {
            let redact = |text: &str| session.redact(text);
            let found = mock::check_client(&spec, &found.exchanges, &contract.contract.name, &redact).await;
            checks.extend(found.into_iter().filter(|check| all_rules || selection.rule_selected(check.rule)));
        }
        if options.fail_fast && checks.iter().any(Check::is_failed) {
            break;
        }
    }
    drop(runs);
    let stop = options.fail_fast && checks.iter().any(Check::is_failed);
    if !stop && selection.rule_selected(Rule::Upd9) {
        if show_progress {
            eprint!("\r\x1b[2K[concurrency] parallel updates");
        }
        checks.extend(concurrency::check(&session).await?);
    }
    let stop = options.fail_fast && checks.iter().any(Check::is_failed);
    if !stop && options.cases > 0 && PROPERTY_RULES.iter().any(|rule| selection.rule_selected(*rule)) {
        if show_progress {
            eprint!("\r\x1b[2K[properties] {} generated sequences, seed {seed}", options.cases);
        }
        let found = property::check(&session, options.cases, seed).await?;
        checks.extend(found.into_iter().filter(|check| selection.rule_selected(check.rule)));
    }
    if show_progress {
        eprint!("\r\x1b[2K");
    }
    Ok(RunReport {
        notes: [record::stale(&contracts), runner::notes(&observed)].concat(),
        target: base_url,
        profile: options.profile,
        seed,
        requests: session.requests(),
        duration: started.elapsed(),
        checks,
    })
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
    let (server, base_url, first, second) = match target {
        Target::Embedded(config) => {
            let server = reportcheck_server::spawn(config.clone()).await.map_err(Error::Server)?;
            let credentials = |index: usize| {
                server.fixture().clients.get(index).map(|client| ClientCredentials {
                    client_id: client.client_id.to_string(),
                    client_secret: client.client_secret.clone(),
                })
            };
            let (first, second) = (credentials(0), credentials(1));
            let first = first.ok_or_else(|| Error::Options("the fixture has no client".to_owned()))?;
            let base_url = server.base_url().to_owned();
            (Some(server), base_url, first, second)
        }
        Target::Remote { base_url, client, second } => (None, base_url.clone(), client.clone(), second.clone()),
    };
    let (session, problems) = session::Session::connect(&base_url, first, second, client).await?;
    Ok(Opened { server, base_url, session, problems })
}

/// Replays every contract, eight at a time, keeping each one's checks and exchanges.
pub async fn replay_all<'c>(
    session: &session::Session,
    spec: &openapi::Spec,
    contracts: &'c [LoadedContract],
    max_poll: Option<std::time::Duration>,
) -> Result<Vec<(&'c LoadedContract, runner::ContractRun)>, Error> {
    let selection = runner::Selection { filter: None, max_poll };
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
    runs.into_iter().collect()
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
    ClientCredentials { client_id: client_id.into(), client_secret: Secret::new(client_secret.into()) }
}
