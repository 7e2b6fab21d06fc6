//! AUTH-3 against forged credentials: tokens a careless server might take for a
//! caller's. Each goes to a read, a write, a delete and a list of the first client's own
//! report and tenant; each must get 401 and change nothing. The forgeries are made from
//! what a client really gets (its access token and `id_token`, when it has a secret to
//! ask for them), so a server that reads a JWT's claims without checking its signature,
//! or takes the `id_token` for an access token, is caught; none of them is ever printed.

use base64::Engine as _;
use reportcheck_client::{RawRequest, RequestAuth, Secret};
use reportcheck_model::{Id, Prediction, Report, Rule};
use reqwest::Method;
use serde_json::{Value, json};

use super::sweep::Swept;
use super::world::Finding;
use crate::error::Error;
use crate::runner::show_exchange;
use crate::session::{RECIPIENT, Session};

/// The forged bearer tokens, each with what it is.
fn forgeries(access_token: Option<&str>, id_token: Option<&str>, claims: &Value) -> Vec<(&'static str, String)> {
    let encode = |value: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
    let decoded = |token: &str| -> Option<Value> {
        let payload = token.split('.').nth(1)?;
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
    };
    // The claims a real token carries where it is a JWT, else the client's own.
    let payload =
        access_token.and_then(decoded).or_else(|| id_token.and_then(decoded)).unwrap_or_else(|| claims.clone());
    let mut expired = payload.clone();
    if let Some(object) = expired.as_object_mut() {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        object.insert("exp".to_owned(), json!(now - 3600));
        object.insert("iat".to_owned(), json!(now - 7200));
    }
    let unsigned = json!({"alg": "none", "typ": "JWT"});
    let signed = json!({"alg": "HS256", "typ": "JWT"});
    // Random: a signature made with a key the server does not have.
    let foreign_signature = encode(&json!(Id::new_v4().to_string() + &Id::new_v4().to_string()));
    let mut forged = vec![
        ("an unsigned JWT (alg none) with the client's claims", format!("{}.{}.", encode(&unsigned), encode(&payload))),
        (
            "a JWT with the client's claims signed with another key",
            format!("{}.{}.{foreign_signature}", encode(&signed), encode(&payload)),
        ),
        ("an expired unsigned JWT with the client's claims", format!("{}.{}.", encode(&unsigned), encode(&expired))),
    ];
    if let Some(token) = access_token.filter(|token| token.len() > 8) {
        // The last character changed: a server that compares a prefix takes it.
        let mut tampered: Vec<char> = token.chars().collect();
        if let Some(last) = tampered.last_mut() {
            *last = if *last == 'A' { 'B' } else { 'A' };
        }
        forged.push(("the client's access token with its last character changed", tampered.into_iter().collect()));
    }
    if let Some(token) = id_token {
        forged.push(("the client's id_token as a bearer token", token.to_owned()));
    }
    forged
}

/// A token answer of the first client, when it has a secret to ask with: its access
/// token and its `id_token`.
async fn token_answer(session: &Session) -> Result<(Option<String>, Option<String>), Error> {
    let credentials = &session.a.credentials;
    if credentials.bearer.is_some() {
        return Ok((credentials.bearer.as_ref().map(|token| token.expose().to_owned()), None));
    }
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        credentials.client_id,
        credentials.client_secret.expose()
    ));
    let mut request = RawRequest::new(Method::POST, "/idp/token");
    request.auth = RequestAuth::Header(Secret::new(format!("Basic {basic}")));
    request.headers.insert(
        reqwest::header::CONTENT_TYPE,
        reqwest::header::HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    request.body = Some("grant_type=client_credentials".into());
    let answer = match session.send(&session.a, &request).await {
        Ok(answer) => answer,
        Err(Error::Unanswered(_)) => return Ok((None, None)),
        Err(err) => return Err(err),
    };
    let body: Value = serde_json::from_slice(&answer.body).unwrap_or_default();
    let text = |key: &str| body[key].as_str().map(str::to_owned);
    Ok((text("access_token"), text("id_token")))
}

