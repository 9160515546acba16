import { expect, type Page, type APIRequestContext } from "@playwright/test";

// Shared steps of the card checkout, written against what real Stripe.js renders too (the
// card iframe's inputs cardnumber / exp-date / cvc / postal, the 3-D Secure buttons by
// name), so the same tests run against Stripe test mode (BASE_URL + STRIPE_SECRET_KEY).

export type Config = { publishable_key: string; js_url: string; sandbox: boolean };

/** The embedded sandbox accepts any well-formed test key; real test mode needs the real one. */
export const SECRET_KEY = process.env.STRIPE_SECRET_KEY ?? "sk_test_offline_sandbox_0000000000";

export async function paymentsConfig(request: APIRequestContext): Promise<Config> {
  const response = await request.post("/api/payments_config");
  expect(response.ok()).toBeTruthy();
  return response.json();
}

/** Where the server's Stripe API is: the sandbox's origin offline, api.stripe.com otherwise. */
export function apiBase(cfg: Config): string {
  return cfg.sandbox ? new URL(cfg.js_url).origin : "https://api.stripe.com";
}

/** A fresh order (one mug, $12.50) through the shop's own API, in this page's cookie jar. */
export async function newOrder(page: Page): Promise<string> {
  const added = await page.request.post("/api/add_to_cart", {
    form: { sku: "ferris-mug", quantity: "1" },
  });
  expect(added.ok(), await added.text()).toBeTruthy();
  const order = await page.request.post("/api/checkout", { form: { expected_total: "1250" } });
  expect(order.ok(), await order.text()).toBeTruthy();
  return order.json();
}

/** Opens the order's checkout and waits for the card element to be ready. */
export async function openCheckout(page: Page, orderId: string) {
  await page.goto(`/checkout/${orderId}`);
  await expect(page.getByTestId("card-element")).toHaveAttribute("data-ready", "true");
}

export async function fillCard(
  page: Page,
  number: string,
  { exp = "12 / 34", cvc = "123", postal = "42424" } = {},
) {
  const frame = page
    .getByTestId("card-element")
    .frameLocator('iframe[name^="__privateStripeFrame"]');
  await frame.locator('input[name="cardnumber"]').fill(number);
  await frame.locator('input[name="exp-date"]').fill(exp);
  await frame.locator('input[name="cvc"]').fill(cvc);
  const postalInput = frame.locator('input[name="postal"]');
  if (await postalInput.isVisible()) await postalInput.fill(postal);
  await expect(page.getByTestId("pay")).toBeEnabled();
}

/** The PaymentIntent the checkout form holds (set once the server created or reused it). */
export async function paymentIntentId(page: Page): Promise<string> {
  const form = page.locator("form[data-payment-intent]");
  await expect(form).toHaveAttribute("data-payment-intent", /^pi_/);
  return (await form.getAttribute("data-payment-intent"))!;
}

/** Clicks a button of the 3-D Secure challenge, in whichever (nested) frame it appears. */
export async function answer3ds(page: Page, button: "Complete authentication" | "Fail authentication") {
  await expect
    .poll(
      async () => {
        for (const frame of page.frames()) {
          const target = frame.getByRole("button", { name: button });
          if (await target.count().catch(() => 0)) {
            await target.first().click();
            return true;
          }
        }
        return false;
      },
      { timeout: 15_000 },
    )
    .toBe(true);
}

export async function expectPaid(page: Page, orderId: string) {
  await expect(page).toHaveURL(new RegExp(`/orders/${orderId}$`));
  await expect(page.getByTestId("order-status")).toHaveText("paid", { timeout: 20_000 });
}

/** The charges Stripe (or the sandbox) holds for a PaymentIntent. */
export async function charges(request: APIRequestContext, cfg: Config, pi: string) {
  const response = await request.get(`${apiBase(cfg)}/v1/charges?payment_intent=${pi}`, {
    headers: { Authorization: `Bearer ${SECRET_KEY}` },
  });
  expect(response.ok(), await response.text()).toBeTruthy();
  return (await response.json()).data as Array<{ id: string; status: string; amount: number }>;
}
