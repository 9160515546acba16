// The sandbox's Stripe.js stand-in (served at /v3/, `assets/stripe.js`) driven the way the
// app drives it for saved cards: confirmCardSetup with the card Element, and
// confirmCardPayment with a saved "pm_…", both through the 3-D Secure modal when the card
// asks for it. The script runs in a `vm` context with a minimal DOM: the card iframe and
// the 3-D Secure page are played by this file, sending what the sandbox's own pages send
// (`assets/card.html` posts the typed card to /v1/payment_methods with the publishable
// key; the challenge page posts /3ds/{id}/complete|fail, then posts a
// `stripe-sandbox-3ds` message to its parent). Server-side steps use Stripe's Node client.
"use strict";
const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const vm = require("node:vm");
const Stripe = require("stripe");
const { startSandbox, answer3ds } = require("./sandbox-process");

const SECRET = "sk_test_npm_check_stripejs_0123";
const PUBLISHABLE = "pk_test_npm_check_stripejs_0123";
const SHOP = "http://shop.test";
let sandbox, stripe, browser;

/** An element of the fake DOM: enough of one for stripe.js. */
class FakeElement {
  constructor(tag) {
    this.tagName = tag.toUpperCase();
    this.children = [];
    this.attributes = {};
    this.parentNode = null;
    const classes = new Set();
    this.classList = {
      add: (...c) => c.forEach((x) => classes.add(x)),
      remove: (...c) => c.forEach((x) => classes.delete(x)),
      toggle: (c, on) => (on ? classes.add(c) : classes.delete(c)),
      contains: (c) => classes.has(c),
    };
  }
  setAttribute(k, v) { this.attributes[k] = String(v); }
  appendChild(child) { child.parentNode = this; this.children.push(child); return child; }
  remove() {
    if (this.parentNode) this.parentNode.children = this.parentNode.children.filter((c) => c !== this);
    this.parentNode = null;
  }
}

/**
 * A browser page with the sandbox's Stripe.js loaded: `window.Stripe`, plus what the
 * test controls — the card typed into the Element's frame, and the shopper's answer to
 * each 3-D Secure modal (`threeDs`, consumed in order; a modal with no answer left fails
 * the test).
 */
