//! The files a generated `save` report stores: real CSV, HTML and JSON with usage rows for
//! each tenant the report covers. The numbers are made up but fixed for a given report.

use std::fmt::Write as _;

use reportcheck_model::{Format, Kind, Level, Report, date::format_day};

use crate::fixture::Tenant;

const METRICS: &[(&str, &str)] = &[("storage", "GiB"), ("workstations", "devices"), ("servers", "devices")];

struct Row<'a> {
    tenant: &'a Tenant,
    metric: &'static str,
    unit: &'static str,
    usage: u64,
}

fn rows<'a>(report: &Report, tenants: &[&'a Tenant]) -> Vec<Row<'a>> {
    let mut rows = Vec::new();
    for tenant in tenants {
        for (index, (metric, unit)) in METRICS.iter().enumerate() {
            let seed = tenant.id.as_uuid().as_u128() ^ (report.id.as_uuid().as_u128() >> 7) ^ index as u128;
            let usage = (seed % 1000) as u64;
            if report.parameters.hide_zero_usage == Some(true) && usage == 0 {
                continue;
            }
            rows.push(Row { tenant, metric, unit, usage });
        }
    }
    rows
}

/// The file of `report` in `format`, covering `tenants`.
pub fn render(report: &Report, format: Format, tenants: &[&Tenant]) -> Vec<u8> {
    let rows = rows(report, tenants);
    let period = &report.parameters.period;
    let (start, end) = (format_day(period.start), format_day(period.end));
    match format {
        Format::Csv | Format::CsvV2 => {
            let mut csv = String::from("tenant_id,tenant_name,metric,unit,usage,period_start,period_end\n");
            for row in &rows {
                let name = row.tenant.name.replace('"', "\"\"");
                let _ = writeln!(
                    csv,
                    "{},\"{}\",{},{},{},{start},{end}",
                    row.tenant.id, name, row.metric, row.unit, row.usage
                );
            }
            csv.into_bytes()
        }
        Format::Html => {
            let mut html = format!(
                "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Usage report {start} to {end}</title></head>\n<body><table>\n<tr><th>Tenant</th><th>Metric</th><th>Unit</th><th>Usage</th></tr>\n"
            );
            for row in &rows {
                let name = row.tenant.name.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
                let _ = writeln!(
                    html,
                    "<tr><td>{name}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    row.metric, row.unit, row.usage
                );
            }
            html.push_str("</table></body></html>\n");
            html.into_bytes()
        }
        Format::JsonV1 => {
            let items: Vec<_> = rows
                .iter()
                .map(|row| {
                    serde_json::json!({"tenant_id": row.tenant.id, "tenant_name": row.tenant.name,
                        "name": row.metric, "measurement_unit": row.unit, "value": row.usage})
                })
                .collect();
            let document = serde_json::json!({"period": {"start": start, "end": end}, "items": items});
            serde_json::to_vec_pretty(&document).unwrap_or_default()
        }
        Format::JsonV2 => {
            // The shape of REFERENCE.md B22: numeric kind and level codes, Unix dates.
            let kind = match report.parameters.kind {
                Kind::UsageDaily | Kind::UsageBreakdown => 4,
                Kind::UsageSummary => 5,
                Kind::UsageCurrent => 8,
            };
            let level = match report.parameters.level {
                Level::DirectPartners | Level::Itself => 1,
                Level::AllCustomers => 2,
                Level::Accounts => 3,
                Level::AllPartners => 4,
            };
            let unix = |date: time::Date| date.midnight().assume_utc().unix_timestamp();
            let tenants: Vec<_> = tenants
                .iter()
                .map(|tenant| {
                    let usages: Vec<_> = rows
                        .iter()
                        .filter(|row| row.tenant.id == tenant.id)
                        .map(|row| serde_json::json!({"name": row.metric, "measurement_unit": row.unit, "value": row.usage}))
                        .collect();
                    serde_json::json!({"id": tenant.id, "name": tenant.name, "usages": usages})
                })
                .collect();
            let document = serde_json::json!({
                "params": {"kind": kind, "gen_date": unix(report.generation_date), "begin_date": unix(period.start),
                    "end_date": unix(period.end), "group_id": report.parameters.tenant_id, "report_level": level,
                    "report_type": kind, "name": format!("usage report {start} to {end}")},
                "tenants": tenants,
            });
            serde_json::to_vec_pretty(&document).unwrap_or_default()
        }
    }
}
