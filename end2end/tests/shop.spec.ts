import { test, expect, type Page, type APIRequestContext, type Route } from "@playwright/test";

// Catalogue prices seeded by the first migration (USD cents).
const MUG = { sku: "ferris-mug", price: 1250 };
const TEE = { sku: "borrow-tee", price: 2400 };
const STICKER = { sku: "crab-sticker", price: 500 };

function usd(minor: number): string {
  const dollars = Math.floor(minor / 100).toLocaleString("en-US");
  return `$${dollars}.${String(minor % 100).padStart(2, "0")}`;
}

async function hydrated(page: Page) {
  await page.locator('body[data-hydrated="true"]').waitFor();
}

test("the shop is rendered on the server before any script runs", async ({ request }) => {
  const response = await request.get("/");
  expect(response.status()).toBe(200);
  const html = await response.text();
  expect(html).toContain(`data-testid="add-to-cart-${MUG.sku}"`);
  expect(html).toContain(usd(MUG.price));
  expect(response.headers()["x-content-type-options"]).toBe("nosniff");
});

test("browse, fill the cart, change a quantity, check out", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);

  await page.getByTestId(`add-to-cart-${MUG.sku}`).click();
  await expect(page.getByTestId("cart-total")).toHaveText(usd(MUG.price));
  await page.getByTestId(`add-to-cart-${TEE.sku}`).click();
  await expect(page.getByTestId("cart-total")).toHaveText(usd(MUG.price + TEE.price));
  await expect(page.getByTestId("cart-count")).toHaveText("2");

  await page.getByTestId(`quantity-${MUG.sku}`).fill("3");
  await page.getByTestId(`update-${MUG.sku}`).click();
  const total = 3 * MUG.price + TEE.price;
  await expect(page.getByTestId("cart-total")).toHaveText(usd(total));
  await expect(page.getByTestId(`line-total-${MUG.sku}`)).toHaveText(usd(3 * MUG.price));

  await page.getByTestId("checkout").click();
  await expect(page).toHaveURL(/\/checkout\/ord_[a-z0-9]{20}$/);
  await expect(page.getByTestId("order-total")).toHaveText(usd(total));
  const orderId = new URL(page.url()).pathname.split("/").pop();
  await page.goto(`/orders/${orderId}`);
  await expect(page.getByTestId("order-status")).toHaveText("pending");
  await expect(page.getByTestId("order-total")).toHaveText(usd(total));

  // The order page is a real page: a reload renders it on the server.
  await page.reload();
  await expect(page.getByTestId("order-total")).toHaveText(usd(total));
  // Checkout emptied the cart.
  await page.goto("/cart");
  await expect(page.getByTestId("cart-empty")).toBeVisible();
});

test("removing a line updates the total", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  await page.getByTestId(`add-to-cart-${MUG.sku}`).click();
  await page.getByTestId(`add-to-cart-${TEE.sku}`).click();
  await expect(page.getByTestId("cart-total")).toHaveText(usd(MUG.price + TEE.price));
  await page.getByTestId(`remove-${MUG.sku}`).click();
  await expect(page.getByTestId("cart-total")).toHaveText(usd(TEE.price));
});

