//! Checks every response gets, whatever the contract expects of it: SCH-1/2/3 on
//! successes, ERR-1 and SEC-2 on errors, ERR-3 on all.

use reportcheck_model::Rule;
use serde_json::Value;

use crate::openapi::Spec;
use crate::redact::Redactor;

/// One request and its answer, as the checks see them.
#[derive(Debug)]
pub struct Exchange<'a> {
    pub method: &'a str,
    /// Relative to the base URL, query included.
    pub path: &'a str,
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    pub json: Option<&'a Value>,
    /// Why the body is not whole (`RawResponse::body_problem`).
    pub body_problem: Option<&'a str>,
}

/// The reference server's body limit. The profile names none, so a server may refuse a
/// body this large with 413 whatever it holds: the sweep sends one at it and one byte
/// over, and the proxy takes a 413 to one for the server's limit.
pub const BODY_LIMIT_READING: usize = 64 * 1024;

/// `(rule, Ok | Err(problem))` for every implicit check that applies.
pub fn implicit(spec: &Spec, redactor: &Redactor, exchange: &Exchange<'_>) -> Vec<(Rule, Result<(), String>)> {
    let mut results = Vec::new();
    let is_json_type = reportcheck_model::rule_check::is_json_media_type(exchange.content_type);
    let status = exchange.status;
    // An answer whose body broke off is judged, never a reason to stop: under STO-3 for a
    // download, ERR-1 for an error, SCH-1 for anything else.
    if let Some(problem) = exchange.body_problem {
        let download = reportcheck_model::Operation::find(exchange.method, exchange.path)
            == Some(reportcheck_model::Operation::DownloadStoredReport);
        let rule = match status {
            _ if download => Rule::Sto3,
            400.. => Rule::Err1,
            _ => Rule::Sch1,
        };
        results.push((rule, Err(format!("{} {} answered {status}, but {problem}", exchange.method, exchange.path))));
    }
    results.push((
        Rule::Err3,
        if status >= 500 { Err(format!("{} {} answered {status}", exchange.method, exchange.path)) } else { Ok(()) },
    ));
    let api_path = exchange.path.starts_with("/reports") || exchange.path.starts_with("/tenants/");
    if status >= 400 && api_path {
        let problem = if !is_json_type {
            Some(format!(
                "the error is served as {:?}, not application/json",
                exchange.content_type.unwrap_or("nothing")
            ))
        } else {
            match exchange.json {
                None => Some("the error body is not JSON".to_owned()),
                Some(body) => {
                    let problems = spec.validate("errorScheme", body);
                    (!problems.is_empty()).then(|| format!("not an errorScheme: {}", problems.join("; ")))
                }
            }
        };
        results.push((Rule::Err1, problem.map_or(Ok(()), Err)));
    }
    if status >= 400 {
        let text = String::from_utf8_lossy(exchange.body);
        results.push((
            Rule::Sec2,
            match redactor.leaks(&text) {
                Some(_) => Err("the error body echoes a bearer token or client secret".to_owned()),
                None => Ok(()),
            },
        ));
    }
    let schema = spec.operation(exchange.method, exchange.path).and_then(|operation| operation.success_schema(status));
    if (200..300).contains(&status)
        && let Some(schema) = schema
    {
        results.push((
            Rule::Sch2,
            if is_json_type {
                Ok(())
            } else {
                Err(format!("a JSON body served as {:?}", exchange.content_type.unwrap_or("nothing")))
            },
        ));
        match exchange.json {
            None => results.push((Rule::Sch1, Err(format!("the {schema} body is not JSON")))),
            Some(body) => {
                let problems = spec.validate(schema, body);
                results.push((
                    Rule::Sch1,
                    if problems.is_empty() { Ok(()) } else { Err(format!("not a {schema}: {}", problems.join("; "))) },
                ));
                let problems = strict_values(schema, body);
                results.push((Rule::Sch3, if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }));
            }
        }
    }
    results
}

