//! The Stripe REST surface: routing, validation (parameters → an executable operation)
//! and execution against [`State`].
//!
//! Validation happens without the state lock and stores nothing (as Stripe stores no
//! idempotent result for requests that fail validation); execution runs under the lock.

use axum::http::{Method, StatusCode};
use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use stripe_types::{Currency, ErrorType};

use crate::error::{ApiError, ApiResult};
use crate::form::{IntRange, Params};
use crate::objects::{AutomaticPaymentMethods, Keyed};
use crate::state::{previous_attributes, Ctx, State, Table};
use crate::util::Str;
use payment_methods::PmSpec;

pub mod charges;
pub mod customers;
pub mod disputes;
pub mod events;
pub mod payment_intents;
pub mod payment_methods;
pub mod payments;
pub mod payouts;
pub mod refunds;
pub mod setup_intents;

/// Which kind of API key authenticated the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Secret,
    Publishable,
}

/// A validated request, ready to run under the state lock.
pub type Exec = Box<dyn FnOnce(&mut State, &Ctx) -> ApiResult<Bytes> + Send>;

pub fn exec(f: impl FnOnce(&mut State, &Ctx) -> ApiResult<Bytes> + Send + 'static) -> Exec {
    Box::new(f)
}

fn publishable_forbidden() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorType::InvalidRequestError,
        "This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.",
    )
}

/// Routes a `/v1/...` request. `None` when no such endpoint exists.
pub fn prepare(
    method: &Method,
    path: &str,
    params: Params,
    key: KeyKind,
) -> Option<ApiResult<Exec>> {
    let rest = path.strip_prefix("/v1/")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let segs: Vec<&str> = rest.split('/').collect();
    let get = method == Method::GET;
    let post = method == Method::POST;
    let delete = method == Method::DELETE;
    let own = |s: &str| s.to_owned();

    // Endpoints Stripe.js calls with a publishable key.
    let pk_ok = matches!(
        (post, get, segs.as_slice()),
        (true, _, ["payment_methods"])
            | (_, true, ["payment_intents", _])
            | (true, _, ["payment_intents", _, "confirm"])
            | (_, true, ["setup_intents", _])
            | (true, _, ["setup_intents", _, "confirm"])
    );

    let result: ApiResult<Exec> = match segs.as_slice() {
        ["payment_intents"] if post => payment_intents::create(params, key),
        ["payment_intents"] if get => payment_intents::list(params),
        ["payment_intents", id] if get => payment_intents::retrieve(own(id), params, key),
        ["payment_intents", id] if post => payment_intents::update(own(id), params),
        ["payment_intents", id, "confirm"] if post => {
            payment_intents::confirm(own(id), params, key)
        }
        ["payment_intents", id, "cancel"] if post => payment_intents::cancel(own(id), params),
        ["payment_intents", id, "capture"] if post => payment_intents::capture(own(id), params),

        ["setup_intents"] if post => setup_intents::create(params, key),
        ["setup_intents"] if get => setup_intents::list(params),
        ["setup_intents", id] if get => setup_intents::retrieve(own(id), params, key),
        ["setup_intents", id] if post => setup_intents::update(own(id), params),
        ["setup_intents", id, "confirm"] if post => setup_intents::confirm(own(id), params, key),
        ["setup_intents", id, "cancel"] if post => setup_intents::cancel(own(id), params),

        ["payment_methods"] if post => payment_methods::create(params, key),
        ["payment_methods"] if get => payment_methods::list(None, params),
        ["payment_methods", id] if get => payment_methods::retrieve(own(id), params),
        ["payment_methods", id] if post => payment_methods::update(own(id), params),
        ["payment_methods", id, "attach"] if post => payment_methods::attach(own(id), params),
        ["payment_methods", id, "detach"] if post => payment_methods::detach(own(id), params),

        ["customers"] if post => customers::create(params),
        ["customers"] if get => customers::list(params),
        ["customers", id] if get => customers::retrieve(own(id), params),
        ["customers", id] if post => customers::update(own(id), params),
        ["customers", id] if delete => customers::delete(own(id), params),
        ["customers", id, "payment_methods"] if get => payment_methods::list(Some(own(id)), params),

        ["charges"] if get => charges::list(params),
        ["charges", id] if get => charges::retrieve(own(id), params),
        ["charges", id] if post => charges::update(own(id), params),

        ["refunds"] if post => refunds::create(params),
        ["refunds"] if get => refunds::list(params),
        ["refunds", id] if get => refunds::retrieve(own(id), params),
        ["refunds", id] if post => refunds::update(own(id), params),

        ["disputes"] if get => disputes::list(params),
        ["disputes", id] if get => disputes::retrieve(own(id), params),
        ["disputes", id] if post => disputes::update(own(id), params),
        ["disputes", id, "close"] if post => disputes::close(own(id), params),

        ["radar", "early_fraud_warnings"] if get => disputes::list_efw(params),
        ["radar", "early_fraud_warnings", id] if get => disputes::retrieve_efw(own(id), params),

        ["payouts"] if get => payouts::list(params),
        ["payouts", id] if get => payouts::retrieve(own(id), params),

        ["events"] if get => events::list(params),
        ["events", id] if get => events::retrieve(own(id), params),

        _ => return None,
    };
    if key == KeyKind::Publishable && !pk_ok {
        return Some(Err(publishable_forbidden()));
    }
    Some(result)
}

