import { test, expect, type Page, type APIRequestContext, type FrameLocator } from "@playwright/test";
import * as http from "node:http";

// The sandbox's Stripe.js stand-in, driven in Chromium on a bare page served from its own
// loopback origin (so cross-origin frames and postMessage behave as on the real checkout;
// a page faked with page.route would count as "public" and be refused loopback access). Uses the
// same selectors a test against real Stripe.js would: the card iframe's inputs named
// cardnumber / exp-date / cvc / postal, and the 3-D Secure buttons by their labels.

const SANDBOX_SECRET_KEY = "sk_test_offline_sandbox_0000000000";

type Config = { publishable_key: string; js_url: string; sandbox: boolean };

async function config(request: APIRequestContext): Promise<Config> {
  const response = await request.post("/api/payments_config");
  expect(response.ok()).toBeTruthy();
  return response.json();
}

async function createIntent(request: APIRequestContext, cfg: Config, amount = 1999) {
  const base = new URL(cfg.js_url).origin;
  const response = await request.post(`${base}/v1/payment_intents`, {
    form: { amount: String(amount), currency: "usd", "payment_method_types[]": "card" },
    headers: { Authorization: `Bearer ${SANDBOX_SECRET_KEY}` },
  });
  expect(response.status()).toBe(200);
  return response.json();
}

let pageServer: http.Server;
let pageOrigin = "";
const pages = new Map<string, string>();

test.beforeAll(async () => {
  pageServer = http.createServer((req, res) => {
    const body = pages.get(req.url ?? "");
    res.writeHead(body ? 200 : 404, { "Content-Type": "text/html" }).end(body ?? "not found");
  });
  await new Promise<void>((resolve) => pageServer.listen(0, "127.0.0.1", resolve));
  const address = pageServer.address() as { port: number };
  pageOrigin = `http://127.0.0.1:${address.port}`;
});

test.afterAll(async () => {
  await new Promise((resolve) => pageServer.close(resolve));
});

async function openCardPage(page: Page, cfg: Config, options: { hidePostalCode?: boolean } = {}) {
  const path = `/card-${pages.size}`;
  pages.set(
    path,
    `<!doctype html><html><body>
      <div id="card" data-testid="card-element"></div>
      <script src="${cfg.js_url}"></script>
      <script>
        window.events = [];
        window.stripe = Stripe(${JSON.stringify(cfg.publishable_key)});
        window.card = stripe.elements().create("card", ${JSON.stringify(options)});
        card.on("change", (e) => window.events.push(e));
        card.on("ready", () => { window.cardReady = true; });
        card.mount("#card");
      </script></body></html>`,
  );
  await page.goto(pageOrigin + path);
  await page.waitForFunction(() => (window as any).cardReady === true);
  return page.frameLocator('iframe[name^="__privateStripeFrame"]');
}

async function fillCard(frame: FrameLocator, number: string, exp = "12 / 34", cvc = "123", postal = "10001") {
  await frame.locator('input[name="cardnumber"]').fill(number);
  await frame.locator('input[name="exp-date"]').fill(exp);
  await frame.locator('input[name="cvc"]').fill(cvc);
  if (postal) await frame.locator('input[name="postal"]').fill(postal);
}

async function confirm(page: Page, clientSecret: string) {
  return page.evaluate(
    (secret) => (window as any).stripe.confirmCardPayment(secret, { payment_method: { card: (window as any).card } }),
    clientSecret,
  );
}

async function authenticationButton(page: Page, label: string) {
  // Whatever nesting the real or sandboxed 3-D Secure modal uses, find the button.
  for (;;) {
    for (const frame of page.frames()) {
      const button = frame.getByRole("button", { name: label });
      if (await button.count()) return button;
    }
    await page.waitForTimeout(100);
  }
}

test.describe("Stripe.js stand-in", () => {
  test.beforeEach(async ({ request }) => {
    test.skip(!(await config(request)).sandbox, "sandbox-only: creates intents with the sandbox key");
  });

  test("a complete card confirms a PaymentIntent", async ({ page, request }) => {
    const cfg = await config(request);
    const pi = await createIntent(request, cfg, 2500);
    const frame = await openCardPage(page, cfg);
    await fillCard(frame, "4242 4242 4242 4242");
    await page.waitForFunction(() => (window as any).events.some((e: any) => e.complete));
    const last = await page.evaluate(() => (window as any).events.at(-1));
    expect(last).toMatchObject({ elementType: "card", complete: true, brand: "visa", empty: false });
    const result: any = await confirm(page, pi.client_secret);
    expect(result.error).toBeUndefined();
    expect(result.paymentIntent.status).toBe("succeeded");
    expect(result.paymentIntent.id).toBe(pi.id);
  });

  test("a decline resolves to {error}, it does not reject", async ({ page, request }) => {
    const cfg = await config(request);
    const pi = await createIntent(request, cfg);
    const frame = await openCardPage(page, cfg);
    await fillCard(frame, "4000000000009995");
    const result: any = await confirm(page, pi.client_secret);
    expect(result.paymentIntent).toBeUndefined();
    expect(result.error).toMatchObject({ type: "card_error", code: "card_declined", decline_code: "insufficient_funds" });
    expect(result.error.payment_intent.status).toBe("requires_payment_method");
  });

  test("live validation reports Luhn failures, past expiry and brand", async ({ page, request }) => {
    const cfg = await config(request);
    const frame = await openCardPage(page, cfg);
    await frame.locator('input[name="cardnumber"]').fill("4242424242424241");
    await expect.poll(() => page.evaluate(() => (window as any).events.at(-1)?.error?.code)).toBe("invalid_number");
    await frame.locator('input[name="cardnumber"]').fill("378282246310005");
    await expect.poll(() => page.evaluate(() => (window as any).events.at(-1)?.brand)).toBe("amex");
    await frame.locator('input[name="exp-date"]').fill("01 / 20");
    await expect.poll(() => page.evaluate(() => (window as any).events.at(-1)?.error?.code)).toBe("invalid_expiry_year_past");
  });

  test("an incomplete card is refused before anything is sent", async ({ page, request }) => {
    const cfg = await config(request);
    const pi = await createIntent(request, cfg);
    const frame = await openCardPage(page, cfg);
    await frame.locator('input[name="cardnumber"]').fill("4242 4242");
    const result: any = await confirm(page, pi.client_secret);
    expect(result.error).toMatchObject({ type: "validation_error", code: "incomplete_number" });
  });

  test("3-D Secure: completing authentication succeeds", async ({ page, request }) => {
    const cfg = await config(request);
    const pi = await createIntent(request, cfg);
    const frame = await openCardPage(page, cfg, { hidePostalCode: true });
    await fillCard(frame, "4000002500003155", "12 / 34", "123", "");
    const pending = confirm(page, pi.client_secret);
    await (await authenticationButton(page, "Complete authentication")).click();
    const result: any = await pending;
    expect(result.error).toBeUndefined();
    expect(result.paymentIntent.status).toBe("succeeded");
  });

  test("3-D Secure: failing authentication resolves to an authentication error", async ({ page, request }) => {
    const cfg = await config(request);
    const pi = await createIntent(request, cfg);
    const frame = await openCardPage(page, cfg);
    await fillCard(frame, "4000002760003184");
    const pending = confirm(page, pi.client_secret);
    await (await authenticationButton(page, "Fail authentication")).click();
    const result: any = await pending;
    expect(result.error.code).toBe("payment_intent_authentication_failure");
    expect(result.error.payment_intent.status).toBe("requires_payment_method");
  });
});
