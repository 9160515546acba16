#!/usr/bin/env node
// Navigation → card element ready, over cold loads in headless Chromium: each run is a
// new browser context (empty cache, no cookies) opening /checkout/<order id> and
// waiting (in the page, without Playwright's selector engine) for the app's mark, then
// for [data-testid=card-element][data-ready=true]. The figure is the
// `card-ready` performance mark, which the app sets when the Stripe card Element fires
// `ready`: milliseconds since the navigation started.
//
//   node end2end/bench/card-ready.mjs [BASE_URL] [RUNS=20] [--same-order] [--warmup N]
//
// BASE_URL defaults to $BASE_URL or http://127.0.0.1:3000. Each run gets a fresh order
// (created through the API, as a shopper arrives at checkout with a new order, so
// the page's first `pay` call creates the PaymentIntent); --same-order reuses one
// order for every run. --warmup N (default 1) loads first, not counted (the server's
// and the browser's first-time costs). Uses Chromium at $CHROMIUM_PATH or
// /usr/bin/chromium; never downloads a browser. Prints the median, p90, min, max and
// a JSON line ({"bench":"card-ready",…}).
import { baseUrl, createOrder, launchChromium, median, percentile, round1 } from "./lib.mjs";

const positional = [];
let sameOrder = false;
let warmup = 1;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--same-order") sameOrder = true;
  else if (a === "--warmup") warmup = Number(argv[++i]);
  else positional.push(a);
}
const base = baseUrl(positional[0]);
const runs = Number(positional[1] ?? 20);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(warmup) || warmup < 0) {
  console.error("usage: card-ready.mjs [BASE_URL] [RUNS=20] [--same-order] [--warmup N]");
  process.exit(2);
}

const READY = '[data-testid="card-element"][data-ready="true"]';
const TIMEOUT_MS = 30_000;

const browser = await launchChromium();

let shared = sameOrder ? await createOrder(base) : null;

async function load() {
  const order = shared ?? (await createOrder(base));
  const orderId = order.id;
  // The order is this cart's: the browser carries its cookie (nothing else).
  const context = await browser.newContext();
  const [name, ...value] = order.cookie.split("=");
  await context.addCookies([{ name, value: value.join("="), url: base }]);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  try {
    await page.goto(`${base}/checkout/${orderId}`, { waitUntil: "commit" });
    try {
      // Waits in the page for the app's own `card-ready` mark, without Playwright's
      // selector engine: a locator injects Playwright's script into the page (some 45 ms
      // of the renderer's main thread on this machine, right when the page loads), which
      // a shopper's browser never runs.
      await page.evaluate(
        (timeout) =>
          new Promise((resolve, reject) => {
            const seen = () => performance.getEntriesByName("card-ready").length > 0;
            if (seen()) return resolve();
            const timer = setTimeout(() => reject(new Error("timeout")), timeout);
            new PerformanceObserver((_, observer) => {
              if (!seen()) return;
              observer.disconnect();
              clearTimeout(timer);
              resolve();
            }).observe({ type: "mark", buffered: true });
          }),
        TIMEOUT_MS,
      );
      // The mark is set when the element fires `ready`; the attribute follows it.
      await page.locator(READY).waitFor({ state: "attached", timeout: TIMEOUT_MS });
    } catch (e) {
      const closed = await page.getByTestId("checkout-closed").count();
      throw new Error(
        `the card element was not ready within ${TIMEOUT_MS} ms` +
          (closed ? " (the page says the order cannot be paid)" : "") +
          (errors.length ? `; page errors: ${errors.join(" | ")}` : ""),
      );
    }
    const t = await page.evaluate(() => {
      const mark = performance.getEntriesByName("card-ready")[0];
      const nav = performance.getEntriesByType("navigation")[0];
      return {
        ready: mark ? mark.startTime : null,
        ttfb: nav ? nav.responseStart : null,
        dcl: nav ? nav.domContentLoadedEventEnd : null,
        load: nav && nav.loadEventEnd > 0 ? nav.loadEventEnd : null,
      };
    });
    if (t.ready === null) {
      throw new Error('no performance mark "card-ready": the app must call performance.mark("card-ready") when the card Element is ready');
    }
    return t;
  } finally {
    await context.close();
  }
}

try {
  for (let i = 0; i < warmup; i++) await load();
  const results = [];
  for (let i = 0; i < runs; i++) {
    const t = await load();
    results.push(t);
    console.log(
      `run ${String(i + 1).padStart(2)}: card ready ${t.ready.toFixed(1)} ms` +
        `  (first byte ${t.ttfb?.toFixed(1)} ms, DOMContentLoaded ${t.dcl?.toFixed(1)} ms)`,
    );
  }
  const ready = results.map((r) => r.ready);
  const summary = {
    bench: "card-ready",
    url: `${base}/checkout/…`,
    runs,
    warmup,
    same_order: sameOrder,
    median_ms: round1(median(ready)),
    p90_ms: round1(percentile(ready, 0.9)),
    min_ms: round1(Math.min(...ready)),
    max_ms: round1(Math.max(...ready)),
    median_ttfb_ms: round1(median(results.map((r) => r.ttfb))),
    median_dcl_ms: round1(median(results.map((r) => r.dcl))),
    runs_ms: ready.map(round1),
  };
  console.log(
    `card-ready: ${runs} cold loads (+${warmup} warm-up): median ${summary.median_ms} ms, p90 ${summary.p90_ms} ms, min ${summary.min_ms} ms, max ${summary.max_ms} ms`,
  );
  console.log(JSON.stringify(summary));
} finally {
  await browser.close();
}