/// `limit`, `starting_after`, `ending_before`, `created` (`created=N` or
/// `created[gt|gte|lt|lte]=N`).
pub struct ListParams {
    pub limit: usize,
    pub starting_after: Option<String>,
    pub ending_before: Option<String>,
    pub created: Option<IntRange>,
    pub expand: Vec<String>,
}

impl ListParams {
    pub fn take(p: &mut Params) -> ApiResult<ListParams> {
        let limit =
            match p.int("limit")? {
                None => 10,
                Some(n) if (1..=100).contains(&n) => n as usize,
                Some(_) => return Err(ApiError::invalid_param(
                    "limit",
                    "This value must be less than or equal to 100 and greater than or equal to 1.",
                )),
            };
        Ok(ListParams {
            limit,
            starting_after: p.non_empty("starting_after")?,
            ending_before: p.non_empty("ending_before")?,
            created: p.int_range("created")?,
            expand: p.expand()?,
        })
    }

    pub fn page<'a, T: Keyed>(
        &self,
        table: &'a Table<T>,
        filter: impl Fn(&T) -> bool,
    ) -> ApiResult<(Vec<&'a T>, bool)> {
        table.page(
            self.limit,
            self.starting_after
                .as_deref()
                .map(|s| (s, "starting_after")),
            self.ending_before.as_deref().map(|s| (s, "ending_before")),
            |item| self.created.is_none_or(|c| c.contains(item.created())) && filter(item),
        )
    }

    /// The page of `table` matching `filter`, each item shown as `show(item)`, rendered as
    /// a list at `url`.
    pub fn render_page<T: Keyed, U: Serialize>(
        &self,
        state: &State,
        table: &Table<T>,
        url: &str,
        filter: impl Fn(&T) -> bool,
        show: impl Fn(&T) -> &U,
    ) -> ApiResult<Bytes> {
        let (items, has_more) = self.page(table, filter)?;
        let data: Vec<&U> = items.into_iter().map(show).collect();
        render_list(state, data, has_more, url, &self.expand)
    }

    /// A list endpoint: the page of `table(state)` matching `filter`, rendered at `url`.
    pub fn exec<T: Keyed + Serialize + 'static>(
        self,
        table: fn(&State) -> &Table<T>,
        url: &'static str,
        filter: impl Fn(&T) -> bool + Send + 'static,
    ) -> Exec {
        exec(move |state, _ctx| self.render_page(state, table(state), url, filter, |item| item))
    }
}

/// A list filter: no `filter`, or `value` equal to it.
pub fn matches_filter(filter: &Option<String>, value: Option<&str>) -> bool {
    filter.as_deref().is_none_or(|f| value == Some(f))
}

/// The `charge` and `payment_intent` filters of the lists of objects about a charge
/// (refunds, disputes, early fraud warnings).
pub struct ChargeFilter {
    charge: Option<String>,
    payment_intent: Option<String>,
}

impl ChargeFilter {
    pub fn take(p: &mut Params) -> ApiResult<ChargeFilter> {
        Ok(ChargeFilter {
            charge: p.non_empty("charge")?,
            payment_intent: p.non_empty("payment_intent")?,
        })
    }

    pub fn matches(&self, charge: Option<&str>, payment_intent: Option<&str>) -> bool {
        matches_filter(&self.charge, charge) && matches_filter(&self.payment_intent, payment_intent)
    }
}

/// A retrieve endpoint: `expand[]` is its only parameter; `get` finds the object.
pub fn retrieve_with<T: Serialize + 'static>(
    id: String,
    mut p: Params,
    get: for<'a> fn(&'a State, &str) -> ApiResult<&'a T>,
) -> ApiResult<Exec> {
    let expand = p.expand()?;
    p.finish()?;
    Ok(exec(move |state, _ctx| {
        render(state, get(state, &id)?, &expand)
    }))
}