test("answers to quick clicks that cross never undo the newer cart", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  // A shopper with a cart (its first change is sent alone: the next test).
  await page.getByTestId(`add-to-cart-${STICKER.sku}`).click();
  await expect(page.getByTestId("cart-total")).toHaveText(usd(STICKER.price));
  // The first add's answer is held until the second's is on screen, then delivered.
  let firstFetched!: () => void;
  const fetched = new Promise<void>((resolve) => (firstFetched = resolve));
  let releaseFirst!: () => void;
  const released = new Promise<void>((resolve) => (releaseFirst = resolve));
  let adds = 0;
  await page.route("**/api/add_to_cart", async (route) => {
    if (++adds > 1) return route.continue();
    const response = await route.fetch();
    firstFetched();
    await released;
    await route.fulfill({ response });
  });
  // Every total the cart shows, in order.
  await page.evaluate(() => {
    const shown: string[] = [];
    (window as unknown as { totals: string[] }).totals = shown;
    new MutationObserver(() => {
      const total = document.querySelector('[data-testid="cart-total"]')?.textContent ?? "";
      if (total && shown[shown.length - 1] !== total) shown.push(total);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });

  await page.getByTestId(`add-to-cart-${MUG.sku}`).click();
  await fetched; // the server has added the mug (its answer: the mug alone)
  await page.getByTestId(`add-to-cart-${TEE.sku}`).click();
  const both = STICKER.price + MUG.price + TEE.price;
  await expect(page.getByTestId("cart-total")).toHaveText(usd(both));
  const stale = page.waitForResponse((r) => r.url().endsWith("/api/add_to_cart"));
  releaseFirst();
  await stale;
  // One more add, answered after the stale answer arrived.
  await page.getByTestId(`add-to-cart-${STICKER.sku}`).click();
  await expect(page.getByTestId("cart-total")).toHaveText(usd(both + STICKER.price));
  const shown = await page.evaluate(() => (window as unknown as { totals: string[] }).totals);
  expect(shown).toEqual([usd(both), usd(both + STICKER.price)]);
});

test("quick clicks of a shopper without a cart yet fill one cart", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  // Three adds at once: the first one's answer brings the cart's cookie, and an add sent
  // before it would start another cart. The adds the page sends within a second are let
  // through together, as a slow network would deliver them.
  let held: Route[] | null = [];
  const letThrough = () => {
    const routes = held ?? [];
    held = null;
    for (const route of routes) void route.continue();
  };
  await page.route("**/api/add_to_cart", async (route) => {
    if (held === null) return route.continue();
    held.push(route);
    if (held.length === 1) setTimeout(letThrough, 1000);
    if (held.length === 3) letThrough();
  });
  for (const item of [MUG, TEE, STICKER]) await page.getByTestId(`add-to-cart-${item.sku}`).click();
  await expect(page.getByTestId("cart-total")).toHaveText(usd(MUG.price + TEE.price + STICKER.price));
  await expect(page.getByTestId("cart-count")).toHaveText("3");
  await page.reload();
  await expect(page.getByTestId("cart-count")).toHaveText("3");
});

test("a bad quantity typed in the cart gets a clear message and changes nothing", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  await page.getByTestId(`add-to-cart-${MUG.sku}`).click();
  await expect(page.getByTestId("cart-total")).toHaveText(usd(MUG.price));
  // Bypass the input's min/max as a hand-edited request would.
  await page.getByTestId(`quantity-${MUG.sku}`).evaluate((el) => {
    (el as HTMLInputElement).removeAttribute("min");
  });
  await page.getByTestId(`quantity-${MUG.sku}`).fill("0");
  await page.getByTestId(`update-${MUG.sku}`).click();
  await expect(page.getByTestId("cart-error")).toContainText("Quantity must be a whole number from 1 to 99");
  await expect(page.getByTestId("cart-total")).toHaveText(usd(MUG.price));
});

test("a row the page adds is the row the server renders", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  await page.getByTestId(`add-to-cart-${MUG.sku}`).click();
  await page.getByTestId(`add-to-cart-${TEE.sku}`).click();
  await page.getByTestId(`add-to-cart-${MUG.sku}`).click();
  await expect(page.getByTestId("cart-count")).toHaveText("3");
  await expect(page.getByTestId(`line-total-${MUG.sku}`)).toHaveText(usd(2 * MUG.price));
  const panel = async () => ({
    // Leptos' server rendering leaves an empty comment after a list.
    lines: (await page.locator(".cart-lines").innerHTML()).replace(/<!--.*?-->/g, ""),
    total: await page.getByTestId("cart-total").textContent(),
    expected: await page.locator('input[name="expected_total"]').getAttribute("value"),
    quantity: await page.getByTestId(`quantity-${MUG.sku}`).inputValue(),
  });
  const written = await panel();
  expect(written.lines).toContain(`data-testid="cart-line-${TEE.sku}"`);
  expect(written.lines).not.toContain("{sku}");
  await page.reload();
  await hydrated(page);
  expect(await panel()).toEqual(written);
  // And the rows it wrote work: a quantity changed in one is the server's.
  await page.getByTestId(`quantity-${TEE.sku}`).fill("2");
  await page.getByTestId(`update-${TEE.sku}`).click();
  await expect(page.getByTestId("cart-total")).toHaveText(usd(2 * MUG.price + 2 * TEE.price));
  await expect(page.getByTestId("cart-count")).toHaveText("4");
});

