import { test, expect, type Browser, type Page } from "@playwright/test";
import { apiBase, expectPaid, fillCard, newOrder, openCheckout, paymentsConfig } from "./support/checkout";
import { hydrated, signIn } from "./support/accounts";

// The merchant console in Chromium: refunds from the order's ledger (partial, the rest,
// refused over-refunds, a double click), and a refund the card's bank sends back (5126).

const MERCHANT = process.env.E2E_MERCHANT_EMAIL!;
const PASSWORD = process.env.E2E_MERCHANT_PASSWORD!;

/** An order of one mug ($12.50) paid by a guest in their own browser. */
async function paidOrder(browser: Browser, card = "4242 4242 4242 4242"): Promise<string> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const orderId = await newOrder(page);
  await openCheckout(page, orderId);
  await fillCard(page, card);
  await page.getByTestId("pay").click();
  await expectPaid(page, orderId);
  await context.close();
  return orderId;
}

async function openOrder(page: Page, orderId: string) {
  await page.goto(`/merchant/orders/${orderId}`);
  await hydrated(page);
}

async function asMerchant(page: Page) {
  await signIn(page, MERCHANT, PASSWORD);
  await expect(page.getByTestId("signed-in-as")).toHaveText(MERCHANT);
}

test("a console page's island modules are preloaded by the page, and only those are fetched", async ({ page, browser }) => {
  const orderId = await paidOrder(browser);
  await asMerchant(page);
  const fetched: string[] = [];
  page.on("request", (request) => {
    const path = new URL(request.url()).pathname;
    if (path.endsWith(".wasm")) fetched.push(path);
  });
  await openOrder(page, orderId);
  const preloaded = await page
    .locator('link[rel="preload"][as="fetch"]')
    .evaluateAll((links) => links.map((l) => new URL((l as HTMLLinkElement).href).pathname));
  const islandModules = [...new Set(fetched.filter((p) => p !== "/pkg/checkout.wasm"))];
  expect(islandModules.length).toBeGreaterThan(0);
  expect(fetched.filter((p) => p.startsWith("/pay/"))).toEqual([]);
  expect(islandModules.sort()).toEqual(preloaded.filter((p) => p !== "/pkg/checkout.wasm").sort());
});

test("a guest or a shopper gets 404 from the console", async ({ page }) => {
  const response = await page.goto("/merchant/orders");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});

test("refund 5.00, then the rest; an over-refund is refused with a message", async ({ page, browser }) => {
  const orderId = await paidOrder(browser);
  await asMerchant(page);
  await openOrder(page, orderId);
  await expect(page.getByTestId("ledger-refundable")).toHaveText("$12.50");

  await page.getByTestId("refund-amount").fill("5.00");
  await page.getByTestId("refund-submit").click();
  await expect(page.getByTestId("ledger-refunded")).toHaveText("$5.00");
  await expect(page.getByTestId("refund-row")).toHaveCount(1);
  await expect(page.getByTestId("refund-row")).toHaveAttribute("data-status", "succeeded");
  await expect(page.getByTestId("merchant-order-status")).toHaveText("partially_refunded");
  await expect(page.getByTestId("ledger-refundable")).toHaveText("$7.50");

  await hydrated(page);
  await page.getByTestId("refund-amount").fill("8.00");
  await page.getByTestId("refund-submit").click();
  await expect(page.getByTestId("refund-error")).toContainText("more than the $7.50");
  await expect(page.getByTestId("refund-row")).toHaveCount(1);

  // Empty amount: everything still refundable.
  await page.getByTestId("refund-amount").fill("");
  await page.getByTestId("refund-submit").click();
  await expect(page.getByTestId("ledger-refunded")).toHaveText("$12.50");
  await expect(page.getByTestId("merchant-order-status")).toHaveText("refunded");
  await expect(page.getByTestId("refund-row")).toHaveCount(2);
  await expect(page.getByTestId("refund-submit")).toHaveCount(0);
  // The order list filters by the new status.
  await page.goto(`/merchant/orders?status=refunded&q=${orderId}`);
  await expect(page.getByTestId("merchant-order-row")).toHaveCount(1);
});

test("a double-clicked refund makes one refund", async ({ page, browser }) => {
  const orderId = await paidOrder(browser);
  await asMerchant(page);
  await openOrder(page, orderId);
  await page.getByTestId("refund-amount").fill("2.00");
  await page.getByTestId("refund-submit").dblclick();
  await expect(page.getByTestId("ledger-refunded")).toHaveText("$2.00");
  // Reloaded, and once more to be sure nothing else arrived.
  await page.reload();
  await expect(page.getByTestId("refund-row")).toHaveCount(1);
  await expect(page.getByTestId("ledger-refundable")).toHaveText("$10.50");
});

