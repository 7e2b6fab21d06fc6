//! The HTML report: one self-contained file (no script, no stylesheet or font from the
//! network). Failures come first, expanded, each with its rule's text, every request
//! with its answer as numbered steps (redacted), the expectation and a property
//! failure's replay; then the verdict matrix by rule and source, whose red cells link to
//! their failures; the claims, the coverage table, and the target and seed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use reportcheck_model::Rule;

use crate::Coverage;
use crate::outcome::{Check, Outcome, RunReport, Source, Tally};

/// Whether a check's source belongs to a column.
type Belongs = fn(&Source) -> bool;

/// The columns of the matrix: where checks come from.
const COLUMNS: &[(&str, Belongs)] = &[
    ("contracts", |source| matches!(source, Source::Contract(_))),
    ("built-in checks", |source| matches!(source, Source::Setup | Source::Mock(_))),
    ("property tests", |source| matches!(source, Source::Property)),
    ("UPD-9 (parallel updates)", |source| matches!(source, Source::Concurrency)),
];

/// The report as one HTML document. Every text in `report` is already redacted.
pub fn render(report: &RunReport, coverage: &BTreeMap<Rule, Coverage>) -> String {
    let totals = report.totals();
    let (passed, failed, skipped) = (totals.passed, totals.failed, totals.skipped);
    let known = if report.baseline.is_some() { format!(" ({} known)", totals.known) } else { String::new() };
    let verdict = match report.exit_code() {
        0 => "passed",
        1 => "failed",
        _ => "aborted",
    };
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>reportcheck: {verdict}</title>\
         <style>{STYLE}</style></head><body>\n<h1>reportcheck conformance: <span class=\"{verdict}\" id=\"verdict\">{verdict}</span></h1>\n\
         <dl id=\"run\"><dt>target</dt><dd id=\"target\">{}</dd><dt>seed</dt><dd id=\"seed\">{}</dd>\
         <dt>profile</dt><dd>{:?}</dd><dt>requests</dt><dd>{}</dd><dt>duration</dt><dd>{:.2} s</dd>\
         <dt>checks</dt><dd id=\"totals\">{passed} passed, {failed} failed{known}, {skipped} skipped</dd></dl>\n",
        escape(&report.target),
        report.seed,
        report.profile,
        report.requests,
        report.duration.as_secs_f64(),
    );
    if let Some(reason) = &report.stopped {
        let _ = writeln!(html, "<p id=\"stopped\" class=\"failed\">The run ended early: {}</p>", escape(reason));
    }
    if let Some(verdict) = report.baseline_verdict() {
        let _ = writeln!(html, "<pre id=\"baseline\">{}</pre>", escape(report.baseline_lines(&verdict).trim()));
    }
    let anchors = anchors(report);
    failures(&mut html, report, &anchors);
    matrix(&mut html, report, &anchors);
    claims(&mut html);
    coverage_table(&mut html, coverage);
    if let Some(classes) = &report.classes {
        class_table(&mut html, classes);
    }
    if !report.notes.is_empty() {
        html.push_str("<h2>Notes</h2>\n<ul id=\"notes\">");
        for note in &report.notes {
            let _ = write!(html, "<li>{}</li>", escape(note));
        }
        html.push_str("</ul>\n");
    }
    html.push_str("</body></html>\n");
    html
}

/// The anchor of each failed check, by its index in `report.checks`: `failure-1`, ... in
/// the order the failures section lists them.
fn anchors(report: &RunReport) -> BTreeMap<usize, String> {
    report
        .checks
        .iter()
        .enumerate()
        .filter(|(_, check)| check.is_failed())
        .enumerate()
        .map(|(number, (index, _))| (index, format!("failure-{}", number + 1)))
        .collect()
}

