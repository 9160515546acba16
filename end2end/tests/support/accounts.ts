import { expect, type Page } from "@playwright/test";
import {
  answer3ds,
  apiBase,
  expectPaid,
  fillCard,
  newOrder,
  openCheckout,
  paymentIntentId,
  paymentsConfig,
  SECRET_KEY,
} from "./checkout";

// Shopper accounts and saved cards: sign up / in, pay while saving a card, wait for Stripe
// to say the card is saved, and the "Add a card" form of /account/cards.

export const PASSWORD = "correct horse battery staple";

/** A fresh, unique email for one test. */
export function uniqueEmail(): string {
  const random = Math.random().toString(36).slice(2, 10);
  return `shopper-${Date.now()}-${random}@example.com`;
}

/** Waits until the page's islands are hydrated (clicks before that are plain form posts). */
export async function hydrated(page: Page) {
  await page.locator('body[data-hydrated="true"]').waitFor();
}

/** Creates an account through the sign-up page; it is signed in afterwards (on `/`). */
export async function signUp(page: Page, email = uniqueEmail(), password = PASSWORD): Promise<string> {
  await page.goto("/account/sign-up");
  await hydrated(page);
  await page.locator('input[name="email"]').fill(email);
  await page.locator('input[name="password"]').fill(password);
  await page.getByTestId("sign-up").click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("signed-in-as")).toHaveText(email);
  return email;
}

/** Signs in through the sign-in page (with `?next=` when given). */
export async function signIn(page: Page, email: string, password = PASSWORD, next?: string) {
  await page.goto(next ? `/account/sign-in?next=${encodeURIComponent(next)}` : "/account/sign-in");
  await hydrated(page);
  await page.locator('input[name="email"]').fill(email);
  await page.locator('input[name="password"]').fill(password);
  await page.getByTestId("sign-in").click();
}

export async function signOut(page: Page) {
  await hydrated(page);
  await page.getByTestId("sign-out").click();
  await expect(page.getByTestId("sign-in-link")).toBeVisible();
}

type PayOptions = {
  /** Tick "Save this card for next time". */
  save?: boolean;
  /** The card asks for 3-D Secure: complete it. */
  threeDS?: boolean;
};

/**
 * A new order ($12.50) paid at its checkout with a card typed in (after "Use a new card"
 * when saved cards are offered); returns the order and its PaymentIntent once the order
 * page shows `paid`.
 */
export async function payNewOrderWithCard(
  page: Page,
  number: string,
  { save = false, threeDS = false }: PayOptions = {},
): Promise<{ orderId: string; paymentIntent: string }> {
  const orderId = await newOrder(page);
  await openCheckout(page, orderId);
  await hydrated(page);
  const paymentIntent = await paymentIntentId(page);
  if (await page.getByTestId("saved-card").count()) {
    await page.getByTestId("use-new-card").click();
    await expect(page.getByTestId("use-new-card")).toHaveAttribute("aria-pressed", "true");
  }
  await fillCard(page, number);
  const saveBox = page.getByTestId("save-card");
  await expect(saveBox).not.toBeChecked();
  if (save) {
    await saveBox.check();
    await expect(saveBox).toBeChecked();
  }
  await page.getByTestId("pay").click();
  if (threeDS) await answer3ds(page, "Complete authentication");
  await expectPaid(page, orderId);
  return { orderId, paymentIntent };
}

/** The saved cards as /account/cards lists them, freshly loaded. */
export async function savedCards(page: Page) {
  await page.goto("/account/cards");
  await expect(page.getByRole("heading", { name: "Your cards" })).toBeVisible();
  return page.getByTestId("saved-card").evaluateAll((rows) =>
    rows.map((row) => ({
      pm: row.getAttribute("data-pm")!,
      last4: row.getAttribute("data-last4")!,
      isDefault: row.getAttribute("data-default") === "true",
    })),
  );
}

/**
 * Reloads /account/cards until a card ending in `last4` is listed (a card saved while
 * paying appears once Stripe says it is attached); returns its `pm_…` id.
 */
export async function waitForSavedCard(page: Page, last4: string): Promise<string> {
  let pm = "";
  await expect
    .poll(
      async () => {
        const found = (await savedCards(page)).find((c) => c.last4 === last4);
        pm = found?.pm ?? "";
        return pm;
      },
      { timeout: 20_000, intervals: [250, 500, 1000] },
    )
    .toMatch(/^pm_/);
  return pm;
}

/** "Add a card" on /account/cards with a card number; waits for the reload that lists it. */
export async function addCard(page: Page, number: string, { threeDS = false } = {}): Promise<string> {
  await page.goto("/account/cards");
  await hydrated(page);
  const before = await page.getByTestId("saved-card").count();
  await page.getByTestId("add-card").click();
  await expect(page.getByTestId("card-element")).toHaveAttribute("data-ready", "true");
  const frame = page
    .getByTestId("card-element")
    .frameLocator('iframe[name^="__privateStripeFrame"]');
  await frame.locator('input[name="cardnumber"]').fill(number);
  await frame.locator('input[name="exp-date"]').fill("12 / 34");
  await frame.locator('input[name="cvc"]').fill("123");
  const postal = frame.locator('input[name="postal"]');
  if (await postal.isVisible()) await postal.fill("42424");
  await expect(page.getByTestId("save-new-card")).toBeEnabled();
  await page.getByTestId("save-new-card").click();
  if (threeDS) await answer3ds(page, "Complete authentication");
  await expect(page.getByTestId("saved-card")).toHaveCount(before + 1, { timeout: 15_000 });
  return waitForSavedCard(page, number.replace(/\s/g, "").slice(-4));
}

/** Clicks "Buy again" on an order of /account/orders. */
export async function buyAgain(page: Page, orderId: string) {
  await page.goto("/account/orders");
  await hydrated(page);
  const row = page.locator(`[data-testid="order-row"][data-order="${orderId}"]`);
  await expect(row.getByTestId("order-row-status")).toHaveText("paid");
  await row.getByTestId("buy-again").click();
}

/** The order id in the page's URL (`/orders/{id}` or `/checkout/{id}`). */
export function orderIdFromUrl(page: Page): string {
  return new URL(page.url()).pathname.split("/").pop()!;
}

/** A PaymentMethod as the server's Stripe (the sandbox offline) holds it. */
export async function stripePaymentMethod(page: Page, pm: string) {
  const cfg = await paymentsConfig(page.request);
  const response = await page.request.get(`${apiBase(cfg)}/v1/payment_methods/${pm}`, {
    headers: { Authorization: `Bearer ${SECRET_KEY}` },
  });
  expect(response.ok(), await response.text()).toBeTruthy();
  return (await response.json()) as { id: string; customer: string | null; card: { last4: string } };
}

/** A PaymentIntent as Stripe holds it. */
export async function stripePaymentIntent(page: Page, pi: string) {
  const cfg = await paymentsConfig(page.request);
  const response = await page.request.get(`${apiBase(cfg)}/v1/payment_intents/${pi}`, {
    headers: { Authorization: `Bearer ${SECRET_KEY}` },
  });
  expect(response.ok(), await response.text()).toBeTruthy();
  return (await response.json()) as { id: string; status: string; payment_method: string | null };
}
