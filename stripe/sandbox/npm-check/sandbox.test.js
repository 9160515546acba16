// Stripe's own Node client against the sandbox binary: if the official SDK accepts the
// sandbox's answers (objects, errors, idempotency headers, webhook signatures), the
// sandbox is faithful where it matters. Run by `make test`; SANDBOX_BIN names the binary.
"use strict";
const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const http = require("node:http");
const Stripe = require("stripe");
const { startSandbox, waitFor, answer3ds } = require("./sandbox-process");

const SECRET = "sk_test_npm_check_0123456789";
const PUBLISHABLE = "pk_test_npm_check_0123456789";
const WHSEC = "whsec_npm_check_0123456789abcdef";
let sandbox, hook, stripe, deliveries = [];

before(async () => {
  // A webhook endpoint that keeps the raw bytes and the signature header.
  hook = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      deliveries.push({ body: Buffer.concat(chunks), signature: req.headers["stripe-signature"] });
      res.writeHead(200).end("{}");
    });
  });
  await new Promise((r) => hook.listen(0, "127.0.0.1", r));
  const hookUrl = `http://127.0.0.1:${hook.address().port}/webhook`;

  sandbox = await startSandbox(["--webhook", `${hookUrl}=${WHSEC}`]);
  stripe = new Stripe(SECRET, { host: "127.0.0.1", port: sandbox.port, protocol: "http", maxNetworkRetries: 0 });
});

after(async () => {
  if (sandbox) sandbox.stop();
  if (hook) hook.close();
});

test("creates a customer", async () => {
  const customer = await stripe.customers.create({ email: "shopper@example.com", name: "Ferris" });
  assert.match(customer.id, /^cus_/);
  assert.equal(customer.object, "customer");
  const again = await stripe.customers.retrieve(customer.id);
  assert.equal(again.email, "shopper@example.com");
});

test("confirms a PaymentIntent with a test card", async () => {
  const pi = await stripe.paymentIntents.create({
    amount: 2400, currency: "usd", payment_method: "pm_card_visa", confirm: true,
    metadata: { order_id: "ord_npm" }, payment_method_types: ["card"],
  });
  assert.equal(pi.status, "succeeded");
  assert.equal(pi.amount_received, 2400);
  assert.match(pi.latest_charge, /^ch_/);
  assert.equal(pi.metadata.order_id, "ord_npm");
  const expanded = await stripe.paymentIntents.retrieve(pi.id, { expand: ["latest_charge"] });
  assert.equal(expanded.latest_charge.object, "charge");
  assert.equal(expanded.latest_charge.status, "succeeded");
});

test("a declined card raises StripeCardError", async () => {
  await assert.rejects(
    stripe.paymentIntents.create({ amount: 1000, currency: "usd", payment_method: "pm_card_chargeDeclinedInsufficientFunds", confirm: true, payment_method_types: ["card"] }),
    (err) => {
      assert.equal(err.type, "StripeCardError");
      assert.equal(err.statusCode, 402);
      assert.equal(err.code, "card_declined");
      assert.equal(err.decline_code, "insufficient_funds");
      assert.equal(err.raw.payment_intent.status, "requires_payment_method");
      return true;
    },
  );
});

test("refunds partially, then refuses an over-refund", async () => {
  const pi = await stripe.paymentIntents.create({ amount: 5000, currency: "usd", payment_method: "pm_card_visa", confirm: true, payment_method_types: ["card"] });
  const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 2000, reason: "requested_by_customer" });
  assert.equal(refund.status, "succeeded");
  assert.equal(refund.amount, 2000);
  await assert.rejects(stripe.refunds.create({ payment_intent: pi.id, amount: 3001 }), (err) => {
    assert.equal(err.type, "StripeInvalidRequestError");
    assert.equal(err.param, "amount");
    return true;
  });
  const rest = await stripe.refunds.create({ payment_intent: pi.id });
  assert.equal(rest.amount, 3000);
  const list = await stripe.refunds.list({ payment_intent: pi.id });
  assert.equal(list.data.length, 2);
});