/// AUTH-3: every forgery on a report of the first client's, answered 401, nothing changed.
pub async fn check(session: &Session, tenant: Id) -> Result<Swept, Error> {
    let mut swept = Swept::default();
    let (access_token, id_token) = token_answer(session).await?;
    let claims = json!({"sub": session.a.credentials.client_id, "client_id": session.a.credentials.client_id,
        "tenant_id": tenant, "exp": time::OffsetDateTime::now_utc().unix_timestamp() + 3600});
    let forged = forgeries(access_token.as_deref(), id_token.as_deref(), &claims);
    let body = json!({"recipients": [RECIPIENT], "result_action": "send", "schedule": {"type": "monthly"},
        "parameters": {"tenant_id": tenant, "kind": "usage_summary", "level": "accounts"}});
    let created = match session.send(&session.a, &RawRequest::new(Method::POST, "/reports").json(&body)).await {
        Ok(created) => created,
        Err(Error::Unanswered(_)) => return Ok(swept),
        Err(err) => return Err(err),
    };
    // The create itself is judged by the sequences and contracts.
    let Some(report) = serde_json::from_slice::<Report>(&created.body).ok().filter(|_| created.status.is_success())
    else {
        return Ok(swept);
    };
    swept.exercised.push((Rule::Auth3, "forged tokens"));
    let id = report.id;
    let forged_as = |requests: Vec<RawRequest>| {
        forged.iter().flat_map(move |(what, token)| {
            requests.clone().into_iter().map(move |mut request| {
                request.auth = RequestAuth::Header(Secret::new(format!("Bearer {token}")));
                (*what, request)
            })
        })
    };
    let send_all = |attempts: Vec<(&'static str, RawRequest)>| {
        futures_util::future::join_all(attempts.into_iter().map(|(what, request)| async move {
            let answer = session.send(&session.a, &request).await;
            (what, request, answer)
        }))
    };
    // Reads, writes and lists at once, then the deletes: what a forged delete does
    // cannot change what the others are answered.
    let mut answers = send_all(
        forged_as(vec![
            RawRequest::new(Method::GET, format!("/reports/{id}")),
            RawRequest::new(Method::PUT, format!("/reports/{id}"))
                .json(&json!({"parameters": {"kind": "usage_daily"}})),
            RawRequest::new(Method::GET, format!("/tenants/{tenant}/reports")),
        ])
        .collect(),
    )
    .await;
    let deletes = vec![RawRequest::new(Method::DELETE, format!("/reports/{id}?version={}", report.version))];
    answers.extend(send_all(forged_as(deletes).collect()).await);
    for (what, request, answer) in answers {
        let note = format!("with {what}");
        let status = match answer {
            Ok(answer) => {
                if answer.status != 401 {
                    let exchange = show_exchange(session, &request, Ok(&answer), Some(&note));
                    swept.exchanges.push((Rule::Auth3, exchange));
                }
                answer.status.as_u16()
            }
            Err(Error::Unanswered(lost)) => {
                swept.exchanges.push((Rule::Auth3, show_exchange(session, &request, Err(&lost), Some(&note))));
                swept.findings.push(Finding { rule: Rule::Auth3, message: format!("AUTH-3: no answer to {lost}") });
                continue;
            }
            Err(err) => return Err(err),
        };
        if status != 401 {
            swept.findings.push(Finding {
                rule: Rule::Auth3,
                message: format!(
                    "AUTH-3: {} {} with {what} answered {status}; a token no server issued gets 401",
                    request.method, request.path
                ),
            });
        }
    }
    // Nothing changed: the report is there, as it was.
    let read = RawRequest::new(Method::GET, format!("/reports/{id}"));
    let (after, shown) = match session.send(&session.a, &read).await {
        Ok(after) => {
            (serde_json::from_slice::<Report>(&after.body).ok(), show_exchange(session, &read, Ok(&after), None))
        }
        Err(Error::Unanswered(lost)) => (Some(report.clone()), show_exchange(session, &read, Err(&lost), None)),
        Err(err) => return Err(err),
    };
    // "Unchanged" as the model's claims have it: what no rule claims may differ.
    if after.as_ref().is_none_or(|after| !Prediction::read(&report).discrepancies(after).is_empty()) {
        swept.exchanges.push((Rule::Auth3, shown));
        swept.findings.push(Finding {
            rule: Rule::Auth3,
            message: "AUTH-3: after requests with forged tokens the report is gone or changed".to_owned(),
        });
    }
    session
        .remove_known(&session.a, &id.to_string(), &after.map_or(report.version, |after| after.version).to_string())
        .await?;
    Ok(swept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgeries_carry_the_real_claims_and_never_the_real_token() {
        let encode = |value: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
        let access = format!("{}.{}.c2lnbmF0dXJl", encode(json!({"alg": "RS256"})), encode(json!({"sub": "me"})));
        let forged = forgeries(Some(&access), Some("id.token."), &json!({"sub": "fallback"}));
        assert_eq!(forged.len(), 5);
        for (what, token) in &forged {
            assert_ne!(token, &access, "{what}");
        }
        let unsigned = &forged[0].1;
        let payload = unsigned.split('.').nth(1).expect("a payload");
        let claims: Value =
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64"))
                .expect("json");
        assert_eq!(claims["sub"], "me", "the access token's own claims");
        let opaque = forgeries(Some("0123456789abcdef"), None, &json!({"sub": "fallback"}));
        assert!(opaque.iter().any(|(_, token)| token == "0123456789abcdeA"));
        assert!(opaque[0].1.contains(&encode(json!({"sub": "fallback"}))));
    }
}
