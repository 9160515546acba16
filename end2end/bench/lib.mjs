// Shared by the bench scripts: an order made through the shop's server functions,
// as a browser makes it (add a mug to a new cart, the server sets the `cart` cookie;
// then check out for the total shown), and small statistics.

import { chromium } from "playwright-core";
import browser from "../chromium.cjs";

export const SKU = "ferris-mug";
export const TOTAL = 1250; // the mug's catalogue price, USD cents

export function baseUrl(arg) {
  const base = arg ?? process.env.BASE_URL ?? "http://127.0.0.1:3000";
  return base.replace(/\/+$/, "");
}

async function post(url, form, headers = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form).toString(),
    redirect: "manual",
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${url}: HTTP ${response.status}: ${text}`);
  return { response, text };
}

/** The `name=value` of a cookie a response set. */
function setCookie(response, name) {
  return response.headers
    .getSetCookie()
    .map((c) => c.split(";")[0].trim())
    .find((c) => c.startsWith(`${name}=`));
}

/**
 * Creates a `pending` order for one mug; returns its id and the cookie that may see it
 * (`cart=…` for a guest; pass `cookie` = a signed-in `session=…` to order as that account).
 */
export async function createOrder(base, cookie) {
  const { response } = await post(
    `${base}/api/add_to_cart`,
    { sku: SKU, quantity: "1" },
    cookie ? { cookie } : {},
  );
  cookie ??= setCookie(response, "cart");
  if (!cookie) throw new Error("add_to_cart set no cart cookie");
  const { text } = await post(
    `${base}/api/checkout`,
    { expected_total: String(TOTAL) },
    { cookie },
  );
  const id = JSON.parse(text);
  if (typeof id !== "string" || !id.startsWith("ord_")) {
    throw new Error(`checkout answered ${text}, not an order id`);
  }
  return { id, cookie };
}

/**
 * A new account with `cards` saved cards (SetupIntents confirmed at the offline sandbox
 * with its test cards, as Stripe.js would); returns its `session=…` cookie.
 */
export async function signedInWithCards(base, cards = 2) {
  const email = `bench-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
  const { response } = await post(`${base}/api/sign_up`, { email, password: "bench password 0123" });
  const cookie = setCookie(response, "session");
  if (!cookie) throw new Error("sign_up set no session cookie");
  const config = JSON.parse((await post(`${base}/api/payments_config`, {})).text);
  if (!config.sandbox) throw new Error("saved cards for the bench need the offline sandbox");
  const api = new URL(config.js_url).origin;
  const testCards = ["pm_card_visa", "pm_card_mastercard", "pm_card_amex"];
  for (let i = 0; i < cards; i++) {
    const setup = JSON.parse((await post(`${base}/api/start_card_setup`, {}, { cookie })).text);
    await post(
      `${api}/v1/setup_intents/${setup.setup_intent_id}/confirm`,
      { payment_method: testCards[i % testCards.length] },
      { authorization: "Bearer sk_test_offline_sandbox_bench" },
    );
    await post(`${base}/api/card_setup_done`, { setup_intent: setup.setup_intent_id }, { cookie });
  }
  return cookie;
}

/** Signs in (`POST /api/sign_in`); returns the `session=…` cookie. */
export async function signIn(base, email, password) {
  const { response } = await post(`${base}/api/sign_in`, { email, password });
  const cookie = setCookie(response, "session");
  if (!cookie) throw new Error(`sign_in as ${email} set no session cookie`);
  return cookie;
}

/** Median (mean of the middle two for an even count) of numbers. */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile, p in [0, 1]. */
export function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const rank = Math.min(s.length, Math.max(1, Math.ceil(p * s.length)));
  return s[rank - 1];
}

export const round1 = (x) => Math.round(x * 10) / 10;

/** Headless Chromium as the tests start it (`../chromium.cjs`), a cold profile per context. */
export function launchChromium() {
  return chromium.launch({ ...browser.chromiumLaunch, headless: true });
}