test("replays an idempotent request and refuses a mismatch", async () => {
  const key = `npm-check-${Date.now()}`;
  const first = await stripe.paymentIntents.create({ amount: 1500, currency: "usd" }, { idempotencyKey: key });
  const second = await stripe.paymentIntents.create({ amount: 1500, currency: "usd" }, { idempotencyKey: key });
  assert.equal(second.id, first.id);
  assert.equal(second.lastResponse.headers["idempotent-replayed"], "true");
  await assert.rejects(
    stripe.paymentIntents.create({ amount: 1600, currency: "usd" }, { idempotencyKey: key }),
    (err) => { assert.equal(err.type, "StripeIdempotencyError"); return true; },
  );
});

test("webhook payloads verify with stripe.webhooks.constructEvent", async () => {
  const pi = await stripe.paymentIntents.create({ amount: 3100, currency: "usd", payment_method: "pm_card_mastercard", confirm: true, payment_method_types: ["card"] });
  const delivery = await waitFor(() => deliveries.find((d) => {
    const e = JSON.parse(d.body.toString("utf8"));
    return e.type === "payment_intent.succeeded" && e.data.object.id === pi.id;
  }), "payment_intent.succeeded to be delivered");
  const event = stripe.webhooks.constructEvent(delivery.body, delivery.signature, WHSEC);
  assert.equal(event.type, "payment_intent.succeeded");
  assert.equal(event.data.object.amount_received, 3100);
  assert.throws(() => stripe.webhooks.constructEvent(Buffer.concat([delivery.body, Buffer.from(" ")]), delivery.signature, WHSEC));
  assert.throws(() => stripe.webhooks.constructEvent(delivery.body, delivery.signature, "whsec_wrong"));
});

// ---- Saved cards ------------------------------------------------------------------------

/** Every event of `type` (newest first), through the Events API. */
async function eventsOf(type) {
  const events = [];
  for await (const e of stripe.events.list({ type, limit: 100 })) events.push(e);
  return events;
}

/** A SetupIntent confirmed server-side with a test card; 3-D Secure answered with `outcome`. */
async function setUp(customer, paymentMethod, outcome = "complete") {
  let si = await stripe.setupIntents.create({
    customer: customer.id, payment_method: paymentMethod, confirm: true, payment_method_types: ["card"],
  });
  if (si.status === "requires_action") {
    await answer3ds(sandbox.url, si.id, si.client_secret, outcome);
    si = await stripe.setupIntents.retrieve(si.id);
  }
  return si;
}

/** An off-session ("buy again") payment with a saved card. */
function chargeOffSession(customer, paymentMethod, amount = 1800) {
  return stripe.paymentIntents.create({
    amount, currency: "usd", customer: customer.id, payment_method: paymentMethod,
    off_session: true, confirm: true, payment_method_types: ["card"],
  });
}

test("a card's fingerprint depends only on its number", async () => {
  const customer = await stripe.customers.create({ email: "prints@example.com" });
  const first = await stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
  const second = await stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
  assert.notEqual(first.id, second.id, "the same card saved twice is two PaymentMethods");
  assert.ok(first.card.fingerprint);
  assert.equal(second.card.fingerprint, first.card.fingerprint);
  // The digits typed into Stripe.js's card frame (publishable key), other expiry and CVC.
  const browser = new Stripe(PUBLISHABLE, { host: "127.0.0.1", port: sandbox.port, protocol: "http", maxNetworkRetries: 0 });
  const typed = await browser.paymentMethods.create({
    type: "card", card: { number: "4242424242424242", exp_month: 3, exp_year: 2039, cvc: "321" },
  });
  assert.equal(typed.card.fingerprint, first.card.fingerprint);
  const token = await stripe.paymentMethods.create({ type: "card", card: { token: "tok_visa" } });
  assert.equal(token.card.fingerprint, first.card.fingerprint);
  // Other numbers, other fingerprints (a Visa debit, a Mastercard, the saved-card test cards).
  const prints = new Set([first.card.fingerprint]);
  for (const pm of ["pm_card_visa_debit", "pm_card_mastercard", "pm_card_authenticationRequired", "pm_card_chargeCustomerFail"]) {
    const other = await stripe.paymentMethods.attach(pm, { customer: customer.id });
    assert.ok(!prints.has(other.card.fingerprint), `${pm} shares a fingerprint`);
    prints.add(other.card.fingerprint);
  }
});

