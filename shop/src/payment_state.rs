//! The order's payment state machine, pure: what Stripe tells us (a verified webhook event
//! or a server-side retrieve of the PaymentIntent) becomes a [`PaymentFact`], and
//! [`decide`] says how the order changes, if at all.
//!
//! Delivery is at-least-once and unordered, so every rule here is safe to apply twice and
//! in any order: `paid` is never undone by an older failure, a failure
//! older than what the order already knows is ignored, and money that does not match the
//! order (amount or currency) never marks it paid.

use crate::order::OrderStatus;
use stripe_client::resources::{Charge, Event, EventType, PaymentIntent};
use stripe_types::{Money, PaymentIntentStatus};

/// The order's payment state as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPayment {
    pub status: OrderStatus,
    pub total: Money,
    pub payment_intent_id: Option<String>,
    /// `created` (Unix seconds) of the newest fact applied so far.
    pub last_fact_at: i64,
    pub refunded_minor: i64,
}

/// One thing Stripe said about a PaymentIntent (or its charge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentFact {
    pub payment_intent_id: String,
    /// `metadata[order_id]`, which every PaymentIntent of ours carries.
    pub order_id: Option<String>,
    /// Unix seconds: the event's `created`, or the time of the retrieve.
    pub at: i64,
    pub kind: FactKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactKind {
    /// The money was taken: `received` is what was captured.
    Succeeded {
        received: Money,
    },
    Processing,
    /// An attempt failed; the PaymentIntent takes another payment method.
    Failed {
        code: Option<String>,
    },
    /// Waiting for a payment method and no attempt failed (only a retrieve says this).
    AwaitingPayment,
    Canceled,
    /// Total refunded so far on the charge.
    Refunded {
        amount_refunded: Money,
        captured: Money,
    },
}

/// What [`decide`] wants stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub status: OrderStatus,
    pub refunded_minor: i64,
    pub last_fact_at: i64,
    pub failure_code: Option<String>,
    /// The order's PaymentIntent, set when the fact arrived before the id was stored.
    pub payment_intent_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignored {
    /// The order already reflects this (a duplicate, or a retrieve that tells nothing new).
    NoChange,
    /// Older than what the order already knows, or it would move the order back.
    Stale,
    /// About another PaymentIntent than the order's.
    OtherPaymentIntent,
    /// Paid with an amount or currency that is not the order's: never fulfilled.
    AmountMismatch { expected: Money, got: Money },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Apply(Change),
    Ignore(Ignored),
}

