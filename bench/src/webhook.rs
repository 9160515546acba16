//! `bench webhook`: signed Stripe events into `POST /webhook`, a share of them re-sends
//! of an event already delivered. The server stores each new event before its 2xx;
//! afterwards the stored count must equal the number of distinct ids acknowledged.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use sqlx::Row;
use stripe_client::webhook::{sign, SIGNATURE_HEADER};
use stripe_client::WebhookSecret;

use crate::harness::{self, Target};
use crate::stats::{Rng, Samples, Window};
use crate::Common;

pub struct Args {
    pub common: Common,
    /// Share of deliveries that re-send an earlier event (0..1).
    pub duplicates: f64,
    pub secret: Option<String>,
}

#[derive(Default)]
struct WorkerResult {
    samples: Samples,
    /// Every delivery (warm-up included).
    deliveries: u64,
    resends: u64,
    /// Answers `{"duplicate": true}`.
    duplicate_answers: u64,
    /// Ids answered with a 2xx.
    acknowledged: Vec<String>,
}

const KINDS: [&str; 3] = [
    "payment_intent.succeeded",
    "charge.succeeded",
    "customer.created",
];

/// A Stripe-shaped event envelope for `id` (kind chosen by `pick`), created `now`.
fn event(id: &str, pick: usize, now: i64) -> Vec<u8> {
    // Object ids derived from the event id, so a re-send carries the same object.
    let tail = id.trim_start_matches("evt_");
    let kind = KINDS[pick % KINDS.len()];
    let object = match kind {
        "payment_intent.succeeded" => serde_json::json!({
            "id": format!("pi_{tail}"),
            "object": "payment_intent",
            "amount": 1250,
            "amount_received": 1250,
            "capture_method": "automatic",
            "client_secret": format!("pi_{tail}_secret_benchbenchbench"),
            "confirmation_method": "automatic",
            "created": now,
            "currency": "usd",
            "latest_charge": format!("ch_{tail}"),
            "livemode": false,
            // An order that does not exist: the event is stored, never applied.
            "metadata": {"order_id": format!("ord_bench{tail}")},
            "payment_method": format!("pm_{tail}"),
            "payment_method_types": ["card"],
            "status": "succeeded",
        }),
        "charge.succeeded" => serde_json::json!({
            "id": format!("ch_{tail}"),
            "object": "charge",
            "amount": 1250,
            "amount_captured": 1250,
            "amount_refunded": 0,
            "captured": true,
            "created": now,
            "currency": "usd",
            "livemode": false,
            "metadata": {"order_id": format!("ord_bench{tail}")},
            "paid": true,
            "payment_intent": format!("pi_{tail}"),
            "payment_method": format!("pm_{tail}"),
            "payment_method_details": {"card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2034, "funding": "credit", "country": "US"}, "type": "card"},
            "refunded": false,
            "status": "succeeded",
        }),
        _ => serde_json::json!({
            "id": format!("cus_{tail}"),
            "object": "customer",
            "created": now,
            "email": format!("shopper+{tail}@example.com"),
            "livemode": false,
            "metadata": {},
            "name": "Bench Shopper",
        }),
    };
    let envelope = serde_json::json!({
        "id": id,
        "object": "event",
        "type": kind,
        "created": now,
        "api_version": "2024-06-20",
        "livemode": false,
        "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "data": {"object": object},
    });
    serde_json::to_vec(&envelope).expect("JSON")
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

struct Shared {
    url: String,
    client: reqwest::Client,
    secret: WebhookSecret,
    window: Window,
    duplicates: f64,
    /// Event ids of this run start with it.
    prefix: String,
}

async fn worker(shared: Arc<Shared>, n: usize) -> WorkerResult {
    let mut rng = Rng::seeded(n as u64 + 1);
    let mut out = WorkerResult::default();
    // What this worker has sent: (id, body), for re-sends.
    let mut sent: Vec<(String, Vec<u8>)> = Vec::new();
    let mut seq: u64 = 0;
    while let Some(measured) = shared.window.take() {
        let resend = !sent.is_empty() && rng.unit() < shared.duplicates;
        let (id, body) = if resend {
            out.resends += 1;
            sent[rng.below(sent.len())].clone()
        } else {
            seq += 1;
            let id = format!("{}{n:04x}{seq:010x}", shared.prefix);
            let body = event(&id, rng.below(KINDS.len()), unix_now());
            sent.push((id.clone(), body.clone()));
            (id, body)
        };
        // Signed now, as Stripe signs each delivery attempt.
        let signature = sign(&body, &shared.secret, unix_now());
        out.deliveries += 1;
        let t0 = Instant::now();
        let result = shared
            .client
            .post(&shared.url)
            .header(SIGNATURE_HEADER, signature)
            .header("content-type", "application/json; charset=utf-8")
            .body(body)
            .send()
            .await;
        let outcome = match result {
            Ok(response) => {
                let status = response.status();
                match response.text().await {
                    Ok(text) if status.is_success() => Ok(text.contains("\"duplicate\":true")),
                    Ok(text) => Err(format!("HTTP {status}: {text}")),
                    Err(e) => Err(format!("reading the answer: {e}")),
                }
            }
            Err(e) => Err(format!("request: {e}")),
        };
        if let Ok(duplicate) = outcome {
            out.duplicate_answers += u64::from(duplicate);
            out.acknowledged.push(id);
        }
        out.samples.record(measured, t0, outcome);
    }
    out
}

pub async fn run(args: Args) -> anyhow::Result<bool> {
    let c = &args.common;
    if !(0.0..1.0).contains(&args.duplicates) {
        anyhow::bail!("--duplicates must be at least 0 and below 1");
    }
    let secret = match (&c.url, &args.secret) {
        (Some(_), None) => {
            anyhow::bail!("--url needs --secret whsec_… (the server's STRIPE_WEBHOOK_SECRET)")
        }
        (_, Some(s)) => s.clone(),
        (None, None) => harness::WEBHOOK_SECRET.to_owned(),
    };
    let secret = WebhookSecret::new(secret).map_err(|e| anyhow::anyhow!("--secret: {e}"))?;
    let target = Target::new(c.url.as_deref(), c.database.as_deref()).await?;
    println!(
        "webhook: {} clients, {}, {:.0}% re-sends, {:.1} s warm-up, target {}, {} cores",
        c.concurrency,
        c.extent(),
        args.duplicates * 100.0,
        c.warmup.as_secs_f64(),
        target.description,
        harness::cores()
    );
    let run_id = Rng::seeded(0xbe9c).next_u64() as u32;
    let shared = Arc::new(Shared {
        url: target.url("/webhook"),
        client: harness::client(c.concurrency),
        secret,
        window: Window::new(c.warmup, c.duration, c.requests),
        duplicates: args.duplicates,
        prefix: format!("evt_{run_id:08x}"),
    });
    let handles: Vec<_> = (0..c.concurrency)
        .map(|n| tokio::spawn(worker(shared.clone(), n)))
        .collect();
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await.context("a worker panicked")?);
    }
    let measure_from = shared.window.measure_from();
    let prefix = shared.prefix.clone();
    drop(shared);

    let (summary, errors) =
        Samples::summarise(results.iter_mut().map(|r| &mut r.samples), measure_from);
    let deliveries: u64 = results.iter().map(|r| r.deliveries).sum();
    let resends: u64 = results.iter().map(|r| r.resends).sum();
    let duplicate_answers: u64 = results.iter().map(|r| r.duplicate_answers).sum();
    let distinct: HashSet<&str> = results
        .iter()
        .flat_map(|r| r.acknowledged.iter().map(String::as_str))
        .collect();
    let distinct = distinct.len() as u64;

    // Durability: every acknowledged event is a row, each once.
    let stored = match &target.store {
        Some(store) => {
            let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM stripe_events WHERE id LIKE $1")
                .bind(format!("{prefix}%"))
                .fetch_one(store.pool())
                .await
                .context("counting stripe_events")?
                .try_get("n")?;
            Some(n as u64)
        }
        None => None,
    };
    let server = target.kind();
    target.stop().await;

    let consistent = stored.is_none_or(|s| s == distinct);
    println!(
        "webhook: {}; warm-up included: {deliveries} deliveries, {errors} errors, {resends} re-sends ({duplicate_answers} answered as duplicates); stored {} for {distinct} distinct ids acknowledged{}",
        summary.human(),
        stored.map_or("?".into(), |s| s.to_string()),
        match stored {
            None => " (no --database: not checked)",
            Some(_) if consistent => " (equal)",
            Some(_) => " (MISMATCH)",
        }
    );
    let mut json = summary.json("webhook", c.concurrency, errors);
    json["stored"] = stored.into();
    json["distinct"] = distinct.into();
    json["deliveries"] = deliveries.into();
    json["resends"] = resends.into();
    json["duplicate_answers"] = duplicate_answers.into();
    json["duplicates"] = args.duplicates.into();
    json["server"] = server.into();
    println!("{json}");
    Ok(errors == 0 && consistent && summary.requests > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_verify_with_the_servers_verifier() {
        let secret = WebhookSecret::new(harness::WEBHOOK_SECRET).unwrap();
        for (pick, kind) in KINDS.iter().enumerate() {
            let body = event("evt_0123abcd00000000000001", pick, unix_now());
            let header = sign(&body, &secret, unix_now());
            let verified = stripe_client::webhook::verify(
                &body,
                &header,
                std::slice::from_ref(&secret),
                stripe_client::webhook::DEFAULT_TOLERANCE,
                SystemTime::now(),
            )
            .unwrap();
            assert_eq!(verified.id, "evt_0123abcd00000000000001");
            assert_eq!(verified.kind.as_str(), *kind);
        }
    }
}