test("setup_future_usage attaches the card once the payment succeeds", async () => {
  const customer = await stripe.customers.create({ email: "saver@example.com" });
  const pi = await stripe.paymentIntents.create({
    amount: 2200, currency: "usd", customer: customer.id, setup_future_usage: "off_session",
    payment_method: "pm_card_visa", confirm: true, payment_method_types: ["card"],
  });
  assert.equal(pi.status, "succeeded");
  assert.equal(pi.setup_future_usage, "off_session");
  const pm = await stripe.paymentMethods.retrieve(pi.payment_method);
  assert.equal(pm.customer, customer.id);
  const attached = (await eventsOf("payment_method.attached")).filter((e) => e.data.object.id === pm.id);
  assert.equal(attached.length, 1);
  assert.equal(attached[0].data.object.customer, customer.id);
  const saved = await stripe.customers.listPaymentMethods(customer.id, { type: "card" });
  assert.deepEqual(saved.data.map((p) => p.id), [pm.id]);
  // A declined payment saves nothing.
  await assert.rejects(
    stripe.paymentIntents.create({
      amount: 2200, currency: "usd", customer: customer.id, setup_future_usage: "off_session",
      payment_method: "pm_card_chargeDeclined", confirm: true, payment_method_types: ["card"],
    }),
    (err) => {
      assert.equal(err.type, "StripeCardError");
      assert.equal(err.payment_method.customer, null);
      return true;
    },
  );
  const after = await stripe.customers.listPaymentMethods(customer.id, { type: "card" });
  assert.deepEqual(after.data.map((p) => p.id), [pm.id]);
});

test("off-session: a set-up 3155 pays, 3184 needs the shopper, 0341 is declined", async () => {
  const customer = await stripe.customers.create({ email: "absent@example.com" });

  const si3155 = await setUp(customer, "pm_card_authenticationRequiredOnSetup");
  assert.equal(si3155.status, "succeeded");
  const paid = await chargeOffSession(customer, si3155.payment_method);
  assert.equal(paid.status, "succeeded");

  const card3184 = await stripe.paymentMethods.attach("pm_card_authenticationRequired", { customer: customer.id });
  await assert.rejects(chargeOffSession(customer, card3184.id), (err) => {
    assert.equal(err.type, "StripeCardError");
    assert.equal(err.statusCode, 402);
    assert.equal(err.code, "authentication_required");
    assert.equal(err.raw.payment_intent.status, "requires_payment_method");
    assert.equal(err.payment_intent.id, err.raw.payment_intent.id);
    assert.equal(err.raw.payment_method.id, card3184.id);
    assert.equal(err.payment_method.customer, customer.id);
    return true;
  });

  const card0341 = await stripe.paymentMethods.attach("pm_card_chargeCustomerFail", { customer: customer.id });
  assert.equal(card0341.customer, customer.id);
  await assert.rejects(chargeOffSession(customer, card0341.id), (err) => {
    assert.equal(err.type, "StripeCardError");
    assert.equal(err.code, "card_declined");
    assert.equal(err.decline_code, "generic_decline");
    assert.equal(err.raw.payment_intent.status, "requires_payment_method");
    return true;
  });
});

test("a SetupIntent confirmed with a test card succeeds and says so", async () => {
  const customer = await stripe.customers.create({ email: "setup@example.com" });
  const created = await stripe.setupIntents.create({ customer: customer.id, usage: "off_session", payment_method_types: ["card"] });
  assert.equal(created.status, "requires_payment_method");
  assert.match(created.client_secret, new RegExp(`^${created.id}_secret_`));
  const si = await stripe.setupIntents.confirm(created.id, { payment_method: "pm_card_mastercard" });
  assert.equal(si.status, "succeeded");
  const pm = await stripe.paymentMethods.retrieve(si.payment_method);
  assert.equal(pm.customer, customer.id);
  assert.equal(pm.card.brand, "mastercard");
  const succeeded = (await eventsOf("setup_intent.succeeded")).filter((e) => e.data.object.id === si.id);
  assert.equal(succeeded.length, 1);
  assert.equal(succeeded[0].data.object.payment_method, pm.id);
  assert.ok((await eventsOf("payment_method.attached")).some((e) => e.data.object.id === pm.id));
  // Delivered and signed like every event.
  const delivery = await waitFor(() => deliveries.find((d) => {
    const e = JSON.parse(d.body.toString("utf8"));
    return e.type === "setup_intent.succeeded" && e.data.object.id === si.id;
  }), "setup_intent.succeeded to be delivered");
  const event = stripe.webhooks.constructEvent(delivery.body, delivery.signature, WHSEC);
  assert.equal(event.data.object.status, "succeeded");
  // Failed authentication: setup_failed, nothing saved.
  const failed = await setUp(customer, "pm_card_authenticationRequired", "fail");
  assert.equal(failed.status, "requires_payment_method");
  assert.equal(failed.last_setup_error.code, "setup_intent_authentication_failure");
  assert.ok((await eventsOf("setup_intent.setup_failed")).some((e) => e.data.object.id === failed.id));
  const saved = await stripe.customers.listPaymentMethods(customer.id, { type: "card" });
  assert.deepEqual(saved.data.map((p) => p.id), [pm.id]);
});

