//! Stripe objects in their wire shape (API version [`stripe_types::API_VERSION`]).
//!
//! The same structs are persisted in the state file. Fields the sandbox does not model
//! (Connect, invoices, shipping…) are constant `null`s ([`Null`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stripe_types::{
    wire_enum, CaptureMethod, ChargeStatus, Currency, DisputeReason, DisputeStatus,
    PaymentIntentStatus, PayoutStatus, RefundReason, RefundStatus, SetupIntentStatus,
};

use crate::cards::Behaviour;
use crate::util::{Empty, JsonBytes, Null, Str};

pub type Metadata = BTreeMap<String, String>;

wire_enum!(tag PaymentIntentTag = "payment_intent");
wire_enum!(tag SetupIntentTag = "setup_intent");
wire_enum!(tag ChargeTag = "charge");
wire_enum!(tag CustomerTag = "customer");
wire_enum!(tag PaymentMethodTag = "payment_method");
wire_enum!(tag RefundTag = "refund");
wire_enum!(tag DisputeTag = "dispute");
wire_enum!(tag PayoutTag = "payout");
wire_enum!(tag EventTag = "event");
wire_enum!(tag EfwTag = "radar.early_fraud_warning");
wire_enum!(tag BalanceTransactionTag = "balance_transaction");

/// Objects stored in a [`crate::state::Table`].
pub trait Keyed {
    fn id(&self) -> &str;
    /// `created` (Unix seconds, sandbox clock), for the lists' `created` filter.
    fn created(&self) -> i64;
}

macro_rules! keyed {
    ($($t:ty),+) => { $(impl Keyed for $t {
        fn id(&self) -> &str { &self.id }
        fn created(&self) -> i64 { self.created }
    })+ };
}
keyed!(
    PaymentIntent,
    SetupIntent,
    Charge,
    Customer,
    PaymentMethod,
    Refund,
    Dispute,
    Payout,
    Event,
    EarlyFraudWarning
);

