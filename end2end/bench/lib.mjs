// Shared by the bench scripts: an order made through the shop's server functions,
// as a browser makes it (add a mug to a new cart, the server sets the `cart` cookie;
// then check out for the total shown), and small statistics.

export const SKU = "ferris-mug";
export const TOTAL = 1250; // the mug's catalogue price, USD cents

export function baseUrl(arg) {
  const base = arg ?? process.env.BASE_URL ?? "http://127.0.0.1:3000";
  return base.replace(/\/+$/, "");
}

async function post(url, form, headers = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form).toString(),
    redirect: "manual",
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${url}: HTTP ${response.status}: ${text}`);
  return { response, text };
}

/** Creates a `pending` order for one mug; returns its id. */
export async function createOrder(base) {
  const { response } = await post(`${base}/api/add_to_cart`, { sku: SKU, quantity: "1" });
  const cookie = response.headers
    .getSetCookie()
    .map((c) => c.split(";")[0].trim())
    .find((c) => c.startsWith("cart="));
  if (!cookie) throw new Error("add_to_cart set no cart cookie");
  const { text } = await post(
    `${base}/api/checkout`,
    { expected_total: String(TOTAL) },
    { cookie },
  );
  const id = JSON.parse(text);
  if (typeof id !== "string" || !id.startsWith("ord_")) {
    throw new Error(`checkout answered ${text}, not an order id`);
  }
  return id;
}

/** Median (mean of the middle two for an even count) of numbers. */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile, p in [0, 1]. */
export function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const rank = Math.min(s.length, Math.max(1, Math.ceil(p * s.length)));
  return s[rank - 1];
}

export const round1 = (x) => Math.round(x * 10) / 10;
