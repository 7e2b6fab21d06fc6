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

/// The malformed-input classes, as a table: each body to a create and to an update of a
/// scheduled report gets a 4xx (or is accepted), never a 5xx, and errors are JSON.
fn malformed_bodies(limit: usize) -> Vec<(&'static str, Vec<u8>)> {
    let padded = |size: usize| {
        let mut body = br#"{"parameters": {"kind": "usage_daily"}}"#.to_vec();
        body.resize(size, b' ');
        body
    };
    vec![
        ("non-ASCII text", r#"{"parameters": {"kind": "usage_dailý", "level": "ñ😀"}}"#.as_bytes().to_vec()),
        ("invalid UTF-8", b"{\"parameters\": {\"kind\": \"\xff\xfe\xc3\x28\"}}".to_vec()),
        ("a lone surrogate escape", br#"{"parameters": {"kind": "\ud800"}}"#.to_vec()),
        ("arrays nested 5000 deep", [vec![b'['; 5000], vec![b']'; 5000]].concat()),
        ("objects nested 3000 deep", [r#"{"a":"#.repeat(3000).into_bytes(), b"1".to_vec(), vec![b'}'; 3000]].concat()),
        ("unclosed nesting 100000 deep", vec![b'{'; 100_000]),
        ("a number beyond 64 bits", br#"{"parameters": {"kind": 123456789012345678901234567890}}"#.to_vec()),
        ("a number beyond f64", br#"{"parameters": {"level": 1e400}, "version": -99999999999999999999999}"#.to_vec()),
        ("duplicate keys", br#"{"parameters": {"kind": "usage_daily", "kind": "usage_current"}}"#.to_vec()),
        ("a byte order mark", [b"\xef\xbb\xbf".as_slice(), br#"{"parameters": {"kind": "usage_daily"}}"#].concat()),
        ("an empty body", Vec::new()),
        ("only whitespace", b" \n\t ".to_vec()),
        ("a NUL byte", b"{\"parameters\": {\"kind\": \"usage\0daily\"}}".to_vec()),
        ("exactly at the size limit", padded(limit)),
        ("one byte over the size limit", padded(limit + 1)),
    ]
}

#[tokio::test]
async fn malformed_bodies_never_get_a_server_error() {
    let server = server(Some(seed_today())).await;
    let limit = server.store().config().max_body_bytes;
    let api = Api::login(&server, 0).await;
    let report = api.create(&scheduled_report(&api.tenant)).await["id"].as_str().expect("id").to_owned();
    for (name, body) in malformed_bodies(limit) {
        for (method, path) in [(Method::POST, "/reports".to_owned()), (Method::PUT, format!("/reports/{report}"))] {
            let response = api
                .http
                .request(method.clone(), format!("{}{path}", api.base))
                .bearer_auth(&api.token)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .expect("sent");
            let reply = reply(response).await;
            assert!(reply.status < 500, "{name}: {method} {path} -> {}: {}", reply.status, reply.text);
            if reply.status >= 400 {
                assert!(reply.content_type().starts_with("application/json"), "{name}: {:?}", reply.headers);
                assert!(reply.body["error"]["message"].is_string(), "{name}: {}", reply.text);
            }
        }
    }
}
