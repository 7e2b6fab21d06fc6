//! How hard a run may press a server: at most `concurrency` requests in flight and at most
//! `rps` requests started per second, both enforced exactly at the one place every request
//! of a run goes through ([`crate::session::Session::send`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// The limits of a run.
#[derive(Debug, Clone)]
pub struct Pace {
    in_flight: Arc<Semaphore>,
    concurrency: usize,
    /// The earliest start of the next request, when a rate is set.
    next_start: Option<Arc<Mutex<Instant>>>,
    interval: Duration,
    rps: Option<f64>,
}

impl Default for Pace {
    fn default() -> Self {
        Pace::new(Semaphore::MAX_PERMITS, None)
    }
}

impl Pace {
    /// At most `concurrency` requests in flight (at least one), and at most `rps` started
    /// per second when given (a positive, finite rate).
    pub fn new(concurrency: usize, rps: Option<f64>) -> Pace {
        let concurrency = concurrency.clamp(1, Semaphore::MAX_PERMITS);
        let rps = rps.filter(|rate| rate.is_finite() && *rate > 0.0);
        Pace {
            in_flight: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            next_start: rps.map(|_| Arc::new(Mutex::new(Instant::now()))),
            interval: rps.map_or(Duration::ZERO, |rate| Duration::from_secs_f64(1.0 / rate)),
            rps,
        }
    }

    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    pub fn rps(&self) -> Option<f64> {
        self.rps
    }

    /// Waits for a slot: a free place in flight, then the request's start time. Holding
    /// the returned permit keeps the place (the semaphore is never closed, so it is
    /// always `Some`).
    pub async fn slot(&self) -> Option<SemaphorePermit<'_>> {
        let permit = self.in_flight.acquire().await.ok();
        if let Some(next_start) = &self.next_start {
            // The lock is held while waiting for the start (tokio's mutex is fair), so a
            // start is taken only by a request that starts: one dropped while it waits
            // (at a stop) reserves nothing, and the cleanup after it is not kept waiting.
            let mut next = next_start.lock().await;
            // From the scheduled start, not the wake-up: timer lateness must not add up.
            let start = (*next).max(Instant::now());
            tokio::time::sleep_until(start).await;
            *next = start + self.interval;
        }
        permit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_start_at_the_rate() {
        let pace = Pace::new(8, Some(10.0));
        let started = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..5 {
            let _slot = pace.slot().await;
            starts.push(started.elapsed().as_millis());
        }
        assert_eq!(starts, [0, 100, 200, 300, 400]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_dropped_before_its_start_reserves_nothing() {
        let pace = Pace::new(64, Some(10.0));
        let started = Instant::now();
        drop(pace.slot().await);
        // Twenty requests queue for their start and are dropped (a stop) before it.
        let queued = futures_util::future::join_all((0..20).map(|_| pace.slot()));
        assert!(tokio::time::timeout(Duration::from_millis(50), queued).await.is_err());
        drop(pace.slot().await);
        assert_eq!(started.elapsed().as_millis(), 100, "the next start is the rate's, not after the dropped ones");
    }

    #[tokio::test(start_paused = true)]
    async fn no_more_than_the_limit_in_flight() {
        let pace = Pace::new(2, None);
        let first = pace.slot().await;
        let _second = pace.slot().await;
        let third = tokio::time::timeout(Duration::from_secs(1), pace.slot()).await;
        assert!(third.is_err(), "a third request started while two were in flight");
        drop(first);
        assert!(tokio::time::timeout(Duration::from_secs(1), pace.slot()).await.is_ok());
    }
}