pub fn decide(order: &OrderPayment, fact: &PaymentFact) -> Decision {
    use OrderStatus as S;
    if let Some(known) = &order.payment_intent_id {
        if *known != fact.payment_intent_id {
            return Decision::Ignore(Ignored::OtherPaymentIntent);
        }
    }
    let change = |status: OrderStatus, failure_code: Option<String>| Change {
        status,
        refunded_minor: order.refunded_minor,
        last_fact_at: order.last_fact_at.max(fact.at),
        failure_code,
        payment_intent_id: fact.payment_intent_id.clone(),
    };
    let newer = fact.at >= order.last_fact_at;
    let decision = match &fact.kind {
        FactKind::Succeeded { received } => {
            if *received != order.total {
                return Decision::Ignore(Ignored::AmountMismatch {
                    expected: order.total,
                    got: *received,
                });
            }
            match order.status {
                s if s.was_paid() => Decision::Ignore(Ignored::NoChange),
                // Money was taken: that outranks any state the order is in.
                _ => Decision::Apply(change(S::Paid, None)),
            }
        }
        FactKind::Processing => match order.status {
            S::Processing => Decision::Ignore(Ignored::NoChange),
            S::Pending | S::Failed if newer => Decision::Apply(change(S::Processing, None)),
            _ => Decision::Ignore(Ignored::Stale),
        },
        FactKind::Failed { code } => match order.status {
            S::Failed if order_failure_is(order, fact) => Decision::Ignore(Ignored::NoChange),
            S::Pending | S::Processing | S::Failed if newer => {
                Decision::Apply(change(S::Failed, code.clone()))
            }
            _ => Decision::Ignore(Ignored::Stale),
        },
        FactKind::AwaitingPayment => match order.status {
            S::Pending => Decision::Ignore(Ignored::NoChange),
            // Only a retrieve says this: the shopper's "processing" was not borne out.
            S::Processing if newer => Decision::Apply(change(S::Pending, None)),
            _ => Decision::Ignore(Ignored::Stale),
        },
        FactKind::Canceled => match order.status {
            S::Canceled => Decision::Ignore(Ignored::NoChange),
            S::Pending | S::Processing | S::Failed => Decision::Apply(change(S::Canceled, None)),
            _ => Decision::Ignore(Ignored::Stale),
        },
        // How much is refunded is the refund ledger's business (each refund by its
        // `re_` id, `crate::refunds`); here a refund only proves the payment: a refund of
        // a charge that captured the order's total means the money was taken, even if
        // the success event is still on its way (or retried much later).
        FactKind::Refunded { captured, .. } => match order.status {
            s if s.was_paid() => Decision::Ignore(Ignored::NoChange),
            _ if *captured == order.total => Decision::Apply(change(S::Paid, None)),
            // Neither the order nor this charge shows the order's money was taken.
            _ => Decision::Ignore(Ignored::Stale),
        },
    };
    // Attaching the PaymentIntent id is itself worth storing.
    match decision {
        Decision::Ignore(Ignored::NoChange) if order.payment_intent_id.is_none() => {
            Decision::Apply(change(order.status, None))
        }
        d => d,
    }
}

fn order_failure_is(order: &OrderPayment, fact: &PaymentFact) -> bool {
    fact.at <= order.last_fact_at
}

/// The fact a verified event carries, if it is one the order cares about.
pub fn fact_from_event(event: &Event) -> Option<Result<PaymentFact, serde_json::Error>> {
    let at = event.created;
    match &event.kind {
        EventType::PaymentIntentSucceeded
        | EventType::PaymentIntentPaymentFailed
        | EventType::PaymentIntentCanceled
        | EventType::PaymentIntentProcessing => {
            Some(event.object_as::<PaymentIntent>().map(|pi| {
                let mut fact = fact_from_payment_intent(&pi, at);
                // A payment_failed event's object is already back in
                // requires_payment_method, with the error attached.
                if event.kind == EventType::PaymentIntentPaymentFailed {
                    fact.kind = FactKind::Failed {
                        code: failure_code(&pi),
                    };
                }
                fact
            }))
        }
        EventType::ChargeSucceeded | EventType::ChargeFailed | EventType::ChargeRefunded => {
            let charge = match event.object_as::<Charge>() {
                Ok(charge) => charge,
                Err(e) => return Some(Err(e)),
            };
            fact_from_charge(&charge, &event.kind, at).map(Ok)
        }
        _ => None,
    }
}

/// Whether events of this type can change an order (the others are stored and marked
/// processed at once).
pub fn is_payment_event(kind: &EventType) -> bool {
    matches!(
        kind,
        EventType::PaymentIntentSucceeded
            | EventType::PaymentIntentPaymentFailed
            | EventType::PaymentIntentCanceled
            | EventType::PaymentIntentProcessing
            | EventType::ChargeSucceeded
            | EventType::ChargeFailed
            | EventType::ChargeRefunded
    )
}

/// What a PaymentIntent (retrieved, or in an event) says about its order at `at`.
pub fn fact_from_payment_intent(pi: &PaymentIntent, at: i64) -> PaymentFact {
    let kind = match pi.status() {
        Some(PaymentIntentStatus::Succeeded) => FactKind::Succeeded {
            received: pi.received(),
        },
        Some(PaymentIntentStatus::Processing) => FactKind::Processing,
        Some(PaymentIntentStatus::Canceled) => FactKind::Canceled,
        _ if pi.last_payment_error.is_some() => FactKind::Failed {
            code: failure_code(pi),
        },
        _ => FactKind::AwaitingPayment,
    };
    PaymentFact {
        payment_intent_id: pi.id.clone(),
        order_id: pi.metadata.get("order_id").cloned(),
        at,
        kind,
    }
}

