// How every browser here is started, for the Playwright tests (playwright.config.ts) and
// the timing benches (bench/lib.mjs): Debian's Chromium ($CHROMIUM_PATH, else
// /usr/bin/chromium; a browser is never downloaded), kept off the network this machine
// cannot reach (background requests, updates, sync) and off QUIC.
module.exports = {
  chromiumLaunch: {
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  },
};
