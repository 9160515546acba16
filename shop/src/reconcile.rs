//! Reconciliation: the shop catches up with Stripe after webhooks were lost or late.
//!
//! A run (the background job, or "Reconcile now" in the console):
//! 1. reads Stripe's Events API after the newest event the last successful run read
//!    (`ending_before`, never more than 30 days back: Stripe keeps 30 days), or the whole
//!    30 days the first time;
//! 2. notes the shop's state of every object those missed events concern, and of every
//!    payment, refund, dispute and payout still moving;
//! 3. passes the missed events, oldest first, through the webhook's own store-once path
//!    ([`stripe_events::ingest`]: dedupe by event id, the same state machines);
//! 4. fetches each of those objects from Stripe again and applies Stripe's state through
//!    the same code path (never moving anything back), and reports every object whose
//!    state in the shop differed from Stripe's, and whether it matches now.
//!
//! Runs in one process never overlap; runs on several instances may (each step is
//! idempotent). Why a cursor of our own rather than "the newest event stored": a webhook
//! that arrives after an outage is newer than the events the outage lost.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use stripe_client::{Client, Event, ListEvents, Page, Range, StripeError};

use crate::console::{Drift, ReconciliationRun};
use crate::error::ShopError;
use crate::ids::{random_tail, OrderId};
use crate::payment_state::Ignored;
use crate::payments::Payments;
use crate::refunds::Merchant;
use crate::store::disputes::Funds;
use crate::store::payments::Applied;
use crate::store::reconcile::RunTotals;
use crate::store::{now_ms, Store, StoreError};
use crate::stripe_events::{self, payment_intent_of, EventHandlers, Ingested};

/// How far back Stripe's Events API goes.
pub const EVENTS_WINDOW_SECS: i64 = 30 * 86_400;
/// Events per page (Stripe's maximum).
const PAGE: u8 = 100;

/// Something a run fetches from Stripe again, by Stripe id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Object {
    Payment(String),
    Refund(String),
    Dispute(String),
    Payout(String),
}

impl Object {
    fn id(&self) -> &str {
        match self {
            Object::Payment(id) | Object::Refund(id) | Object::Dispute(id) | Object::Payout(id) => {
                id
            }
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Object::Payment(_) => "payment",
            Object::Refund(_) => "refund",
            Object::Dispute(_) => "dispute",
            Object::Payout(_) => "payout",
        }
    }

    /// What an event is about: its refund, dispute or payout, or the payment of its
    /// PaymentIntent or charge. (Card, customer and fraud-warning events carry their
    /// whole state: the events suffice.)
    fn of_event(event: &Event) -> Option<Object> {
        let id = event.object_id()?;
        let prefix = id.split('_').next().unwrap_or_default();
        match prefix {
            "re" | "pyr" => Some(Object::Refund(id.to_owned())),
            "dp" | "du" => Some(Object::Dispute(id.to_owned())),
            "po" => Some(Object::Payout(id.to_owned())),
            "pi" | "ch" | "py" => payment_intent_of(event).map(|pi| Object::Payment(pi.to_owned())),
            _ => None,
        }
    }
}

/// The shop's state of an object: its order, and its status (`unknown`: none stored).
type State = (Option<OrderId>, String);

const UNKNOWN: &str = "unknown";

#[derive(Clone)]
pub struct Reconciler {
    store: Store,
    stripe: Client,
    payments: Payments,
    handlers: EventHandlers,
    running: Arc<tokio::sync::Mutex<()>>,
}

