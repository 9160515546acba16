import { test, expect, type Page } from "@playwright/test";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

// Cross-site protection in a real browser: a page served from another loopback origin
// (another port of 127.0.0.1: same-site; `localhost`: cross-site) posts forms to the
// shop, as an attacker's page would. Chromium sends `Sec-Fetch-Site`; the shop answers
// 403 and the shopper's cart (and session) stay as they were.

const MUG = "ferris-mug";
const TEE = "borrow-tee";

/** The attacker's site: `/form?action=URL&field=value…` renders a form that posts itself. */
async function attackerSite(): Promise<{ origin: (host: string) => string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://attacker.invalid");
    const action = url.searchParams.get("action") ?? "";
    const fields = [...url.searchParams.entries()]
      .filter(([name]) => name !== "action")
      .map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`)
      .join("");
    res.writeHead(200, { "content-type": "text/html" });
    res.end(
      `<!doctype html><title>win a prize</title>` +
        `<form id="f" method="post" action="${action}">${fields}</form>` +
        `<script>document.getElementById("f").submit()</script>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: (host) => `http://${host}:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function hydrated(page: Page) {
  await page.locator('body[data-hydrated="true"]').waitFor();
}

/** Opens the attacker's page, which posts `fields` to the shop's `path`: the answer. */
async function postFrom(page: Page, attackerOrigin: string, shop: string, path: string, fields: Record<string, string>) {
  const query = new URLSearchParams({ action: `${shop}${path}`, ...fields });
  const answer = page.waitForResponse((r) => r.url() === `${shop}${path}`);
  await page.goto(`${attackerOrigin}/form?${query}`);
  return answer;
}

test("forms posted from another origin are refused and change nothing", async ({ page, baseURL }) => {
  const shop = baseURL!;
  const attacker = await attackerSite();
  try {
    await page.goto("/");
    await hydrated(page);
    await page.getByTestId(`add-to-cart-${MUG}`).click();
    await expect(page.getByTestId("cart-count")).toHaveText("1");
    const cookiesBefore = await page.context().cookies(shop);

    // Same site, other port (cookies are sent along): refused.
    for (const host of ["127.0.0.1", "localhost"]) {
      const added = await postFrom(page, attacker.origin(host), shop, "/api/add_to_cart", {
        sku: TEE,
        quantity: "5",
      });
      expect(added.status(), `add_to_cart from ${host}`).toBe(403);
      expect(await added.text()).toContain("cross-site request refused");
      const headers = await added.request().allHeaders();
      expect(["same-site", "cross-site"]).toContain(headers["sec-fetch-site"]);
      // Sign-in CSRF (the attacker's account, to collect the victim's cards): refused.
      const signIn = await postFrom(page, attacker.origin(host), shop, "/api/sign_in", {
        email: "attacker@example.com",
        password: "attacker password 123",
      });
      expect(signIn.status(), `sign_in from ${host}`).toBe(403);
    }

    // The cart is the shopper's, unchanged; no cookie was replaced.
    expect(await page.context().cookies(shop)).toEqual(cookiesBefore);
    await page.goto("/cart");
    await expect(page.getByTestId("cart-count")).toHaveText("1");
    await expect(page.getByTestId(`quantity-${MUG}`)).toHaveValue("1");
    await expect(page.getByTestId(`quantity-${TEE}`)).toHaveCount(0);

    // The shop's own pages still post: same-origin.
    await hydrated(page);
    await page.getByTestId(`quantity-${MUG}`).fill("2");
    await page.getByTestId(`update-${MUG}`).click();
    await expect(page.getByTestId("cart-count")).toHaveText("2");
  } finally {
    await attacker.close();
  }
});
