//! `reportcheck proxy`: between any client and any server, every request and answer
//! forwarded unchanged (`forward.rs`) and judged by rule on both sides (`judge.rs`), with
//! the state learned from the traffic. It sends nothing of its own unless asked
//! (`--probe` reads a report it does not know before judging a write to it).

mod forward;
mod judge;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use self::judge::Judge;
pub use self::judge::{Counts, Finding, Judged, Side};
use crate::contract::Case;
use crate::error::Error;
use crate::outcome::{Check, Failure, Outcome, ProfileMode, RunReport, Source, Totals};

/// How a proxy runs.
#[derive(Debug, Clone)]
pub struct ProxyOptions {
    /// The server's API base (`https://host/api/2`).
    pub upstream: String,
    pub listen: SocketAddr,
    /// Read a report the proxy does not know before judging a write to it.
    pub probe: bool,
    /// How long the upstream may take to start answering.
    pub request_timeout: Duration,
    /// Keep the traffic judged with state, for [`Proxy::recorded`].
    pub record: bool,
}

/// What the forwarding handler shares.
pub struct Shared {
    /// The upstream's scheme and authority (`https://host`).
    origin: String,
    client: forward::Upstream,
    judge: Judge,
    probe: bool,
    request_timeout: Duration,
    /// Exchanges whose answer is still streaming, judged when it ends.
    pending: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("origin", &self.origin).finish_non_exhaustive()
    }
}

/// A running proxy.
#[derive(Debug)]
pub struct Proxy {
    pub addr: SocketAddr,
    upstream: String,
    shared: Arc<Shared>,
    started: (Instant, SystemTime),
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

/// What a stopped proxy judged: by side, as a run report (for the summary, JUnit, JSON
/// and HTML), and with `--record` as a contract.
#[derive(Debug)]
pub struct Stopped {
    pub judged: Judged,
    pub report: RunReport,
    pub recorded: Option<crate::contract::Contract>,
}

/// How long a stopping proxy waits for answers still streaming before it reports.
const DRAIN: Duration = Duration::from_secs(5);

impl Proxy {
    /// Listens on `options.listen`; every finding goes to `on_finding` as it is made.
    pub async fn start(options: ProxyOptions, on_finding: Box<dyn Fn(&Finding) + Send + Sync>) -> Result<Proxy, Error> {
        let (origin, base) = split_base(&options.upstream)?;
        let shared = Arc::new(Shared {
            origin,
            client: forward::upstream()?,
            judge: Judge::new(&base, options.record, on_finding),
            probe: options.probe,
            request_timeout: options.request_timeout,
            pending: Arc::default(),
        });
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .map_err(|err| Error::Options(format!("cannot listen on {}: {err}", options.listen)))?;
        let addr = listener.local_addr().map_err(|err| Error::Options(format!("no local address: {err}")))?;
        let router = axum::Router::new().fallback(forward::forward).with_state(Arc::clone(&shared));
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Proxy {
            addr,
            upstream: options.upstream,
            shared,
            started: (Instant::now(), SystemTime::now()),
            shutdown: Some(shutdown),
            task,
        })
    }

    /// The base URL a client uses instead of the upstream's.
    pub fn base_url(&self) -> String {
        let (_, base) = split_base(&self.upstream).unwrap_or_default();
        format!("http://{}{base}", self.addr)
    }

    /// `--record`: the traffic judged with state, as a contract pinned by the claims.
    pub fn recorded(&self) -> Option<crate::contract::Contract> {
        self.shared.judge.recorded()
    }

    /// What was judged so far.
    pub fn judged(&self) -> Judged {
        self.shared.judge.report_so_far()
    }

    /// Stops listening, lets the answers still streaming end (for at most a few
    /// seconds), and returns what was judged.
    pub async fn stop(mut self) -> Stopped {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let deadline = Instant::now() + DRAIN;
        let _ = tokio::time::timeout(DRAIN, &mut self.task).await;
        while self.shared.pending.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.task.abort();
        let judged = self.judged();
        let report = self.run_report(&judged);
        Stopped { report, recorded: self.recorded(), judged }
    }

