import { test, expect, type Page } from "@playwright/test";
import { newOrder, openCheckout } from "./support/checkout";

// Each page loads only its own WASM: the checkout only the `pay` module (the payment form
// without Leptos); the shop, cart, order, cards and sign-in pages only the `shop` module;
// a page with Leptos islands (the account's orders, the console: merchant.spec.ts) its
// lazy islands' split modules (`cargo leptos --split`), each preloaded by its <head>.

/** Every .wasm of the site (`/pkg/`: Leptos; `/pay/`: the checkout's) the page fetched. */
function wasmFetches(page: Page): string[] {
  const paths: string[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (/^\/(pkg|pay)\//.test(url.pathname) && url.pathname.endsWith(".wasm")) {
      paths.push(url.pathname);
    }
  });
  return paths;
}

test("the checkout fetches the pay module only, no Leptos module", async ({ page }) => {
  const orderId = await newOrder(page);
  const fetched = wasmFetches(page);
  await openCheckout(page, orderId);
  await page.locator('body[data-hydrated="true"]').waitFor();
  await expect(page.getByTestId("card-element")).toHaveAttribute("data-ready", "true");
  expect(fetched).toEqual(["/pay/pay_bg.wasm"]);
  const preloaded = await page
    .locator('head link[rel="preload"][as="fetch"]')
    .evaluateAll((links) => links.map((l) => new URL((l as HTMLLinkElement).href).pathname));
  expect(preloaded).toEqual(["/pay/pay_bg.wasm"]);
});

test("the order page runs the shop's module, no Leptos, and shows the order's status", async ({ page }) => {
  const orderId = await newOrder(page);
  const fetched = wasmFetches(page);
  await page.goto(`/orders/${orderId}`);
  await page.locator('body[data-hydrated="true"]').waitFor();
  expect(fetched).toEqual(["/pay/shop_bg.wasm"]);
  await expect(page.getByTestId("order-status")).toHaveText("pending");
  await expect(page.getByTestId("pay-now")).toBeVisible();
});

test("the sign-in page runs the shop's module, no Leptos: a wrong password is answered in place", async ({ page }) => {
  const fetched = wasmFetches(page);
  await page.goto("/account/sign-in");
  await page.locator('body[data-hydrated="true"]').waitFor();
  expect(fetched).toEqual(["/pay/shop_bg.wasm"]);
  await page.locator('input[name="email"]').fill("nobody@example.com");
  await page.locator('input[name="password"]').fill("not the password 1");
  await page.getByTestId("sign-in").click();
  await expect(page.getByTestId("auth-error")).toContainText("email or password is wrong");
  await expect(page).toHaveURL(/\/account\/sign-in/);
  await expect(page.getByTestId("sign-in")).toBeEnabled();
});

test("without JavaScript, signing up goes on to the page that asked for it", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/account/cards");
  await expect(page).toHaveURL(/\/account\/sign-in\?next=\/account\/cards/);
  await page.getByRole("link", { name: "Create an account" }).click();
  await page.locator('input[name="email"]').fill(`nojs-${Date.now()}@example.com`);
  await page.locator('input[name="password"]').fill("a long enough password");
  await page.getByTestId("sign-up").click();
  await expect(page).toHaveURL(/\/account\/cards$/);
  await expect(page.getByRole("heading", { name: "Your cards" })).toBeVisible();
  await context.close();
});