/// SCH-3: lower-case enum values, `YYYY-MM-DD` dates, integer versions, lower-case UUIDs,
/// checked on the fields that carry them (missing fields are SCH-1's business).
pub fn strict_values(schema: &str, body: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut id = |pointer: &str, value: Option<&Value>| {
        if let Some(value) = value
            && value.as_str().is_none_or(|text| text.parse::<reportcheck_model::Id>().is_err())
        {
            problems.push(format!("{pointer}: {value} is not a lower-case UUID"));
        }
    };
    match schema {
        "report" => {
            id("/id", body.get("id"));
            id("/parameters/tenant_id", body.pointer("/parameters/tenant_id"));
            for (index, recipient) in body["recipients"].as_array().into_iter().flatten().enumerate() {
                id(&format!("/recipients/{index}"), Some(recipient));
            }
            if let Some(version) = body.get("version")
                && !(version.is_i64() || version.is_u64())
            {
                problems.push(format!("/version: {version} is not an integer"));
            }
            for pointer in ["/generation_date", "/parameters/period/start", "/parameters/period/end"] {
                if let Some(date) = body.pointer(pointer)
                    && date.as_str().is_none_or(|text| reportcheck_model::date::parse_day(text).is_err())
                {
                    problems.push(format!("{pointer}: {date} is not a YYYY-MM-DD date"));
                }
            }
            enum_value(
                &mut problems,
                body,
                "/result_action",
                reportcheck_model::ResultAction::ALL.iter().map(|v| v.as_str()),
            );
            enum_value(
                &mut problems,
                body,
                "/parameters/kind",
                reportcheck_model::Kind::ALL.iter().map(|v| v.as_str()),
            );
            enum_value(
                &mut problems,
                body,
                "/parameters/level",
                reportcheck_model::Level::ALL.iter().map(|v| v.as_str()),
            );
            enum_value(
                &mut problems,
                body,
                "/schedule/type",
                reportcheck_model::ScheduleType::ALL.iter().map(|v| v.as_str()),
            );
        }
        "storedReportParams" => {
            for (index, item) in body["items"].as_array().into_iter().flatten().enumerate() {
                id(&format!("/items/{index}/id"), item.get("id"));
            }
        }
        "uuidList" => {
            for (index, item) in body["items"].as_array().into_iter().flatten().enumerate() {
                id(&format!("/items/{index}"), Some(item));
            }
        }
        "client" => {
            id("/client_id", body.get("client_id"));
            id("/tenant_id", body.get("tenant_id"));
        }
        _ => {}
    }
    problems
}

fn enum_value<'a>(problems: &mut Vec<String>, body: &Value, pointer: &str, known: impl Iterator<Item = &'a str>) {
    if let Some(value) = body.pointer(pointer) {
        let known: Vec<&str> = known.collect();
        if !value.as_str().is_some_and(|text| known.contains(&text)) {
            problems.push(format!("{pointer}: {value} is not one of the documented lower-case values {known:?}"));
        }
    }
}

/// The most a downloaded file may decompress to (the response cap's default, eightfold).
const MAX_DECODED_BYTES: usize = 8 * reportcheck_client::DEFAULT_MAX_RESPONSE_BYTES;

/// The bytes that start every gzip stream.
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];

/// STO-3, decoded honestly: with `Content-Encoding: gzip` the body must be gzip and is
/// returned decompressed; without it the body must be the plain file (not gzip bytes).
/// `content_encoding` is the header as sent, the body as received (not decoded).
pub fn decoded(content_encoding: Option<&str>, body: &[u8]) -> Result<Vec<u8>, String> {
    let gzip = content_encoding.is_some_and(|coding| coding.trim().eq_ignore_ascii_case("gzip"));
    match content_encoding.map(str::trim) {
        None | Some("") | Some("identity") => {}
        Some(_) if gzip => {}
        Some(other) => {
            return Err(format!("the file is sent with Content-Encoding {other:?}, which was not asked for"));
        }
    }
    if !gzip {
        if body.starts_with(GZIP_MAGIC) {
            return Err("the file is gzip-compressed but sent without Content-Encoding: gzip".to_owned());
        }
        return Ok(body.to_vec());
    }
    if !body.starts_with(GZIP_MAGIC) {
        return Err("Content-Encoding: gzip, but the body is not gzip (plain bytes under a gzip header)".to_owned());
    }
    // Decompressed, a file is read up to a bound: a small body must not expand without one.
    let mut plain = Vec::new();
    let limit = u64::try_from(MAX_DECODED_BYTES).unwrap_or(u64::MAX);
    std::io::Read::read_to_end(&mut std::io::Read::take(flate2::read::GzDecoder::new(body), limit + 1), &mut plain)
        .map_err(|err| format!("Content-Encoding: gzip, but the body does not decompress: {err}"))?;
    if plain.len() > MAX_DECODED_BYTES {
        return Err(format!("the gzip body decompresses to more than {MAX_DECODED_BYTES} bytes"));
    }
    Ok(plain)
}

/// The file format a stored report's `report_format` promises.
pub fn file_format_of(format: reportcheck_model::Format) -> crate::contract::FileFormat {
    use crate::contract::FileFormat;
    use reportcheck_model::Format;
    match format {
        Format::Csv | Format::CsvV2 => FileFormat::Csv,
        Format::Html => FileFormat::Html,
        Format::JsonV1 | Format::JsonV2 => FileFormat::Json,
    }
}