    /// The judged traffic as a run report (for the summary, JUnit, JSON and HTML): one
    /// failed check per finding, one passed check per side, rule and case exercised
    /// without one.
    pub fn run_report(&self, judged: &Judged) -> RunReport {
        let mut checks: Vec<Check> = judged
            .passed
            .iter()
            .map(|(side, rule, case)| Check {
                rule: *rule,
                source: Source::Proxy(side.name().to_owned()),
                name: format!("traffic judged on the {} side", side.name()),
                case: *case,
                outcome: Outcome::Passed,
                duration: Duration::ZERO,
            })
            .collect();
        checks.extend(judged.findings.iter().map(|finding| Check {
            rule: finding.rule,
            source: Source::Proxy(finding.side.name().to_owned()),
            name: finding.request.lines().next().unwrap_or_default().to_owned(),
            case: if finding.side == Side::Client { Case::Negative } else { Case::Positive },
            outcome: Outcome::Failed(Failure {
                message: match finding.instead {
                    Some(instead) => format!("{}\na correct client: {instead}", finding.message),
                    None => finding.message.clone(),
                },
                request: Some(finding.request.clone()),
                actual: Some(finding.answer.clone()),
                ..Failure::default()
            }),
            duration: Duration::ZERO,
        }));
        let mut report = RunReport {
            notes: Vec::new(),
            target: self.upstream.clone(),
            profile: ProfileMode::Strict,
            seed: 0,
            requests: judged.counts.exchanges,
            concurrency: 0,
            rps: None,
            started_at: self.started.1,
            duration: self.started.0.elapsed(),
            stopped: None,
            left_behind: Vec::new(),
            durations: Default::default(),
            totals: Totals::default(),
            checks,
            classes: None,
            baseline: None,
        };
        report.totals = report.totals();
        report
    }
}

impl Judged {
    /// The findings of one side.
    pub fn of(&self, side: Side) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |finding| finding.side == side)
    }

    /// The summary printed on exit.
    pub fn summary(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let Counts { exchanges, with_state, without_state, not_judged, unanswered } = self.counts;
        let _ = writeln!(
            out,
            "\n{exchanges} exchanges: {with_state} judged with the known state, {without_state} without it, \
             {not_judged} outside the API, {unanswered} without an answer"
        );
        for side in [Side::Client, Side::Server] {
            let mut by_rule: std::collections::BTreeMap<reportcheck_model::Rule, usize> = Default::default();
            for finding in self.of(side) {
                *by_rule.entry(finding.rule).or_default() += 1;
            }
            let total: usize = by_rule.values().sum();
            let rules: Vec<String> = by_rule.iter().map(|(rule, count)| format!("{rule} {count}")).collect();
            let listed = if rules.is_empty() { String::new() } else { format!(": {}", rules.join(", ")) };
            let _ = writeln!(out, "{} findings: {total}{listed}", side.name());
        }
        for (side, rules) in &self.exercised {
            let ids: Vec<&str> = rules.iter().map(|rule| rule.id()).collect();
            let _ = writeln!(out, "rules exercised on the {} side: {}", side.name(), ids.join(" "));
        }
        let never: Vec<&str> = self.never_exercised.iter().map(|rule| rule.id()).collect();
        let _ = writeln!(
            out,
            "rules never exercised: {}",
            if never.is_empty() { "none".to_owned() } else { never.join(" ") }
        );
        out
    }
}

/// `https://host:port/api/2` as its origin and its base path.
fn split_base(upstream: &str) -> Result<(String, String), Error> {
    let url: reqwest::Url =
        upstream.parse().map_err(|err| Error::Options(format!("--upstream `{upstream}` is no URL: {err}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::Options(format!("--upstream `{upstream}` must be an http or https URL with a host")));
    }
    let origin = url.origin().ascii_serialization();
    Ok((origin, url.path().trim_end_matches('/').to_owned()))
}