impl Keyed for PmRecord {
    fn id(&self) -> &str {
        &self.pm.id
    }
    fn created(&self) -> i64 {
        self.pm.created
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub city: Option<String>,
    pub country: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub postal_code: Option<String>,
    pub state: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BillingDetails {
    pub address: Address,
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CardChecks {
    pub address_line1_check: Option<String>,
    pub address_postal_code_check: Option<String>,
    pub cvc_check: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Networks {
    pub available: Vec<Str>,
    pub preferred: Null,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreeDSecureUsage {
    pub supported: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PmCard {
    pub brand: Str,
    pub checks: CardChecks,
    pub country: Str,
    pub display_brand: Str,
    pub exp_month: u32,
    pub exp_year: i64,
    pub fingerprint: String,
    pub funding: Str,
    pub generated_from: Null,
    pub last4: String,
    pub networks: Networks,
    pub three_d_secure_usage: ThreeDSecureUsage,
    pub wallet: Null,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentMethod {
    pub id: String,
    pub object: PaymentMethodTag,
    pub allow_redisplay: Str,
    pub billing_details: BillingDetails,
    pub card: PmCard,
    pub created: i64,
    pub customer: Option<String>,
    pub livemode: bool,
    pub metadata: Metadata,
    #[serde(rename = "type")]
    pub kind: Str,
}

/// A PaymentMethod plus what the sandbox needs to know about its card.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PmRecord {
    pub pm: PaymentMethod,
    pub behaviour: Behaviour,
    /// Saved for off-session use (SetupIntent, or `setup_future_usage` on a payment).
    pub set_up: bool,
    /// Used once without a Customer, or detached: it may not be used again.
    pub consumed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutomaticPaymentMethods {
    pub allow_redirects: Str,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AmountDetails {
    pub tip: Empty,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PiCardOptions {
    pub installments: Null,
    pub mandate_options: Null,
    pub network: Null,
    pub request_three_d_secure: Str,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PiPaymentMethodOptions {
    pub card: PiCardOptions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    pub object: PaymentIntentTag,
    pub amount: i64,
    pub amount_capturable: i64,
    pub amount_details: AmountDetails,
    pub amount_received: i64,
    pub application: Null,
    pub application_fee_amount: Null,
    pub automatic_payment_methods: Option<AutomaticPaymentMethods>,
    pub canceled_at: Option<i64>,
    pub cancellation_reason: Option<String>,
    pub capture_method: CaptureMethod,
    pub client_secret: String,
    pub confirmation_method: Str,
    pub created: i64,
    pub currency: Currency,
    pub customer: Option<String>,
    pub description: Option<String>,
    pub invoice: Null,
    pub last_payment_error: Option<Value>,
    pub latest_charge: Option<String>,
    pub livemode: bool,
    pub metadata: Metadata,
    pub next_action: Option<Value>,
    pub on_behalf_of: Null,
    pub payment_method: Option<String>,
    pub payment_method_configuration_details: Null,
    pub payment_method_options: PiPaymentMethodOptions,
    pub payment_method_types: Vec<Str>,
    pub processing: Null,
    pub receipt_email: Option<String>,
    pub review: Null,
    pub setup_future_usage: Option<String>,
    pub shipping: Null,
    pub source: Null,
    pub statement_descriptor: Option<String>,
    pub statement_descriptor_suffix: Option<String>,
    pub status: PaymentIntentStatus,
    pub transfer_data: Null,
    pub transfer_group: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiCardOptions {
    pub mandate_options: Null,
    pub network: Null,
    pub request_three_d_secure: Str,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiPaymentMethodOptions {
    pub card: SiCardOptions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetupIntent {
    pub id: String,
    pub object: SetupIntentTag,
    pub application: Null,
    pub automatic_payment_methods: Option<AutomaticPaymentMethods>,
    pub cancellation_reason: Option<String>,
    pub client_secret: String,
    pub created: i64,
    pub customer: Option<String>,
    pub description: Option<String>,
    pub flow_directions: Null,
    pub last_setup_error: Option<Value>,
    pub latest_attempt: Option<String>,
    pub livemode: bool,
    pub mandate: Null,
    pub metadata: Metadata,
    pub next_action: Option<Value>,
    pub on_behalf_of: Null,
    pub payment_method: Option<String>,
    pub payment_method_configuration_details: Null,
    pub payment_method_options: SiPaymentMethodOptions,
    pub payment_method_types: Vec<Str>,
    pub single_use_mandate: Null,
    pub status: SetupIntentStatus,
    pub usage: Str,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub network_status: Str,
    pub reason: Option<Str>,
    pub risk_level: Str,
    pub risk_score: u32,
    pub seller_message: Str,
    #[serde(rename = "type")]
    pub kind: Str,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusOnly {
    pub status: Str,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkToken {
    pub used: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overcapture {
    pub maximum_amount_capturable: i64,
    pub status: Str,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreeDSecureResult {
    pub authentication_flow: Str,
    pub electronic_commerce_indicator: Str,
    pub result: Str,
    pub result_reason: Null,
    pub transaction_id: String,
    pub version: Str,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargeCard {
    pub amount_authorized: i64,
    pub brand: Str,
    pub checks: CardChecks,
    pub country: Str,
    pub exp_month: u32,
    pub exp_year: i64,
    pub extended_authorization: StatusOnly,
    pub fingerprint: String,
    pub funding: Str,
    pub incremental_authorization: StatusOnly,
    pub installments: Null,
    pub last4: String,
    pub mandate: Null,
    pub multicapture: StatusOnly,
    pub network: Str,
    pub network_token: NetworkToken,
    pub overcapture: Overcapture,
    pub three_d_secure: Option<ThreeDSecureResult>,
    pub wallet: Null,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargePaymentMethodDetails {
    pub card: ChargeCard,
    #[serde(rename = "type")]
    pub kind: Str,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Charge {
    pub id: String,
    pub object: ChargeTag,
    pub amount: i64,
    pub amount_captured: i64,
    pub amount_refunded: i64,
    pub application: Null,
    pub application_fee: Null,
    pub application_fee_amount: Null,
    pub balance_transaction: Option<String>,
    pub billing_details: BillingDetails,
    pub calculated_statement_descriptor: Str,
    pub captured: bool,
    pub created: i64,
    pub currency: Currency,
    pub customer: Option<String>,
    pub description: Option<String>,
    pub disputed: bool,
    pub failure_balance_transaction: Null,
    pub failure_code: Option<Str>,
    pub failure_message: Option<Str>,
    pub fraud_details: Empty,
    pub invoice: Null,
    pub livemode: bool,
    pub metadata: Metadata,
    pub on_behalf_of: Null,
    pub outcome: Outcome,
    pub paid: bool,
    pub payment_intent: Option<String>,
    pub payment_method: Option<String>,
    pub payment_method_details: ChargePaymentMethodDetails,
    pub radar_options: Empty,
    pub receipt_email: Option<String>,
    pub receipt_number: Null,
    pub receipt_url: Option<String>,
    pub refunded: bool,
    pub review: Null,
    pub shipping: Null,
    pub source: Null,
    pub source_transfer: Null,
    pub statement_descriptor: Option<String>,
    pub statement_descriptor_suffix: Option<String>,
    pub status: ChargeStatus,
    pub transfer_data: Null,
    pub transfer_group: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceSettings {
    pub custom_fields: Null,
    pub default_payment_method: Option<String>,
    pub footer: Null,
    pub rendering_options: Null,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub object: CustomerTag,
    pub address: Option<Address>,
    pub balance: i64,
    pub created: i64,
    pub currency: Option<String>,
    pub default_source: Null,
    pub delinquent: bool,
    pub description: Option<String>,
    pub discount: Null,
    pub email: Option<String>,
    pub invoice_prefix: String,
    pub invoice_settings: InvoiceSettings,
    pub livemode: bool,
    pub metadata: Metadata,
    pub name: Option<String>,
    pub next_invoice_sequence: i64,
    pub phone: Option<String>,
    pub preferred_locales: Vec<String>,
    pub shipping: Null,
    pub tax_exempt: Str,
    pub test_clock: Null,
    /// Deleted customers answer `{id, object, deleted: true}`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundCardDetails {
    pub reference: Option<String>,
    pub reference_status: Str,
    pub reference_type: Str,
    #[serde(rename = "type")]
    pub kind: Str,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundDestinationDetails {
    pub card: RefundCardDetails,
    #[serde(rename = "type")]
    pub kind: Str,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    pub id: String,
    pub object: RefundTag,
    pub amount: i64,
    pub balance_transaction: Option<String>,
    pub charge: Option<String>,
    pub created: i64,
    pub currency: Currency,
    pub destination_details: RefundDestinationDetails,
    pub failure_balance_transaction: Option<String>,
    pub failure_reason: Option<String>,
    pub metadata: Metadata,
    pub payment_intent: Option<String>,
    pub reason: Option<RefundReason>,
    pub receipt_number: Null,
    pub source_transfer_reversal: Null,
    pub status: RefundStatus,
    pub transfer_reversal: Null,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BalanceTransaction {
    pub id: String,
    pub object: BalanceTransactionTag,
    pub amount: i64,
    pub available_on: i64,
    pub created: i64,
    pub currency: Currency,
    pub description: String,
    pub fee: i64,
    pub net: i64,
    pub reporting_category: String,
    pub source: String,
    pub status: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceDetails {
    pub due_by: Option<i64>,
    pub has_evidence: bool,
    pub past_due: bool,
    pub submission_count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisputeCardDetails {
    pub brand: Str,
    pub case_type: Str,
    pub network_reason_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisputePaymentMethodDetails {
    pub card: DisputeCardDetails,
    #[serde(rename = "type")]
    pub kind: Str,
}

/// The evidence fields Stripe accepts on a dispute (all strings or file ids).
pub const EVIDENCE_FIELDS: &[&str] = &[
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dispute {
    pub id: String,
    pub object: DisputeTag,
    pub amount: i64,
    pub balance_transactions: Vec<BalanceTransaction>,
    pub charge: String,
    pub created: i64,
    pub currency: Currency,
    pub evidence: BTreeMap<String, Option<String>>,
    pub evidence_details: EvidenceDetails,
    pub is_charge_refundable: bool,
    pub livemode: bool,
    pub metadata: Metadata,
    pub network_reason_code: Option<String>,
    pub payment_intent: Option<String>,
    pub payment_method_details: DisputePaymentMethodDetails,
    pub reason: DisputeReason,
    pub status: DisputeStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyFraudWarning {
    pub id: String,
    pub object: EfwTag,
    pub actionable: bool,
    pub charge: String,
    pub created: i64,
    pub fraud_type: String,
    pub livemode: bool,
    pub payment_intent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payout {
    pub id: String,
    pub object: PayoutTag,
    pub amount: i64,
    pub application_fee: Null,
    pub application_fee_amount: Null,
    pub arrival_date: i64,
    pub automatic: bool,
    pub balance_transaction: Option<String>,
    pub created: i64,
    pub currency: Currency,
    pub description: Option<String>,
    pub destination: Option<String>,
    pub failure_balance_transaction: Option<String>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub livemode: bool,
    pub metadata: Metadata,
    pub method: Str,
    pub original_payout: Null,
    pub reconciliation_status: Str,
    pub reversed_by: Null,
    pub source_type: Str,
    pub statement_descriptor: Null,
    pub status: PayoutStatus,
    #[serde(rename = "type")]
    pub kind: Str,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventData {
    /// The object as it was when the event happened (serialized once, at that moment).
    pub object: JsonBytes,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_attributes: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventRequest {
    pub id: Option<String>,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub object: EventTag,
    pub api_version: String,
    pub created: i64,
    pub data: EventData,
    pub livemode: bool,
    pub pending_webhooks: u32,
    pub request: EventRequest,
    #[serde(rename = "type")]
    pub kind: String,
}