/// Request bodies no server may answer with a 5xx (ERR-3), by name: non-ASCII text,
/// bytes that are not UTF-8, JSON nested thousands of levels deep, numbers beyond 64
/// bits, duplicate keys, a byte order mark, an empty body, and valid JSON padded to
/// exactly `limit` bytes and one byte over it. `valid` is a valid body to build on.
pub fn malformed_bodies(valid: &Value, limit: usize) -> Vec<(&'static str, Vec<u8>)> {
    let text = valid.to_string();
    let padded = |size: usize| {
        let mut body = text.clone().into_bytes();
        body.resize(size.max(body.len()), b' ');
        body
    };
    let with_bom = [b"\xef\xbb\xbf".as_slice(), text.as_bytes()].concat();
    let duplicate = text.replacen('{', "{\"result_action\": \"save\", ", 1);
    vec![
        ("non-ASCII text", "{\"parameters\": {\"kind\": \"usage_dailý\", \"level\": \"ñ😀\"}}".as_bytes().to_vec()),
        ("bytes that are not UTF-8", b"{\"parameters\": {\"kind\": \"\xff\xfe\xc3\x28\"}}".to_vec()),
        ("JSON nested 5000 levels deep", [vec![b'['; 5000], vec![b']'; 5000]].concat()),
        (
            "objects nested 3000 levels deep",
            ["{\"a\":".repeat(3000).into_bytes(), b"1".to_vec(), vec![b'}'; 3000]].concat(),
        ),
        ("a number beyond 64 bits", b"{\"parameters\": {\"kind\": 123456789012345678901234567890}}".to_vec()),
        (
            "a number beyond f64",
            b"{\"parameters\": {\"level\": 1e400}, \"version\": -99999999999999999999999}".to_vec(),
        ),
        ("duplicate keys", duplicate.into_bytes()),
        ("a byte order mark", with_bom),
        ("an empty body", Vec::new()),
        ("a body exactly at the size limit", padded(limit)),
        ("a body one byte over the size limit", padded(limit + 1)),
    ]
}

/// Whether `body` is a file in `format`.
pub fn file_format(format: crate::contract::FileFormat, body: &[u8]) -> Result<(), String> {
    use crate::contract::FileFormat;
    if body.starts_with(GZIP_MAGIC) {
        return Err("the file is gzip bytes, not decoded by its Content-Encoding".to_owned());
    }
    let text = std::str::from_utf8(body).map_err(|_| "the file is not UTF-8 text".to_owned())?;
    match format {
        FileFormat::Json => serde_json::from_str::<Value>(text).map(|_| ()).map_err(|err| format!("not JSON: {err}")),
        FileFormat::Html => {
            let lower = text.to_ascii_lowercase();
            if lower.contains("<html") || lower.contains("<table") || lower.contains("<!doctype html") {
                Ok(())
            } else {
                Err("not HTML: no <html>, <table> or doctype".to_owned())
            }
        }
        FileFormat::Csv => {
            // RFC 4180: quoted fields may hold commas, quotes and line breaks.
            let rows = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(text.as_bytes())
                .into_records()
                .collect::<Result<Vec<csv::StringRecord>, _>>()
                .map_err(|err| format!("not CSV: {err}"))?;
            let widths: Vec<usize> = rows.iter().map(csv::StringRecord::len).collect();
            match (rows.first(), widths.first()) {
                (None, _) | (_, None) => Err("an empty CSV file".to_owned()),
                (_, Some(1)) => Err("not CSV: the header has a single column".to_owned()),
                (Some(header), _) if !is_header_row(header) => {
                    let header: Vec<&str> = header.iter().collect();
                    Err(format!("not CSV with a header row: the first row holds data ({:.80})", header.join(",")))
                }
                (_, Some(first)) if widths.iter().all(|width| width == first) => Ok(()),
                (_, Some(first)) => Err(format!("not CSV: rows have {widths:?} fields, the header {first}")),
            }
        }
    }
}

/// A CSV header row names its columns: no field is empty, a number, a UUID or a date.
fn is_header_row(header: &csv::StringRecord) -> bool {
    header.iter().map(str::trim).all(|field| {
        !field.is_empty()
            && field.parse::<f64>().is_err()
            && field.to_ascii_lowercase().parse::<reportcheck_model::Id>().is_err()
            && reportcheck_model::date::parse_day(field).is_err()
    })
}
