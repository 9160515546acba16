use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use super::{
    Charge, Customer, Dispute, PaymentIntent, PaymentMethod, Payout, Range, Refund, SetupIntent,
};
use crate::wire::Expandable;

stripe_types::wire_enum!(
    /// An event `type`. The ones the checkout subscribes to are named; any other type
    /// is `Other(String)` (answer those 2xx too).
    open EventType {
        PaymentIntentCreated = "payment_intent.created",
        PaymentIntentSucceeded = "payment_intent.succeeded",
        PaymentIntentPaymentFailed = "payment_intent.payment_failed",
        PaymentIntentCanceled = "payment_intent.canceled",
        PaymentIntentProcessing = "payment_intent.processing",
        PaymentIntentRequiresAction = "payment_intent.requires_action",
        PaymentIntentAmountCapturableUpdated = "payment_intent.amount_capturable_updated",
        ChargeSucceeded = "charge.succeeded",
        ChargeFailed = "charge.failed",
        ChargeCaptured = "charge.captured",
        ChargeRefunded = "charge.refunded",
        ChargeRefundUpdated = "charge.refund.updated",
        RefundCreated = "refund.created",
        RefundUpdated = "refund.updated",
        RefundFailed = "refund.failed",
        PayoutCreated = "payout.created",
        PayoutPaid = "payout.paid",
        PayoutFailed = "payout.failed",
        PayoutCanceled = "payout.canceled",
        PayoutUpdated = "payout.updated",
        ChargeDisputeCreated = "charge.dispute.created",
        ChargeDisputeUpdated = "charge.dispute.updated",
        ChargeDisputeClosed = "charge.dispute.closed",
        ChargeDisputeFundsWithdrawn = "charge.dispute.funds_withdrawn",
        ChargeDisputeFundsReinstated = "charge.dispute.funds_reinstated",
        RadarEarlyFraudWarningCreated = "radar.early_fraud_warning.created",
        CustomerCreated = "customer.created",
        CustomerUpdated = "customer.updated",
        CustomerDeleted = "customer.deleted",
        PaymentMethodAttached = "payment_method.attached",
        PaymentMethodDetached = "payment_method.detached",
        SetupIntentCreated = "setup_intent.created",
        SetupIntentRequiresAction = "setup_intent.requires_action",
        SetupIntentSucceeded = "setup_intent.succeeded",
        SetupIntentSetupFailed = "setup_intent.setup_failed",
        SetupIntentCanceled = "setup_intent.canceled",
    }
);

stripe_object! {
    id_only
    /// An Event (`evt_…`), as delivered to the webhook or read from `/v1/events`.
    ///
    /// Delivery is at-least-once and unordered: deduplicate on `id`, and never let an older
    /// event (`created`) move an object back.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Event {
        #[serde(rename = "type")]
        pub kind: EventType,
        /// Unix seconds.
        pub created: i64,
        pub api_version: Option<String>,
        #[serde(default)]
        pub livemode: bool,
        pub data: EventData,
        #[serde(default, deserialize_with = "event_request")]
        pub request: Option<EventRequest>,
        pub pending_webhooks: Option<u32>,
        pub account: Option<String>,
    }
}

/// `data`: the object as it was when the event happened, kept as raw JSON so an event
/// for a type this client does not model (or that fails to decode) can still be
/// acknowledged. Use [`Event::object`] for the typed view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventData {
    pub object: serde_json::Value,
    /// For `*.updated` events: the changed fields' previous values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_attributes: Option<serde_json::Value>,
}

/// `request`: the API request that caused the event; `id` is `None` for automatic
/// events (e.g. a payout, a dispute opened by the bank).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRequest {
    pub id: Option<String>,
    pub idempotency_key: Option<String>,
}

/// Accepts the object form, `null`, and the bare request-id string of old API versions.
fn event_request<'de, D: Deserializer<'de>>(d: D) -> Result<Option<EventRequest>, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(id) => Ok(Some(EventRequest {
            id: Some(id),
            idempotency_key: None,
        })),
        value @ serde_json::Value::Object(_) => EventRequest::deserialize(value)
            .map(Some)
            .map_err(serde::de::Error::custom),
        other => Err(serde::de::Error::custom(format!(
            "unexpected event request: {other}"
        ))),
    }
}

