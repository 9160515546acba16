#!/usr/bin/env node
// Weight of a page as a browser first loads it: the HTML and every same-origin
// stylesheet, script (with its static imports) and WebAssembly module it references or
// that Chromium fetched while hydrating it (the lazy islands' split modules), each
// compressed with gzip -9. Stripe.js (any other origin, or a URL containing "/v3/") is
// excluded and listed as such. Beside that figure, what the server really sends to a
// browser that accepts gzip ("sent": its precompressed copies of the site's files; pages
// as they are) and each file's content-encoding, so that a build without compressed
// copies shows as what it is.
//
//   node end2end/bench/page-weight.mjs [BASE_URL] [PATH | --signed-in | --all]
//
// BASE_URL defaults to $BASE_URL or http://127.0.0.1:3000. Without PATH an order is
// created through the API and /checkout/<order id> is weighed (as the guest whose cart
// placed it); `--signed-in` weighs the checkout of a signed-in shopper with two saved
// cards (offline sandbox only); give a PATH (e.g. /) to weigh another page. `--all`
// weighs every page of the shop, the account and the console (the console as the
// merchant of $MERCHANT_EMAIL / $MERCHANT_PASSWORD) and prints the heaviest. Prints a
// table and a JSON line ({"bench":"page-weight",…}; "page-weight-signed-in";
// "page-weights" for --all).
import { gzipSync, constants } from "node:zlib";
import http from "node:http";
import https from "node:https";
import { baseUrl, createOrder, signedInWithCards, signIn } from "./lib.mjs";

const gzip = (buf) => gzipSync(buf, { level: constants.Z_BEST_COMPRESSION }).length;

/**
 * Weighs `path` as the holder of `cookie` (or nobody); `expect`: a `data-testid` the
 * page must show (else it is not the page meant). Returns { url, files, byKind, total,
 * excluded, missing }.
 */
