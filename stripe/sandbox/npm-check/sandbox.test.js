// Stripe's own Node client against the sandbox binary: if the official SDK accepts the
// sandbox's answers (objects, errors, idempotency headers, webhook signatures), the
// sandbox is faithful where it matters. Run by `make test`; SANDBOX_BIN names the binary.
"use strict";
const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const http = require("node:http");
const net = require("node:net");
const { spawn } = require("node:child_process");
const Stripe = require("stripe");

const SECRET = "sk_test_npm_check_0123456789";
const WHSEC = "whsec_npm_check_0123456789abcdef";
let sandbox, hook, stripe, deliveries = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on("error", reject);
  });
}

async function waitFor(fn, what, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

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

  const port = await freePort();
  const bin = process.env.SANDBOX_BIN;
  assert.ok(bin, "SANDBOX_BIN must name the stripe-sandbox binary");
  sandbox = spawn(bin, ["--addr", `127.0.0.1:${port}`, "--webhook", `${hookUrl}=${WHSEC}`], { stdio: ["ignore", "inherit", "inherit"] });
  await waitFor(() => new Promise((r) => {
    const s = net.connect(port, "127.0.0.1", () => { s.end(); r(true); });
    s.on("error", () => r(false));
  }), "the sandbox to listen");

  stripe = new Stripe(SECRET, { host: "127.0.0.1", port, protocol: "http", maxNetworkRetries: 0 });
});

after(async () => {
  if (sandbox) sandbox.kill("SIGTERM");
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
