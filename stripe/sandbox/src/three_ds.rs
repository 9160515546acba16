//! The 3-D Secure challenge page (what Stripe.js shows in its modal):
//!
//! * `GET /3ds/{id}?client_secret=…` — an HTML page with "Complete authentication" and
//!   "Fail authentication" buttons, for a PaymentIntent (`pi_…`) or SetupIntent (`seti_…`)
//!   in `requires_action`;
//! * `POST /3ds/{id}/complete` and `POST /3ds/{id}/fail` with `client_secret` in a form body
//!   (or the query). With `Accept: application/json` the answer is
//!   `{"outcome", "payment_intent"|"setup_intent": {…}}`; otherwise a small HTML page.
//!
//! Either way the page then calls
//! `window.parent.postMessage({type: "stripe-sandbox-3ds", outcome, payment_intent: id}, "*")`
//! (`setup_intent: id` for SetupIntents).

use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use crate::api::payments;
use crate::error::ApiError;
use crate::form::Params;
use crate::http::{error_response, json_response, new_request_id};
use crate::state::Ctx;
use crate::Sandbox;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn html(status: StatusCode, body: String) -> Response {
    let mut r = (status, Html(body)).into_response();
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Checks the id and client secret; returns (kind, description of the amount).
fn lookup(
    sb: &Sandbox,
    id: &str,
    secret: Option<&str>,
) -> Result<(&'static str, String, String), ApiError> {
    let st = sb.shared.state.lock();
    let (kind, actual, status, what) = if id.starts_with("seti_") {
        let si = st
            .setup_intents
            .get(id)
            .ok_or_else(|| ApiError::not_found("setup_intent", id))?;
        (
            "setup_intent",
            si.client_secret.clone(),
            si.status.to_string(),
            "Set up a card for future payments".to_owned(),
        )
    } else {
        let pi = st
            .payment_intents
            .get(id)
            .ok_or_else(|| ApiError::not_found("payment_intent", id))?;
        (
            "payment_intent",
            pi.client_secret.clone(),
            pi.status.to_string(),
            format!("Pay {}", crate::util::fmt_amount(pi.amount, pi.currency)),
        )
    };
    if secret != Some(actual.as_str()) {
        return Err(ApiError::invalid_param(
            "client_secret",
            "The client_secret provided does not match the client_secret associated with this intent.",
        ));
    }
    Ok((kind, status, what))
}

#[derive(serde::Deserialize)]
pub struct SecretQuery {
    client_secret: Option<String>,
}

pub async fn page(
    AxState(sb): AxState<Sandbox>,
    Path(id): Path<String>,
    Query(q): Query<SecretQuery>,
) -> Response {
    let (kind, status, what) = match lookup(&sb, &id, q.client_secret.as_deref()) {
        Ok(x) => x,
        Err(e) => {
            return html(
                e.status,
                format!(
                    "<!doctype html><title>3D Secure</title><p>{}</p>",
                    escape(e.body.message.as_deref().unwrap_or("error"))
                ),
            )
        }
    };
    let secret = q.client_secret.unwrap_or_default();
    let id_e = escape(&id);
    let secret_e = escape(&secret);
    let pending = status == "requires_action";
    let buttons = if pending {
        format!(
            r#"<form method="post" action="/3ds/{id_e}/complete"><input type="hidden" name="client_secret" value="{secret_e}"><button type="submit" id="complete" data-outcome="complete">Complete authentication</button></form>
<form method="post" action="/3ds/{id_e}/fail"><input type="hidden" name="client_secret" value="{secret_e}"><button type="submit" id="fail" data-outcome="fail">Fail authentication</button></form>"#
        )
    } else {
        format!(
            "<p>Nothing to authenticate: this intent has status <code>{}</code>.</p>",
            escape(&status)
        )
    };
    let body = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>3D Secure 2 Test Page</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;margin:2rem;color:#1a1f36}}h1{{font-size:1.2rem}}form{{display:inline-block;margin:.5rem .5rem 0 0}}button{{font-size:1rem;padding:.6rem 1rem;border-radius:6px;border:1px solid #635bff;cursor:pointer}}#complete{{background:#635bff;color:#fff}}#fail{{background:#fff;color:#635bff}}.note{{color:#697386;font-size:.85rem}}</style>
</head><body>
<h1>3D Secure 2 Test Page</h1>
<p class="note">Stripe sandbox — simulated authentication for <code>{id_e}</code>. {what}</p>
{buttons}
<p id="result" role="status"></p>
<script>
(function () {{
  var id = {id_json}, kind = {kind_json};
  function notify(outcome) {{
    var msg = {{ type: "stripe-sandbox-3ds", outcome: outcome }};
    msg[kind] = id;
    try {{ window.parent.postMessage(msg, "*"); }} catch (e) {{}}
    if (window.opener) {{ try {{ window.opener.postMessage(msg, "*"); }} catch (e) {{}} }}
  }}
  Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {{
    form.addEventListener("submit", function (ev) {{
      if (!window.fetch) return;
      ev.preventDefault();
      var outcome = form.querySelector("button").getAttribute("data-outcome");
      Array.prototype.forEach.call(document.querySelectorAll("button"), function (b) {{ b.disabled = true; }});
      fetch(form.action, {{ method: "POST", headers: {{ "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" }},
        body: "client_secret=" + encodeURIComponent(form.client_secret.value) }})
        .then(function () {{ document.getElementById("result").textContent = outcome === "complete" ? "Authentication complete." : "Authentication failed."; notify(outcome); }})
        .catch(function () {{ notify(outcome); }});
    }});
  }});
}})();
</script>
</body></html>"#,
        id_json = json!(id),
        kind_json = json!(kind),
    );
    html(StatusCode::OK, body)
}

