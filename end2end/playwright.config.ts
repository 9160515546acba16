import { defineConfig, devices } from "@playwright/test";
// Debian's chromium; Playwright never downloads a browser here.
import { chromiumLaunch } from "./chromium.cjs";

// Against a running server when BASE_URL is given (e.g. `make dev`, or real Stripe test
// mode); otherwise starts the built server binary (SERVER_BIN, set by scripts/test.sh)
// on a free port with a throw-away data directory.
const port = Number(process.env.E2E_PORT ?? 3107);
const baseURL = process.env.BASE_URL ?? `http://127.0.0.1:${port}`;
// The console's merchant (tests/support/merchant.ts signs in with the same).
process.env.E2E_MERCHANT_EMAIL ??= "merchant@e2e.example.com";
process.env.E2E_MERCHANT_PASSWORD ??= "e2e merchant password";

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: process.env.CI ? 2 : undefined,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      testIgnore: /faults\.spec\.ts/,
      use: { ...devices["Desktop Chrome"], launchOptions: chromiumLaunch },
    },
    {
      // Sandbox fault injection affects every request in flight: alone, after the rest.
      name: "faults",
      testMatch: /faults\.spec\.ts/,
      dependencies: ["chromium"],
      use: { ...devices["Desktop Chrome"], launchOptions: chromiumLaunch },
    },
  ],
  webServer: process.env.BASE_URL
    ? undefined
    : {
        command: process.env.SERVER_BIN ?? "../target/debug/server",
        url: `${baseURL}/healthz`,
        timeout: 120_000,
        reuseExistingServer: false,
        stdout: "pipe",
        stderr: "pipe",
        env: {
          ...(process.env as Record<string, string>),
          LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
          LEPTOS_ENV: "PROD",
          STRIPE_SANDBOX: "1",
          DATA_DIR: process.env.E2E_DATA_DIR ?? "../target/e2e-data",
          DATABASE_URL: "",
          STRIPE_SANDBOX_ADDR: "127.0.0.1:0",
          STRIPE_SANDBOX_STATE: "memory",
          MERCHANT_EMAIL: process.env.E2E_MERCHANT_EMAIL!,
          MERCHANT_PASSWORD: process.env.E2E_MERCHANT_PASSWORD!,
          // The tests start reconciliations themselves ("Reconcile now").
          RECONCILE_INTERVAL_SECS: "0",
          // Every test browser is 127.0.0.1: limits per address far above a test run's
          // (the integration tests check the limits themselves).
          RATE_LIMIT_SIGN_IN_PER_MINUTE: "1000",
          RATE_LIMIT_PAYMENTS_PER_MINUTE: "1000",
          CARD_TESTING_FAILURES_PER_CLIENT_HOUR: "0",
        },
      },
});
