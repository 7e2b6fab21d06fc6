//! Steering a run from outside: stopping it (a signal, an overall timeout), the reports
//! it created and has not deleted yet, and the lines it streams as rules finish.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::contract::Party;

/// What a run streams while it goes: one line at a time, ready to print.
pub type LineSink = Arc<dyn Fn(&str) + Send + Sync>;

/// Shared by the caller and the run; cheap to clone.
#[derive(Clone, Default)]
pub struct RunControl {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Why the run must stop, once it must.
    stop: Mutex<Option<String>>,
    stopped: tokio::sync::Notify,
    /// Reports created by the run and not deleted yet: id -> the client that made it.
    created: Mutex<BTreeMap<String, Party>>,
    lines: Mutex<Option<LineSink>>,
}

impl std::fmt::Debug for RunControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunControl")
            .field("stop", &self.stop_reason())
            .field("created", &self.left_behind())
            .finish_non_exhaustive()
    }
}

impl RunControl {
    /// Streams each rule's line (and the run's header) to `sink` as soon as it is known.
    pub fn with_lines(self, sink: LineSink) -> RunControl {
        *self.inner.lines.lock().unwrap_or_else(PoisonError::into_inner) = Some(sink);
        self
    }

    /// Asks the run to stop: no new request is sent (the cleanup's excepted), requests
    /// in flight that change nothing are abandoned, and the run returns what it found.
    /// The first reason wins.
    pub fn stop(&self, reason: impl Into<String>) {
        let mut stop = self.inner.stop.lock().unwrap_or_else(PoisonError::into_inner);
        if stop.is_none() {
            *stop = Some(reason.into());
        }
        drop(stop);
        self.inner.stopped.notify_waiters();
    }

    pub fn stop_reason(&self) -> Option<String> {
        self.inner.stop.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub fn is_stopped(&self) -> bool {
        self.inner.stop.lock().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    /// Resolves once [`RunControl::stop`] was called.
    pub async fn stopped(&self) {
        loop {
            let notified = self.inner.stopped.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_stopped() {
                return;
            }
            notified.await;
        }
    }

    /// The ids of the reports the run created and has not deleted (yet).
    pub fn left_behind(&self) -> Vec<String> {
        self.inner.created.lock().unwrap_or_else(PoisonError::into_inner).keys().cloned().collect()
    }

    pub(crate) fn created(&self, id: &str, party: Party) {
        self.inner.created.lock().unwrap_or_else(PoisonError::into_inner).insert(id.to_owned(), party);
    }

    pub(crate) fn deleted(&self, id: &str) {
        self.inner.created.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
    }

    pub(crate) fn tracked(&self) -> Vec<(String, Party)> {
        self.inner
            .created
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(id, party)| (id.clone(), *party))
            .collect()
    }

    pub(crate) fn line(&self, line: &str) {
        let sink = self.inner.lines.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(sink) = sink {
            sink(line);
        }
    }
}