async function openPage(base) {
  const script = await (await fetch(`${base}/v3/`)).text();
  const listeners = [];
  const page = { typed: null, threeDs: [], modals: [], tokenized: [] };
  const post = (data, source) => setTimeout(() => {
    for (const fn of listeners.slice()) fn({ data, source, origin: base });
  }, 0);

  // The card Element's iframe (assets/card.html): "ready" once loaded, and "tokenize"
  // posts the typed card with the publishable key.
  function cardFrame(frame, src) {
    const url = new URL(src);
    assert.equal(url.origin, base, "the card frame is served by Stripe");
    const id = Number(url.searchParams.get("id"));
    const key = url.searchParams.get("key");
    post({ type: "stripe-sandbox-card", id, event: "ready", payload: {} }, frame.contentWindow);
    frame.contentWindow.postMessage = async (msg, targetOrigin) => {
      assert.equal(targetOrigin, base);
      assert.equal(msg.cmd, "tokenize");
      const { number, exp, cvc } = page.typed;
      const body = new URLSearchParams({
        key, type: "card", "card[number]": number, "card[exp_month]": exp.slice(0, 2),
        "card[exp_year]": `20${exp.slice(2)}`, "card[cvc]": cvc,
      });
      const res = await fetch(`${base}/v1/payment_methods`, { method: "POST", body });
      const json = await res.json();
      page.tokenized.push(json.id);
      const result = res.ok ? { paymentMethod: json } : { error: json.error };
      post({ type: "stripe-sandbox-card", id: msg.id, reply: msg.seq, result }, frame.contentWindow);
    };
  }

  // The 3-D Secure modal: the challenge page, answered as its buttons answer.
  async function challenge(frame) {
    const url = new URL(frame.src);
    const [, , id] = url.pathname.split("/");
    const secret = url.searchParams.get("client_secret");
    const html = await (await fetch(frame.src)).text();
    assert.match(html, /Complete authentication/);
    const outcome = page.threeDs.shift();
    assert.ok(outcome, `an unexpected 3-D Secure modal for ${id}`);
    page.modals.push({ id, outcome });
    await answer3ds(base, id, secret, outcome);
    const msg = { type: "stripe-sandbox-3ds", outcome };
    msg[id.startsWith("seti_") ? "setup_intent" : "payment_intent"] = id;
    post(msg, frame.contentWindow);
  }

  const document = {
    currentScript: { src: `${base}/v3/` },
    createElement(tag) {
      const el = new FakeElement(tag);
      if (tag === "iframe") {
        let src = "";
        el.contentWindow = {};
        Object.defineProperty(el, "src", {
          get: () => src,
          set: (v) => { src = v; if (v.includes("/v3/elements/card")) cardFrame(el, v); },
        });
      }
      return el;
    },
    querySelector: (selector) => (selector === "#card" ? page.mountPoint : null),
    body: new FakeElement("body"),
  };
  const bodyAppend = document.body.appendChild.bind(document.body);
  document.body.appendChild = (node) => {
    bodyAppend(node);
    const frame = node.children.find((c) => c.tagName === "IFRAME" && c.src.includes("/3ds/"));
    if (frame) challenge(frame).catch((e) => { page.error = e; });
    return node;
  };
  page.mountPoint = new FakeElement("div");

  const window = {
    addEventListener: (type, fn) => { if (type === "message") listeners.push(fn); },
    removeEventListener: (type, fn) => {
      const i = listeners.indexOf(fn);
      if (type === "message" && i >= 0) listeners.splice(i, 1);
    },
  };
  const context = vm.createContext({
    window, document, location: { href: `${SHOP}/checkout`, origin: SHOP },
    fetch, URL, setTimeout, encodeURIComponent, console,
  });
  vm.runInContext(script, context, { filename: `${base}/v3/` });
  page.Stripe = window.Stripe;
  assert.equal(typeof page.Stripe, "function", "the script defines window.Stripe");
  return page;
}

/** A mounted card Element with `number` typed into it. */
async function cardElement(page, number) {
  const stripeJs = page.Stripe(PUBLISHABLE);
  const card = stripeJs.elements().create("card", {});
  const ready = new Promise((resolve) => card.on("ready", resolve));
  card.mount("#card");
  await ready;
  page.typed = { number, exp: "1240", cvc: "123" };
  return { stripeJs, card };
}

before(async () => {
  sandbox = await startSandbox();
  stripe = new Stripe(SECRET, { host: "127.0.0.1", port: sandbox.port, protocol: "http", maxNetworkRetries: 0 });
  browser = await openPage(sandbox.url);
});

after(() => { if (sandbox) sandbox.stop(); });

test("confirmCardSetup saves a typed card, through 3-D Secure when asked", async () => {
  const customer = await stripe.customers.create({ email: "setup-js@example.com" });
  for (const [number, answers] of [["4242424242424242", []], ["4000002500003155", ["complete"]]]) {
    const si = await stripe.setupIntents.create({ customer: customer.id, payment_method_types: ["card"] });
    const { stripeJs, card } = await cardElement(browser, number);
    browser.threeDs = [...answers];
    const modals = browser.modals.length;
    const result = await stripeJs.confirmCardSetup(si.client_secret, { payment_method: { card } });
    assert.equal(result.error, undefined, JSON.stringify(result.error));
    assert.equal(result.setupIntent.id, si.id);
    assert.equal(result.setupIntent.status, "succeeded");
    assert.equal(browser.modals.length - modals, answers.length, `${number}: 3-D Secure modals`);
    const pm = browser.tokenized.at(-1);
    assert.equal(result.setupIntent.payment_method, pm);
    // The server's view agrees: the card is the customer's.
    assert.equal((await stripe.setupIntents.retrieve(si.id)).status, "succeeded");
    assert.equal((await stripe.paymentMethods.retrieve(pm)).customer, customer.id);
    card.destroy();
  }
  assert.equal(browser.error, undefined);
});

