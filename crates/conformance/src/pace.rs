//! How hard a run may press a server: at most `concurrency` requests in flight and at most
//! `rps` requests started per second, both enforced exactly at the one place every request
//! of a run goes through ([`crate::session::Session::send`]); a request of a chain that
//! started goes ahead of the first request of one that has not ([`chain`]).

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::time::Instant;

tokio::task_local! {
    /// The chain a request belongs to: its place in the order chains started.
    static CHAIN: OnceCell<u64>;
}

/// Runs `work` as one chain of requests (a contract, a sequence, a sweep): once its first
/// request started, its next ones go ahead of those of chains that started later, so
/// started chains finish first and the run's critical path is its longest chain, not
/// every chain's first request queued before the next one's second.
pub async fn chain<F: Future>(work: F) -> F::Output {
    CHAIN.scope(OnceCell::new(), work).await
}

/// The limits of a run.
#[derive(Debug, Clone)]
pub struct Pace {
    slots: Arc<Slots>,
    concurrency: usize,
    /// Tickets of chains, in the order of their first request.
    tickets: Arc<AtomicU64>,
    /// The earliest start of the next request, when a rate is set.
    next_start: Option<Arc<tokio::sync::Mutex<Instant>>>,
    interval: Duration,
    rps: Option<f64>,
}

impl Default for Pace {
    fn default() -> Self {
        Pace::new(usize::MAX, None)
    }
}

impl Pace {
    /// At most `concurrency` requests in flight (at least one), and at most `rps` started
    /// per second when given (a positive, finite rate).
    pub fn new(concurrency: usize, rps: Option<f64>) -> Pace {
        let concurrency = concurrency.max(1);
        let rps = rps.filter(|rate| rate.is_finite() && *rate > 0.0);
        Pace {
            slots: Arc::new(Slots::new(concurrency)),
            concurrency,
            tickets: Arc::new(AtomicU64::new(1)),
            next_start: rps.map(|_| Arc::new(tokio::sync::Mutex::new(Instant::now()))),
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
    /// the returned slot keeps the place. Requests outside any [`chain`] (setup,
    /// cleanup) go first; then chains in the order they started; then in order of asking.
    pub async fn slot(&self) -> Slot {
        let priority =
            CHAIN.try_with(|ticket| *ticket.get_or_init(|| self.tickets.fetch_add(1, Ordering::Relaxed))).unwrap_or(0);
        let slot = self.slots.acquire(priority).await;
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
        slot
    }
}

/// A place in flight; dropping it hands the place to the first waiter.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.release();
    }
}

/// A counting semaphore whose waiters are served by priority (lowest first), then in
/// order of asking. A released place is handed to the first waiter directly, so a
/// newcomer cannot take it ahead of a waiter.
#[derive(Debug)]
struct Slots {
    state: Mutex<SlotsState>,
    asked: AtomicU64,
}

#[derive(Debug, Default)]
struct SlotsState {
    free: usize,
    waiting: BTreeMap<(u64, u64), Waker>,
    /// Waiters handed a place that have not taken it yet.
    handed: BTreeSet<(u64, u64)>,
}

impl Slots {
    fn new(places: usize) -> Slots {
        Slots { state: Mutex::new(SlotsState { free: places, ..SlotsState::default() }), asked: AtomicU64::new(0) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SlotsState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn acquire(self: &Arc<Self>, priority: u64) -> Acquire {
        Acquire { slots: Arc::clone(self), key: (priority, self.asked.fetch_add(1, Ordering::Relaxed)), done: false }
    }

    fn release(&self) {
        let mut state = self.lock();
        match state.waiting.pop_first() {
            Some((key, waker)) => {
                state.handed.insert(key);
                drop(state);
                waker.wake();
            }
            None => state.free += 1,
        }
    }
}

struct Acquire {
    slots: Arc<Slots>,
    key: (u64, u64),
    done: bool,
}

impl Future for Acquire {
    type Output = Slot;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Slot> {
        let mut state = self.slots.lock();
        let first = state.waiting.keys().next().is_none_or(|first| *first >= self.key);
        let taken = state.handed.remove(&self.key)
            || (state.free > 0 && first && {
                state.free -= 1;
                state.waiting.remove(&self.key);
                true
            });
        if taken {
            drop(state);
            self.done = true;
            return Poll::Ready(Slot { slots: Arc::clone(&self.slots) });
        }
        state.waiting.insert(self.key, cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut state = self.slots.lock();
        state.waiting.remove(&self.key);
        // A place handed to a waiter that left goes to the next one.
        if state.handed.remove(&self.key) {
            drop(state);
            self.slots.release();
        }
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
    async fn a_started_chain_goes_ahead_of_chains_that_have_not_started() {
        let pace = Pace::new(1, None);
        let order = Mutex::new(Vec::new());
        let request = |name: &'static str| {
            let (pace, order) = (&pace, &order);
            async move {
                let _slot = pace.slot().await;
                order.lock().expect("order").push(name);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        let held = pace.slot().await;
        let a = chain(async {
            request("a1").await;
            request("a2").await;
        });
        let b = chain(async {
            tokio::time::sleep(Duration::from_millis(1)).await;
            request("b1").await;
        });
        let c = chain(async {
            tokio::time::sleep(Duration::from_millis(2)).await;
            request("c1").await;
        });
        let release = async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            drop(held);
        };
        futures_util::join!(a, b, c, release);
        // In order of asking, c1 would go before a2.
        assert_eq!(*order.lock().expect("order"), ["a1", "b1", "a2", "c1"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_that_leaves_takes_no_place() {
        let pace = Pace::new(1, None);
        let held = pace.slot().await;
        let left = chain(async { tokio::time::timeout(Duration::from_millis(5), pace.slot()).await.is_err() });
        assert!(left.await, "the place was held");
        drop(held);
        let next = tokio::time::timeout(Duration::from_millis(5), pace.slot()).await;
        assert!(next.is_ok(), "the place went to the waiter that left");
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