fn matrix(html: &mut String, report: &RunReport, anchors: &BTreeMap<usize, String>) {
    html.push_str(
        "<h2>Verdicts by rule and source</h2>\n<table id=\"matrix\"><thead><tr><th>rule</th><th>level</th><th>text</th>",
    );
    for (column, _) in COLUMNS {
        let _ = write!(html, "<th>{column}</th>");
    }
    html.push_str("</tr></thead><tbody>\n");
    for rule in Rule::ALL {
        let _ = write!(
            html,
            "<tr id=\"rule-{id}\"><th>{id}</th><td>{level}</td><td class=\"rule-text\">{summary}</td>",
            id = rule.id(),
            summary = escape(rule.summary()),
            level = rule.level().as_str()
        );
        for (_, belongs) in COLUMNS {
            let checks: Vec<(usize, &Check)> = report
                .checks
                .iter()
                .enumerate()
                .filter(|(_, check)| check.rule == *rule && belongs(&check.source))
                .collect();
            let tally = checks.iter().fold(Tally::default(), |mut tally, (_, check)| {
                tally.add(check, report.is_known(check));
                tally
            });
            let class = if tally.failed > tally.known {
                "failed"
            } else if tally.failed > 0 {
                "known"
            } else if tally.passed > 0 {
                "passed"
            } else {
                "none"
            };
            let counts = if class == "none" && tally.skipped == 0 {
                "–".to_owned()
            } else {
                format!("{} / {} / {}", tally.passed, tally.failed, tally.skipped)
            };
            // A cell with failures links to the first of them (a blocking one first).
            let first = checks
                .iter()
                .find(|(_, check)| check.is_failed() && !report.is_known(check))
                .or_else(|| checks.iter().find(|(_, check)| check.is_failed()))
                .and_then(|(index, _)| anchors.get(index));
            match first {
                Some(anchor) => {
                    let _ = write!(html, "<td class=\"{class}\"><a href=\"#{anchor}\">{counts}</a></td>");
                }
                None => {
                    let _ = write!(html, "<td class=\"{class}\">{counts}</td>");
                }
            }
        }
        html.push_str("</tr>\n");
    }
    html.push_str(
        "</tbody></table>\n<p class=\"legend\">passed / failed / skipped; a red cell links to its first failure</p>\n",
    );
}

/// Every failure, expanded, before the matrix: what broke, the rule's text beside it,
/// each request with its answer as numbered steps, what was expected, and a property
/// failure's replay (collapsed: it is for copying).
fn failures(html: &mut String, report: &RunReport, anchors: &BTreeMap<usize, String>) {
    let count = anchors.len();
    let _ = write!(html, "<h2 id=\"failures-heading\">Failures ({count})</h2>\n<div id=\"failures\">\n");
    for (index, check) in report.checks.iter().enumerate() {
        let Outcome::Failed(failure) = &check.outcome else { continue };
        let Some(anchor) = anchors.get(&index) else { continue };
        let blocking = match (report.blocks(check.rule), &report.baseline) {
            (false, _) => " (warning)",
            (true, None) => "",
            (true, Some(_)) if report.is_known(check) => " (known)",
            (true, Some(_)) => " (new)",
        };
        let _ = write!(
            html,
            "<section class=\"failure\" id=\"{anchor}\" data-rule=\"{rule}\">\
             <h3><a href=\"#rule-{rule}\">{rule}</a>{blocking}: {source} — {name}</h3>\
             <p class=\"rule-text\"><strong>{rule}</strong> ({level}): {summary}</p>\
             <pre class=\"message\">{message}</pre>",
            rule = check.rule.id(),
            level = check.rule.level().as_str(),
            summary = escape(check.rule.summary()),
            source = escape(&check.source.to_string()),
            name = escape(&check.name),
            message = escape(&failure.message)
        );
        let exchanges = failure.exchanges();
        if exchanges.is_empty() {
            html.push_str("<p class=\"no-exchange\">No request of its own: the finding is the message above.</p>");
        } else {
            // One exchange is the request and its answer; several are numbered steps.
            let single = exchanges.len() == 1;
            html.push_str(if single { "<ol class=\"steps single\">" } else { "<ol class=\"steps\">" });
            for exchange in &exchanges {
                let _ = write!(
                    html,
                    "<li class=\"step\"><h5>request</h5><pre class=\"request\">{}</pre>\
                     <h5>answer</h5><pre class=\"answer\">{}</pre></li>",
                    escape(&exchange.request),
                    escape(&exchange.answer)
                );
            }
            html.push_str("</ol>");
        }
        if let Some(expected) = &failure.expected {
            let _ = write!(html, "<h4>expected</h4><pre class=\"expected\">{}</pre>", escape(expected));
        }
        if let Some(replay) = &failure.replay {
            let _ = write!(
                html,
                "<details class=\"replay\"><summary>replay: the contract and curl commands</summary><pre>{}</pre></details>",
                escape(replay)
            );
        }
        html.push_str("</section>\n");
    }
    if count == 0 {
        html.push_str("<p>None.</p>\n");
    }
    html.push_str("</div>\n");
}

/// What each rule's checks compare, and nothing else: its reviewed pins and readings.
fn claims(html: &mut String) {
    html.push_str("<h2>What each rule pins</h2>\n<div id=\"claims\">\n");
    for rule in Rule::ALL {
        let _ = writeln!(
            html,
            "<details id=\"claims-{id}\"><summary>{id}: {summary}</summary><pre>{text}</pre></details>",
            id = rule.id(),
            summary = escape(rule.summary()),
            text = escape(&reportcheck_model::claim::explain(*rule))
        );
    }
    html.push_str("</div>\n");
}

