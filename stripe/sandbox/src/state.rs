//! All sandbox state, behind one lock (`parking_lot::Mutex<State>` in [`crate::Shared`]).

use std::collections::BTreeSet;

use rustc_hash::FxHashMap as HashMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::objects::*;
use crate::util::{new_id, real_now, to_json, JsonBytes};

/// Objects in creation order with O(1) lookup by id. Lists are newest first.
/// Objects are boxed so that growing the table moves pointers, not objects.
#[derive(Debug, Clone)]
pub struct Table<T> {
    items: Vec<Box<T>>,
    index: HashMap<String, usize>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            items: Vec::new(),
            index: HashMap::default(),
        }
    }
}

impl<T: Keyed> Table<T> {
    pub fn insert(&mut self, item: T) {
        if let Some(&i) = self.index.get(item.id()) {
            *self.items[i] = item;
            return;
        }
        self.index.insert(item.id().to_owned(), self.items.len());
        self.items.push(Box::new(item));
    }

    pub fn get(&self, id: &str) -> Option<&T> {
        self.index.get(id).map(|&i| &*self.items[i])
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        self.index.get(id).map(|&i| &mut *self.items[i])
    }

    pub fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    /// Where `id` sits in insertion order.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The item at `position` (insertion order).
    pub fn at(&self, position: usize) -> Option<&T> {
        self.items.get(position).map(|b| &**b)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.items.iter().map(|b| &**b)
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.items.iter_mut().map(|b| &mut **b)
    }

    /// One page of a list, newest first: `(items, has_more)`.
    pub fn page(
        &self,
        limit: usize,
        starting_after: Option<(&str, &str)>,
        ending_before: Option<(&str, &str)>,
        filter: impl Fn(&T) -> bool,
    ) -> ApiResult<(Vec<&T>, bool)> {
        let position = |(id, param): (&str, &str)| -> ApiResult<usize> {
            self.index.get(id).copied().ok_or_else(|| {
                ApiError::no_such(axum::http::StatusCode::BAD_REQUEST, "object", id, param)
            })
        };
        let mut out = Vec::new();
        let mut has_more = false;
        if let Some(before) = ending_before {
            // Items newer than the cursor, the `limit` closest to it, shown newest first.
            let start = position(before)? + 1;
            for item in self.items[start..].iter().map(|b| &**b) {
                if filter(item) {
                    if out.len() == limit {
                        has_more = true;
                        break;
                    }
                    out.push(item);
                }
            }
            out.reverse();
            return Ok((out, has_more));
        }
        let end = match starting_after {
            Some(after) => position(after)?,
            None => self.items.len(),
        };
        for item in self.items[..end].iter().rev().map(|b| &**b) {
            if filter(item) {
                if out.len() == limit {
                    has_more = true;
                    break;
                }
                out.push(item);
            }
        }
        Ok((out, has_more))
    }
}

impl<T: Serialize + Keyed> Serialize for Table<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de, T: DeserializeOwned + Keyed> Deserialize<'de> for Table<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = Vec::<T>::deserialize(d)?;
        let mut t = Table::default();
        for item in items {
            t.insert(item);
        }
        Ok(t)
    }
}

/// A stored idempotent result (or a marker that the first request is still running).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdemRecord {
    /// SHA-256 of the method, path and canonicalized parameters.
    pub fingerprint: [u8; 32],
    pub created: i64,
    pub response: Option<StoredResponse>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub body: JsonBytes,
    pub request_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub secret: String,
    /// `["*"]` or a list of event types.
    pub enabled_events: Vec<String>,
    pub created: i64,
}

