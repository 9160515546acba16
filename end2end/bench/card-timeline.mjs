#!/usr/bin/env node
// Where the checkout's time to a ready card element goes, over cold loads in headless
// Chromium (as card-ready.mjs loads them): for each run, when each file the page needs
// was requested and had arrived (Resource Timing, ms since navigation start), when the
// document was parsed, and the main thread's long tasks (> 50 ms) before the card was
// ready. Prints the median of each milestone, in order, and a JSON line
// ({"bench":"card-timeline",…}). A diagnosis beside bench 4, not a figure of its own.
//
//   node end2end/bench/card-timeline.mjs [BASE_URL] [RUNS=10]
import { baseUrl, createOrder, launchChromium, median, round1 } from "./lib.mjs";

const base = baseUrl(process.argv[2]);
const runs = Number(process.argv[3] ?? 10);
if (!Number.isInteger(runs) || runs < 1) {
  console.error("usage: card-timeline.mjs [BASE_URL] [RUNS=10]");
  process.exit(2);
}

const browser = await launchChromium();

/** A short name for a resource: its file name, or the iframe's page. */
function label(url) {
  const u = new URL(url);
  const file = u.pathname.split("/").filter(Boolean).pop() ?? u.pathname;
  return file.replace(/\.[0-9a-f]{16,}\./, ".");
}

async function load() {
  const order = await createOrder(base);
  const context = await browser.newContext();
  const [name, ...value] = order.cookie.split("=");
  await context.addCookies([{ name, value: value.join("="), url: base }]);
  // Long tasks are only reported to observers registered before they happen.
  await context.addInitScript(() => {
    window.__longTasks = [];
    try {
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
      }).observe({ type: "longtask", buffered: true });
    } catch {}
  });
  const page = await context.newPage();
  try {
    await page.goto(`${base}/checkout/${order.id}`, { waitUntil: "commit" });
    await page.waitForFunction(() => performance.getEntriesByName("card-ready").length > 0, null, {
      timeout: 30_000,
      polling: 20,
    });
    return await page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      const ready = performance.getEntriesByName("card-ready")[0].startTime;
      const marks = {
        "html first byte": nav.responseStart,
        "html arrived": nav.responseEnd,
        "DOMContentLoaded": nav.domContentLoadedEventStart,
        "card ready": ready,
      };
      const files = {};
      for (const r of performance.getEntriesByType("resource")) {
        files[r.name] = { start: r.startTime, end: r.responseEnd, type: r.initiatorType };
      }
      return { marks, files, longTasks: window.__longTasks.filter(([s]) => s < ready) };
    });
  } finally {
    await context.close();
  }
}

await load(); // warm-up: the server's and the browser's first-time costs
const results = [];
for (let i = 0; i < runs; i++) results.push(await load());
await browser.close();

// Milestones: each mark, and each file's request and arrival.
const series = new Map();
const add = (key, v) => {
  if (!series.has(key)) series.set(key, []);
  series.get(key).push(v);
};
for (const r of results) {
  for (const [k, v] of Object.entries(r.marks)) add(k, v);
  for (const [url, f] of Object.entries(r.files)) {
    add(`${label(url)} (${f.type}) requested`, f.start);
    add(`${label(url)} (${f.type}) arrived`, f.end);
  }
}
const rows = [...series]
  .map(([k, v]) => [k, round1(median(v)), v.length])
  .sort((a, b) => a[1] - b[1]);
for (const [k, v, n] of rows) console.log(`${String(v).padStart(7)} ms  ${k}${n < runs ? ` (${n} of ${runs} runs)` : ""}`);
const long = results.map((r) => r.longTasks.reduce((s, [, d]) => s + d, 0));
console.log(`long tasks before ready: median ${round1(median(long))} ms in all`);
for (const r of results.slice(0, 3)) {
  console.log(`  e.g. ${r.longTasks.map(([s, d]) => `${round1(s)}+${round1(d)}`).join(", ") || "none"}`);
}
console.log(
  JSON.stringify({
    bench: "card-timeline",
    runs,
    milestones_ms: Object.fromEntries(rows.map(([k, v]) => [k, v])),
    long_tasks_ms: round1(median(long)),
  }),
);