fn coverage_table(html: &mut String, coverage: &BTreeMap<Rule, Coverage>) {
    html.push_str(
        "<h2>Coverage</h2>\n<table id=\"coverage\"><thead><tr><th>rule</th><th>positive cases</th>\
         <th>negative cases</th><th>deviations caught</th></tr></thead><tbody>\n",
    );
    for (rule, entry) in coverage {
        let list = |items: &[String]| if items.is_empty() { "NONE".to_owned() } else { escape(&items.join(", ")) };
        let _ = writeln!(
            html,
            "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
            rule.id(),
            list(&entry.positive),
            list(&entry.negative),
            list(&entry.faults)
        );
    }
    html.push_str("</tbody></table>\n");
}

/// The class map's coverage: per dimension, then every class not reached, then those
/// the run could not try.
fn class_table(html: &mut String, classes: &crate::outcome::ClassCoverage) {
    let _ = write!(
        html,
        "<h2>Classes of the input space</h2>\n<p id=\"classes-total\">{} of {} reachable classes reached ({} in the map){}</p>\n\
         <table id=\"classes\"><thead><tr><th>dimension</th><th>reached</th><th>reachable</th></tr></thead><tbody>\n",
        classes.reached,
        classes.reachable,
        classes.size,
        if classes.fails() { "; the gap fails the run (--fail-on-uncovered)" } else { "" }
    );
    for (dimension, [reached, reachable]) in &classes.by_dimension {
        let class = if reached == reachable { "passed" } else { "failed" };
        let _ = writeln!(
            html,
            "<tr><th>{}</th><td class=\"{class}\">{reached}</td><td>{reachable}</td></tr>",
            escape(dimension)
        );
    }
    html.push_str("</tbody></table>\n");
    let unreached: Vec<_> = classes.unreached().collect();
    if !unreached.is_empty() {
        html.push_str("<h3>Not reached</h3>\n<ul id=\"unreached\">");
        for class in unreached {
            let _ = write!(html, "<li>{}</li>", escape(&class.class));
        }
        html.push_str("</ul>\n");
    }
    if !classes.skipped.is_empty() {
        html.push_str("<h3>Not tried</h3>\n<ul id=\"not-tried\">");
        for class in &classes.skipped {
            let _ = write!(html, "<li>{}: {}</li>", escape(&class.class), escape(class.reason.unwrap_or_default()));
        }
        html.push_str("</ul>\n");
    }
}