/// The JSON of an object before a change, for [`emit_changes`].
pub fn json_before<T: Serialize>(obj: &T) -> Value {
    serde_json::to_value(obj).expect("json")
}

/// Emits `event` for `obj` with the attributes that changed since `before` as its
/// `previous_attributes`; nothing when nothing changed.
pub fn emit_changes<T: Serialize + Keyed>(
    state: &mut State,
    ctx: &Ctx,
    event: &str,
    before: &Value,
    obj: &T,
) {
    let after = serde_json::to_value(obj).expect("json");
    if let Some(prev) = previous_attributes(before, &after) {
        state.emit(ctx, event, obj, Some(prev));
    }
}

/// Serializes an object, applying `expand[]`.
pub fn render<T: Serialize>(state: &State, obj: &T, expand: &[String]) -> ApiResult<Bytes> {
    if expand.is_empty() {
        return Ok(crate::util::to_json(obj));
    }
    let mut v = serde_json::to_value(obj).expect("objects serialize");
    for path in expand {
        let segs: Vec<&str> = path.split('.').collect();
        expand_segs(state, &mut v, &segs, path)?;
    }
    Ok(Bytes::from(
        serde_json::to_vec(&v).expect("values serialize"),
    ))
}

/// Like [`render`], reusing the JSON of the last event when it was emitted for this very
/// object in its final state (saves a serialization on the hot path).
pub fn render_snapshot<T: Serialize + crate::objects::Keyed>(
    state: &mut State,
    obj_id: &str,
    get: impl Fn(&State) -> Option<&T>,
    expand: &[String],
) -> ApiResult<Bytes> {
    if expand.is_empty() {
        if let Some((id, bytes)) = state.last_snapshot.take() {
            if id == obj_id {
                return Ok(bytes);
            }
        }
    }
    let obj = get(state).ok_or_else(|| ApiError::not_found("object", obj_id))?;
    render(state, obj, expand)
}

#[derive(Serialize)]
struct ListBody<'a, T> {
    object: &'static str,
    data: Vec<&'a T>,
    has_more: bool,
    url: &'a str,
}

/// `{object: "list", data, has_more, url}`, applying `expand[]=data.…`.
pub fn render_list<T: Serialize>(
    state: &State,
    data: Vec<&T>,
    has_more: bool,
    url: &str,
    expand: &[String],
) -> ApiResult<Bytes> {
    let body = ListBody {
        object: "list",
        data,
        has_more,
        url,
    };
    if expand.is_empty() {
        return Ok(Bytes::from(
            serde_json::to_vec(&body).expect("objects serialize"),
        ));
    }
    let mut v = serde_json::to_value(&body).expect("objects serialize");
    for path in expand {
        let segs: Vec<&str> = path.split('.').collect();
        if segs.first() != Some(&"data") || segs.len() < 2 {
            return Err(ApiError::invalid_param(
                "expand",
                format!(
                    "This property cannot be expanded ({path}). You may want to try expanding 'data.{path}' instead."
                ),
            ));
        }
        if let Some(Value::Array(items)) = v.get_mut("data") {
            for item in items {
                expand_segs(state, item, &segs[1..], path)?;
            }
        }
    }
    Ok(Bytes::from(
        serde_json::to_vec(&v).expect("values serialize"),
    ))
}

fn expandable(object: &str, field: &str) -> bool {
    matches!(
        (object, field),
        (
            "payment_intent",
            "customer" | "payment_method" | "latest_charge"
        ) | ("setup_intent", "customer" | "payment_method")
            | ("charge", "customer" | "payment_intent")
            | ("refund", "charge" | "payment_intent")
            | ("dispute", "charge" | "payment_intent")
            | ("radar.early_fraud_warning", "charge" | "payment_intent")
            | ("payment_method", "customer")
    )
}

fn expand_segs(state: &State, v: &mut Value, segs: &[&str], full: &str) -> ApiResult<()> {
    let Some((field, rest)) = segs.split_first() else {
        return Ok(());
    };
    if segs.len() > 4 {
        return Err(ApiError::invalid_param(
            "expand",
            format!("You cannot expand more than 4 levels of a property ({full})."),
        ));
    }
    let object = v.get("object").and_then(Value::as_str).unwrap_or("");
    if !expandable(object, field) {
        return Err(ApiError::invalid_param(
            "expand",
            format!("This property cannot be expanded ({full})."),
        ));
    }
    let Some(slot) = v.get_mut(*field) else {
        return Ok(());
    };
    if let Value::String(id) = slot {
        if let Some(obj) = state.object_json(id) {
            *slot = obj;
        }
    }
    if !rest.is_empty() && slot.is_object() {
        expand_segs(state, slot, rest, full)?;
    }
    Ok(())
}