impl Endpoint {
    pub fn wants(&self, kind: &str) -> bool {
        self.enabled_events.iter().any(|e| e == "*" || e == kind)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivering,
    Succeeded,
    /// Gave up after ~3 days of retries.
    Failed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attempt {
    /// Sandbox-clock time of the attempt.
    pub at: i64,
    /// The `t=` of the `Stripe-Signature` header (wall clock, so receivers' tolerance checks pass).
    pub signature_timestamp: i64,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub duplicate: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    pub endpoint_id: String,
    pub url: String,
    pub created: i64,
    pub status: DeliveryStatus,
    pub next_attempt_at: Option<i64>,
    pub attempts: Vec<Attempt>,
}

impl Keyed for Delivery {
    fn id(&self) -> &str {
        &self.id
    }
    fn created(&self) -> i64 {
        self.created
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookControls {
    pub paused: bool,
    pub duplicate: bool,
    pub delay_ms: u64,
    /// Deliver each batch of queued events in reverse order.
    pub reverse: bool,
    /// Deliveries in flight at once per endpoint (1: one after another, in order). Stripe
    /// itself sends concurrently and guarantees no order; a load test that must not be
    /// held up by one delivery at a time raises this.
    #[serde(default = "one_at_a_time")]
    pub parallel: u32,
}

fn one_at_a_time() -> u32 {
    1
}

impl Default for WebhookControls {
    fn default() -> WebhookControls {
        WebhookControls {
            paused: false,
            duplicate: false,
            delay_ms: 0,
            reverse: false,
            parallel: one_at_a_time(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// HTTP 500 `api_error`; the request has no effect (its result is stored for its idempotency key, as Stripe stores 500s).
    ApiError,
    /// HTTP 429 rate limit; nothing stored.
    RateLimit,
    /// Wait `delay_ms` before executing.
    Delay,
    /// Drop the connection before the request takes effect.
    DropBefore,
    /// Execute the request (idempotency record stored), then drop the connection.
    DropAfter,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fault {
    pub id: String,
    pub kind: FaultKind,
    pub remaining: u32,
    pub delay_ms: u64,
    /// Only requests whose path starts with this (e.g. `/v1/payment_intents`).
    pub path_prefix: Option<String>,
    /// Only requests with this method (`GET`, `POST`, `DELETE`).
    pub method: Option<String>,
}

/// When a dispute with winning/losing evidence gets decided.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DisputeDecision {
    pub dispute: String,
    pub at: i64,
    pub won: bool,
}

/// When a refund of test card 5126 fails (`expired_or_canceled_card`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefundFailure {
    pub refund: String,
    pub at: i64,
}

/// Context of the request (or trigger) that causes a state change.
pub struct Ctx<'a> {
    pub now: i64,
    pub request_id: Option<&'a str>,
    pub idempotency_key: Option<&'a str>,
    /// `http://host:port` for URLs the sandbox hands out (3-D Secure pages).
    pub base_url: &'a str,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    pub clock_offset: i64,
    pub customers: Table<Customer>,
    pub payment_methods: Table<PmRecord>,
    pub payment_intents: Table<PaymentIntent>,
    pub setup_intents: Table<SetupIntent>,
    pub charges: Table<Charge>,
    pub refunds: Table<Refund>,
    pub disputes: Table<Dispute>,
    pub early_fraud_warnings: Table<EarlyFraudWarning>,
    pub payouts: Table<Payout>,
    pub events: Table<Event>,
    pub idempotency: HashMap<String, IdemRecord>,
    pub endpoints: Vec<Endpoint>,
    pub deliveries: Table<Delivery>,
    pub webhook_controls: WebhookControls,
    pub dispute_decisions: Vec<DisputeDecision>,
    pub refund_failures: Vec<RefundFailure>,
    #[serde(skip)]
    pub faults: Vec<Fault>,
    /// Set when deliveries were queued since the dispatcher last looked.
    #[serde(skip)]
    pub deliveries_queued: bool,
    /// Set on every change since the last snapshot.
    #[serde(skip)]
    pub dirty: bool,
    /// `(next attempt, position)` of every pending delivery: what the dispatcher reads
    /// when it wakes (on each new event), instead of scanning every delivery ever made
    /// under the state lock. Kept in step by [`State::set_delivery`]; rebuilt on load.
    #[serde(skip)]
    due: BTreeSet<(i64, usize)>,
    /// `(object id, JSON)` of the latest event's object, reused as the response body when
    /// the response is that same object (PaymentIntent create/confirm).
    #[serde(skip)]
    pub last_snapshot: Option<(String, bytes::Bytes)>,
}

/// Idempotency results are kept 24 hours, like Stripe.
pub const IDEMPOTENCY_TTL: i64 = 24 * 3600;

impl State {
    pub fn now(&self) -> i64 {
        real_now() + self.clock_offset
    }

    /// Drops everything but the webhook endpoints.
    pub fn reset(&mut self, keep_endpoints: bool) {
        let endpoints = std::mem::take(&mut self.endpoints);
        *self = State::default();
        if keep_endpoints {
            self.endpoints = endpoints;
        }
        self.dirty = true;
    }

    /// Sets a delivery's status and next attempt (keeping the due index in step).
    pub fn set_delivery(&mut self, id: &str, status: DeliveryStatus, next: Option<i64>) {
        let Some(position) = self.deliveries.position(id) else {
            return;
        };
        let Some(d) = self.deliveries.get_mut(id) else {
            return;
        };
        if let (DeliveryStatus::Pending, Some(at)) = (d.status, d.next_attempt_at) {
            self.due.remove(&(at, position));
        }
        d.status = status;
        d.next_attempt_at = next;
        if let (DeliveryStatus::Pending, Some(at)) = (status, next) {
            self.due.insert((at, position));
        }
    }

    /// The pending deliveries due at `now`, oldest first.
    pub fn due_deliveries(&self, now: i64) -> Vec<String> {
        let mut positions: Vec<usize> = self
            .due
            .range(..=(now, usize::MAX))
            .map(|&(_, position)| position)
            .collect();
        positions.sort_unstable();
        positions
            .into_iter()
            .filter_map(|p| self.deliveries.at(p).map(|d| d.id.clone()))
            .collect()
    }

    /// When the earliest pending delivery is due.
    pub fn next_delivery_at(&self) -> Option<i64> {
        self.due.first().map(|&(at, _)| at)
    }

    /// Rebuilds the due index from the deliveries (after loading a snapshot).
    pub fn rebuild_due(&mut self) {
        self.due = self
            .deliveries
            .iter()
            .enumerate()
            .filter(|(_, d)| d.status == DeliveryStatus::Pending)
            .filter_map(|(position, d)| d.next_attempt_at.map(|at| (at, position)))
            .collect();
    }

    /// Records an event with a snapshot of `object` and queues its deliveries.
    pub fn emit<T: Serialize + Keyed>(
        &mut self,
        ctx: &Ctx,
        kind: &str,
        object: &T,
        previous_attributes: Option<Value>,
    ) -> String {
        let raw = to_json(object);
        self.last_snapshot = Some((object.id().to_owned(), raw.clone()));
        let raw = JsonBytes(raw);
        let id = new_id("evt");
        let targets: Vec<(String, String)> = self
            .endpoints
            .iter()
            .filter(|e| e.wants(kind))
            .map(|e| (e.id.clone(), e.url.clone()))
            .collect();
        let event = Event {
            id: id.clone(),
            object: EventTag,
            api_version: stripe_types::API_VERSION.to_owned(),
            created: ctx.now,
            data: EventData {
                object: raw,
                previous_attributes,
            },
            livemode: false,
            pending_webhooks: targets.len() as u32,
            request: EventRequest {
                id: ctx.request_id.map(str::to_owned),
                idempotency_key: ctx.idempotency_key.map(str::to_owned),
            },
            kind: kind.to_owned(),
        };
        self.events.insert(event);
        for (endpoint_id, url) in targets {
            self.due.insert((ctx.now, self.deliveries.len()));
            self.deliveries.insert(Delivery {
                id: new_id("whdel"),
                event_id: id.clone(),
                event_type: kind.to_owned(),
                endpoint_id,
                url,
                created: ctx.now,
                status: DeliveryStatus::Pending,
                next_attempt_at: Some(ctx.now),
                attempts: Vec::new(),
            });
            self.deliveries_queued = true;
        }
        self.dirty = true;
        id
    }

    /// Takes the next injected fault that applies to this request.
    pub fn take_fault(&mut self, method: &str, path: &str) -> Option<Fault> {
        let i = self.faults.iter().position(|f| {
            f.remaining > 0
                && f.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
                && f.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
        })?;
        let f = &mut self.faults[i];
        f.remaining -= 1;
        let out = f.clone();
        if f.remaining == 0 {
            self.faults.remove(i);
        }
        Some(out)
    }

    pub fn prune_idempotency(&mut self, now: i64) {
        self.idempotency
            .retain(|_, r| r.response.is_none() || now - r.created < IDEMPOTENCY_TTL);
    }

    /// Serializes any stored object by id, for `expand[]`.
    pub fn object_json(&self, id: &str) -> Option<Value> {
        let v = if id.starts_with("pi_") {
            serde_json::to_value(self.payment_intents.get(id)?)
        } else if id.starts_with("ch_") || id.starts_with("py_") {
            serde_json::to_value(self.charges.get(id)?)
        } else if id.starts_with("cus_") {
            serde_json::to_value(self.customers.get(id)?)
        } else if id.starts_with("pm_") {
            serde_json::to_value(&self.payment_methods.get(id)?.pm)
        } else if id.starts_with("seti_") {
            serde_json::to_value(self.setup_intents.get(id)?)
        } else if id.starts_with("re_") {
            serde_json::to_value(self.refunds.get(id)?)
        } else if id.starts_with("dp_") || id.starts_with("du_") {
            serde_json::to_value(self.disputes.get(id)?)
        } else if id.starts_with("po_") {
            serde_json::to_value(self.payouts.get(id)?)
        } else if id.starts_with("issfr_") {
            serde_json::to_value(self.early_fraud_warnings.get(id)?)
        } else {
            return None;
        };
        v.ok()
    }
}

/// The fields of `after` whose value differs in `before`, with their old values (an
/// event's `data.previous_attributes`). As on Stripe, a changed sub-object (`metadata`,
/// `invoice_settings`) lists only its changed keys, and a key that did not exist before
/// is `null`: `{"invoice_settings": {"default_payment_method": null}}`. Lists and other
/// values are given whole.
pub fn previous_attributes(before: &Value, after: &Value) -> Option<Value> {
    let (Value::Object(b), Value::Object(a)) = (before, after) else {
        return None;
    };
    let mut out = serde_json::Map::new();
    for (k, old) in b {
        match (old, a.get(k)) {
            (_, Some(new)) if new == old => {}
            (Value::Object(_), Some(new @ Value::Object(_))) => {
                if let Some(changed) = previous_attributes(old, new) {
                    out.insert(k.clone(), changed);
                }
            }
            _ => {
                out.insert(k.clone(), old.clone());
            }
        }
    }
    for k in a.keys() {
        if !b.contains_key(k) {
            out.insert(k.clone(), Value::Null);
        }
    }
    if out.is_empty() {
        None
    } else {
        Some(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ctx(now: i64) -> Ctx<'static> {
        Ctx {
            now,
            request_id: None,
            idempotency_key: None,
            base_url: "http://127.0.0.1:1",
        }
    }

    /// The ids the due index names, against a scan of every delivery (what it replaces).
    fn scanned(st: &State, now: i64) -> Vec<String> {
        st.deliveries
            .iter()
            .filter(|d| d.status == DeliveryStatus::Pending)
            .filter(|d| d.next_attempt_at.is_some_and(|t| t <= now))
            .map(|d| d.id.clone())
            .collect()
    }

    #[test]
    fn the_due_index_follows_every_delivery_change() {
        let mut st = State::default();
        for url in ["http://a/webhook", "http://b/webhook"] {
            crate::webhooks::upsert_endpoint(&mut st, url, "whsec_x", None);
        }
        let object = Delivery {
            id: "whdel_object".into(),
            event_id: String::new(),
            event_type: String::new(),
            endpoint_id: String::new(),
            url: String::new(),
            created: 0,
            status: DeliveryStatus::Succeeded,
            next_attempt_at: None,
            attempts: Vec::new(),
        };
        for now in [100, 100, 101, 105] {
            st.emit(&ctx(now), "payment_intent.created", &object, None);
        }
        assert_eq!(st.deliveries.len(), 8);
        assert_eq!(st.next_delivery_at(), Some(100));
        assert_eq!(st.due_deliveries(101), scanned(&st, 101));
        assert_eq!(st.due_deliveries(101).len(), 6);
        assert_eq!(st.due_deliveries(99), Vec::<String>::new());

        let ids: Vec<String> = st.deliveries.iter().map(|d| d.id.clone()).collect();
        st.set_delivery(&ids[0], DeliveryStatus::Delivering, Some(100));
        st.set_delivery(&ids[1], DeliveryStatus::Succeeded, None);
        // The oldest fails and is retried later than younger ones: still listed in order
        // of creation once due.
        st.set_delivery(&ids[2], DeliveryStatus::Pending, Some(160));
        st.set_delivery(&ids[3], DeliveryStatus::Failed, None);
        for now in [100, 105, 159, 160, 10_000] {
            assert_eq!(st.due_deliveries(now), scanned(&st, now), "at {now}");
        }
        assert_eq!(st.due_deliveries(10_000)[0], ids[2]);
        assert_eq!(st.next_delivery_at(), Some(101));

        // A snapshot reloaded: the index is rebuilt from the deliveries alone.
        let mut reloaded: State =
            serde_json::from_slice(&serde_json::to_vec(&st).unwrap()).unwrap();
        assert_eq!(reloaded.next_delivery_at(), None);
        reloaded.rebuild_due();
        for now in [100, 160, 10_000] {
            assert_eq!(reloaded.due_deliveries(now), st.due_deliveries(now));
        }
        st.set_delivery("whdel_unknown", DeliveryStatus::Pending, Some(1));
        assert_eq!(st.next_delivery_at(), Some(101));
    }

    #[test]
    fn previous_attributes_name_only_what_changed() {
        let before = json!({"id": "cus_1", "name": "Ada", "tags": [1, 2],
            "invoice_settings": {"default_payment_method": null, "footer": null},
            "metadata": {"a": "1", "b": "2"}, "address": {"city": "Paris"}});
        let after = json!({"id": "cus_1", "name": "Ada L.", "tags": [1, 3],
            "invoice_settings": {"default_payment_method": "pm_1", "footer": null},
            "metadata": {"a": "1", "c": "3"}, "address": null});
        assert_eq!(
            previous_attributes(&before, &after),
            Some(json!({"name": "Ada", "tags": [1, 2],
                "invoice_settings": {"default_payment_method": null},
                "metadata": {"b": "2", "c": null}, "address": {"city": "Paris"}}))
        );
        assert_eq!(previous_attributes(&before, &before), None);
        assert_eq!(previous_attributes(&json!(1), &json!(2)), None);
    }
}