/// The typed `data.object` of an event, chosen by its `object` field.
#[derive(Debug, Clone, PartialEq)]
pub enum EventObject {
    PaymentIntent(Box<PaymentIntent>),
    Charge(Box<Charge>),
    Refund(Box<Refund>),
    Dispute(Box<Dispute>),
    Payout(Box<Payout>),
    Customer(Box<Customer>),
    PaymentMethod(Box<PaymentMethod>),
    SetupIntent(Box<SetupIntent>),
    EarlyFraudWarning(Box<EarlyFraudWarning>),
    /// An object kind this client does not model.
    Other(serde_json::Value),
}

impl Event {
    /// `data.object.object`, e.g. `"payment_intent"`.
    pub fn object_kind(&self) -> Option<&str> {
        self.data.object.get("object")?.as_str()
    }

    /// `data.object.id`.
    pub fn object_id(&self) -> Option<&str> {
        self.data.object.get("id")?.as_str()
    }

    /// The typed object. An error means a known kind of object failed to decode.
    pub fn object(&self) -> Result<EventObject, serde_json::Error> {
        fn typed<T: DeserializeOwned>(v: &serde_json::Value) -> Result<Box<T>, serde_json::Error> {
            T::deserialize(v).map(Box::new)
        }
        let v = &self.data.object;
        Ok(match self.object_kind() {
            Some("payment_intent") => EventObject::PaymentIntent(typed(v)?),
            Some("charge") => EventObject::Charge(typed(v)?),
            Some("refund") => EventObject::Refund(typed(v)?),
            Some("dispute") => EventObject::Dispute(typed(v)?),
            Some("payout") => EventObject::Payout(typed(v)?),
            Some("customer") => EventObject::Customer(typed(v)?),
            Some("payment_method") => EventObject::PaymentMethod(typed(v)?),
            Some("setup_intent") => EventObject::SetupIntent(typed(v)?),
            Some("radar.early_fraud_warning") => EventObject::EarlyFraudWarning(typed(v)?),
            _ => EventObject::Other(v.clone()),
        })
    }

    /// `data.object` decoded as `T`, whatever its `object` field says.
    pub fn object_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.data.object)
    }

    /// `data.object` as a PaymentIntent, when it is one.
    pub fn payment_intent(&self) -> Option<Result<PaymentIntent, serde_json::Error>> {
        (self.object_kind() == Some("payment_intent")).then(|| self.object_as())
    }

    /// `data.object` as a SetupIntent, when it is one (`setup_intent.*` events).
    pub fn setup_intent(&self) -> Option<Result<SetupIntent, serde_json::Error>> {
        (self.object_kind() == Some("setup_intent")).then(|| self.object_as())
    }

    /// `data.object` as a Charge, when it is one.
    pub fn charge(&self) -> Option<Result<Charge, serde_json::Error>> {
        (self.object_kind() == Some("charge")).then(|| self.object_as())
    }

    /// `data.object` as a Refund, when it is one.
    pub fn refund(&self) -> Option<Result<Refund, serde_json::Error>> {
        (self.object_kind() == Some("refund")).then(|| self.object_as())
    }

    /// `data.object` as a Dispute, when it is one.
    pub fn dispute(&self) -> Option<Result<Dispute, serde_json::Error>> {
        (self.object_kind() == Some("dispute")).then(|| self.object_as())
    }

    /// `data.object` as a Payout, when it is one.
    pub fn payout(&self) -> Option<Result<Payout, serde_json::Error>> {
        (self.object_kind() == Some("payout")).then(|| self.object_as())
    }
}

stripe_object! {
    id_only
    /// A Radar early fraud warning (`issfr_…`): the issuer reported likely fraud; refunding
    /// before a dispute arrives avoids the dispute fee.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct EarlyFraudWarning {
        #[serde(default)]
        pub actionable: bool,
        pub charge: Expandable<Charge>,
        pub payment_intent: Option<Expandable<PaymentIntent>>,
        pub fraud_type: Option<String>,
        #[serde(default)]
        pub created: i64,
        #[serde(default)]
        pub livemode: bool,
    }
}

list_params! {
    /// `GET /v1/events`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
    pub struct ListEvents {
        /// One type, or a `*` wildcard such as `payment_intent.*`.
        #[serde(rename = "type")]
        pub kind: Option<String>,
        /// Up to 20 types (`types[]=…`); not combinable with `type`.
        pub types: Vec<String>,
        pub created: Option<Range>,
        pub delivery_success: Option<bool>,
    }
}

#[cfg(test)]
mod tests {
    use stripe_types::PaymentIntentStatus;