async function weigh(base, path, cookie, expect) {
const origin = new URL(base).origin;
const pageUrl = new URL(path, base).href;

/** A request's headers: the encoding it accepts, and the cookie on same-origin URLs. */
function headersFor(url, acceptEncoding) {
  const headers = { "accept-encoding": acceptEncoding };
  if (cookie && url.startsWith(origin)) headers.cookie = cookie;
  return headers;
}

async function get(url) {
  const response = await fetch(url, { headers: headersFor(url, "identity") });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return {
    body: Buffer.from(await response.arrayBuffer()),
    type: response.headers.get("content-type") ?? "",
  };
}

/** The bytes the server sends for `url` to a browser that accepts gzip (not decoded). */
function sent(url) {
  return new Promise((resolve, reject) => {
    const client = url.startsWith("https:") ? https : http;
    const options = { headers: headersFor(url, "gzip"), rejectUnauthorized: false };
    const request = client.get(url, options, (response) => {
      let bytes = 0;
      response.on("data", (chunk) => (bytes += chunk.length));
      response.on("end", () =>
        resolve({ bytes, encoding: response.headers["content-encoding"] ?? "identity" }),
      );
      response.on("error", reject);
    });
    request.on("error", reject);
  });
}

/** A file's entry: its sizes raw, gzip -9 and as sent. */
async function entry(url, kind, body) {
  const { bytes, encoding } = await sent(url);
  return { url, kind, raw: body.length, gzip: gzip(body), sent: bytes, encoding };
}

function attrs(tag) {
  const out = {};
  for (const m of tag.matchAll(/([\w:-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    out[m[1].toLowerCase()] = m[2] ?? m[3] ?? m[4] ?? "";
  }
  return out;
}

function kindOf(url, type) {
  const p = new URL(url).pathname;
  if (p.endsWith(".wasm") || type.includes("wasm")) return "wasm";
  if (p.endsWith(".css") || type.includes("css")) return "css";
  if (/\.m?js$/.test(p) || type.includes("javascript")) return "js";
  return "other";
}

const files = []; // { url, kind, raw, gzip }
const excluded = [];
const seen = new Set([pageUrl]);
const queue = [];

function consider(ref, from, why) {
  if (!ref || ref.startsWith("data:") || ref.startsWith("blob:")) return;
  let url;
  try {
    url = new URL(ref, from);
  } catch {
    return;
  }
  if (seen.has(url.href)) return;
  seen.add(url.href);
  if (url.origin !== origin || url.pathname.includes("/v3/")) {
    excluded.push({ url: url.href, why });
    return;
  }
  queue.push(url.href);
}

const html = await get(pageUrl);
if (expect && !html.body.toString("utf8").includes(`data-testid="${expect}"`)) {
  throw new Error(`${pageUrl} shows no ${expect}: not the page meant`);
}
files.push(await entry(pageUrl, "html", html.body));
const text = html.body.toString("utf8");

for (const m of text.matchAll(/<link\b[^>]*>/gi)) {
  const a = attrs(m[0]);
  const rels = (a.rel ?? "").toLowerCase().split(/\s+/);
  if (rels.some((r) => ["stylesheet", "modulepreload", "preload"].includes(r))) {
    // Preloaded images and fonts are not part of this figure.
    if (rels.includes("preload") && a.as && !["script", "style", "fetch"].includes(a.as)) continue;
    consider(a.href, pageUrl, `<link rel=${a.rel}>`);
  }
}
for (const m of text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
  const a = attrs(m[1]);
  if (a.src !== undefined) consider(a.src, pageUrl, "<script src>");
  // Leptos's hydration script imports the JS and names the .wasm inline, as template
  // literals over the parameters of a function called at once:
  // (function (root, pkg_path, output_name, wasm_output_name, …) {…})("", "pkg", …)
  const body = m[2];
  const call = body.match(/\(\s*function\s*\(([^)]*)\)[\s\S]*\}\s*\)\s*\(([^)]*)\)/);
  const vars = {};
  if (call) {
    const names = call[1].split(",").map((n) => n.trim());
    const values = [...call[2].matchAll(/"([^"]*)"|'([^']*)'|([^,\s]+)/g)].map((v) => v[1] ?? v[2] ?? v[3]);
    names.forEach((n, i) => (vars[n] = values[i]));
  }
  for (const r of body.matchAll(/["'`]([^"'`\s]+\.(?:m?js|wasm))["'`]/g)) {
    const ref = r[1].replace(/\$\{\s*(\w+)\s*\}/g, (_, name) => vars[name] ?? `\${${name}}`);
    if (!ref.includes("${")) consider(ref, pageUrl, "inline script");
  }
}

// Stripe.js is loaded by the app at run time from the payments config (serialized
// into the page): named here as excluded.
for (const m of text.matchAll(/\\?"js_url\\?"\s*:\s*\\?"([^"\\]+)/g)) {
  consider(m[1], pageUrl, "Stripe.js, loaded by the app at run time");
}

// What the browser really loads: the islands' WASM is split (`cargo leptos --split`) and
// a lazy island fetches its modules only when it hydrates, so the page is also opened in
// headless Chromium (the same cookie) until every island has hydrated and a checkout's
// card form is ready; every successful same-origin GET it made is counted (API calls excluded).
for (const url of await loadedByBrowser()) consider(url, pageUrl, "loaded by the browser");

async function loadedByBrowser() {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run"],
  });
  try {
    const context = await browser.newContext();
    if (cookie) {
      const [name, ...value] = cookie.split("=");
      await context.addCookies([{ name, value: value.join("="), url: base }]);
    }
    const page = await context.newPage();
    const urls = [];
    page.on("response", (response) => {
      const request = response.request();
      const url = new URL(request.url());
      if (request.method() !== "GET" || !response.ok() || url.pathname.startsWith("/api/")) return;
      urls.push(request.url());
    });
    await page.goto(pageUrl);
    await page.locator('body[data-hydrated="true"]').waitFor({ state: "attached", timeout: 30_000 });
    // The checkout loads its card form at once (hidden behind a saved card too);
    // /account/cards only after a click on "Add a card", which a page weight does not make.
    if (new URL(pageUrl).pathname.startsWith("/checkout/")) {
      await page
        .locator('[data-testid="card-element"][data-ready="true"]')
        .waitFor({ state: "attached", timeout: 30_000 });
    }
    await page.waitForLoadState("networkidle");
    return urls;
  } finally {
    await browser.close();
  }
}

// Fetch each asset; follow the static and dynamic imports of same-origin JS.
const missing = [];
const wasmFallbacks = [];
while (queue.length) {
  const url = queue.shift();
  let fetched;
  try {
    fetched = await get(url);
  } catch (e) {
    missing.push({ url, error: e.message });
    continue;
  }
  const { body, type } = fetched;
  const kind = kindOf(url, type);
  files.push(await entry(url, kind, body));
  if (kind === "js") {
    const js = body.toString("utf8");
    const refs = [
      ...js.matchAll(/\bimport\s*(?:[\w*{}\s,$]+from\s*)?["']([^"']+)["']/g),
      ...js.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g),
    ].map((m) => m[1]);
    for (const r of refs) consider(r, url, `imported by ${new URL(url).pathname}`);
    // wasm-bindgen's default module path, used only when init() is given none (Leptos
    // passes one): a fallback if the page names no .wasm.
    for (const m of js.matchAll(/new\s+URL\(\s*["']([^"']+\.wasm)["']\s*,\s*import\.meta\.url\s*\)/g)) {
      wasmFallbacks.push(new URL(m[1], url).href);
    }
  }
}

if (!files.some((f) => f.kind === "wasm")) {
  // The .wasm may be named only in code this scan missed: wasm-bindgen's default,
  // then <name>_bg.wasm beside each script.
  const guesses = [...wasmFallbacks, ...files.filter((f) => f.kind === "js").map((f) => f.url.replace(/\.m?js$/, "_bg.wasm"))];
  for (const guess of guesses) {
    if (seen.has(guess) || files.some((f) => f.kind === "wasm")) continue;
    seen.add(guess);
    try {
      const { body } = await get(guess);
      files.push(await entry(guess, "wasm", body));
    } catch {
      /* none there */
    }
  }
}

const total = { raw: 0, gzip: 0, sent: 0 };
const byKind = {};
for (const f of files) {
  byKind[f.kind] ??= { raw: 0, gzip: 0, sent: 0 };
  for (const sum of [total, byKind[f.kind]]) {
    sum.raw += f.raw;
    sum.gzip += f.gzip;
    sum.sent += f.sent;
  }
}

const show = (u) => (u.startsWith(origin) ? u.slice(origin.length) : u);
return { url: pageUrl, files, byKind, total, excluded, missing, show };
}

const kib = (n) => (n / 1024).toFixed(1);

function printTable(w) {
const { files, total, excluded, missing, show } = w;
const width = Math.max(12, ...files.map((f) => show(f.url).length));
console.log(`page weight of ${w.url} (gzip -9 per file; sent: as the server sends it to a browser accepting gzip; KiB = 1024 bytes)`);
console.log(`${"file".padEnd(width)}  kind   ${"raw KiB".padStart(9)}  ${"gzip KiB".padStart(9)}  ${"sent KiB".padStart(9)}  encoding`);
for (const f of files) {
  console.log(
    `${show(f.url).padEnd(width)}  ${f.kind.padEnd(5)}  ${kib(f.raw).padStart(9)}  ${kib(f.gzip).padStart(9)}  ${kib(f.sent).padStart(9)}  ${f.encoding}`,
  );
}
console.log(`${"total".padEnd(width)}         ${kib(total.raw).padStart(9)}  ${kib(total.gzip).padStart(9)}  ${kib(total.sent).padStart(9)}`);
const plain = files.filter((f) => f.kind !== "html" && f.encoding === "identity");
if (plain.length) console.log(`note: ${plain.length} file(s) sent uncompressed (a release build without --precompress?)`);
for (const e of excluded) console.log(`excluded: ${e.url} (${e.why})`);
for (const m of missing) console.log(`MISSING: ${m.error}`);
if (!files.some((f) => f.kind === "wasm")) console.log("note: no .wasm found on this page");
}

const base = baseUrl(process.argv[2]);
const mode = process.argv[3];

if (mode === "--all") {
  // Every page a shopper or the merchant opens, each with the session it needs.
  const guest = await createOrder(base);
  const shopper = await signedInWithCards(base, 1);
  const own = await createOrder(base, shopper);
  const email = process.env.MERCHANT_EMAIL;
  const password = process.env.MERCHANT_PASSWORD;
  if (!email || !password) throw new Error("--all weighs the console: set MERCHANT_EMAIL and MERCHANT_PASSWORD");
  const merchant = await signIn(base, email, password);
  const pages = [
    ["/", undefined, "add-to-cart-ferris-mug"],
    ["/cart", guest.cookie, undefined],
    [`/checkout/${guest.id}`, guest.cookie, "card-element"],
    [`/orders/${guest.id}`, guest.cookie, undefined],
    ["/account/sign-in", undefined, undefined],
    ["/account/sign-up", undefined, undefined],
    ["/account/orders", shopper, undefined],
    ["/account/cards", shopper, undefined],
    [`/checkout/${own.id}`, shopper, "saved-card"],
    ["/merchant", merchant, undefined],
    ["/merchant/orders", merchant, undefined],
    [`/merchant/orders/${guest.id}`, merchant, undefined],
    ["/merchant/disputes", merchant, undefined],
    ["/merchant/refunds", merchant, undefined],
    ["/merchant/fraud-warnings", merchant, undefined],
    ["/merchant/payouts", merchant, undefined],
    ["/merchant/events", merchant, undefined],
    ["/merchant/reconciliation", merchant, undefined],
  ];
  const results = [];
  for (const [path, cookie, expect] of pages) {
    const w = await weigh(base, path, cookie, expect);
    const shown = path.replace(/ord_[A-Za-z0-9]+/, "ord_…");
    results.push({
      path: shown,
      total_gzip: w.total.gzip,
      total_sent: w.total.sent,
      wasm_gzip: w.byKind.wasm?.gzip ?? 0,
      missing: w.missing.length,
    });
    console.log(
      `${shown.padEnd(28)} ${String(w.total.gzip).padStart(8)} B gzip  ${String(w.total.sent).padStart(8)} B sent  (wasm ${w.byKind.wasm?.gzip ?? 0}, ${w.files.length} files)`,
    );
  }
  const heaviest = results.reduce((a, b) => (b.total_gzip > a.total_gzip ? b : a));
  console.log(`heaviest: ${heaviest.path} ${heaviest.total_gzip} B`);
  console.log(JSON.stringify({ bench: "page-weights", pages: results, heaviest }));
  if (results.some((r) => r.missing)) process.exitCode = 1;
} else {
  let path = mode;
  const signedIn = path === "--signed-in";
  let cookie;
  let expect;
  if (!path || signedIn) {
    const order = await createOrder(base, signedIn ? await signedInWithCards(base) : undefined);
    path = `/checkout/${order.id}`;
    cookie = order.cookie;
    expect = signedIn ? "saved-card" : "card-element";
  }
  const w = await weigh(base, path, cookie, expect);
  printTable(w);
  const { files, total, byKind, excluded, missing, show } = w;
  console.log(
    JSON.stringify({
      bench: signedIn ? "page-weight-signed-in" : "page-weight",
      url: w.url,
      total_raw: total.raw,
      total_gzip: total.gzip,
      total_gzip_kib: Math.round((total.gzip / 1024) * 10) / 10,
      total_sent: total.sent,
      by_kind: byKind,
      files: files.map((f) => ({ path: show(f.url), kind: f.kind, raw: f.raw, gzip: f.gzip, sent: f.sent, encoding: f.encoding })),
      excluded: excluded.map((e) => e.url),
      missing: missing.map((m) => m.url),
    }),
  );
  // A page that references files the server cannot serve is not a valid measurement.
  if (missing.length) process.exitCode = 1;
}