/// Stripe's minimum charge amounts (in the currency's minor unit).
fn minimum_amount(currency: &str) -> i64 {
    match currency {
        "usd" | "eur" | "aud" | "brl" | "cad" | "chf" | "inr" | "nzd" | "sgd" => 50,
        "gbp" => 30,
        "jpy" => 50,
        "aed" | "myr" | "pln" | "ron" => 200,
        "bgn" => 100,
        "czk" => 1500,
        "dkk" => 250,
        "hkd" => 400,
        "huf" => 17500,
        "mxn" | "thb" => 1000,
        "nok" | "sek" => 300,
        _ => 1,
    }
}

/// Currencies the sandbox accepts (Stripe's card-payment presentment currencies).
const CURRENCIES: &[&str] = &[
    "usd", "aed", "afn", "all", "amd", "ang", "aoa", "ars", "aud", "awg", "azn", "bam", "bbd",
    "bdt", "bgn", "bhd", "bif", "bmd", "bnd", "bob", "brl", "bsd", "bwp", "byn", "bzd", "cad",
    "cdf", "chf", "clp", "cny", "cop", "crc", "cve", "czk", "djf", "dkk", "dop", "dzd", "egp",
    "etb", "eur", "fjd", "fkp", "gbp", "gel", "gip", "gmd", "gnf", "gtq", "gyd", "hkd", "hnl",
    "htg", "huf", "idr", "ils", "inr", "isk", "jmd", "jod", "jpy", "kes", "kgs", "khr", "kmf",
    "krw", "kwd", "kyd", "kzt", "lak", "lbp", "lkr", "lrd", "lsl", "mad", "mdl", "mga", "mkd",
    "mmk", "mnt", "mop", "mur", "mvr", "mwk", "mxn", "myr", "mzn", "nad", "ngn", "nio", "nok",
    "npr", "nzd", "omr", "pab", "pen", "pgk", "php", "pkr", "pln", "pyg", "qar", "ron", "rsd",
    "rub", "rwf", "sar", "sbd", "scr", "sek", "sgd", "shp", "sle", "sos", "srd", "std", "szl",
    "thb", "tjs", "tnd", "top", "try", "ttd", "twd", "tzs", "uah", "ugx", "uyu", "uzs", "vnd",
    "vuv", "wst", "xaf", "xcd", "xof", "xpf", "yer", "zar", "zmw",
];

pub fn parse_currency(p: &mut Params, key: &str, required: bool) -> ApiResult<Option<Currency>> {
    let raw = if required {
        Some(p.required_str(key)?)
    } else {
        p.non_empty(key)?
    };
    let Some(raw) = raw else { return Ok(None) };
    let c: Currency = raw.parse().map_err(|_| invalid_currency(key, &raw))?;
    if !CURRENCIES.contains(&c.code()) {
        return Err(invalid_currency(key, &raw));
    }
    Ok(Some(c))
}

fn invalid_currency(key: &str, raw: &str) -> ApiError {
    ApiError::invalid_param(
        key,
        format!(
            "Invalid currency: {}. Stripe currently supports these currencies: {}",
            raw.to_ascii_lowercase(),
            CURRENCIES.join(", ")
        ),
    )
}

/// Validates an amount against the currency's minimum and Stripe's maximum.
pub fn check_amount(param: &str, amount: i64, currency: Currency) -> ApiResult<()> {
    let min = minimum_amount(currency.code());
    if amount < min {
        return Err(ApiError::invalid_param(
            param,
            format!(
                "Amount must be at least {} {}",
                crate::util::fmt_amount(min, currency),
                currency.code()
            ),
        )
        .with_code("amount_too_small"));
    }
    if amount > 99_999_999 {
        return Err(ApiError::invalid_param(
            param,
            format!(
                "Amount must be no more than {}",
                crate::util::fmt_amount(99_999_999, currency)
            ),
        )
        .with_code(stripe_types::error::code::AMOUNT_TOO_LARGE));
    }
    Ok(())
}

/// Tracking fields Stripe.js adds to its requests; accepted and ignored.
pub const STRIPE_JS_TRACKING_FIELDS: &[&str] = &[
    "key",
    "payment_user_agent",
    "time_on_page",
    "guid",
    "muid",
    "sid",
    "referrer",
];