    use super::*;
    use crate::{form, Page};

    const EVENT: &str = r#"{
        "id": "evt_1", "object": "event", "type": "payment_intent.succeeded",
        "created": 1700000000, "api_version": "2024-06-20", "livemode": false,
        "pending_webhooks": 1,
        "request": {"id": "req_1", "idempotency_key": "order-ord_1-pi-v1"},
        "data": {"object": {"id": "pi_1", "object": "payment_intent", "amount": 1999,
                            "currency": "usd", "status": "succeeded"},
                 "previous_attributes": {"status": "processing"}}
    }"#;

    #[test]
    fn parses_the_envelope_and_typed_object() {
        let e: Event = serde_json::from_str(EVENT).unwrap();
        assert_eq!(e.kind, EventType::PaymentIntentSucceeded);
        assert_eq!(e.object_kind(), Some("payment_intent"));
        assert_eq!(e.object_id(), Some("pi_1"));
        assert_eq!(
            e.request.as_ref().unwrap().idempotency_key.as_deref(),
            Some("order-ord_1-pi-v1")
        );
        assert_eq!(
            e.data.previous_attributes.as_ref().unwrap()["status"],
            "processing"
        );
        match e.object().unwrap() {
            EventObject::PaymentIntent(pi) => {
                assert_eq!(pi.status(), Some(PaymentIntentStatus::Succeeded))
            }
            other => panic!("{other:?}"),
        }
        assert!(e.payment_intent().unwrap().is_ok());
        assert!(e.charge().is_none());
    }

    #[test]
    fn unknown_types_objects_and_legacy_request() {
        let e: Event = serde_json::from_str(
            r#"{"id":"evt_2","type":"issuing_card.created","created":1,
                "data":{"object":{"id":"ic_1","object":"issuing.card"}},
                "request":"req_old"}"#,
        )
        .unwrap();
        assert_eq!(e.kind, EventType::Other("issuing_card.created".into()));
        assert_eq!(e.request.as_ref().unwrap().id.as_deref(), Some("req_old"));
        assert!(matches!(e.object().unwrap(), EventObject::Other(_)));
        let e: Event = serde_json::from_str(
            r#"{"id":"evt_3","type":"payout.paid","created":1,"request":null,
                "data":{"object":{"id":"po_1","object":"payout"}}}"#,
        )
        .unwrap();
        assert!(e.request.is_none());
        // A known kind that does not decode is an error, not a silent `Other`.
        assert!(e.object().is_err());
    }

    #[test]
    fn setup_intent_events() {
        let e: Event = serde_json::from_str(
            r#"{"id":"evt_5","type":"setup_intent.succeeded","created":1,
                "data":{"object":{"id":"seti_1","object":"setup_intent","status":"succeeded",
                "customer":"cus_1","payment_method":"pm_1","usage":"off_session"}}}"#,
        )
        .unwrap();
        assert_eq!(e.kind, EventType::SetupIntentSucceeded);
        match e.object().unwrap() {
            EventObject::SetupIntent(si) => {
                assert_eq!(si.payment_method_id(), Some("pm_1"));
                assert_eq!(si.customer_id(), Some("cus_1"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            e.setup_intent().unwrap().unwrap().status(),
            Some(stripe_types::SetupIntentStatus::Succeeded)
        );
        assert!(e.payment_intent().is_none());
        assert_eq!(
            EventType::parse("setup_intent.setup_failed"),
            EventType::SetupIntentSetupFailed
        );
    }

    #[test]
    fn early_fraud_warning_and_list_query() {
        let e: Event = serde_json::from_str(
            r#"{"id":"evt_4","type":"radar.early_fraud_warning.created","created":1,
                "data":{"object":{"id":"issfr_1","object":"radar.early_fraud_warning",
                "actionable":true,"charge":"ch_1","fraud_type":"made_with_stolen_card"}}}"#,
        )
        .unwrap();
        match e.object().unwrap() {
            EventObject::EarlyFraudWarning(w) => {
                assert!(w.actionable);
                assert_eq!(w.charge.id(), "ch_1");
            }
            other => panic!("{other:?}"),
        }
        let q = ListEvents {
            types: vec!["charge.refunded".into(), "refund.failed".into()],
            page: Page::limit(50),
            ..Default::default()
        };
        assert_eq!(
            form::to_string(&q).unwrap(),
            "types[]=charge.refunded&types[]=refund.failed&limit=50"
        );
    }
}
