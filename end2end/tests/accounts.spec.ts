import { test, expect, type Browser, type Page } from "@playwright/test";
import {
  answer3ds,
  expectPaid,
  fillCard,
  newOrder,
  openCheckout,
  paymentIntentId,
  paymentsConfig,
} from "./support/checkout";
import {
  addCard,
  buyAgain,
  hydrated,
  orderIdFromUrl,
  PASSWORD,
  payNewOrderWithCard,
  savedCards,
  signIn,
  signOut,
  signUp,
  stripePaymentIntent,
  stripePaymentMethod,
  waitForSavedCard,
} from "./support/accounts";

// Shopper accounts and saved cards end to end in Chromium: a card saved while paying (once
// Stripe says it is attached) or with "Add a card", paid with in one click, "Buy again"
// off-session (plain, needing the bank's confirmation, declined), removal, and the
// separation of accounts. Every test signs up a fresh account.

// Several payments (some with 3-D Secure) per test.
test.describe.configure({ timeout: 90_000 });

const VISA = "4242 4242 4242 4242";
const MASTERCARD = "5555 5555 5555 4444";
const AUTH_ON_SETUP = "4000 0025 0000 3155"; // 3-D Secure on-session; off-session after set-up it does not
const AUTH_ALWAYS = "4000 0027 6000 3184"; // always 3-D Secure
const CHARGE_FAILS = "4000 0000 0000 0341"; // attaches, every charge declined

/** A second, independent browser (own cookies) for another shopper or a guest. */
async function otherShopper(browser: Browser): Promise<Page> {
  const context = await browser.newContext();
  return context.newPage();
}

test("a card saved while paying is listed in /account/cards as the default", async ({ page }) => {
  await signUp(page);
  await page.goto("/account/cards");
  await expect(page.getByTestId("no-cards")).toBeVisible();

  await payNewOrderWithCard(page, VISA, { save: true });
  const pm = await waitForSavedCard(page, "4242");
  const cards = await savedCards(page);
  expect(cards).toEqual([{ pm, last4: "4242", isDefault: true }]);
  await expect(page.getByTestId("no-cards")).toHaveCount(0);
});

test("the next order is paid with the saved card in one click", async ({ page }) => {
  await signUp(page);
  await payNewOrderWithCard(page, VISA, { save: true });
  const pm = await waitForSavedCard(page, "4242");

  const orderId = await newOrder(page);
  await openCheckout(page, orderId);
  await hydrated(page);
  const card = page.locator(`[data-testid="saved-card"][data-pm="${pm}"]`);
  await expect(card).toHaveAttribute("aria-pressed", "true");
  await expect(card).toHaveAttribute("data-last4", "4242");
  await expect(page.getByTestId("use-new-card")).toHaveAttribute("aria-pressed", "false");
  // No card details to type: the saved card is ready to pay.
  await expect(page.getByTestId("card-element")).toBeHidden();
  const pi = await paymentIntentId(page);
  await page.getByTestId("pay").click();
  await expectPaid(page, orderId);
  expect((await stripePaymentIntent(page, pi)).payment_method).toBe(pm);
});

test("the same card saved twice is listed once", async ({ page }) => {
  await signUp(page);
  await payNewOrderWithCard(page, VISA, { save: true });
  const first = await waitForSavedCard(page, "4242");

  const second = await payNewOrderWithCard(page, VISA, { save: true });
  // Stripe attached the second copy to the Customer; the shop detaches it (same
  // fingerprint) and keeps the first.
  const copy = (await stripePaymentIntent(page, second.paymentIntent)).payment_method!;
  expect(copy).toMatch(/^pm_/);
  expect(copy).not.toBe(first);
  await expect
    .poll(async () => (await stripePaymentMethod(page, copy)).customer, { timeout: 20_000 })
    .toBeNull();
  expect(await savedCards(page)).toEqual([{ pm: first, last4: "4242", isDefault: true }]);
});

test("3155 saved with 3-D Secure: Buy again is charged without authentication", async ({ page }) => {
  await signUp(page);
  const { orderId } = await payNewOrderWithCard(page, AUTH_ON_SETUP, { save: true, threeDS: true });
  const pm = await waitForSavedCard(page, "3155");
  expect((await savedCards(page)).find((c) => c.pm === pm)?.isDefault).toBe(true);

  await buyAgain(page, orderId);
  // Straight to the new order's page: no checkout, no 3-D Secure.
  await expect(page).toHaveURL(/\/orders\/ord_[a-z0-9]+$/);
  const again = orderIdFromUrl(page);
  expect(again).not.toBe(orderId);
  await expectPaid(page, again);
  await page.goto("/account/orders");
  await expect(
    page.locator(`[data-testid="order-row"][data-order="${again}"]`).getByTestId("order-row-status"),
  ).toHaveText("paid");
});

