//! The HTML report in a real browser: runs with deliberate faults against the embedded
//! server, each report opened in headless Chromium and checked through the DOM. Failures
//! come before the matrix, each one visible (computed style and a box of its own, inside
//! no closed `<details>`), with its rule's text and every request with its answer; every
//! red or known cell of the matrix links to a failure of its rule, and following the link
//! (a real click) makes that failure the document's target.
//!
//! Chromium is `$CHROMIUM` when set (any Chromium or Chrome binary; the project's GitHub
//! workflow sets it), else the system's (`/usr/bin/chromium` or `chromium` on PATH;
//! `.ci/run` installs Debian's). Without it the test fails under `CI` and is a note
//! elsewhere.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use headless_chrome::{Browser, LaunchOptions, Tab};
use reportcheck_conformance::{Outcome, RunReport, Source};
use reportcheck_server::{Config, Fault};
use serde::Deserialize;

use crate::support::*;

/// Each row: the faults, and the columns of the matrix (sources) that must show a failure.
const ROWS: &[(&[Fault], &[&str])] = &[
    // A contract failure, a property failure with its minimal sequence, and UPD-9.
    (&[Fault::NoVersionBump], &["contracts", "property tests", "UPD-9 (parallel updates)"]),
    // UPD-9 alone: its overlapping PUTs as the steps.
    (&[Fault::RacyUpdates], &["UPD-9 (parallel updates)"]),
    // A fixed sweep's failure (ERR-3's malformed bodies) with the requests that broke it.
    (&[Fault::BadJsonIs500], &["contracts", "property tests"]),
];

/// The flags Chromium runs with: headless, and nothing that reaches for the network
/// (a closed network otherwise stalls it on connections).
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// How long any one wait on the browser may take.
const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_report_shows_why_in_a_browser() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "Chromium is needed for the HTML report's browser test: install it \
             (apt-get install -y --no-install-recommends chromium)"
        );
        eprintln!("note: no chromium (/usr/bin/chromium or on PATH): the HTML report's browser test is skipped");
        return;
    };
    let started = Instant::now();
    let mut reports = Vec::new();
    for (faults, columns) in ROWS {
        let report = run(options(Config { faults: faults.iter().copied().collect(), ..config() })).await;
        reports.push((format!("{faults:?}"), *columns, report));
    }
    let dir = Scratch::new();
    // The browser is driven synchronously; off the runtime's threads.
    let problems = tokio::task::spawn_blocking(move || {
        let browser = launch(&chromium, &dir.0.join("profile")).expect("Chromium starts");
        let mut problems = Vec::new();
        for (name, columns, report) in &reports {
            let file = dir.0.join(format!("report-{}.html", problems.len()));
            if let Err(problem) = check(&browser, &file, report, columns) {
                problems.push(format!("{name}: {problem}"));
            }
        }
        drop(browser);
        drop(dir);
        problems
    })
    .await
    .expect("the browser checks ran");
    eprintln!("the HTML report's browser test took {:.1} s", started.elapsed().as_secs_f64());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `$CHROMIUM`, else the system's Chromium, if there is one.
fn chromium() -> Option<PathBuf> {
    if let Some(chosen) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(chosen)).filter(|path| path.is_file());
    }
    let fixed = Path::new("/usr/bin/chromium");
    if fixed.is_file() {
        return Some(fixed.to_owned());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join("chromium")).find(|candidate| candidate.is_file())
}

fn launch(chromium: &Path, profile: &Path) -> Result<Browser, String> {
    std::fs::create_dir_all(profile).map_err(|err| format!("{}: {err}", profile.display()))?;
    let options = LaunchOptions {
        headless: true,
        sandbox: false,
        path: Some(chromium.to_owned()),
        user_data_dir: Some(profile.to_owned()),
        window_size: Some((1280, 1024)),
        args: FLAGS.iter().map(OsStr::new).collect(),
        idle_browser_timeout: Duration::from_secs(120),
        ..LaunchOptions::default()
    };
    let browser = Browser::new(options).map_err(|err| format!("cannot start {}: {err}", chromium.display()))?;
    browser.set_default_timeout(WAIT);
    Ok(browser)
}

/// What the page says about itself, read through the DOM.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    failures_before_matrix: bool,
    failures: Vec<ShownFailure>,
    cells: Vec<Cell>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShownFailure {
    id: String,
    rule: String,
    /// Displayed, visible, a box of non-zero size, inside no closed `<details>`.
    visible: bool,
    rule_text: String,
    /// The text of each request and each answer, each visible.
    requests: Vec<String>,
    answers: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cell {
    rule: String,
    column: String,
    /// The fragment the cell's link points at (`failure-3`), if it has a link.
    target: Option<String>,
    /// The rule of the element the fragment names, if there is one.
    target_rule: Option<String>,
}

/// The facts of the page as JSON: one pass over the DOM.
const READ_PAGE: &str = r##"(() => {
  const shown = (element) => {
    const style = getComputedStyle(element);
    const box = element.getBoundingClientRect();
    return style.display !== 'none' && style.visibility === 'visible' && box.width > 0 && box.height > 0
      && element.closest('details:not([open])') === null;
  };
  const texts = (failure, css) => [...failure.querySelectorAll(css)].map((pre) => shown(pre) ? pre.innerText : '');
  const failures = document.getElementById('failures');
  const matrix = document.getElementById('matrix');
  const columns = [...matrix.querySelectorAll('thead th')].map((th) => th.innerText);
  const cells = [];
  for (const row of matrix.querySelectorAll('tbody tr')) {
    [...row.children].forEach((cell, index) => {
      if (!cell.matches('td.failed, td.known')) return;
      const link = cell.querySelector('a[href^="#"]');
      const target = link ? link.getAttribute('href').slice(1) : null;
      const element = target ? document.getElementById(target) : null;
      cells.push({rule: row.id.replace(/^rule-/, ''), column: columns[index], target,
        targetRule: element && element.matches('section.failure') ? element.dataset.rule : null});
    });
  }
  return JSON.stringify({
    failuresBeforeMatrix: !!(failures && matrix
      && (failures.compareDocumentPosition(matrix) & Node.DOCUMENT_POSITION_FOLLOWING)),
    failures: [...document.querySelectorAll('#failures section.failure')].map((failure) => ({
      id: failure.id, rule: failure.dataset.rule, visible: shown(failure),
      ruleText: [...failure.querySelectorAll('.rule-text')].filter(shown).map((p) => p.innerText).join('\n'),
      requests: texts(failure, 'pre.request'), answers: texts(failure, 'pre.answer'),
    })),
    cells,
  });
})()"##;

