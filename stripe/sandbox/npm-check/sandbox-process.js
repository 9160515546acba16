// The sandbox binary on a free loopback port, for the test files of this directory
// (`node --test` runs each file in its own process, each with its own sandbox).
// SANDBOX_BIN names the binary (`make test` passes it).
"use strict";
const assert = require("node:assert/strict");
const net = require("node:net");
const { spawn } = require("node:child_process");

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on("error", reject);
  });
}

async function waitFor(fn, what, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts the sandbox (extra CLI arguments in `args`); resolves `{port, url, stop()}`. */
async function startSandbox(args = []) {
  const port = await freePort();
  const bin = process.env.SANDBOX_BIN;
  assert.ok(bin, "SANDBOX_BIN must name the stripe-sandbox binary");
  const child = spawn(bin, ["--addr", `127.0.0.1:${port}`, ...args], { stdio: ["ignore", "inherit", "inherit"] });
  await waitFor(() => new Promise((r) => {
    const s = net.connect(port, "127.0.0.1", () => { s.end(); r(true); });
    s.on("error", () => r(false));
  }), "the sandbox to listen");
  return { port, url: `http://127.0.0.1:${port}`, stop: () => child.kill("SIGTERM") };
}

/**
 * The shopper's answer on the sandbox's 3-D Secure page (`complete` or `fail`), posted as
 * the page's buttons post it; resolves the page's JSON answer.
 */
async function answer3ds(url, id, clientSecret, outcome) {
  const res = await fetch(`${url}/3ds/${encodeURIComponent(id)}/${outcome}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body: `client_secret=${encodeURIComponent(clientSecret)}`,
  });
  assert.equal(res.status, 200, `3-D Secure ${outcome} for ${id}`);
  return res.json();
}

module.exports = { startSandbox, waitFor, answer3ds };