test("3184 saved with 3-D Secure: Buy again asks for authentication at checkout, then pays", async ({ page }) => {
  await signUp(page);
  const { orderId } = await payNewOrderWithCard(page, AUTH_ALWAYS, { save: true, threeDS: true });
  const pm = await waitForSavedCard(page, "3184");

  await buyAgain(page, orderId);
  await expect(page).toHaveURL(new RegExp(`/checkout/ord_[a-z0-9]+\\?card=${pm}$`));
  const again = orderIdFromUrl(page);
  expect(again).not.toBe(orderId);
  await hydrated(page);
  await expect(page.locator(`[data-testid="saved-card"][data-pm="${pm}"]`)).toHaveAttribute(
    "aria-pressed",
    "true",
  );
  await expect(page.getByTestId("payment-error")).toContainText("Your bank asks you to confirm this payment");
  await expect(page.getByTestId("pay")).toBeEnabled();
  await page.getByTestId("pay").click();
  await answer3ds(page, "Complete authentication");
  await expectPaid(page, again);
});

test("0341 added and made default: Buy again is declined, and a new card pays at checkout", async ({ page }) => {
  await signUp(page);
  const { orderId } = await payNewOrderWithCard(page, VISA, { save: true });
  const visa = await waitForSavedCard(page, "4242");

  // Attaching the card works; only charging it fails.
  const failing = await addCard(page, CHARGE_FAILS);
  let cards = await savedCards(page);
  expect(cards.find((c) => c.pm === visa)?.isDefault).toBe(true);
  expect(cards.find((c) => c.pm === failing)?.isDefault).toBe(false);
  await hydrated(page);
  await page
    .locator(`[data-testid="saved-card"][data-pm="${failing}"]`)
    .getByTestId("make-default")
    .click();
  await expect(page.locator(`[data-testid="saved-card"][data-pm="${failing}"]`)).toHaveAttribute(
    "data-default",
    "true",
  );
  await expect(page.locator(`[data-testid="saved-card"][data-pm="${visa}"]`)).not.toHaveAttribute(
    "data-default",
    "true",
  );
  await expect(
    page.locator(`[data-testid="saved-card"][data-pm="${failing}"]`).getByTestId("make-default"),
  ).toHaveCount(0);

  await buyAgain(page, orderId);
  await expect(page).toHaveURL(/\/checkout\/ord_[a-z0-9]+$/);
  const again = orderIdFromUrl(page);
  expect(again).not.toBe(orderId);
  // The declined off-session attempt is explained; the declining card stays selected.
  await expect(page.getByTestId("payment-error")).toContainText("did not go through");
  await expect(page.getByTestId("payment-error")).toContainText(/declined/);
  await expect(page.locator(`[data-testid="saved-card"][data-pm="${failing}"]`)).toHaveAttribute(
    "aria-pressed",
    "true",
  );
  await hydrated(page);
  await page.getByTestId("use-new-card").click();
  await expect(page.getByTestId("card-element")).toHaveAttribute("data-ready", "true");
  await fillCard(page, VISA);
  await page.getByTestId("pay").click();
  await expectPaid(page, again);
});

test("a card added without paying is listed", async ({ page }) => {
  await signUp(page);
  const pm = await addCard(page, MASTERCARD);
  // The first card saved becomes the default.
  expect(await savedCards(page)).toEqual([{ pm, last4: "4444", isDefault: true }]);
});

test("a removed card is gone: not listed, not offered, not payable", async ({ page }) => {
  await signUp(page);
  const visa = await addCard(page, VISA);
  const mastercard = await addCard(page, MASTERCARD);

  await page.goto("/account/cards");
  await hydrated(page);
  await page
    .locator(`[data-testid="saved-card"][data-pm="${mastercard}"]`)
    .getByTestId("remove-card")
    .click();
  await expect(page.locator(`[data-testid="saved-card"][data-pm="${mastercard}"]`)).toHaveCount(0);
  expect(await savedCards(page)).toEqual([{ pm: visa, last4: "4242", isDefault: true }]);

  const orderId = await newOrder(page);
  await openCheckout(page, orderId);
  await expect(page.getByTestId("saved-card")).toHaveCount(1);
  await expect(page.locator(`[data-testid="saved-card"][data-pm="${mastercard}"]`)).toHaveCount(0);

  const pay = await page.request.post("/api/pay", {
    form: { order_id: orderId, payment_method: mastercard },
  });
  expect(pay.status(), await pay.text()).toBe(404);
  // Stripe no longer has it on the Customer either.
  expect((await stripePaymentMethod(page, mastercard)).customer).toBeNull();
});

test("after signing out, the account pages ask to sign in", async ({ page }) => {
  const email = await signUp(page);
  await page.goto("/account/orders");
  await expect(page.getByTestId("no-orders")).toBeVisible();
  await signOut(page);
  await expect(page.getByTestId("signed-in-as")).toHaveCount(0);

  for (const path of ["/account/orders", "/account/cards"]) {
    await page.goto(path);
    await expect(page).toHaveURL(`/account/sign-in?next=${path}`);
    await expect(page.getByTestId("sign-in")).toBeVisible();
  }
  // Signing in again goes back where the shopper was heading.
  await signIn(page, email, PASSWORD, "/account/cards");
  await expect(page).toHaveURL(/\/account\/cards$/);
  await expect(page.getByTestId("no-cards")).toBeVisible();
});