/// What Stripe.js adds besides the tracking fields when it retrieves or confirms an intent.
const STRIPE_JS_INTENT_FIELDS: &[&str] = &[
    "_stripe_version",
    "expected_payment_method_type",
    "client_context",
];

/// On a publishable-key request, ignores the fields Stripe.js adds to intent requests
/// (and `extra`).
pub fn ignore_stripe_js_fields(p: &mut Params, key: KeyKind, extra: &[&str]) {
    if key == KeyKind::Publishable {
        p.ignore(STRIPE_JS_TRACKING_FIELDS);
        p.ignore(STRIPE_JS_INTENT_FIELDS);
        p.ignore(extra);
    }
}

/// `client_secret` of an intent request; required with a publishable key, whose
/// Stripe.js fields (and `extra`) are ignored.
pub fn take_client_secret(
    p: &mut Params,
    key: KeyKind,
    extra: &[&str],
) -> ApiResult<Option<String>> {
    let secret = p.non_empty("client_secret")?;
    ignore_stripe_js_fields(p, key, extra);
    if key == KeyKind::Publishable && secret.is_none() {
        return Err(ApiError::missing_param("client_secret"));
    }
    Ok(secret)
}

/// `payment_method_types[]`: only `card`.
pub fn parse_payment_method_types(p: &mut Params) -> ApiResult<Option<Vec<String>>> {
    let Some(types) = p.str_list("payment_method_types")? else {
        return Ok(None);
    };
    for t in &types {
        if t != "card" {
            return Err(ApiError::invalid_param(
                "payment_method_types",
                format!("The payment method type \"{t}\" is invalid. The sandbox supports only \"card\"."),
            ));
        }
    }
    Ok(Some(types))
}

/// What a new PaymentIntent or SetupIntent takes from its request once the request is
/// checked against the state.
pub struct NewIntent {
    pub payment_method: Option<String>,
    pub payment_method_types: Vec<Str>,
    pub automatic_payment_methods: Option<AutomaticPaymentMethods>,
}

/// The first steps of creating a PaymentIntent or SetupIntent: the customer must exist,
/// the payment method is resolved, and without `payment_method_types` the intent gets
/// automatic payment methods (enabled unless the request said otherwise), as on Stripe
/// since 2023.
pub fn new_intent(
    state: &mut State,
    ctx: &Ctx,
    customer: Option<&str>,
    payment_method: Option<PmSpec>,
    payment_method_types: Option<Vec<String>>,
    automatic: Option<AutomaticPaymentMethods>,
) -> ApiResult<NewIntent> {
    if let Some(c) = customer {
        customers::check_param(state, c)?;
    }
    let payment_method = payment_methods::resolve_param(state, ctx, payment_method)?;
    let (payment_method_types, automatic_payment_methods) = match payment_method_types {
        Some(t) => (t.into_iter().map(Into::into).collect(), None),
        None => (
            vec!["card".into()],
            Some(automatic.unwrap_or(AutomaticPaymentMethods {
                allow_redirects: "always".into(),
                enabled: true,
            })),
        ),
    };
    Ok(NewIntent {
        payment_method,
        payment_method_types,
        automatic_payment_methods,
    })
}

/// `payment_method_options[card][request_three_d_secure]` (`card` may also carry the
/// ignored `ignored_card_fields`).
pub fn parse_request_three_d_secure(
    p: &mut Params,
    ignored_card_fields: &[&str],
) -> ApiResult<Option<String>> {
    let Some(mut pmo) = p.map("payment_method_options")? else {
        return Ok(None);
    };
    let mut out = None;
    if let Some(mut card) = pmo.map("card")? {
        out = card.one_of("request_three_d_secure", &["automatic", "any", "challenge"])?;
        card.ignore(ignored_card_fields);
        card.finish()?;
    }
    pmo.finish()?;
    Ok(out)
}

/// The `client_secret` check of publishable-key requests.
pub fn check_client_secret(
    kind: &str,
    given: Option<&str>,
    actual: &str,
    key: KeyKind,
) -> ApiResult<()> {
    match given {
        Some(s) if s == actual => Ok(()),
        Some(_) => Err(ApiError::invalid_param(
            "client_secret",
            format!(
                "The client_secret provided does not match the client_secret associated with the {kind}."
            ),
        )),
        None if key == KeyKind::Secret => Ok(()),
        None => Err(ApiError::missing_param("client_secret")),
    }
}

/// `Option<String>` update semantics: absent → keep, `""` → unset, value → set.
pub fn update_opt(target: &mut Option<String>, value: Option<String>) {
    if let Some(v) = value {
        *target = if v.is_empty() { None } else { Some(v) };
    }
}
