//! Conditions of the network and the platform a client has to live with, for client
//! maintainers (`serve --chaos`, `--latency`): busy answers (503 or 429 with
//! `Retry-After`, the request not applied) and slow ones. Neither is a rule of PROFILE.md;
//! `Config::default()` has neither, so conformance runs never see them.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;

use crate::failure::{Failure, TokenFailure};

/// The `Retry-After` seconds of a chaos answer: drawn from these, small enough for a
/// client's retries to be watched live.
pub const CHAOS_RETRY_AFTER: std::ops::RangeInclusive<u64> = 1..=2;

/// A share of requests answered as if the platform were busy: 503 or 429 (drawn alike),
/// with `Retry-After` and an error body in the endpoint's format (`errorScheme`;
/// `tokenError` at the token endpoint, which is included: the platform's gateway throttles
/// every endpoint, and a client must retry a busy token endpoint too). The request is not
/// applied: the answer comes before the request reaches the handler.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chaos {
    probability: f64,
    /// Seeds the draws (which request gets a busy answer, which status, which delay):
    /// the same seed and the same sequence of requests give the same answers.
    pub seed: u64,
}

/// A probability outside 0..=1.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{0}` is not a probability between 0 and 1 (0.2: one request in five)")]
pub struct InvalidProbability(pub String);

impl Chaos {
    pub fn new(probability: f64, seed: u64) -> Result<Chaos, InvalidProbability> {
        if !(0.0..=1.0).contains(&probability) {
            return Err(InvalidProbability(probability.to_string()));
        }
        Ok(Chaos { probability, seed })
    }

    pub fn probability(&self) -> f64 {
        self.probability
    }

    /// A probability as typed (`0.25`), checked.
    pub fn parse_probability(text: &str) -> Result<f64, InvalidProbability> {
        match text.trim().parse::<f64>() {
            Ok(probability) if (0.0..=1.0).contains(&probability) => Ok(probability),
            _ => Err(InvalidProbability(text.to_owned())),
        }
    }
}

/// How long each answer is held back: a fixed delay, or one drawn from `min..=max` per
/// request. The request is applied at once; only its answer waits, so a client that
/// times out must still cope with a write that happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latency {
    pub min: Duration,
    pub max: Duration,
}

/// A latency that is neither `MS` nor `MIN-MAX` milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a delay in milliseconds: `MS` (250) or `MIN-MAX` (100-400, MIN at most MAX), at most 600000 (ten minutes)"
)]
pub struct InvalidLatency(pub String);

impl FromStr for Latency {
    type Err = InvalidLatency;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidLatency(text.to_owned());
        let millis = |part: &str| part.trim().parse::<u64>().map(Duration::from_millis).map_err(|_| invalid());
        let (min, max) = match text.split_once('-') {
            Some((min, max)) => (millis(min)?, millis(max)?),
            None => (millis(text)?, millis(text)?),
        };
        if min > max || max > Duration::from_secs(600) {
            return Err(invalid());
        }
        Ok(Latency { min, max })
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            write!(f, "{} ms", self.min.as_millis())
        } else {
            write!(f, "{}-{} ms", self.min.as_millis(), self.max.as_millis())
        }
    }
}

/// The draws of chaos and latency, from one generator.
#[derive(Debug)]
pub struct Traffic {
    chaos: Option<Chaos>,
    latency: Option<Latency>,
    rng: Mutex<fastrand::Rng>,
}

impl Traffic {
    pub fn new(chaos: Option<Chaos>, latency: Option<Latency>) -> Traffic {
        let seed = chaos.map_or(0, |chaos| chaos.seed);
        Traffic { chaos, latency, rng: Mutex::new(fastrand::Rng::with_seed(seed)) }
    }

    /// The busy answer for the next request, if the draw says so: its status and
    /// `Retry-After` seconds.
    fn busy(&self) -> Option<(StatusCode, u64)> {
        let chaos = self.chaos?;
        let mut rng = self.rng.lock();
        if rng.f64() >= chaos.probability {
            return None;
        }
        let status = if rng.bool() { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::TOO_MANY_REQUESTS };
        Some((status, rng.u64(CHAOS_RETRY_AFTER)))
    }

    fn delay(&self) -> Option<Duration> {
        let latency = self.latency?;
        let min = u64::try_from(latency.min.as_millis()).unwrap_or(u64::MAX);
        let max = u64::try_from(latency.max.as_millis()).unwrap_or(u64::MAX);
        Some(Duration::from_millis(self.rng.lock().u64(min..=max)))
    }
}

/// Inside the answer-shaping layers: a busy answer instead of the request, by the draw.
pub async fn chaos(State(traffic): State<Arc<Traffic>>, request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/2/");
    let Some((status, seconds)) = api.then(|| traffic.busy()).flatten() else { return next.run(request).await };
    crate::request_log::chaos(status.as_u16());
    let reason = if status == StatusCode::TOO_MANY_REQUESTS { "Too many requests" } else { "The service is busy" };
    let message =
        format!("{reason}; retry after {seconds} s (reportcheck serve --chaos: the request was not applied).");
    let mut response = if request.uri().path() == "/api/2/idp/token" {
        TokenFailure::new(status, "temporarily_unavailable", &message).into_response()
    } else {
        Failure::new(status, message).into_response()
    };
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// Outside them: the answer held back by the drawn delay.
pub async fn delay(State(traffic): State<Arc<Traffic>>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(delay) = traffic.delay() {
        tokio::time::sleep(delay).await;
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_and_probabilities_parse() {
        let ms = Duration::from_millis;
        let cases: [(&str, Option<(Duration, Duration)>); 7] = [
            ("250", Some((ms(250), ms(250)))),
            ("100-400", Some((ms(100), ms(400)))),
            (" 0 ", Some((ms(0), ms(0)))),
            ("400-100", None),
            ("-5", None),
            ("fast", None),
            ("700000", None),
        ];
        for (text, wanted) in cases {
            assert_eq!(text.parse::<Latency>().ok().map(|latency| (latency.min, latency.max)), wanted, "{text}");
        }
        for (text, ok) in [("0", true), ("1", true), ("0.25", true), ("1.5", false), ("-0.1", false), ("NaN", false)] {
            assert_eq!(Chaos::parse_probability(text).is_ok(), ok, "{text}");
        }
        assert!(Chaos::new(2.0, 1).is_err());
    }

    #[test]
    fn the_draws_follow_the_seed() {
        let draws = |seed| {
            let traffic = Traffic::new(Some(Chaos::new(0.5, seed).expect("chaos")), None);
            (0..64).map(|_| traffic.busy()).collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
        let busy: Vec<(StatusCode, u64)> = draws(7).into_iter().flatten().collect();
        assert!((16..=48).contains(&busy.len()), "{} of 64", busy.len());
        assert!(busy.iter().any(|(status, _)| *status == StatusCode::TOO_MANY_REQUESTS));
        assert!(busy.iter().any(|(status, _)| *status == StatusCode::SERVICE_UNAVAILABLE));
        assert!(busy.iter().all(|(_, seconds)| CHAOS_RETRY_AFTER.contains(seconds)));
        let none = Traffic::new(Some(Chaos::new(0.0, 1).expect("chaos")), None);
        assert!((0..64).all(|_| none.busy().is_none()));
    }
}
