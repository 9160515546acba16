// The baseline of `bench create-pi --node`: the server route of Stripe's "accept a
// payment" integration guide (custom payment flow), as its Node sample writes it:
// express, the official `stripe` package, `POST /create-payment-intent` with the cart's
// items in JSON, one PaymentIntent created per call, its client secret sent back. It
// stores nothing (no order, no idempotency key); the shop's `POST /api/pay` also checks
// the cart, reads the order and records the intent on it.
//
// Environment (set by the bench):
//   STRIPE_SECRET_KEY  the key (the offline sandbox's)
//   STRIPE_API_BASE    where Stripe's API is (the bench's embedded sandbox, http://…)
//   PORT               where to listen on 127.0.0.1 (0: any free port)
// Prints `listening on http://127.0.0.1:PORT` once ready.
import express from "express";
import Stripe from "stripe";

const api = new URL(process.env.STRIPE_API_BASE ?? "https://api.stripe.com");
const stripe = new Stripe(process.env.STRIPE_SECRET_KEY, {
  host: api.hostname,
  port: api.port || (api.protocol === "https:" ? 443 : 80),
  protocol: api.protocol.replace(":", ""),
});

const app = express();
app.use(express.json());

// The guide's placeholder: the amount comes from the items the client sends.
const orderAmount = (items) => items.reduce((total, item) => total + item.amount, 0);

app.post("/create-payment-intent", async (req, res) => {
  const { items } = req.body;
  try {
    const paymentIntent = await stripe.paymentIntents.create({
      amount: orderAmount(items),
      currency: "usd",
      automatic_payment_methods: { enabled: true },
    });
    res.send({ clientSecret: paymentIntent.client_secret });
  } catch (e) {
    res.status(e.statusCode ?? 500).send({ error: { message: e.message } });
  }
});

const server = app.listen(Number(process.env.PORT ?? 4242), "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