/// Loads `report` from `file` and checks it; every problem found, or none.
fn check(browser: &Browser, file: &Path, report: &RunReport, columns: &[&str]) -> Result<(), String> {
    let html = reportcheck_conformance::html::render(report, &Default::default());
    std::fs::write(file, html).map_err(|err| format!("{}: {err}", file.display()))?;
    let tab = browser.new_tab().map_err(|err| format!("no tab: {err}"))?;
    tab.set_default_timeout(WAIT);
    tab.navigate_to(&format!("file://{}", file.display()))
        .and_then(|tab| tab.wait_until_navigated())
        .map_err(|err| format!("the report does not load: {err}"))?;
    let page: Page =
        serde_json::from_str(&evaluate(&tab, READ_PAGE)?).map_err(|err| format!("the page facts: {err}"))?;
    let mut problems = Vec::new();
    let failed: Vec<_> = report
        .checks
        .iter()
        .filter_map(|check| match &check.outcome {
            Outcome::Failed(failure) => Some((check, failure)),
            _ => None,
        })
        .collect();
    if !page.failures_before_matrix {
        problems.push("the failures do not come before the matrix".to_owned());
    }
    if page.failures.len() != failed.len() {
        problems.push(format!("{} failures shown of {}", page.failures.len(), failed.len()));
    }
    for ((check, _), shown) in failed.iter().zip(&page.failures) {
        let what = format!("{} ({} {}: {})", shown.id, check.rule, check.source, check.name);
        if shown.rule != check.rule.id() {
            problems.push(format!("{what} is shown as {}", shown.rule));
        }
        if !shown.visible {
            problems.push(format!("{what} is not visible"));
        }
        if !shown.rule_text.contains(check.rule.summary()) {
            problems.push(format!("{what} lacks its rule's text: {:?}", shown.rule_text));
        }
        let requests = shown.requests.iter().filter(|text| !text.trim().is_empty()).count();
        let answers = shown.answers.iter().filter(|text| !text.trim().is_empty()).count();
        if requests == 0 || requests != answers || requests != shown.requests.len() {
            problems.push(format!("{what}: {requests} requests and {answers} answers visible: {shown:?}"));
        }
    }
    if matches!(failed.iter().find(|(check, _)| check.source == Source::Property), Some((_, failure)) if failure.steps.len() < 2)
    {
        problems.push("a property failure's sequence is not a list of steps".to_owned());
    }
    let failing_columns: BTreeSet<&str> = page.cells.iter().map(|cell| cell.column.as_str()).collect();
    for column in columns {
        if !failing_columns.contains(column) {
            problems.push(format!("no failed cell in the column {column}: {failing_columns:?}"));
        }
    }
    let ids: BTreeSet<&str> = page.failures.iter().map(|failure| failure.id.as_str()).collect();
    for cell in &page.cells {
        match (&cell.target, &cell.target_rule) {
            (Some(target), Some(rule)) if rule == &cell.rule && ids.contains(target.as_str()) => {}
            _ => problems
                .push(format!("the {} cell of {} links to no failure of its rule: {cell:?}", cell.column, cell.rule)),
        }
    }
    // Following each link (a click, as a reader would) makes its failure the target.
    for cell in page.cells.iter().filter(|cell| cell.target.is_some()) {
        let target = cell.target.as_deref().unwrap_or_default();
        let link = format!("#rule-{} a[href=\"#{target}\"]", cell.rule);
        let clicked = tab.find_element(&link).and_then(|element| element.click().map(|_| ()));
        if let Err(err) = clicked {
            problems.push(format!("cannot click {link}: {err}"));
            continue;
        }
        let expected = format!("\"{target}\"");
        let script = "JSON.stringify((document.querySelector(':target') || {}).id || null)";
        if let Err(err) = poll(&tab, script, &expected) {
            problems.push(format!("following {link}: {err}"));
        }
    }
    let _ = tab.close(false);
    if problems.is_empty() { Ok(()) } else { Err(problems.join("\n")) }
}

/// The string an expression evaluates to in the page.
fn evaluate(tab: &Tab, expression: &str) -> Result<String, String> {
    let result = tab.evaluate(expression, false).map_err(|err| format!("evaluating in the page: {err}"))?;
    match result.value {
        Some(serde_json::Value::String(text)) => Ok(text),
        other => Err(format!("the page answered {other:?}")),
    }
}

/// Evaluates `expression` until it gives `expected`, for at most [`WAIT`].
fn poll(tab: &Tab, expression: &str, expected: &str) -> Result<(), String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let found = evaluate(tab, expression)?;
        if found == expected {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("still {found} after {} s, not {expected}", WAIT.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A fresh temporary directory (the browser's profile, the report files), removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let dir = std::env::temp_dir().join(format!("reportcheck-browser-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
