//! ERR-3: no request, however malformed, gets a 5xx; every error is an errorScheme.

use proptest::prelude::*;
use proptest::sample::select;
use reqwest::Method;

use crate::support::*;

fn method() -> impl Strategy<Value = Method> {
    select(vec![Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::PATCH, Method::HEAD, Method::OPTIONS])
}

/// Paths near the real ones: right shapes with odd ids, wrong depths, odd characters.
fn path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        Just("{report}".to_owned()),
        Just("00000000-0000-4000-8000-000000000000".to_owned()),
        "[a-zA-Z0-9%._~-]{0,40}",
        "[ -~]{0,12}".prop_map(|s| s.replace(['/', '?', '#', ' '], "")),
    ];
    let shapes = prop_oneof![
        segment.clone().prop_map(|id| format!("/reports/{id}")),
        segment.clone().prop_map(|id| format!("/reports/{id}/stored")),
        (segment.clone(), segment.clone()).prop_map(|(id, stored)| format!("/reports/{id}/stored/{stored}")),
        segment.clone().prop_map(|id| format!("/tenants/{id}/reports")),
        segment.clone().prop_map(|id| format!("/clients/{id}")),
        segment.clone().prop_map(|id| format!("/reports/{id}?version={id}")),
        Just("/reports".to_owned()),
        segment.prop_map(|any| format!("/{any}")),
    ];
    shapes
}

/// Bodies: random bytes, JSON-looking text, and valid-looking JSON with odd values.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        "[{}\\[\\]\":,a-z0-9 .-]{0,120}".prop_map(String::into_bytes),
        (
            select(vec!["recipients", "parameters", "schedule", "result_action", "generation_date", "version"]),
            prop_oneof![
                Just("null".to_owned()),
                Just("[]".to_owned()),
                Just("{}".to_owned()),
                any::<i64>().prop_map(|n| n.to_string()),
                "\"[ -~]{0,20}\"".prop_map(|s| s.replace('\\', "")),
                Just("{\"kind\": {\"level\": []}}".to_owned()),
            ],
        )
            .prop_map(|(key, value)| format!("{{\"{key}\": {value}}}").into_bytes()),
    ]
}

fn content_type() -> impl Strategy<Value = Option<&'static str>> {
    proptest::option::of(select(vec!["application/json", "text/plain", "application/json; charset=utf-8", "*/*", ""]))
}

#[test]
fn no_request_gets_a_server_error() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (server, api, report) = runtime.block_on(async {
        let server = server(Some(seed_today())).await;
        let api = Api::login(&server, 0).await;
        let report = api.create(&scheduled_report(&api.tenant)).await["id"].as_str().expect("id").to_owned();
        (server, api, report)
    });
    let config = ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |(method in method(), path in path(), body in body(), content_type in content_type(), authed in any::<bool>())| {
        let path = path.replace("{report}", &report);
        let reply = runtime.block_on(async {
            let mut request = api.http.request(method.clone(), format!("{}{path}", api.base)).body(body.clone());
            if authed {
                request = request.bearer_auth(&api.token);
            }
            if let Some(content_type) = content_type {
                request = request.header("content-type", content_type);
            }
            match request.send().await {
                Ok(response) => Some(reply(response).await),
                // reqwest refuses some generated URLs before sending; nothing to check then.
                Err(err) if err.is_builder() => None,
                Err(err) => panic!("{method} {path}: {err}"),
            }
        });
        if let Some(reply) = reply {
            prop_assert!(reply.status < 500, "{} {} -> {}: {}", method, path, reply.status, reply.text);
            if reply.status >= 400 && method != Method::HEAD {
                prop_assert!(reply.content_type().starts_with("application/json"), "{} {}: {:?}", method, path, reply.headers);
                prop_assert!(reply.body["error"]["message"].is_string(), "{} {}: {}", method, path, reply.text);
            }
        }
    });
    drop(server);
}
