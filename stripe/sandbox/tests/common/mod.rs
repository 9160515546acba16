//! Helpers shared by the integration tests: a sandbox on a free loopback port, a
//! Stripe-style client, and a webhook receiver.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use stripe_sandbox::{start, RunningSandbox, SandboxConfig};

pub const SK: &str = "sk_test_51SandboxTestsSecretKey000";
pub const SK2: &str = "sk_test_51SandboxTestsOtherKey0000";
pub const PK: &str = "pk_test_51SandboxTestsPublishable00";

pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

impl Resp {
    pub fn err(&self) -> &Value {
        &self.json["error"]
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn id(&self) -> String {
        self.json["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {}", self.json))
            .to_owned()
    }
    #[track_caller]
    pub fn ok(self) -> Value {
        assert_eq!(self.status, 200, "{}", self.json);
        self.json
    }
}

pub struct Sb {
    pub running: RunningSandbox,
    pub http: reqwest::Client,
    pub base: String,
}

pub fn config() -> SandboxConfig {
    SandboxConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        ..SandboxConfig::default()
    }
}

impl Sb {
    pub async fn start() -> Sb {
        Sb::start_with(config()).await
    }

    pub async fn start_with(config: SandboxConfig) -> Sb {
        let running = start(config).await.expect("sandbox starts");
        let base = running.url();
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        Sb {
            running,
            http,
            base,
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        form: &[(&str, &str)],
        idem: Option<&str>,
    ) -> Resp {
        self.try_send(method, path, key, form, idem)
            .await
            .unwrap_or_else(|e| panic!("request {path} failed: {e}"))
    }

    pub async fn try_send(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        form: &[(&str, &str)],
        idem: Option<&str>,
    ) -> Result<Resp, reqwest::Error> {
        let url = format!("{}{}", self.base, path);
        let mut rb = self.http.request(method.clone(), &url);
        if let Some(k) = key {
            rb = rb.bearer_auth(k);
        }
        if let Some(i) = idem {
            rb = rb.header("Idempotency-Key", i);
        }
        if method == reqwest::Method::GET {
            if !form.is_empty() {
                rb = rb.query(form);
            }
        } else {
            rb = rb.form(form);
        }
        let r = rb.send().await?;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = r.bytes().await?;
        let json = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            panic!(
                "{path}: answer is not JSON ({status}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        Ok(Resp {
            status,
            headers,
            json,
        })
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Resp {
        self.send(reqwest::Method::POST, path, Some(SK), form, None)
            .await
    }

    pub async fn post_idem(&self, path: &str, form: &[(&str, &str)], key: &str) -> Resp {
        self.send(reqwest::Method::POST, path, Some(SK), form, Some(key))
            .await
    }

    pub async fn post_pk(&self, path: &str, form: &[(&str, &str)]) -> Resp {
        self.send(reqwest::Method::POST, path, Some(PK), form, None)
            .await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(reqwest::Method::GET, path, Some(SK), &[], None)
            .await
    }

    pub async fn get_q(&self, path: &str, q: &[(&str, &str)]) -> Resp {
        self.send(reqwest::Method::GET, path, Some(SK), q, None)
            .await
    }

    pub async fn get_pk(&self, path: &str, q: &[(&str, &str)]) -> Resp {
        self.send(reqwest::Method::GET, path, Some(PK), q, None)
            .await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(reqwest::Method::DELETE, path, Some(SK), &[], None)
            .await
    }

    /// `/_sandbox/...` with a JSON body.
    pub async fn control(&self, path: &str, body: Value) -> Resp {
        let r = self
            .http
            .post(format!("{}/_sandbox{}", self.base, path))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let json = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        Resp {
            status,
            headers,
            json,
        }
    }

    pub async fn control_get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}/_sandbox{}", self.base, path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
    }

    /// A PaymentMethod from raw card details, created with the publishable key (as Stripe.js does).
    pub async fn card(&self, number: &str, cvc: &str) -> Resp {
        self.post_pk(
            "/v1/payment_methods",
            &[
                ("type", "card"),
                ("card[number]", number),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2040"),
                ("card[cvc]", cvc),
            ],
        )
        .await
    }

    pub async fn card_id(&self, number: &str) -> String {
        let cvc = if number.starts_with("37") || number.starts_with("34") {
            "1234"
        } else {
            "123"
        };
        let r = self.card(number, cvc).await;
        assert_eq!(r.status, 200, "{}", r.json);
        r.id()
    }

    /// Creates and confirms a 20.00 USD card PaymentIntent with `pm` (+ extra params).
    pub async fn pay(&self, pm: &str, extra: &[(&str, &str)]) -> Resp {
        let mut form = vec![
            ("amount", "2000"),
            ("currency", "usd"),
            ("payment_method_types[]", "card"),
            ("payment_method", pm),
            ("confirm", "true"),
        ];
        form.extend_from_slice(extra);
        self.post("/v1/payment_intents", &form).await
    }

    pub async fn customer(&self) -> String {
        self.post("/v1/customers", &[("email", "jenny@example.com")])
            .await
            .ok()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn count(&self, path: &str) -> usize {
        self.get_q(path, &[("limit", "100")]).await.ok()["data"]
            .as_array()
            .unwrap()
            .len()
    }

    /// Events of a type, newest first.
    pub async fn events(&self, kind: &str) -> Vec<Value> {
        self.get_q("/v1/events", &[("type", kind), ("limit", "100")])
            .await
            .ok()["data"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// Completes or fails 3-D Secure on the challenge endpoint, as the test page's buttons do.
    pub async fn three_ds(&self, intent: &Value, outcome: &str) -> Value {
        let id = intent["id"].as_str().unwrap();
        let secret = intent["client_secret"].as_str().unwrap();
        let r = self
            .http
            .post(format!("{}/3ds/{id}/{outcome}", self.base))
            .header("accept", "application/json")
            .form(&[("client_secret", secret)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
    }

    pub async fn deliveries(&self, query: &str) -> Vec<Value> {
        self.control_get(&format!("/deliveries{query}")).await["data"]
            .as_array()
            .unwrap()
            .clone()
    }
}

/// Polls `f` every 20 ms until it returns `Some`, or panics after `secs`.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[derive(Clone, Debug)]
pub struct Hit {
    pub signature: String,
    pub body: Vec<u8>,
    pub user_agent: String,
    pub content_type: String,
}

impl Hit {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A webhook endpoint on a free loopback port recording every POST; answers `status`.
pub struct Receiver {
    pub url: String,
    pub hits: Arc<parking_lot::Mutex<Vec<Hit>>>,
    pub status: Arc<AtomicU16>,
}

pub async fn receiver() -> Receiver {
    use axum::routing::post;
    let hits: Arc<parking_lot::Mutex<Vec<Hit>>> = Arc::default();
    let status = Arc::new(AtomicU16::new(200));
    let (h, s) = (hits.clone(), status.clone());
    let app = axum::Router::new().route(
        "/webhook",
        post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let (h, s) = (h.clone(), s.clone());
                async move {
                    let get = |n: &str| {
                        headers
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned()
                    };
                    h.lock().push(Hit {
                        signature: get("stripe-signature"),
                        body: body.to_vec(),
                        user_agent: get("user-agent"),
                        content_type: get("content-type"),
                    });
                    axum::http::StatusCode::from_u16(s.load(Ordering::SeqCst)).unwrap()
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Receiver {
        url: format!("http://{addr}/webhook"),
        hits,
        status,
    }
}

impl Receiver {
    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().clone()
    }

    pub fn event_types(&self) -> Vec<String> {
        self.hits()
            .iter()
            .map(|h| h.json()["type"].as_str().unwrap().to_owned())
            .collect()
    }

    pub async fn wait_for(&self, n: usize) -> Vec<Hit> {
        eventually(10, &format!("{n} webhook deliveries"), || async {
            let hits = self.hits();
            (hits.len() >= n).then_some(hits)
        })
        .await
    }
}

/// Verifies a `Stripe-Signature` header the way Stripe's libraries do, computing the
/// HMAC here (independently of the sandbox's code).
pub fn verify_signature(secret: &str, header: &str, body: &[u8], tolerance: i64) -> bool {
    let mut t = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1.push(v.to_owned()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    if (now - t).abs() > tolerance {
        return false;
    }
    let mut payload = format!("{t}.").into_bytes();
    payload.extend_from_slice(body);
    v1.iter().any(|sig| {
        let Ok(sig) = hex::decode(sig) else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(&payload);
        mac.verify_slice(&sig).is_ok()
    })
}

pub fn j(v: &Value, path: &str) -> Value {
    let mut cur = v;
    for seg in path.split('.') {
        cur = match seg.parse::<usize>() {
            Ok(i) => &cur[i],
            Err(_) => &cur[seg],
        };
    }
    cur.clone()
}

pub fn s(v: &Value, path: &str) -> String {
    match j(v, path) {
        Value::String(s) => s,
        other => panic!("{path} is not a string: {other} in {v}"),
    }
}

pub fn empty() -> Value {
    json!({})
}