test("detaching a card is final", async () => {
  const customer = await stripe.customers.create({ email: "detach@example.com" });
  const pm = await stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
  await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
  const detached = await stripe.paymentMethods.detach(pm.id);
  assert.equal(detached.customer, null);
  const events = (await eventsOf("payment_method.detached")).filter((e) => e.data.object.id === pm.id);
  assert.equal(events.length, 1);
  assert.equal(events[0].data.previous_attributes.customer, customer.id);
  const again = await stripe.customers.retrieve(customer.id);
  assert.equal(again.invoice_settings.default_payment_method, null);
  const invalid = (err) => { assert.equal(err.type, "StripeInvalidRequestError"); return true; };
  await assert.rejects(stripe.paymentMethods.attach(pm.id, { customer: customer.id }), invalid);
  await assert.rejects(chargeOffSession(customer, pm.id), invalid);
  await assert.rejects(stripe.paymentIntents.create({
    amount: 1000, currency: "usd", customer: customer.id, payment_method: pm.id, confirm: true, payment_method_types: ["card"],
  }), invalid);
  await assert.rejects(stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } }), invalid);
  await assert.rejects(stripe.paymentMethods.detach(pm.id), invalid);
});

// ---- After the payment: refunds that fail, dispute test cards, fraud warnings, events --