test("5126: the refund fails after a while, shows failed, and the money is refundable again", async ({
  page,
  browser,
}) => {
  const orderId = await paidOrder(browser, "4000 0000 0000 5126");
  await asMerchant(page);
  await openOrder(page, orderId);
  await page.getByTestId("refund-submit").click();
  await expect(page.getByTestId("refund-row")).toHaveAttribute("data-status", "pending");
  await expect(page.getByTestId("ledger-refundable")).toHaveText("$0.00");
  // The bank answers later: the sandbox's clock moves on.
  const cfg = await paymentsConfig(page.request);
  test.skip(!cfg.sandbox, "the clock moves only in the offline sandbox");
  const moved = await page.request.post(`${apiBase(cfg)}/_sandbox/clock/advance`, { data: { seconds: 61 } });
  expect(moved.ok(), await moved.text()).toBeTruthy();
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("refund-row")).toHaveAttribute("data-status", "failed", { timeout: 500 });
  }).toPass({ timeout: 15_000 });
  await expect(page.getByTestId("refund-row")).toContainText("expired_or_canceled_card");
  await expect(page.getByTestId("ledger-refundable")).toHaveText("$12.50");
  await expect(page.getByTestId("merchant-order-status")).toHaveText("paid");
  // It waits in the failed-refunds queue until dismissed (or retried).
  await page.goto("/merchant/refunds");
  await hydrated(page);
  const queued = page.getByTestId("failed-refund-row").filter({ hasText: orderId });
  await expect(queued).toHaveAttribute("data-status", "failed");
  await queued.getByTestId("refund-dismiss").click();
  await expect(page.getByTestId("failed-refund-row").filter({ hasText: orderId })).toHaveCount(0);
});

test("0259: the dispute appears with its deadline; evidence saved, then submitted, wins", async ({ page, browser }) => {
  const orderId = await paidOrder(browser, "4000 0000 0000 0259");
  await asMerchant(page);
  await page.goto("/merchant/disputes");
  const row = page.getByTestId("dispute-row").filter({ hasText: orderId });
  await expect(row).toHaveAttribute("data-status", "needs_response");
  const due = Number(await row.getAttribute("data-due"));
  expect(due).toBeGreaterThan(Date.now() / 1000 + 6 * 86400);
  await expect(row).toContainText("days left");
  await row.getByRole("link").first().click();
  await hydrated(page);

  await page.getByTestId("evidence-text").fill("Signed for at the door.");
  await page.getByTestId("evidence-save").click();
  await expect(page.getByTestId("evidence-text")).toHaveValue("Signed for at the door.");
  await expect(page.getByTestId("dispute-submissions")).toHaveText("0");

  await hydrated(page);
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByTestId("evidence-text").fill("winning_evidence");
  await page.getByTestId("evidence-submit").click();
  await expect(page.getByTestId("dispute-status")).toHaveText("under_review");
  await expect(page.getByTestId("dispute-submissions")).toHaveText("1");

  const cfg = await paymentsConfig(page.request);
  test.skip(!cfg.sandbox, "the clock moves only in the offline sandbox");
  const moved = await page.request.post(`${apiBase(cfg)}/_sandbox/clock/advance`, { data: { seconds: 120 } });
  expect(moved.ok(), await moved.text()).toBeTruthy();
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("dispute-status")).toHaveText("won", { timeout: 500 });
  }).toPass({ timeout: 15_000 });
  await expect(page.getByTestId("dispute-reinstated")).toHaveText("$12.50");
});

test("5423: the early fraud warning is answered with a refund as fraudulent", async ({ page, browser }) => {
  const orderId = await paidOrder(browser, "4000 0000 0000 5423");
  await asMerchant(page);
  const row = page.getByTestId("efw-row").and(page.locator(`[data-order="${orderId}"]`));
  await expect(async () => {
    await page.goto("/merchant/fraud-warnings");
    await expect(row).toHaveAttribute("data-actionable", "true", { timeout: 500 });
  }).toPass({ timeout: 15_000 });
  await hydrated(page);
  await row.getByTestId("efw-refund").click();
  await expect(async () => {
    await page.reload();
    await expect(row).toHaveAttribute("data-actionable", "false", { timeout: 500 });
  }).toPass({ timeout: 15_000 });
  await openOrder(page, orderId);
  await expect(page.getByTestId("merchant-order-status")).toHaveText("refunded");
  await expect(page.getByTestId("refund-row")).toContainText("fraudulent");
});

/** "$1,234.50" → 123450. */
function cents(text: string | null): number {
  return Math.round(Number((text ?? "").replace(/[^0-9.-]/g, "")) * 100);
}

test("the dashboard chart renders with the day's figures", async ({ page, browser }) => {
  await asMerchant(page);
  await page.goto("/merchant");
  const today = new Date().toISOString().slice(0, 10);
  const row = page.locator(`[data-testid=chart-row][data-day="${today}"]`);
  // Other tests pay on the same server: read today's gross first (none yet: no chart).
  const before = (await row.count()) ? cents(await row.getByTestId("chart-gross").textContent()) : 0;

  await paidOrder(browser);
  await page.reload();
  const chart = page.locator("[data-testid=money-chart][data-currency=USD]");
  await expect(chart.locator("svg title")).toHaveText("Money per day in USD, last 30 days");
  await expect(chart.locator("svg desc")).toContainText("Gross $");
  await expect(chart.locator("polyline")).toHaveCount(4);
  // The figures behind the toggle.
  await expect(page.getByTestId("chart-table")).toBeHidden();
  await page.getByTestId("chart-table-toggle").locator("summary").click();
  await expect(page.getByTestId("chart-table")).toBeVisible();
  await expect(row).toHaveCount(1);
  expect(cents(await row.getByTestId("chart-gross").textContent())).toBeGreaterThanOrEqual(before + 1250);
  await expect(page.getByTestId("success-rate")).toContainText("%");
});

test("reconcile now records a run", async ({ page }) => {
  await asMerchant(page);
  await page.goto("/merchant/reconciliation");
  const runs = await page.getByTestId("run-row").count();
  await page.getByTestId("reconcile-now").click();
  await expect(page).toHaveURL(/\/merchant\/reconciliation/);
  await expect(page.getByTestId("run-row")).toHaveCount(runs + 1);
  await expect(page.getByTestId("run-row").first()).toContainText("done");
});