/// Text as HTML: the five characters with a meaning in markup and attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}\
table{border-collapse:collapse;margin-bottom:1rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}\
td.failed,span.failed{background:#fdd;color:#900}td.known{background:#ffe9c2;color:#7a4b00}td.passed,span.passed{background:#dfd;color:#060}td.none{color:#999}\
section.failure{border:1px solid #e99;border-left:.4rem solid #c33;margin:.75rem 0;padding:.5rem 1rem}\
section.failure:target{outline:3px solid #36c;background:#f3f7ff}td a{color:inherit}p.rule-text{background:#fff7e0;padding:.25rem .5rem}\
ol.steps>li{margin-bottom:.5rem}ol.steps.single{list-style:none;padding-left:0}h4,h5{margin:.4rem 0 .2rem}pre.answer{border-left:3px solid #999}pre{background:#f6f6f6;padding:.5rem;overflow-x:auto;white-space:pre-wrap}\
dl#run{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:bold}.legend{color:#666;font-size:.9em}";

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use scraper::{Html, Selector};

    use super::*;
    use crate::contract::Case;
    use crate::outcome::{Exchange, Failure, ProfileMode};

    fn select<'a>(document: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
        let selector = Selector::parse(css).unwrap_or_else(|err| panic!("{css}: {err}"));
        document.select(&selector).collect()
    }

    fn text(element: &scraper::ElementRef<'_>) -> String {
        element.text().collect::<String>()
    }

    #[test]
    fn the_report_parses_and_says_what_happened() {
        let check = |rule, source, outcome| Check {
            rule,
            source,
            name: "a <check>".to_owned(),
            case: Case::Positive,
            outcome,
            duration: Duration::ZERO,
        };
        let failure = Failure {
            message: "UPD-2: the body changes parameters.formats & more".to_owned(),
            request: Some("PUT /reports/1 {\"parameters\":{\"formats\":[\"html\"]}}".to_owned()),
            expected: Some("400".to_owned()),
            actual: Some("200".to_owned()),
            ..Failure::default()
        };
        let property = Failure {
            message: "UPD-7: the version did not grow\n3 of 16 generated sequences failed UPD-7".to_owned(),
            steps: vec![
                Exchange { request: "POST /reports\n\n{}".to_owned(), answer: "201 application/json".to_owned() },
                Exchange { request: "PUT /reports/1\n\n{}".to_owned(), answer: "200 application/json".to_owned() },
            ],
            replay: Some("replayable contract (save under contracts/): {}".to_owned()),
            ..Failure::default()
        };
        let report = RunReport {
            notes: vec!["a note".to_owned()],
            target: "http://127.0.0.1:1/api/2".to_owned(),
            profile: ProfileMode::Strict,
            seed: 42,
            requests: 7,
            concurrency: 32,
            rps: None,
            duration: Duration::from_millis(1500),
            started_at: std::time::SystemTime::UNIX_EPOCH,
            stopped: None,
            left_behind: Vec::new(),
            durations: BTreeMap::new(),
            totals: Default::default(),
            checks: vec![
                check(Rule::Upd2, Source::Contract("update-fixed-parameters".to_owned()), Outcome::Passed),
                check(Rule::Upd2, Source::Contract("update-fixed-parameters".to_owned()), Outcome::Failed(failure)),
                check(Rule::Upd7, Source::Property, Outcome::Failed(property)),
                check(Rule::Upd9, Source::Concurrency, Outcome::Passed),
                check(Rule::Auth4, Source::Setup, Outcome::Skipped { reason: "no tenant".to_owned() }),
            ],
            classes: Some({
                use reportcheck_model::classes::{Class, Op, map};
                let map = map();
                let reached = BTreeMap::from([(Class::op(Op::Create), 3)]);
                crate::outcome::ClassCoverage::new(&map, &map[..2], &reached, true)
            }),
            baseline: None,
        };
        let coverage =
            BTreeMap::from([(Rule::Upd2, Coverage { positive: vec!["x".to_owned()], ..Coverage::default() })]);
        let document = Html::parse_document(&render(&report, &coverage));
        assert_eq!(text(&select(&document, "#verdict")[0]), "failed");
        assert_eq!(text(&select(&document, "#seed")[0]), "42");
        assert_eq!(text(&select(&document, "#target")[0]), "http://127.0.0.1:1/api/2");
        assert_eq!(text(&select(&document, "#totals")[0]), "2 passed, 2 failed, 1 skipped");
        let upd2: Vec<String> = select(&document, "#rule-UPD-2 td").iter().map(text).collect();
        assert_eq!(upd2, ["documented", Rule::Upd2.summary(), "1 / 1 / 0", "–", "–", "–"]);
        assert_eq!(select(&document, "#rule-UPD-9 td.passed").len(), 1);
        assert_eq!(select(&document, "#matrix tbody tr").len(), Rule::ALL.len());
        // Failures come first, expanded (no <details> around them), each a link target.
        let failures = select(&document, "section.failure");
        assert_eq!(failures.len(), 2);
        let html = render(&report, &coverage);
        assert!(html.find("id=\"failures\"") < html.find("id=\"matrix\""), "failures before the matrix");
        assert!(select(&document, "details section.failure").is_empty());
        assert_eq!(failures[0].value().attr("data-rule"), Some("UPD-2"));
        let links: Vec<&str> =
            select(&document, "#matrix td.failed a").iter().filter_map(|link| link.value().attr("href")).collect();
        assert_eq!(links, ["#failure-1", "#failure-2"]);
        for failure in &failures {
            let id = failure.value().attr("id").unwrap_or_default();
            assert!(links.contains(&format!("#{id}").as_str()), "{id} is linked");
        }
        assert_eq!(
            text(&select(&document, "#failure-1 .rule-text")[0]),
            format!("UPD-2 (documented): {}", Rule::Upd2.summary())
        );
        assert!(text(&select(&document, "#failure-1 pre.request")[0]).contains("\"formats\":[\"html\"]"));
        assert_eq!(text(&select(&document, "#failure-1 pre.answer")[0]), "200");
        assert!(text(&select(&document, "#failure-1 .message")[0]).ends_with("& more"));
        // A property failure: its sequence as numbered steps, each request with its
        // answer; the replay collapsed below them; the message keeps its lines.
        let steps: Vec<String> = select(&document, "#failure-2 ol.steps > li pre.answer").iter().map(text).collect();
        assert_eq!(steps, ["201 application/json", "200 application/json"]);
        assert_eq!(select(&document, "#failure-2 ol.steps > li pre.request").len(), 2);
        assert!(text(&select(&document, "#failure-2 details.replay pre")[0]).starts_with("replayable contract"));
        assert!(text(&select(&document, "#failure-2 .message")[0]).contains("grow\n3 of 16"));
        assert_eq!(select(&document, "#coverage tbody tr").len(), 1);
        assert_eq!(text(&select(&document, "#classes tbody td")[0]), "1");
        assert_eq!(select(&document, "#unreached li").len(), 1);
        assert!(text(&select(&document, "#classes-total")[0]).contains("fails the run"));
        // Self-contained: nothing is fetched.
        assert!(select(&document, "script, link, img, iframe").is_empty());
    }
}
