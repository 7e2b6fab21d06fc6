//! Stopping a command that talks to a server: the first SIGINT/SIGTERM (or the overall
//! timeout) stops it, so that it deletes what it created; a second signal exits at once,
//! naming what is left behind. `conformance`, `record` and `drift` share it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use reportcheck_conformance::RunControl;

/// The first SIGINT/SIGTERM stops the run (it then deletes what it created and prints a
/// partial summary); a second one exits at once, naming the reports left behind.
pub(crate) async fn on_signals(control: RunControl, signalled: Arc<AtomicU8>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    else {
        return;
    };
    let (code, name) = tokio::select! {
        _ = interrupt.recv() => (130, "SIGINT"),
        _ = terminate.recv() => (143, "SIGTERM"),
    };
    signalled.store(code, Ordering::SeqCst);
    eprintln!("{name}: stopping, deleting the reports this run created (send it again to exit at once)");
    control.stop(format!("interrupted by {name}"));
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
    exit_leaving(&control, &format!("{name} again: exiting at once"), code);
}

/// The overall timeout stops the run like a signal; if the cleanup itself hangs, the
/// process exits after a grace period, naming what it left behind.
pub(crate) async fn on_timeout(control: RunControl, timeout: Duration) {
    tokio::time::sleep(timeout).await;
    control.stop(format!("it took longer than --timeout {} s", timeout.as_secs()));
    tokio::time::sleep(Duration::from_secs(60)).await;
    exit_leaving(&control, "the cleanup did not finish within 60 s after the timeout", 2);
}

fn exit_leaving(control: &RunControl, why: &str, code: u8) -> ! {
    let left = control.left_behind();
    if left.is_empty() {
        eprintln!("{why}; no report of this run is left");
    } else {
        eprintln!("{why}; {} reports of this run are left behind: {}", left.len(), left.join(", "));
    }
    std::process::exit(i32::from(code))
}

/// The end of a command that failed: interrupted (130 or 143, said on stderr) when a
/// signal stopped it, else the error (exit 2).
pub(crate) fn interrupted(
    err: reportcheck_conformance::Error,
    signalled: &AtomicU8,
) -> Result<std::process::ExitCode, crate::Error> {
    let signal = signalled.load(Ordering::SeqCst);
    if signal != 0 && matches!(err, reportcheck_conformance::Error::Stopped(_)) {
        eprintln!("interrupted: {err}");
        return Ok(std::process::ExitCode::from(signal));
    }
    Err(err.into())
}
