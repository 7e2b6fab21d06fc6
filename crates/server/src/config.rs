//! How a reference server instance behaves where the profile leaves a choice.

use std::sync::Arc;
use std::time::Duration;

use reportcheck_model::Date;

use reportcheck_model::Freedom;

use crate::fault::{Faults, Variations};
use crate::request_log::RequestLog;
use crate::traffic::{Chaos, Latency};

/// The save delay of the save-delay variation: slow, but within a run's polling timeout.
pub const SLOW_SAVE: Duration = Duration::from_millis(900);

/// Settings of one server instance. `Config::default()` is the reference behaviour.
#[derive(Debug, Clone)]
pub struct Config {
    /// Fixes the server's "today"; `None` reads the UTC clock.
    pub today: Option<Date>,
    /// How long an access token lives (the platform's is two hours).
    pub token_lifetime: Duration,
    /// How long a stored report stays `in_progress` before it is `saved` (at least
    /// [`SLOW_SAVE`] with the save-delay variation).
    pub save_delay: Duration,
    /// The largest request body accepted; larger ones get 413.
    pub max_body_bytes: usize,
    /// Connections held open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// How long a connection may take to send a request's line and headers before it is
    /// closed (idle keep-alive connections included).
    pub header_read_timeout: Duration,
    /// How versions are numbered (Unix milliseconds with the version variation).
    pub versions: VersionScheme,
    /// Deliberate deviations (empty for the reference behaviour).
    pub faults: Faults,
    /// Conformant choices other than the reference server's.
    pub variations: Variations,
    /// Which admissible branch the server takes, and how it chooses what no rule claims.
    pub pick: Pick,
    /// A claim of the decider negated under one class of the class map (`None`: none).
    pub mutant: Option<crate::mutant::Mutant>,
    /// The rules whose claims the mutant negated, as it applied them.
    pub mutations: crate::mutant::MutationLog,
    /// A share of requests answered 503 or 429 with `Retry-After`, not applied (`None`:
    /// none; no rule's business, for client maintainers).
    pub chaos: Option<Chaos>,
    /// Each answer held back this long (`None`: at once).
    pub latency: Option<Latency>,
    /// One JSON line per request, with the rule verdict (`None`: no log).
    pub log: Option<Arc<RequestLog>>,
}

/// How the server chooses among the outcomes the decider admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pick {
    /// Always the reference branch (the first), with the reference values.
    #[default]
    Reference,
    /// Any admissible branch per request, drawn from this seed, and random values for
    /// everything no claim covers: which broken rule a refusal names and with which
    /// admitted status, an omitted `schedule.enabled`, omitted flags, a monthly report's
    /// date, version steps, one stored report per entry or per distinct format, and a
    /// property that changes on every answer. Derived from the decider's branches and
    /// claims, so the harness passing it tests the allow-list itself.
    Seeded(u64),
}

/// Version numbering; the profile allows any increasing integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionScheme {
    /// 1, 2, 3, ...
    Sequential,
    /// Milliseconds since the Unix epoch, bumped when two writes share a millisecond.
    UnixMillis,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            today: None,
            token_lifetime: Duration::from_secs(2 * 60 * 60),
            save_delay: Duration::from_millis(50),
            max_body_bytes: 64 * 1024,
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(30),
            versions: VersionScheme::Sequential,
            faults: Faults::new(),
            variations: Variations::default(),
            pick: Pick::Reference,
            mutant: None,
            mutations: crate::mutant::MutationLog::default(),
            chaos: None,
            latency: None,
            log: None,
        }
    }
}

impl Config {
    /// The any-branch server of `seed`: [`Pick::Seeded`], with a subset of the variations
    /// drawn from the same seed.
    pub fn any_branch(seed: u64) -> Config {
        let mut rng = fastrand::Rng::with_seed(seed);
        let variations = Freedom::ALL
            .iter()
            .filter(|_| rng.bool())
            .fold(Variations::default(), |variations, freedom| variations.with(*freedom));
        Config { variations, pick: Pick::Seeded(seed), ..Config::default() }
    }

    /// How long stored reports take to reach `saved`, the variation considered.
    pub fn effective_save_delay(&self) -> Duration {
        if self.variations.has(Freedom::SaveDelay) { self.save_delay.max(SLOW_SAVE) } else { self.save_delay }
    }

    /// How versions are numbered, the variation considered.
    pub fn effective_versions(&self) -> VersionScheme {
        if self.variations.has(Freedom::Version) { VersionScheme::UnixMillis } else { self.versions }
    }
}
