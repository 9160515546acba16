import { test, expect } from "@playwright/test";
import {
  answer3ds,
  charges,
  expectPaid,
  fillCard,
  newOrder,
  openCheckout,
  paymentIntentId,
  paymentsConfig,
} from "./support/checkout";

// The card checkout end to end in Chromium: the Card Element mounted from Rust, confirmed
// with confirmCardPayment, fulfilment by webhook shown on the order page without a reload.

test("4242: the payment succeeds and the order page turns to paid", async ({ page }) => {
  const orderId = await newOrder(page);
  await openCheckout(page, orderId);
  await expect(page.getByTestId("pay")).toBeDisabled(); // until the card is complete
  await fillCard(page, "4242 4242 4242 4242");
  await expect(page.getByTestId("pay")).toHaveText("Pay $12.50");
  await page.getByTestId("pay").click();
  await expectPaid(page, orderId);
  // A paid order's checkout offers no second payment.
  await page.goto(`/checkout/${orderId}`);
  await expect(page.getByTestId("checkout-closed")).toContainText("Paid");
});

const declines = [
  { card: "4000 0000 0000 0002", name: "generic decline", message: /^Your card was declined\.$/ },
  { card: "4000 0000 0000 9995", name: "insufficient funds", message: /insufficient funds/ },
  { card: "4000 0000 0000 0127", name: "incorrect CVC", message: /security code is incorrect/ },
  { card: "4000 0000 0000 0069", name: "expired card", message: /card has expired/ },
];

for (const { card, name, message } of declines) {
  test(`${card.slice(-4)}: ${name} gets its own message and the form stays usable`, async ({ page }) => {
    const orderId = await newOrder(page);
    await openCheckout(page, orderId);
    await fillCard(page, card);
    await page.getByTestId("pay").click();
    await expect(page.getByTestId("payment-error")).toHaveText(message);
    await expect(page).toHaveURL(new RegExp(`/checkout/${orderId}$`));
    await expect(page.getByTestId("pay")).toBeEnabled();
  });
}

test("a live validation error shows next to the field and keeps the button disabled", async ({ page }) => {
  const orderId = await newOrder(page);
  await openCheckout(page, orderId);
  const frame = page.getByTestId("card-element").frameLocator('iframe[name^="__privateStripeFrame"]');
  await frame.locator('input[name="cardnumber"]').fill("4242 4242 4242 4241");
  await frame.locator('input[name="exp-date"]').click();
  await expect(page.getByTestId("card-error")).toContainText(/invalid|incorrect/i);
  await expect(page.getByTestId("pay")).toBeDisabled();
});

test("3155: 3-D Secure completed → paid", async ({ page }) => {
  const orderId = await newOrder(page);
  await openCheckout(page, orderId);
  await fillCard(page, "4000 0025 0000 3155");
  await page.getByTestId("pay").click();
  await answer3ds(page, "Complete authentication");
  await expectPaid(page, orderId);
});

test("3155: failed authentication → a message, and a retry on the same order pays", async ({ page }) => {
  const orderId = await newOrder(page);
  await openCheckout(page, orderId);
  const pi = await paymentIntentId(page);
  await fillCard(page, "4000 0025 0000 3155");
  await page.getByTestId("pay").click();
  await answer3ds(page, "Fail authentication");
  await expect(page.getByTestId("payment-error")).toContainText("3-D Secure");
  await expect(page.getByTestId("pay")).toBeEnabled();
  await page.getByTestId("pay").click();
  await answer3ds(page, "Complete authentication");
  await expectPaid(page, orderId);
  // Both attempts were on the order's one PaymentIntent.
  await page.goto(`/orders/${orderId}`);
  const cfg = await paymentsConfig(page.request);
  const list = await charges(page.request, cfg, pi);
  expect(list.filter((c) => c.status === "succeeded")).toHaveLength(1);
});

test("a double click charges exactly once", async ({ page }) => {
  const orderId = await newOrder(page);
  await openCheckout(page, orderId);
  const pi = await paymentIntentId(page);
  await fillCard(page, "4242 4242 4242 4242");
  await page.getByTestId("pay").dblclick();
  await expectPaid(page, orderId);
  const cfg = await paymentsConfig(page.request);
  const list = await charges(page.request, cfg, pi);
  expect(list).toHaveLength(1);
  expect(list[0]).toMatchObject({ status: "succeeded", amount: 1250 });
});

test("a reload of the checkout keeps the same PaymentIntent, also after a decline", async ({ page }) => {
  const orderId = await newOrder(page);
  await openCheckout(page, orderId);
  const first = await paymentIntentId(page);
  await fillCard(page, "4000 0000 0000 0002");
  await page.getByTestId("pay").click();
  await expect(page.getByTestId("payment-error")).toHaveText(/declined/);
  await page.reload();
  await expect(page.getByTestId("card-element")).toHaveAttribute("data-ready", "true");
  expect(await paymentIntentId(page)).toBe(first);
  // The order remembers the failed attempt.
  await expect(page.getByTestId("payment-error")).toContainText("did not go through");
  await fillCard(page, "4242 4242 4242 4242");
  await page.getByTestId("pay").click();
  await expectPaid(page, orderId);
});

test("the order page offers payment while unpaid", async ({ page }) => {
  const orderId = await newOrder(page);
  await page.goto(`/orders/${orderId}`);
  await expect(page.getByTestId("order-status")).toHaveText("pending");
  await page.getByTestId("pay-now").click();
  await expect(page).toHaveURL(new RegExp(`/checkout/${orderId}$`));
  await expect(page.getByTestId("card-element")).toHaveAttribute("data-ready", "true");
});

test("the PaymentIntent is asked for after the card form is ready, or at once when Stripe.js cannot load", async ({
  page,
}) => {
  // Ready first, then the intent.
  const orderId = await newOrder(page);
  await openCheckout(page, orderId);
  expect(await paymentIntentId(page)).toMatch(/^pi_/);

  // Stripe.js blocked (an ad blocker, a network error): the form says so, and the order's
  // PaymentIntent is still asked for, so the order's own errors would still show.
  const blocked = await newOrder(page);
  await page.route(/\/v3\/?$/, (route) => route.abort());
  await page.goto(`/checkout/${blocked}`);
  await expect(page.getByTestId("payment-error")).toHaveText(
    "The payment form could not be loaded. Check your connection and reload the page.",
  );
  expect(await paymentIntentId(page)).toMatch(/^pi_/);
  await expect(page.getByTestId("card-element")).not.toHaveAttribute("data-ready", "true");
});

test("a checkout whose payment module cannot load says so, and cannot be paid", async ({ page }) => {
  const orderId = await newOrder(page);
  await page.route("**/pay/pay_bg.wasm", (route) => route.abort());
  await page.goto(`/checkout/${orderId}`);
  await expect(page.getByTestId("payment-error")).toHaveText(
    "The payment form could not be started. Please reload the page.",
  );
  await expect(page.getByTestId("card-loading")).toBeHidden();
  await expect(page.getByTestId("pay")).toBeDisabled();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
});
