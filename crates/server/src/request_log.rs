//! The request log (`serve --log`): one JSON line per request with the rule verdict. The
//! verdict is the model's: the store hands the decider's judgement of each report request
//! as it arrived (`decide`, every admissible branch) to the request's [`Trace`], and the
//! answer's status is looked up among those branches (`Admissible::follow`), as the proxy
//! does. Nothing is decided here; no secret is written (no header, no body, no query value
//! but a DELETE's `version`).

use std::collections::BTreeSet;
use std::fmt;
use std::io::Write;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::Response;
use parking_lot::Mutex;
use reportcheck_model::Rule;
use reportcheck_model::decide::{Admissible, Decision};

use crate::fault::Fault;
use crate::store::Store;

/// Where the lines go. A write error is reported once on standard error and ends the
/// log, never the server; each line is flushed at once, so `tail -f` shows it.
pub struct RequestLog {
    name: String,
    sink: Mutex<Sink>,
}

struct Sink {
    writer: Option<Box<dyn Write + Send>>,
}

impl RequestLog {
    /// A log into `writer`, called `name` in the one error message a write error gives.
    pub fn new(name: impl Into<String>, writer: impl Write + Send + 'static) -> RequestLog {
        RequestLog { name: name.into(), sink: Mutex::new(Sink { writer: Some(Box::new(writer)) }) }
    }

    /// A log on standard output.
    pub fn stdout() -> RequestLog {
        RequestLog::new("standard output", std::io::stdout())
    }

    /// A log into a file, emptied first.
    pub fn file(path: &std::path::Path) -> std::io::Result<RequestLog> {
        Ok(RequestLog::new(path.display().to_string(), std::fs::File::create(path)?))
    }

    /// A log kept in memory, for tests that embed the server: the handle reads the lines
    /// written so far.
    pub fn in_memory() -> (RequestLog, LoggedLines) {
        let lines = LoggedLines::default();
        (RequestLog::new("memory", lines.clone()), lines)
    }

    fn write(&self, line: &Line<'_>) {
        let mut sink = self.sink.lock();
        if let Some(writer) = sink.writer.as_mut() {
            let mut text = serde_json::to_string(line).unwrap_or_default();
            text.push('\n');
            if let Err(err) = writer.write_all(text.as_bytes()).and_then(|()| writer.flush()) {
                eprintln!(
                    "reportcheck: cannot write the request log {} ({err}); requests are no longer logged",
                    self.name
                );
                sink.writer = None;
            }
        }
    }
}

/// What an in-memory [`RequestLog`] holds ([`RequestLog::in_memory`]).
#[derive(Debug, Clone, Default)]
pub struct LoggedLines(Arc<Mutex<Vec<u8>>>);

impl LoggedLines {
    /// The log's text so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock()).into_owned()
    }

    /// Each line so far, parsed (a line that is not JSON reads `null`).
    pub fn lines(&self) -> Vec<serde_json::Value> {
        self.text().lines().map(|line| serde_json::from_str(line).unwrap_or_default()).collect()
    }
}

impl Write for LoggedLines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl fmt::Debug for RequestLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestLog").field("name", &self.name).finish_non_exhaustive()
    }
}

/// One line of the log, its fields in this order.
#[derive(serde::Serialize)]
struct Line<'a> {
    time: &'a str,
    method: &'a str,
    path: &'a str,
    status: u16,
    latency_ms: u64,
    verdict: &'a str,
    rule: Option<&'static str>,
    faults: Vec<&'static str>,
}

/// What the server made of one request, gathered while it is answered.
#[derive(Debug, Default)]
struct Trace {
    /// The decider's judgement of the report request as it arrived (the first one).
    admissible: Option<Admissible>,
    /// The rule an accepted request outside the decider falls under (AUTH-1, AUTH-4).
    accepted: Option<Rule>,
    /// The faults the server consulted while answering (they may have changed it).
    faults: BTreeSet<Fault>,
    /// The chaos answer's status.
    chaos: Option<u16>,
}

tokio::task_local! {
    static TRACE: Arc<Mutex<Trace>>;
}

fn with_trace(apply: impl FnOnce(&mut Trace)) {
    let _ = TRACE.try_with(|trace| apply(&mut trace.lock()));
}

/// Whether the current request is logged (judging it for the log costs a decision).
pub(crate) fn tracing() -> bool {
    TRACE.try_with(|_| ()).is_ok()
}

pub(crate) fn decided(admissible: Admissible) {
    with_trace(|trace| {
        trace.admissible.get_or_insert(admissible);
    });
}

pub(crate) fn accepted(rule: Rule) {
    with_trace(|trace| trace.accepted = Some(rule));
}

pub(crate) fn fault_consulted(fault: Fault) {
    with_trace(|trace| {
        trace.faults.insert(fault);
    });
}

pub(crate) fn chaos(status: u16) {
    with_trace(|trace| trace.chaos = Some(status));
}

/// The rule a refusal rendered by the server named (`details.rule`), as a response
/// extension, so the log reads it without reading the body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Named(pub Rule);

