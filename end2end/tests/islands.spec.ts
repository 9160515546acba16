import { test, expect, type Page } from "@playwright/test";
import { newOrder, openCheckout } from "./support/checkout";

// Each page loads only its own islands' WASM (lazy islands, `cargo leptos --split`): the
// checkout needs only the `pay` module (the payment form without Leptos); another page's
// lazy islands fetch their split modules, each preloaded by the page's <head>.

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

test("a page's island modules are preloaded by its head, and only those are fetched", async ({ page }) => {
  const fetched = wasmFetches(page);
  await page.goto("/account/sign-in");
  await page.locator('body[data-hydrated="true"]').waitFor();
  const preloaded = await page
    .locator('head link[rel="preload"][as="fetch"]')
    .evaluateAll((links) => links.map((l) => new URL((l as HTMLLinkElement).href).pathname));
  const islandModules = fetched.filter((p) => p !== "/pkg/checkout.wasm");
  expect(islandModules.length).toBeGreaterThan(0);
  expect([...new Set(islandModules)].sort()).toEqual(
    preloaded.filter((p) => p !== "/pkg/checkout.wasm").sort(),
  );
  // The form works once hydrated: a wrong password is answered in place.
  await page.locator('input[name="email"]').fill("nobody@example.com");
  await page.locator('input[name="password"]').fill("not the password 1");
  await page.getByTestId("sign-in").click();
  await expect(page.getByTestId("auth-error")).toContainText("email or password is wrong");
  await expect(page).toHaveURL(/\/account\/sign-in/);
});
