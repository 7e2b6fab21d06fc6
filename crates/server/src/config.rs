//! How a reference server instance behaves where the profile leaves a choice.

use std::time::Duration;

use reportcheck_model::Date;

use reportcheck_model::Freedom;

use crate::fault::{Faults, Variations};

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
    /// How versions are numbered (Unix milliseconds with the version variation).
    pub versions: VersionScheme,
    /// Deliberate deviations (empty for the reference behaviour).
    pub faults: Faults,
    /// Conformant choices other than the reference server's.
    pub variations: Variations,
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
            versions: VersionScheme::Sequential,
            faults: Faults::new(),
            variations: Variations::default(),
        }
    }
}

impl Config {
    /// How long stored reports take to reach `saved`, the variation considered.
    pub fn effective_save_delay(&self) -> Duration {
        if self.variations.has(Freedom::SaveDelay) { self.save_delay.max(SLOW_SAVE) } else { self.save_delay }
    }

    /// How versions are numbered, the variation considered.
    pub fn effective_versions(&self) -> VersionScheme {
        if self.variations.has(Freedom::Version) { VersionScheme::UnixMillis } else { self.versions }
    }
}