test("a second account sees none of the first one's orders or cards", async ({ page, browser }) => {
  await signUp(page);
  const first = await payNewOrderWithCard(page, VISA, { save: true });
  const pm = await waitForSavedCard(page, "4242");

  const other = await otherShopper(browser);
  await signUp(other);
  await other.goto("/account/orders");
  await expect(other.getByTestId("no-orders")).toBeVisible();
  await expect(other.getByTestId("order-row")).toHaveCount(0);
  await other.goto("/account/cards");
  await expect(other.getByTestId("no-cards")).toBeVisible();
  await expect(other.getByTestId("saved-card")).toHaveCount(0);

  const order = await other.request.post("/api/order", { form: { id: first.orderId } });
  expect(order.status(), await order.text()).toBe(404);
  const pay = await other.request.post("/api/pay", {
    form: { order_id: first.orderId, payment_method: pm },
  });
  expect(pay.status(), await pay.text()).toBe(404);
  // Nor the first one's card on an order of its own.
  const own = await newOrder(other);
  const payOwn = await other.request.post("/api/pay", {
    form: { order_id: own, payment_method: pm },
  });
  expect(payOwn.status(), await payOwn.text()).toBe(404);
  await other.context().close();
});

test("a wrong password is refused; the guest cart comes along at sign-in", async ({ page, browser }) => {
  const signup = await otherShopper(browser);
  const email = await signUp(signup);
  await signup.context().close();

  // A guest fills a cart, then signs in.
  await page.goto("/");
  await hydrated(page);
  await expect(page.getByTestId("sign-in-link")).toBeVisible();
  await page.getByTestId("add-to-cart-ferris-mug").click();
  await expect(page.getByTestId("cart-count")).toHaveText("1");

  await signIn(page, email, "not the password at all");
  await expect(page.getByTestId("auth-error")).toHaveText("That email or password is wrong.");
  await expect(page).toHaveURL(/\/account\/sign-in/);

  await signIn(page, email, PASSWORD, "/cart");
  await expect(page).toHaveURL(/\/cart$/);
  await expect(page.getByTestId("signed-in-as")).toHaveText(email);
  await expect(page.getByTestId("cart-count")).toHaveText("1");
  await expect(page.getByTestId("cart-line-ferris-mug")).toBeVisible();

  // The cart is the account's: signing in elsewhere finds it.
  const elsewhere = await otherShopper(browser);
  await signIn(elsewhere, email, PASSWORD, "/cart");
  await expect(elsewhere).toHaveURL(/\/cart$/);
  await expect(elsewhere.getByTestId("cart-line-ferris-mug")).toBeVisible();
  await elsewhere.context().close();
});

test("a click on pay with a saved card while Stripe.js still loads is not lost", async ({ page }) => {
  await signUp(page);
  const pm = await addCard(page, VISA);
  const orderId = await newOrder(page);
  const cfg = await paymentsConfig(page.request);
  // Stripe.js arrives late (a slow network): the saved card is shown before it can be used.
  // The page asks for Stripe.js from <head>, before its WASM: the script is held until the
  // test has seen the disabled button, however long hydration takes on a loaded machine.
  const script = new URL(cfg.js_url);
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  await page.route(
    (url) => url.origin === script.origin && url.pathname === script.pathname,
    async (route) => {
      await released;
      await route.continue();
    },
  );
  // Not until `load`: the page's `load` waits for the held script.
  await page.goto(`/checkout/${orderId}`, { waitUntil: "domcontentloaded" });
  await hydrated(page);
  await expect(page.locator(`[data-testid="saved-card"][data-pm="${pm}"]`)).toHaveAttribute(
    "aria-pressed",
    "true",
  );
  // Not clickable for nothing: the button waits for Stripe.js.
  await expect(page.getByTestId("pay")).toBeDisabled();
  await expect(page.getByTestId("card-element")).not.toHaveAttribute("data-ready", "true");
  release();
  await page.getByTestId("pay").click();
  await expectPaid(page, orderId);
});

test("\"Save this card\" ticked before the payment form's module ran still saves the card", async ({ page }) => {
  await signUp(page);
  const orderId = await newOrder(page);
  // The module is held back until the box is ticked: the shopper was quicker than it.
  let release!: () => void;
  const ticked = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/pay/pay_bg.wasm", async (route) => {
    await ticked;
    await route.continue();
  });
  await page.goto(`/checkout/${orderId}`);
  await page.getByTestId("save-card").check();
  release();
  await expect(page.getByTestId("card-element")).toHaveAttribute("data-ready", "true");
  await expect(page.getByTestId("save-card")).toBeChecked();
  await fillCard(page, "4242 4242 4242 4242");
  await page.getByTestId("pay").click();
  await expectPaid(page, orderId);
  await waitForSavedCard(page, "4242");
});