test("confirmCardSetup resolves {error} when 3-D Secure fails", async () => {
  const customer = await stripe.customers.create({ email: "setup-fail-js@example.com" });
  const si = await stripe.setupIntents.create({ customer: customer.id, payment_method_types: ["card"] });
  const { stripeJs, card } = await cardElement(browser, "4000002760003184");
  browser.threeDs = ["fail"];
  const result = await stripeJs.confirmCardSetup(si.client_secret, { payment_method: { card } });
  assert.equal(result.setupIntent, undefined);
  assert.equal(result.error.code, "setup_intent_authentication_failure");
  assert.equal(result.error.setup_intent.id, si.id);
  assert.equal(result.error.setup_intent.status, "requires_payment_method");
  assert.equal((await stripe.paymentMethods.retrieve(browser.tokenized.at(-1))).customer, null);
  // A decline needs no modal and is an {error} too.
  const declined = await stripe.setupIntents.create({ customer: customer.id, payment_method_types: ["card"] });
  browser.typed = { number: "4000000000009995", exp: "1240", cvc: "123" };
  const refused = await stripeJs.confirmCardSetup(declined.client_secret, { payment_method: { card } });
  assert.equal(refused.error.type, "card_error");
  assert.equal(refused.error.decline_code, "insufficient_funds");
  assert.equal(refused.error.setup_intent.status, "requires_payment_method");
  card.destroy();
  assert.equal(browser.error, undefined);
});

test("confirmCardPayment with a saved pm_ runs 3-D Secure only when the card needs it", async () => {
  const customer = await stripe.customers.create({ email: "saved-js@example.com" });
  const visa = await stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
  const card3184 = await stripe.paymentMethods.attach("pm_card_authenticationRequired", { customer: customer.id });
  const stripeJs = browser.Stripe(PUBLISHABLE);
  const intent = () => stripe.paymentIntents.create({
    amount: 2600, currency: "usd", customer: customer.id, payment_method_types: ["card"],
  });

  const modals = browser.modals.length;
  const plain = await intent();
  const paid = await stripeJs.confirmCardPayment(plain.client_secret, { payment_method: visa.id });
  assert.equal(paid.paymentIntent.status, "succeeded");
  assert.equal(browser.modals.length, modals, "no modal for a card that needs none");

  for (const [outcome, status] of [["complete", "succeeded"], ["fail", "requires_payment_method"]]) {
    const pi = await intent();
    browser.threeDs = [outcome];
    const result = await stripeJs.confirmCardPayment(pi.client_secret, { payment_method: card3184.id });
    assert.equal(browser.modals.at(-1).id, pi.id);
    if (outcome === "complete") {
      assert.equal(result.paymentIntent.status, status);
      assert.equal(result.paymentIntent.payment_method, card3184.id);
    } else {
      assert.equal(result.error.code, "payment_intent_authentication_failure");
      assert.equal(result.error.payment_intent.status, status);
    }
    assert.equal((await stripe.paymentIntents.retrieve(pi.id)).status, status);
  }
  assert.equal(browser.error, undefined);
});

test("after an off-session authentication_required, the shopper pays on-session", async () => {
  const customer = await stripe.customers.create({ email: "buy-again-js@example.com" });
  const card = await stripe.paymentMethods.attach("pm_card_authenticationRequired", { customer: customer.id });
  let failed;
  await assert.rejects(stripe.paymentIntents.create({
    amount: 4100, currency: "usd", customer: customer.id, payment_method: card.id,
    off_session: true, confirm: true, payment_method_types: ["card"],
  }), (err) => { failed = err; return err.code === "authentication_required"; });
  const pi = failed.raw.payment_intent;
  assert.equal(pi.status, "requires_payment_method");
  browser.threeDs = ["complete"];
  const result = await browser.Stripe(PUBLISHABLE).confirmCardPayment(pi.client_secret, { payment_method: failed.raw.payment_method.id });
  assert.equal(result.error, undefined, JSON.stringify(result.error));
  assert.equal(result.paymentIntent.id, pi.id);
  assert.equal(result.paymentIntent.status, "succeeded");
  assert.equal((await stripe.paymentIntents.retrieve(pi.id)).status, "succeeded");
  assert.equal(browser.error, undefined);
});