pub async fn act(
    AxState(sb): AxState<Sandbox>,
    Path((id, action)): Path<(String, String)>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rid = new_request_id();
    let success = match action.as_str() {
        "complete" => true,
        "fail" => false,
        _ => {
            return error_response(
                &ApiError::unrecognized_url("POST", &format!("/3ds/{id}/{action}")),
                &rid,
                None,
            )
        }
    };
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let mut params = Params::parse(&body);
    if let Some(q) = uri.query() {
        params.merge(Params::parse(q.as_bytes()));
    }
    let secret = params.non_empty("client_secret").ok().flatten();
    let kind = match lookup(&sb, &id, secret.as_deref()) {
        Ok((kind, _, _)) => kind,
        Err(e) => return error_response(&e, &rid, None),
    };
    let base = match &sb.shared.config.public_url {
        Some(u) => u.clone(),
        None => format!(
            "http://{}",
            headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("127.0.0.1")
        ),
    };
    let mut st = sb.shared.state.lock();
    let ctx = Ctx {
        now: st.now(),
        request_id: Some(&rid),
        idempotency_key: None,
        base_url: &base,
    };
    let result = if kind == "setup_intent" {
        payments::complete_three_ds_si(&mut st, &ctx, &id, success)
    } else {
        payments::complete_three_ds_pi(&mut st, &ctx, &id, success)
    };
    let object = st.object_json(&id);
    let queued = std::mem::take(&mut st.deliveries_queued);
    drop(st);
    sb.changed(queued);
    if let Err(e) = result {
        return error_response(&e, &rid, None);
    }
    let outcome = if success { "complete" } else { "fail" };
    if wants_json {
        let mut body = json!({ "outcome": outcome });
        body[kind] = object.unwrap_or_default();
        return json_response(
            StatusCode::OK,
            serde_json::to_vec(&body).expect("json"),
            &rid,
        );
    }
    html(
        StatusCode::OK,
        format!(
            r#"<!doctype html><html><head><meta charset="utf-8"><title>3D Secure</title></head><body>
<p>{}</p>
<script>
(function () {{ var msg = {{ type: "stripe-sandbox-3ds", outcome: {} }}; msg[{}] = {};
  try {{ window.parent.postMessage(msg, "*"); }} catch (e) {{}}
  if (window.opener) {{ try {{ window.opener.postMessage(msg, "*"); }} catch (e) {{}} }} }})();
</script></body></html>"#,
            if success {
                "Authentication complete."
            } else {
                "Authentication failed."
            },
            json!(outcome),
            json!(kind),
            json!(id),
        ),
    )
}