test("the cart's pages load no Leptos, only the shop's small module", async ({ page }) => {
  const fetched: string[] = [];
  page.on("request", (request) => {
    const path = new URL(request.url()).pathname;
    if (path.endsWith(".wasm")) fetched.push(path);
  });
  for (const path of ["/", "/cart"]) {
    await page.goto(path);
    await hydrated(page);
  }
  expect([...new Set(fetched)]).toEqual(["/pay/shop_bg.wasm"]);
  expect(await page.locator("leptos-island").count()).toBe(0);
});

test("a double click on Checkout places one order", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  await page.getByTestId(`add-to-cart-${MUG.sku}`).click();
  await expect(page.getByTestId("cart-total")).toHaveText(usd(MUG.price));
  let checkouts = 0;
  await page.route("**/api/checkout", async (route) => {
    checkouts++;
    await route.continue();
  });
  await page.getByTestId("checkout").dblclick();
  await expect(page).toHaveURL(/\/checkout\/ord_[a-z0-9]{20}$/);
  expect(checkouts).toBe(1);
});

test("without JavaScript the cart still works: plain forms, the server's redirects", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/");
  await page.getByTestId(`add-to-cart-${MUG.sku}`).click();
  await expect(page.getByTestId("cart-count")).toHaveText("1");
  await page.getByTestId(`add-to-cart-${TEE.sku}`).click();
  await expect(page.getByTestId("cart-total")).toHaveText(usd(MUG.price + TEE.price));
  await page.getByTestId(`remove-${TEE.sku}`).click();
  await expect(page.getByTestId("cart-total")).toHaveText(usd(MUG.price));
  await page.getByTestId("checkout").click();
  await expect(page).toHaveURL(/\/checkout\/ord_[a-z0-9]{20}$/);
  await expect(page.getByTestId("order-total")).toHaveText(usd(MUG.price));
  await context.close();
});

async function cart(request: APIRequestContext) {
  const response = await request.post("/api/cart");
  expect(response.ok()).toBeTruthy();
  return response.json();
}

test("bad requests get clear errors and create nothing", async ({ request }) => {
  for (const quantity of ["0", "-1", "1000000000", "abc"]) {
    const response = await request.post("/api/add_to_cart", { form: { sku: MUG.sku, quantity } });
    expect(response.status(), `quantity ${quantity}`).toBe(400);
    const body = await response.json();
    expect(body.kind).toBe("invalid_quantity");
  }
  const unknown = await request.post("/api/add_to_cart", { form: { sku: "no-such-thing", quantity: "1" } });
  expect(unknown.status()).toBe(404);
  expect((await unknown.json()).kind).toBe("unknown_product");
  expect((await cart(request)).lines).toEqual([]);

  // A checkout claiming another total (a tampered price) creates no order.
  const added = await request.post("/api/add_to_cart", { form: { sku: MUG.sku, quantity: "2" } });
  expect(added.ok()).toBeTruthy();
  const tampered = await request.post("/api/checkout", { form: { expected_total: "1" } });
  expect(tampered.status()).toBe(409);
  expect((await tampered.json()).kind).toBe("total_changed");
  const after = await cart(request);
  expect(after.total.minor).toBe(2 * MUG.price);
  expect(after.lines).toHaveLength(1);
});