fn failure_code(pi: &PaymentIntent) -> Option<String> {
    let error = pi.last_payment_error.as_ref()?;
    error.decline_code.clone().or_else(|| error.code.clone())
}

fn fact_from_charge(charge: &Charge, kind: &EventType, at: i64) -> Option<PaymentFact> {
    let payment_intent_id = charge.payment_intent.as_ref()?.id().to_owned();
    let kind = match kind {
        EventType::ChargeSucceeded if charge.captured && charge.paid => FactKind::Succeeded {
            received: Money::new(charge.amount_captured, charge.currency),
        },
        // Authorised only (manual capture): not money yet.
        EventType::ChargeSucceeded => return None,
        // `outcome.reason` is the decline code (`insufficient_funds`), as specific as the
        // PaymentIntent's `last_payment_error.decline_code`; `failure_code` is only
        // `card_declined`.
        EventType::ChargeFailed => FactKind::Failed {
            code: charge
                .outcome
                .as_ref()
                .and_then(|o| o.reason.clone())
                .or_else(|| charge.failure_code.clone()),
        },
        EventType::ChargeRefunded => FactKind::Refunded {
            amount_refunded: Money::new(charge.amount_refunded, charge.currency),
            captured: Money::new(charge.amount_captured, charge.currency),
        },
        _ => return None,
    };
    Some(PaymentFact {
        payment_intent_id,
        order_id: charge.metadata.get("order_id").cloned(),
        at,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(minor: i64) -> Money {
        Money::new(minor, "usd".parse().unwrap())
    }

    fn order(status: OrderStatus) -> OrderPayment {
        OrderPayment {
            status,
            total: usd(2500),
            payment_intent_id: Some("pi_1".into()),
            last_fact_at: 100,
            refunded_minor: 0,
        }
    }

    fn fact(at: i64, kind: FactKind) -> PaymentFact {
        PaymentFact {
            payment_intent_id: "pi_1".into(),
            order_id: Some("ord_x".into()),
            at,
            kind,
        }
    }

    fn succeeded(at: i64) -> PaymentFact {
        fact(
            at,
            FactKind::Succeeded {
                received: usd(2500),
            },
        )
    }

    fn failed(at: i64) -> PaymentFact {
        fact(
            at,
            FactKind::Failed {
                code: Some("card_declined".into()),
            },
        )
    }

    /// Applies facts in order to a starting state, as the store does.
    fn run(mut state: OrderPayment, facts: &[PaymentFact]) -> OrderPayment {
        for f in facts {
            if let Decision::Apply(c) = decide(&state, f) {
                state.status = c.status;
                state.refunded_minor = c.refunded_minor;
                state.last_fact_at = c.last_fact_at;
                state.payment_intent_id = Some(c.payment_intent_id);
            }
        }
        state
    }

    #[test]
    fn success_marks_paid_and_a_duplicate_changes_nothing() {
        let paid = run(order(OrderStatus::Pending), &[succeeded(120)]);
        assert_eq!(paid.status, OrderStatus::Paid);
        assert_eq!(
            decide(&paid, &succeeded(120)),
            Decision::Ignore(Ignored::NoChange)
        );
    }

    #[test]
    fn an_older_failure_arriving_after_success_does_not_unpay() {
        let state = run(order(OrderStatus::Pending), &[succeeded(130), failed(110)]);
        assert_eq!(state.status, OrderStatus::Paid);
        // Even a failure stamped later (another attempt's charge.failed) cannot undo money.
        let state = run(state, &[failed(200)]);
        assert_eq!(state.status, OrderStatus::Paid);
    }

    #[test]
    fn every_order_of_a_failed_then_successful_retry_ends_paid() {
        let facts = [
            fact(101, FactKind::Processing),
            failed(102),
            succeeded(105),
            fact(105, FactKind::Processing),
        ];
        // All 24 permutations.
        let mut idx = [0usize, 1, 2, 3];
        let mut perms = vec![];
        permute(&mut idx, 0, &mut perms);
        assert_eq!(perms.len(), 24);
        for p in perms {
            let seq: Vec<_> = p.iter().map(|&i| facts[i].clone()).collect();
            let end = run(order(OrderStatus::Pending), &seq);
            assert_eq!(end.status, OrderStatus::Paid, "{p:?}");
            assert_eq!(end.last_fact_at, 105);
        }
    }

    fn permute(a: &mut [usize; 4], k: usize, out: &mut Vec<[usize; 4]>) {
        if k == a.len() {
            out.push(*a);
            return;
        }
        for i in k..a.len() {
            a.swap(k, i);
            permute(a, k + 1, out);
            a.swap(k, i);
        }
    }

    #[test]
    fn a_stale_failure_does_not_override_newer_processing() {
        let state = run(
            order(OrderStatus::Pending),
            &[fact(150, FactKind::Processing)],
        );
        assert_eq!(
            decide(&state, &failed(140)),
            Decision::Ignore(Ignored::Stale)
        );
        assert_eq!(state.status, OrderStatus::Processing);
    }

    #[test]
    fn failure_then_retry_failure_stays_failed_with_the_new_code() {
        let state = run(order(OrderStatus::Pending), &[failed(110)]);
        assert_eq!(state.status, OrderStatus::Failed);
        match decide(
            &state,
            &fact(
                120,
                FactKind::Failed {
                    code: Some("incorrect_cvc".into()),
                },
            ),
        ) {
            Decision::Apply(c) => assert_eq!(c.failure_code.as_deref(), Some("incorrect_cvc")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn wrong_amount_or_currency_never_marks_paid() {
        let short = fact(
            120,
            FactKind::Succeeded {
                received: usd(2499),
            },
        );
        assert!(matches!(
            decide(&order(OrderStatus::Pending), &short),
            Decision::Ignore(Ignored::AmountMismatch { .. })
        ));
        let eur = fact(
            120,
            FactKind::Succeeded {
                received: Money::new(2500, "eur".parse().unwrap()),
            },
        );
        assert!(matches!(
            decide(&order(OrderStatus::Pending), &eur),
            Decision::Ignore(Ignored::AmountMismatch { .. })
        ));
    }

    #[test]
    fn another_payment_intent_is_ignored() {
        let mut other = succeeded(120);
        other.payment_intent_id = "pi_2".into();
        assert_eq!(
            decide(&order(OrderStatus::Pending), &other),
            Decision::Ignore(Ignored::OtherPaymentIntent)
        );
    }

    #[test]
    fn the_first_fact_attaches_the_payment_intent() {
        let mut o = order(OrderStatus::Pending);
        o.payment_intent_id = None;
        match decide(&o, &fact(90, FactKind::AwaitingPayment)) {
            Decision::Apply(c) => {
                assert_eq!(c.status, OrderStatus::Pending);
                assert_eq!(c.payment_intent_id, "pi_1");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_refund_proves_the_payment_and_leaves_the_amounts_to_the_ledger() {
        let refund = fact(
            130,
            FactKind::Refunded {
                amount_refunded: usd(1000),
                captured: usd(2500),
            },
        );
        // Already paid: nothing for the state machine (the ledger records the refund).
        let paid = run(order(OrderStatus::Pending), &[succeeded(120)]);
        assert_eq!(decide(&paid, &refund), Decision::Ignore(Ignored::NoChange));
        // Before the success event (a retried delivery): the refund proves the payment.
        let state = run(order(OrderStatus::Pending), &[refund, succeeded(120)]);
        assert_eq!(state.status, OrderStatus::Paid);
        // A charge that did not capture the order's total proves nothing.
        let odd = fact(
            130,
            FactKind::Refunded {
                amount_refunded: usd(100),
                captured: usd(100),
            },
        );
        assert_eq!(
            decide(&order(OrderStatus::Pending), &odd),
            Decision::Ignore(Ignored::Stale)
        );
    }

    #[test]
    fn cancel_does_not_touch_a_paid_order_but_money_beats_cancel() {
        let paid = run(order(OrderStatus::Pending), &[succeeded(120)]);
        assert_eq!(
            decide(&paid, &fact(130, FactKind::Canceled)),
            Decision::Ignore(Ignored::Stale)
        );
        let canceled = run(
            order(OrderStatus::Pending),
            &[fact(130, FactKind::Canceled)],
        );
        assert_eq!(canceled.status, OrderStatus::Canceled);
        assert_eq!(run(canceled, &[succeeded(120)]).status, OrderStatus::Paid);
    }

    #[test]
    fn a_retrieve_reverts_an_unconfirmed_processing() {
        let state = OrderPayment {
            status: OrderStatus::Processing,
            ..order(OrderStatus::Pending)
        };
        assert_eq!(
            run(state, &[fact(130, FactKind::AwaitingPayment)]).status,
            OrderStatus::Pending
        );
    }

    fn event(json: serde_json::Value) -> Event {
        serde_json::from_value(json).unwrap()
    }

    fn pi_json(status: &str, received: i64, error: Option<&str>) -> serde_json::Value {
        serde_json::json!({
            "id": "pi_1", "object": "payment_intent", "amount": 2500,
            "amount_received": received, "currency": "usd", "status": status,
            "metadata": {"order_id": "ord_x"},
            "last_payment_error": error.map(|c| serde_json::json!({
                "type": "card_error", "code": "card_declined", "decline_code": c
            })),
        })
    }

    #[test]
    fn facts_from_payment_intent_events() {
        let ok = event(serde_json::json!({
            "id": "evt_1", "object": "event", "type": "payment_intent.succeeded",
            "created": 200, "data": {"object": pi_json("succeeded", 2500, None)}
        }));
        let f = fact_from_event(&ok).unwrap().unwrap();
        assert_eq!(
            f.kind,
            FactKind::Succeeded {
                received: usd(2500)
            }
        );
        assert_eq!((f.at, f.order_id.as_deref()), (200, Some("ord_x")));

        let failed = event(serde_json::json!({
            "id": "evt_2", "object": "event", "type": "payment_intent.payment_failed",
            "created": 201,
            "data": {"object": pi_json("requires_payment_method", 0, Some("insufficient_funds"))}
        }));
        assert_eq!(
            fact_from_event(&failed).unwrap().unwrap().kind,
            FactKind::Failed {
                code: Some("insufficient_funds".into())
            }
        );

        let other = event(serde_json::json!({
            "id": "evt_3", "object": "event", "type": "customer.created",
            "created": 201, "data": {"object": {"id": "cus_1", "object": "customer"}}
        }));
        assert!(fact_from_event(&other).is_none());
        assert!(!is_payment_event(&other.kind));
    }

    #[test]
    fn facts_from_charge_events() {
        let charge = |kind: &str, refunded: i64| {
            event(serde_json::json!({
                "id": "evt_c", "object": "event", "type": kind, "created": 300,
                "data": {"object": {
                    "id": "ch_1", "object": "charge", "amount": 2500, "amount_captured": 2500,
                    "amount_refunded": refunded, "currency": "usd", "status": "succeeded",
                    "paid": true, "captured": true, "payment_intent": "pi_1",
                    "failure_code": null, "metadata": {}
                }}
            }))
        };
        let f = fact_from_event(&charge("charge.succeeded", 0))
            .unwrap()
            .unwrap();
        assert_eq!(f.payment_intent_id, "pi_1");
        assert_eq!(
            f.kind,
            FactKind::Succeeded {
                received: usd(2500)
            }
        );
        let f = fact_from_event(&charge("charge.refunded", 700))
            .unwrap()
            .unwrap();
        assert_eq!(
            f.kind,
            FactKind::Refunded {
                amount_refunded: usd(700),
                captured: usd(2500),
            }
        );
    }
}