/// The outermost layer: times the request and writes its line.
pub async fn log_requests(State(store): State<Arc<Store>>, request: Request, next: Next) -> Response {
    let Some(log) = store.config().log.clone() else { return next.run(request).await };
    let started = tokio::time::Instant::now();
    let now = time::OffsetDateTime::now_utc();
    let time = now
        .replace_nanosecond(u32::from(now.millisecond()) * 1_000_000)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let method = request.method().to_string();
    let path = loggable_path(request.uri());
    let trace = Arc::new(Mutex::new(Trace::default()));
    let response = TRACE.scope(Arc::clone(&trace), next.run(request)).await;
    let latency = started.elapsed();
    let status = response.status().as_u16();
    let named = response.extensions().get::<Named>().map(|named| named.0);
    let trace = trace.lock();
    let (verdict, rule) = verdict(&trace, status, named);
    let faults: Vec<&str> = trace.faults.iter().map(|fault| fault.name()).collect();
    log.write(&Line {
        time: &time,
        method: &method,
        path: &path,
        status,
        latency_ms: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
        verdict: &verdict,
        rule: rule.map(Rule::id),
        faults,
    });
    response
}

/// The path, cut to 200 characters, and of the query only a DELETE's `version` (any other
/// value is replaced by `…`: a query may carry what a client should not have sent).
fn loggable_path(uri: &Uri) -> String {
    let mut path: String = uri.path().chars().take(200).collect();
    if let Some(query) = uri.query() {
        let pairs: Vec<String> = form_urlencoded::parse(query.as_bytes())
            .take(10)
            .map(|(key, value)| {
                let key: String = key.chars().take(40).collect();
                let safe = key == "version" && value.len() <= 20 && value.bytes().all(|byte| byte.is_ascii_digit());
                if safe { format!("{key}={value}") } else { format!("{key}=…") }
            })
            .collect();
        path.push('?');
        path.push_str(&pairs.join("&"));
    }
    path
}

/// The verdict of an answer with `status`: chaos; the branch of the model's judgement
/// it took; a departure from every branch, with the faults in play; for the requests the
/// decider does not judge (tokens, clients, authentication, limits), the rule the answer
/// names.
fn verdict(trace: &Trace, status: u16, named: Option<Rule>) -> (String, Option<Rule>) {
    if let Some(chaos) = trace.chaos {
        return (format!("chaos {chaos}"), None);
    }
    let faults: Vec<&str> = trace.faults.iter().map(|fault| fault.name()).collect();
    let faults = faults.join(", ");
    let success = (200..300).contains(&status);
    if let Some(admissible) = &trace.admissible {
        if !admissible.admits_status(status) {
            let rule = admissible.rule();
            let what = if faults.is_empty() { "not admitted".to_owned() } else { format!("fault {faults}") };
            return (
                format!("{what}: answered {status} where the rules admit {} ({rule})", admissible.admitted_statuses()),
                Some(rule),
            );
        }
        return match admissible.follow(status) {
            Decision::Rejected(violations) => {
                let violation =
                    violations.iter().find(|violation| violation.admits_status(status)).or(violations.first());
                let rule = violation.map_or_else(|| admissible.rule(), |violation| violation.rule);
                (format!("refused {rule} (as the rules require)"), Some(rule))
            }
            accepted if success => (format!("ok {}", accepted.rule()), Some(accepted.rule())),
            // A download still in progress: any 4xx is free.
            accepted => (format!("refused {} (as the rules allow)", accepted.rule()), Some(accepted.rule())),
        };
    }
    match (success, named.or(trace.accepted)) {
        (true, rule) => (rule.map_or_else(|| "ok".to_owned(), |rule| format!("ok {rule}")), rule),
        (false, rule) if !faults.is_empty() && (status >= 500 || rule.is_none()) => {
            (format!("fault {faults}: answered {status}"), rule)
        }
        (false, Some(rule)) if !faults.is_empty() => {
            (format!("fault {faults}: answered {status} ({rule})"), Some(rule))
        }
        (false, Some(rule)) => (format!("refused {rule} (as the rules require)"), Some(rule)),
        (false, None) => (format!("answered {status}"), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that always fails, counting the attempts.
    struct Broken(Arc<std::sync::atomic::AtomicUsize>);

    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Err(std::io::Error::other("disk full"))
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_write_error_ends_the_log_once() {
        let attempts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let log = RequestLog::new("broken", Broken(Arc::clone(&attempts)));
        let line = Line {
            time: "t",
            method: "GET",
            path: "/api/2/reports",
            status: 200,
            latency_ms: 0,
            verdict: "ok",
            rule: None,
            faults: Vec::new(),
        };
        for _ in 0..3 {
            log.write(&line);
        }
        assert_eq!(attempts.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn the_path_keeps_only_a_numeric_version() {
        let cases = [
            ("/api/2/reports/x?version=3", "/api/2/reports/x?version=3"),
            ("/api/2/reports/x?version=abc&token=s3cr3t", "/api/2/reports/x?version=…&token=…"),
            ("/api/2/reports", "/api/2/reports"),
        ];
        for (uri, logged) in cases {
            assert_eq!(loggable_path(&uri.parse().expect("uri")), logged);
        }
    }
}
