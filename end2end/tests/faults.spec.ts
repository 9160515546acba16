import { test, expect } from "@playwright/test";
import { charges, expectPaid, fillCard, newOrder, openCheckout, paymentIntentId, paymentsConfig } from "./support/checkout";

// Runs after every other test (its own Playwright project): the sandbox's faults apply to
// whatever request comes next, so nothing else may run meanwhile.

test("the sandbox dropping a PaymentIntent create's answer: the payment still goes through once", async ({
  page,
}) => {
  const cfg = await paymentsConfig(page.request);
  test.skip(!cfg.sandbox, "fault injection needs the offline sandbox");
  const sandbox = new URL(cfg.js_url).origin;
  const orderId = await newOrder(page);
  // The create takes effect at the sandbox but its answer is lost: the server's client
  // retries once (an interactive call) with the same Idempotency-Key and gets the stored
  // result.
  const faults = await page.request.post(`${sandbox}/_sandbox/faults`, {
    data: { kind: "drop_after", count: 1, path_prefix: "/v1/payment_intents", method: "POST" },
  });
  expect(faults.ok(), await faults.text()).toBeTruthy();
  await openCheckout(page, orderId);
  const pi = await paymentIntentId(page);
  const pending = await page.request.get(`${sandbox}/_sandbox/faults`);
  expect(await pending.json()).toEqual(expect.objectContaining({ data: [] }));
  await fillCard(page, "4242 4242 4242 4242");
  await page.getByTestId("pay").click();
  await expectPaid(page, orderId);
  const list = await charges(page.request, cfg, pi);
  expect(list).toHaveLength(1);
  // One PaymentIntent for the order at the sandbox.
  const search = await page.request.get(`${sandbox}/v1/payment_intents?limit=100`, {
    headers: { Authorization: "Bearer sk_test_offline_sandbox_0000000000" },
  });
  const intents = (await search.json()).data.filter(
    (p: { metadata: Record<string, string> }) => p.metadata.order_id === orderId,
  );
  expect(intents).toHaveLength(1);
});