impl Reconciler {
    pub fn new(store: Store, stripe: Client, payments: Payments, handlers: EventHandlers) -> Self {
        Reconciler {
            store,
            stripe,
            payments,
            handlers,
            running: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// "Reconcile now": a run started by a merchant (recorded in the run).
    pub async fn run_for(&self, merchant: &Merchant) -> Result<ReconciliationRun, ShopError> {
        self.run(&merchant.email).await
    }

    /// One run (waiting for a run of this process already under way to end first).
    #[tracing::instrument(name = "reconcile", level = "error", skip(self))]
    pub async fn run(&self, started_by: &str) -> Result<ReconciliationRun, ShopError> {
        let _one_at_a_time = self.running.lock().await;
        let id = format!("rec_{}", random_tail(20));
        self.store.start_reconciliation(&id, started_by).await?;
        let mut totals = RunTotals::default();
        let outcome = self.steps(&id, &mut totals).await;
        let error = outcome.as_ref().err().map(ToString::to_string);
        self.store
            .finish_reconciliation(&id, &totals, error.as_deref())
            .await?;
        match &error {
            None => tracing::info!(
                events_read = totals.events_read,
                events_missed = totals.events_missed,
                objects = totals.objects_checked,
                drifts = totals.drifts,
                "reconciled"
            ),
            Some(error) => tracing::error!(%error, "reconciliation stopped"),
        }
        Ok(self.store.reconciliation_run(&id).await?)
    }

    async fn steps(&self, run_id: &str, totals: &mut RunTotals) -> Result<(), RunError> {
        let now_s = now_ms() / 1000;
        let window_start = now_s - EVENTS_WINDOW_SECS + 60;
        let previous = self.store.reconciliation_cursor().await?;
        let events = self.read_events(previous.clone(), window_start).await?;
        totals.events_read = events.len() as i64;
        totals.cursor = events
            .last()
            .map(|e| (e.id.clone(), e.created))
            .or(previous);

        let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        let known = self.store.known_events(&ids).await?;
        let missed: Vec<&Event> = events.iter().filter(|e| !known.contains(&e.id)).collect();

        // Everything to fetch again: what the missed events concern, then what still moves.
        let mut objects = Vec::new();
        let mut seen = HashSet::new();
        let in_flight = [
            (
                self.store
                    .payments_in_flight(now_ms() - EVENTS_WINDOW_SECS * 1000)
                    .await?,
                Object::Payment as fn(String) -> Object,
            ),
            (self.store.refunds_in_flight().await?, Object::Refund),
            (self.store.disputes_in_flight().await?, Object::Dispute),
            (self.store.payouts_in_flight().await?, Object::Payout),
        ];
        let from_events = missed.iter().filter_map(|e| Object::of_event(e));
        let still_moving = in_flight
            .into_iter()
            .flat_map(|(ids, object)| ids.into_iter().map(object));
        for object in from_events.chain(still_moving) {
            if seen.insert(object.clone()) {
                objects.push(object);
            }
        }
        let mut before: HashMap<Object, State> = HashMap::with_capacity(objects.len());
        for object in &objects {
            before.insert(object.clone(), self.shop_state(object).await?);
        }

        // The missed events, oldest first, exactly as if the webhook had delivered them.
        for event in &missed {
            let body = serde_json::to_vec(event).map_err(|e| RunError::Internal(e.to_string()))?;
            if stripe_events::ingest(&self.store, &self.handlers, &body, event).await?
                == Ingested::New
            {
                totals.events_missed += 1;
            }
        }

        // Stripe's word about each object, through the same path; each difference reported.
        for object in &objects {
            totals.objects_checked += 1;
            let (order_id, shop_state) = before.remove(object).unwrap_or_default();
            let (stripe_state, resolved) = match self.refetch(object).await {
                Ok(found) => found,
                Err(RunError::Stripe(error)) => {
                    tracing::warn!(%error, object = object.id(), "cannot fetch from Stripe");
                    (format!("not fetched: {error}"), false)
                }
                Err(other) => return Err(other),
            };
            let after = self.shop_state(object).await?;
            let differed = match object {
                // The shop's order status and Stripe's PaymentIntent status are different
                // words: a difference is what the run had to change, or could not.
                Object::Payment(_) => after.1 != shop_state || !resolved,
                _ => shop_state != stripe_state,
            };
            if !differed {
                continue;
            }
            totals.drifts += 1;
            let resolved = match object {
                Object::Payment(_) => resolved,
                _ => resolved && after.1 == stripe_state,
            };
            self.store
                .record_drift(&Drift {
                    run_id: run_id.to_owned(),
                    object_id: object.id().to_owned(),
                    kind: object.kind().to_owned(),
                    order_id: order_id.or(after.0),
                    shop_state: if shop_state.is_empty() {
                        UNKNOWN.to_owned()
                    } else {
                        shop_state
                    },
                    stripe_state,
                    resolved,
                })
                .await?;
        }
        Ok(())
    }

    /// The events after `cursor` (or of the whole window), oldest first.
    async fn read_events(
        &self,
        cursor: Option<(String, i64)>,
        window_start: i64,
    ) -> Result<Vec<Event>, RunError> {
        if let Some((id, _)) = cursor.filter(|(_, created)| *created >= window_start) {
            match self.read_after(&id, window_start).await {
                Ok(events) => return Ok(events),
                // The cursor event is gone (older than Stripe keeps): read the window.
                Err(StripeError::InvalidRequest { message, .. }) => {
                    tracing::warn!(%message, "reconciliation cursor not found; reading 30 days")
                }
                Err(error) => return Err(error.into()),
            }
        }
        self.read_window(window_start).await
    }

    /// Pages of events newer than `cursor` (`ending_before`), each put oldest first.
    async fn read_after(&self, cursor: &str, window_start: i64) -> Result<Vec<Event>, StripeError> {
        let mut out: Vec<Event> = Vec::new();
        let mut ids = HashSet::new();
        let mut before = cursor.to_owned();
        loop {
            let params = ListEvents {
                created: Some(Range {
                    gte: Some(window_start),
                    ..Range::default()
                }),
                page: Page {
                    limit: Some(PAGE),
                    ending_before: Some(before.clone()),
                    ..Page::default()
                },
                ..ListEvents::default()
            };
            let page = self.stripe.list_events(&params).await?;
            let mut data = page.data;
            // Stripe lists newest first; a page that came oldest first is left as it is.
            if data.first().map(|e| e.created) >= data.last().map(|e| e.created) {
                data.reverse();
            }
            let Some(newest) = data.last().map(|e| e.id.clone()) else {
                return Ok(out);
            };
            out.extend(data.into_iter().filter(|e| ids.insert(e.id.clone())));
            if !page.has_more || newest == before {
                out.sort_by_key(|e| e.created);
                return Ok(out);
            }
            before = newest;
        }
    }

    /// Every event of the window, newest first by `starting_after`, then put oldest first.
    async fn read_window(&self, window_start: i64) -> Result<Vec<Event>, RunError> {
        let mut out = Vec::new();
        let mut params = ListEvents {
            created: Some(Range {
                gte: Some(window_start),
                ..Range::default()
            }),
            page: Page::limit(PAGE),
            ..ListEvents::default()
        };
        loop {
            let page = self.stripe.list_events(&params).await?;
            let next = page.next_cursor().map(str::to_owned);
            out.extend(page.data);
            match next {
                Some(cursor) => params.page.starting_after = Some(cursor),
                None => break,
            }
        }
        out.reverse();
        Ok(out)
    }

    /// The shop's record of an object.
    async fn shop_state(&self, object: &Object) -> Result<State, StoreError> {
        Ok(match object {
            Object::Payment(pi) => match self.store.order_state_by_payment(pi).await? {
                Some((order, status)) => (Some(order), status.as_str().to_owned()),
                None => (None, UNKNOWN.to_owned()),
            },
            Object::Refund(re) => match self.store.refund_state(re).await? {
                Some((order, status)) => (Some(order), status),
                None => (None, UNKNOWN.to_owned()),
            },
            Object::Dispute(dp) => match self.store.dispute_status(dp).await? {
                Some(status) => (None, status),
                None => (None, UNKNOWN.to_owned()),
            },
            Object::Payout(po) => (
                None,
                self.store
                    .payout_status(po)
                    .await?
                    .unwrap_or_else(|| UNKNOWN.to_owned()),
            ),
        })
    }

    /// Fetches the object from Stripe and applies it through the path its events take;
    /// Stripe's status, and `false` when the shop refused it (a payment that does not
    /// match its order: it needs a human).
    async fn refetch(&self, object: &Object) -> Result<(String, bool), RunError> {
        let now_s = now_ms() / 1000;
        match object {
            Object::Payment(id) => {
                let pi = self.stripe.retrieve_payment_intent(id, &[]).await?;
                let asked_at = now_s - crate::payments::CLOCK_SKEW_SECS;
                let applied = self.payments.apply_retrieved(&pi, asked_at).await?;
                if let Some(charge) = pi.latest_charge_id() {
                    self.store.set_order_charge(&pi.id, charge).await?;
                }
                let refused = matches!(
                    applied,
                    Applied::Ignored {
                        reason: Ignored::AmountMismatch { .. } | Ignored::OtherPaymentIntent,
                        ..
                    }
                );
                Ok((pi.status.as_wire(), !refused))
            }
            Object::Refund(id) => {
                let refund = self.stripe.retrieve_refund(id).await?;
                self.store.apply_stripe_refund(&refund).await?;
                let status = refund.status.as_ref().map(|s| s.as_wire());
                Ok((status.unwrap_or_else(|| UNKNOWN.to_owned()), true))
            }
            Object::Dispute(id) => {
                let dispute = self.stripe.retrieve_dispute(id).await?;
                self.store
                    .apply_dispute(&dispute, now_s, Funds::None)
                    .await?;
                Ok((dispute.status.as_wire(), true))
            }
            Object::Payout(id) => {
                let payout = self.stripe.retrieve_payout(id).await?;
                self.store.apply_payout(&payout, now_s).await?;
                Ok((payout.status.as_wire(), true))
            }
        }
    }
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("Stripe: {0}")]
    Stripe(#[from] StripeError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Shop(#[from] ShopError),
    #[error("{0}")]
    Internal(String),
}