/** `POST /_sandbox{path}` (the sandbox's control API) with a JSON body; resolves its answer. */
async function control(path, body = {}) {
  const res = await fetch(`${sandbox.url}/_sandbox${path}`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const json = await res.json();
  assert.equal(res.status, 200, `${path}: ${JSON.stringify(json)}`);
  return json;
}

/** A confirmed card payment of `amount` cents with `paymentMethod`. */
function pay(paymentMethod, amount = 2000) {
  return stripe.paymentIntents.create({
    amount, currency: "usd", payment_method: paymentMethod, confirm: true, payment_method_types: ["card"],
  });
}

test("a refund of card 5126 starts pending and fails when the clock moves on", async () => {
  const pi = await pay("pm_card_refundFail", 2600);
  assert.equal(pi.status, "succeeded");
  const refund = await stripe.refunds.create({ payment_intent: pi.id });
  assert.equal(refund.status, "pending");
  let charge = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(charge.amount_refunded, 2600);
  assert.ok((await eventsOf("charge.refunded")).some((e) => e.data.object.id === charge.id));
  await control("/clock/advance", { seconds: 61 });
  const failed = await stripe.refunds.retrieve(refund.id);
  assert.equal(failed.status, "failed");
  assert.equal(failed.failure_reason, "expired_or_canceled_card");
  charge = await stripe.charges.retrieve(pi.latest_charge);
  assert.equal(charge.amount_refunded, 0);
  assert.equal(charge.refunded, false);
  const failedEvents = (await eventsOf("refund.failed")).filter((e) => e.data.object.id === refund.id);
  assert.equal(failedEvents.length, 1);
  const updated = (await eventsOf("refund.updated")).filter((e) => e.data.object.id === refund.id);
  assert.equal(updated[0].data.previous_attributes.status, "pending");
  // Delivered and signed like every event.
  const delivery = await waitFor(() => deliveries.find((d) => {
    const e = JSON.parse(d.body.toString("utf8"));
    return e.type === "refund.failed" && e.data.object.id === refund.id;
  }), "refund.failed to be delivered");
  const event = stripe.webhooks.constructEvent(delivery.body, delivery.signature, WHSEC);
  assert.equal(event.data.object.status, "failed");
  // A Visa's refund succeeds at once.
  const visa = await pay("pm_card_visa");
  assert.equal((await stripe.refunds.create({ payment_intent: visa.id })).status, "succeeded");
});

test("cards 2685 and 1976 open a product_not_received dispute and an inquiry", async () => {
  const pnr = await pay("pm_card_createDisputeProductNotReceived");
  const [dispute] = (await stripe.disputes.list({ payment_intent: pnr.id })).data;
  assert.equal(dispute.reason, "product_not_received");
  assert.equal(dispute.status, "needs_response");
  assert.equal(dispute.is_charge_refundable, false);
  await assert.rejects(stripe.refunds.create({ payment_intent: pnr.id }), (err) => {
    assert.equal(err.type, "StripeInvalidRequestError");
    assert.equal(err.code, "charge_disputed");
    return true;
  });
  const inq = await pay("pm_card_createDisputeInquiry");
  const [inquiry] = (await stripe.disputes.list({ payment_intent: inq.id })).data;
  assert.equal(inquiry.status, "warning_needs_response");
  assert.equal(inquiry.is_charge_refundable, true);
  assert.deepEqual(inquiry.balance_transactions, []);
  const withdrawn = (await eventsOf("charge.dispute.funds_withdrawn")).map((e) => e.data.object.id);
  assert.ok(withdrawn.includes(dispute.id));
  assert.ok(!withdrawn.includes(inquiry.id), "an inquiry withdraws no funds");
  // An inquiry does not stop a refund.
  const refund = await stripe.refunds.create({ payment_intent: inq.id });
  assert.equal(refund.status, "succeeded");
});

test("an early fraud warning stops being actionable once the charge is refunded", async () => {
  const pi = await pay("pm_card_createIssuerFraudRecord");
  const [efw] = (await stripe.radar.earlyFraudWarnings.list({ payment_intent: pi.id })).data;
  assert.equal(efw.actionable, true);
  assert.equal(efw.charge, pi.latest_charge);
  await stripe.refunds.create({ payment_intent: pi.id, reason: "fraudulent" });
  const after = await stripe.radar.earlyFraudWarnings.retrieve(efw.id);
  assert.equal(after.actionable, false);
  const updated = (await eventsOf("radar.early_fraud_warning.updated")).filter((e) => e.data.object.id === efw.id);
  assert.equal(updated.length, 1);
  assert.equal(updated[0].data.object.actionable, false);
  assert.deepEqual(updated[0].data.previous_attributes, { actionable: true });
  // A dispute does the same.
  const disputed = await pay("pm_card_createEarlyFraudWarning");
  const [efw2] = (await stripe.radar.earlyFraudWarnings.list({ payment_intent: disputed.id })).data;
  await control(`/charges/${disputed.latest_charge}/dispute`);
  assert.equal((await stripe.radar.earlyFraudWarnings.retrieve(efw2.id)).actionable, false);
});

test("events list by created[gte] and created[lt]", async () => {
  const { now } = await control("/clock/advance", { seconds: 3600 });
  const pi = await stripe.paymentIntents.create({ amount: 1200, currency: "usd", payment_method_types: ["card"] });
  const since = [];
  for await (const e of stripe.events.list({ created: { gte: now }, limit: 100 })) since.push(e);
  assert.ok(since.length >= 1);
  assert.ok(since.every((e) => e.created >= now));
  assert.ok(since.some((e) => e.type === "payment_intent.created" && e.data.object.id === pi.id));
  const older = await stripe.events.list({ created: { lt: now }, limit: 100 });
  assert.ok(older.data.length > 0);
  assert.ok(older.data.every((e) => e.created < now && e.data.object.id !== pi.id));
  const exact = await stripe.events.list({ created: pi.created, type: "payment_intent.created" });
  assert.ok(exact.data.some((e) => e.data.object.id === pi.id));
  await assert.rejects(stripe.events.list({ created: { gte: "soon" } }), (err) => {
    assert.equal(err.type, "StripeInvalidRequestError");
    assert.equal(err.param, "created[gte]");
    return true;
  });
});
