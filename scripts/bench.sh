#!/usr/bin/env bash
# The project's benchmarks, each figure printed beside its baseline (a ratio) and its
# target (figures are reported, not asserted):
#   1. create-PaymentIntent server function (POST /api/pay, embedded sandbox), 32 clients,
#      beside the Node baseline (bench/node-baseline: Stripe's integration-guide route,
#      express + stripe-node) on the same sandbox, in turns in the same run; each turn
#      ends once its webhooks are stored; then turns with no server (the floor)
#                                                         target >= 3x Node's requests/s
#   2. webhook ingest (signed events into POST /webhook, stored before the 2xx, 10 %
#      re-sends), SQLite; stored rows = distinct ids acknowledged  target >= 2,000/s
#      (2b: the same into the release server process, with its logs on)
#   3. weight of the release checkout page (HTML+CSS+JS+WASM, gzip -9, no Stripe.js),
#      beside Stripe's React 19 + Vite sample client (87,925 B, measured for issue 13)
#                                                          target <= 88,000 bytes
#   3b. every page of the shop, the account and the console     target <= 120,000 bytes
#   4. navigation -> card element ready, median of 20 cold loads, headless Chromium
#                                                               target <= 200 ms
#   5. sign-in must not stall payments: p99 of bench 1 while 20 sign-ins/s run
#      (Argon2id) beside it                              target < 2x bench 1's p99
#   6. weight of the checkout of a signed-in shopper with two saved cards
#                                                          target <= 120,000 bytes
#   7. merchant console pages over a seeded history (100,000 orders over 60 days,
#      300,000 stored events), 100 loads each by a signed-in merchant, SQLite and
#      PostgreSQL: /merchant, orders filtered / paged / searched, events (all, parked)
#                                                         target p95 < 200 ms per page
#   8. "Reconcile now" after the webhook missed ~10,000 events (deliveries paused at the
#      sandbox), SQLite: missed events applied per second; every order paid afterwards,
#      one stored event per event read                              (figure reported)
#
# Usage (no Makefile needed; run from anywhere):
#   scripts/bench.sh
# Environment knobs:
#   BENCH_SECONDS=10      duration of benches 1 and 2 (bench 1: half each for ours and Node's)
#   BENCH_CONCURRENCY=32  clients of benches 1 and 2
#   BENCH_DUPLICATES=0.1  share of webhook deliveries that re-send an earlier event
#   CARD_READY_RUNS=20    cold loads of bench 4
#   CONSOLE_ORDERS=100000 orders seeded for bench 7
#   CONSOLE_EVENTS=300000 stored Stripe events seeded for bench 7
#   CONSOLE_LOADS=100     timed loads of each page in bench 7
#   RECONCILE_EVENTS=10000  events the shop misses before bench 8's run
#   BENCH_DATABASE_URL=postgres://…  the PostgreSQL database of bench 7 (default: a
#                         fresh database on CHECKOUT_TEST_POSTGRES_URL when that is set,
#                         else a throw-away server from scripts/pg.sh; BENCH_POSTGRES=0
#                         measures SQLite only)
#   BENCH_ONLY="1 3 4"    run only these benches (1-8; 3 includes 3b and 6, 1 includes 5)
#   SKIP_BUILD=1          use the binaries and target/site already built
#   SERVER_BIN=path       server for 3, 4, 2b (default $CARGO_TARGET_DIR/release/server)
#   SITE_ROOT=dir         its site (default target/site)
#   BENCH_STRICT=1        exit 1 when a figure misses its target (default: report only)
#   BENCH_OUT=dir         where the JSON lines go (default $CARGO_TARGET_DIR/bench)
# Benches 1, 2, 7 and 8 run the server in the bench process, logs off (clients and
# server share the cores); 3, 4 and 2b run the release server (`cargo leptos build --release`)
# on a free loopback port with a throw-away data directory and the offline sandbox.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CHECKOUT_CACHE:-$HOME/.cache/rust-checkout}
# shellcheck disable=SC1091
. "$CACHE/toolchain.env"
cd "$ROOT"

SECONDS_PER_BENCH=${BENCH_SECONDS:-10}
CONCURRENCY=${BENCH_CONCURRENCY:-32}
DUPLICATES=${BENCH_DUPLICATES:-0.1}
RUNS=${CARD_READY_RUNS:-20}
CONSOLE_ORDERS=${CONSOLE_ORDERS:-100000}
CONSOLE_EVENTS=${CONSOLE_EVENTS:-300000}
CONSOLE_LOADS=${CONSOLE_LOADS:-100}
RECONCILE_EVENTS=${RECONCILE_EVENTS:-10000}
OUT=${BENCH_OUT:-$CARGO_TARGET_DIR/bench}
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"

step() { printf '\n\033[1;32m==> %s\033[0m\n' "$*"; }
warn() { printf '\033[1;31m%s\033[0m\n' "$*" >&2; }

DATA=$(mktemp -d /tmp/checkout-bench.XXXXXX)
SERVER_PID=
# Bench 7's PostgreSQL: a throw-away server (its directory), or a database made on
# CHECKOUT_TEST_POSTGRES_URL (its admin URL and name), removed at exit.
PG_DIR=
PG_ADMIN=
PG_DB=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ -n "$PG_DB" ]; then
    psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1 || true
  fi
  if [ -n "$PG_DIR" ]; then scripts/pg.sh stop "$PG_DIR" || true; fi
  rm -rf "$DATA"
}
trap cleanup EXIT

FAILED=()
# Runs a bench command, shows its output, and keeps its JSON lines.
run_bench() {
  local name=$1
  shift
  local log="$DATA/$name.out"
  if "$@" 2>&1 | tee "$log"; then
    :
  else
    warn "$name: failed (exit ${PIPESTATUS[0]})"
    FAILED+=("$name")
  fi
  grep -E '^\{"bench":' "$log" >>"$RESULTS" || true
}

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"

if [ "${SKIP_BUILD:-}" != 1 ]; then
  step "cargo build --release -p bench"
  cargo build --release -p bench
  step "cargo leptos build --release (server + WASM)"
  # The same release build as `make release` (size flags for the WASM where std is built
  # here; gzip and brotli copies of the files, which the server sends when accepted).
  # shellcheck disable=SC2086
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="${WASM_RELEASE_RUSTFLAGS:-}" \
    cargo leptos build --release --precompress $LEPTOS_ARGS ${LEPTOS_RELEASE_ARGS:-}
  scripts/pay.sh --release
fi
BENCH="$CARGO_TARGET_DIR/release/bench"
SERVER=${SERVER_BIN:-$CARGO_TARGET_DIR/release/server}
SITE=${SITE_ROOT:-$ROOT/target/site}

# BENCH_ONLY="1 3": only those benches (default: all).
want() { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }

if want 1; then
  step "1. create-PaymentIntent server function beside the Node baseline ($CONCURRENCY clients, ${SECONDS_PER_BENCH}s)"
  run_bench create-pi "$BENCH" create-pi -c "$CONCURRENCY" -d "$SECONDS_PER_BENCH" \
    --node "$ROOT/bench/node-baseline" --floor

  step "5. the same with 20 sign-ins/s beside it (Argon2id off the runtime)"
  run_bench create-pi-sign-ins "$BENCH" create-pi -c "$CONCURRENCY" -d "$SECONDS_PER_BENCH" \
    --reuse 0 --sign-ins 20
fi

if want 2; then
  step "2. webhook ingest ($CONCURRENCY clients, ${SECONDS_PER_BENCH}s, $DUPLICATES re-sends, SQLite)"
  run_bench webhook "$BENCH" webhook -c "$CONCURRENCY" -d "$SECONDS_PER_BENCH" --duplicates "$DUPLICATES"
fi

if want 2 || want 3 || want 4; then
  step "server $SERVER (offline sandbox, throw-away data)"
  PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  BASE="http://127.0.0.1:$PORT"
  WEBHOOK_SECRET="whsec_bench_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  export MERCHANT_EMAIL="bench-merchant@example.com"
  export MERCHANT_PASSWORD="bench merchant password $(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  # Every Stripe variable set (empty) so a developer's .env cannot switch to real Stripe.
  env LEPTOS_SITE_ROOT="$SITE" LEPTOS_SITE_ADDR="127.0.0.1:$PORT" LEPTOS_ENV=PROD STRIPE_SANDBOX=1 \
    DATA_DIR="$DATA/site-data" DATABASE_URL= LOG_FORMAT=json \
    STRIPE_SECRET_KEY= STRIPE_PUBLISHABLE_KEY= STRIPE_WEBHOOK_SECRET="$WEBHOOK_SECRET" \
    STRIPE_API_BASE= STRIPE_JS_URL= \
    STRIPE_SANDBOX_ADDR=127.0.0.1:0 STRIPE_SANDBOX_STATE=memory \
    RATE_LIMIT_SIGN_IN_PER_MINUTE=0 RATE_LIMIT_PAYMENTS_PER_MINUTE=0 \
    "$SERVER" >"$DATA/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 120); do
    if curl -fsS "$BASE/healthz" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      warn "the server exited:"; tail -20 "$DATA/server.log" >&2; exit 1
    fi
    sleep 0.5
  done
  curl -fsS "$BASE/healthz" >/dev/null || { warn "no /healthz at $BASE after 60 s"; exit 1; }
  echo "listening on $BASE"

  if want 3; then
    step "3. page weight of the checkout page (gzip -9)"
    run_bench page-weight node end2end/bench/page-weight.mjs "$BASE"

    step "3b. page weight of every page (shop, account, console)"
    run_bench page-weights node end2end/bench/page-weight.mjs "$BASE" --all

    step "6. page weight of the signed-in checkout with saved cards (gzip -9)"
    run_bench page-weight-signed-in node end2end/bench/page-weight.mjs "$BASE" --signed-in
  fi

  if want 4; then
    step "4. navigation -> card element ready ($RUNS cold loads, headless Chromium)"
    run_bench card-ready node end2end/bench/card-ready.mjs "$BASE" "$RUNS"
  fi

  if want 2; then
    step "2b. webhook ingest into this server (own process, JSON logs to a file, SQLite)"
    run_bench webhook-external "$BENCH" webhook -c "$CONCURRENCY" -d "$SECONDS_PER_BENCH" \
      --duplicates "$DUPLICATES" --url "$BASE" --secret "$WEBHOOK_SECRET" \
      --database "sqlite:$DATA/site-data/checkout.db"
  fi

  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
fi

if want 7; then
  step "7. merchant console pages ($CONSOLE_ORDERS orders, $CONSOLE_EVENTS events, $CONSOLE_LOADS loads each, SQLite)"
  run_bench console-sqlite "$BENCH" console --orders "$CONSOLE_ORDERS" --events "$CONSOLE_EVENTS" \
    -n "$CONSOLE_LOADS"

  # The same on PostgreSQL: BENCH_DATABASE_URL, else a fresh database on the tests' server,
  # else a throw-away server.
  PG_URL=
  if [ "${BENCH_POSTGRES:-1}" = 0 ]; then
    :
  elif [ -n "${BENCH_DATABASE_URL:-}" ]; then
    PG_URL=$BENCH_DATABASE_URL
  elif [ -n "${CHECKOUT_TEST_POSTGRES_URL:-}" ]; then
    name="checkout_bench_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
    if psql "$CHECKOUT_TEST_POSTGRES_URL" -qc "CREATE DATABASE $name" >/dev/null; then
      PG_ADMIN=$CHECKOUT_TEST_POSTGRES_URL
      PG_DB=$name
      PG_URL="${CHECKOUT_TEST_POSTGRES_URL%/*}/$name"
    else
      warn "cannot create a database on CHECKOUT_TEST_POSTGRES_URL: bench 7 on SQLite only"
    fi
  else
    PG_DIR=$(mktemp -d /tmp/checkout-bench-pg.XXXXXX)
    if ! PG_URL=$(scripts/pg.sh start "$PG_DIR"); then
      warn "no throw-away PostgreSQL (scripts/pg.sh start failed): bench 7 on SQLite only"
      PG_URL=
    fi
  fi
  if [ -n "$PG_URL" ]; then
    step "7. merchant console pages, PostgreSQL"
    run_bench console-postgres "$BENCH" console --orders "$CONSOLE_ORDERS" \
      --events "$CONSOLE_EVENTS" -n "$CONSOLE_LOADS" --database "$PG_URL"
  fi
fi

if want 8; then
  step "8. reconcile after $RECONCILE_EVENTS missed events (webhooks paused, SQLite)"
  run_bench reconcile "$BENCH" reconcile --events "$RECONCILE_EVENTS"
fi

step "summary (results in $RESULTS)"
SUMMARY_STATUS=0
RESULTS="$RESULTS" CONCURRENCY="$CONCURRENCY" node --input-type=module <<'EOF' || SUMMARY_STATUS=$?
import { readFileSync } from "node:fs";
const lines = readFileSync(process.env.RESULTS, "utf8").split("\n").filter(Boolean);
const parsed = lines.map((l) => JSON.parse(l));
const r = Object.fromEntries(
  parsed.map((j) => [j.server === "external" ? `${j.bench}@external` : j.bench, j]),
);
const rows = [];
let missed = 0;
// name, figure, baseline, figure / baseline, target, verdict, detail
function row(name, value, baseline, ratio, target, ok, detail = "") {
  const verdict = ok === undefined ? "not run" : ok ? "ok" : "MISSED";
  if (ok === false) missed++;
  rows.push([name, value, baseline, ratio, target, verdict, detail]);
}
const x = (a, b) => (a && b ? `${(a / b).toFixed(2)}x` : "-");
const kb = (n) => `${n.toLocaleString("en-US")} B`;
const c = process.env.CONCURRENCY;
const pi = r["create-pi"];
row(`1. create-PI /api/pay (${c} clients)`, pi ? `${Math.round(pi.rps)} req/s` : "-",
  pi?.node_rps ? `Node ${Math.round(pi.node_rps)} req/s` : "Node: not run", x(pi?.rps, pi?.node_rps), ">= 3x Node",
  pi && pi.node_rps ? pi.rps >= 3 * pi.node_rps && pi.errors === 0 && pi.node_errors === 0 : pi && undefined,
  pi ? `p50 ${pi.p50_ms} ms, p99 ${pi.p99_ms} ms, ${pi.errors} errors` +
    (pi.node_rps ? `; Node p50 ${pi.node_p50_ms} ms, p99 ${pi.node_p99_ms} ms` : "") +
    (pi.node_cpu_us_per_request ? `; CPU per request: ours ${pi.cpu_us_per_request} us all in, ` +
      `Node's turn ${pi.node_cpu_us_per_request} us in node + ${pi.node_turn_here_cpu_us_per_request} us in the bench` : "") +
    (pi.floor_cpu_us_per_request ? `; with no server (client, sandbox, webhooks) ${pi.floor_cpu_us_per_request} us, ` +
      `so a server costing nothing would reach about ${((pi.node_cpu_us_per_request + pi.node_turn_here_cpu_us_per_request) / pi.floor_cpu_us_per_request).toFixed(2)}x` : "") +
    (r["create-pi-reuse"] ? `; reuse ${Math.round(r["create-pi-reuse"].rps)}/s p50 ${r["create-pi-reuse"].p50_ms} ms` : "") : "");
const wh = r["webhook"];
row(`2. webhook ingest (${c} clients, SQLite)`, wh ? `${Math.round(wh.rps)} events/s` : "-",
  "target 2,000/s", x(wh?.rps, 2000), ">= 2,000/s",
  wh && wh.rps >= 2000 && wh.errors === 0 && wh.stored === wh.distinct,
  wh ? `p50 ${wh.p50_ms} ms, p99 ${wh.p99_ms} ms, ${wh.errors} errors, stored ${wh.stored} / distinct ${wh.distinct}` : "");
const wx = r["webhook@external"];
row("2b. webhook ingest, server process", wx ? `${Math.round(wx.rps)} events/s` : "-",
  "target 2,000/s", x(wx?.rps, 2000), ">= 2,000/s",
  wx && wx.rps >= 2000 && wx.errors === 0 && wx.stored === wx.distinct,
  wx ? `p50 ${wx.p50_ms} ms, p99 ${wx.p99_ms} ms, ${wx.errors} errors, stored ${wx.stored} / distinct ${wx.distinct}` : "");
// Stripe's custom-payment-flow client (React 19 + Vite, every payment method page in
// one bundle), gzip -9, as measured for issue 13; its plain-HTML card page: 2,851 B.
const REACT_SAMPLE = 87925;
const pw = r["page-weight"];
row("3. checkout page weight (gzip -9)", pw ? kb(pw.total_gzip) : "-",
  `React sample ${kb(REACT_SAMPLE)}`, x(pw?.total_gzip, REACT_SAMPLE), "<= 88,000 B",
  pw && pw.total_gzip <= 88000 && pw.missing.length === 0,
  pw ? Object.entries(pw.by_kind).map(([k, v]) => `${k} ${v.gzip}`).join(", ") +
    `; sent ${pw.total_sent} B (` +
    pw.files.map((f) => `${f.kind} ${f.encoding}`).join(", ") + ")" +
    (pw.missing.length ? `; MISSING ${pw.missing.join(" ")}` : "") : "");
const all = r["page-weights"];
row("3b. heaviest page (shop, account, console)", all ? kb(all.heaviest.total_gzip) : "-",
  "target 120,000 B", x(all?.heaviest.total_gzip, 120000), "<= 120,000 B",
  all && all.pages.every((p) => p.total_gzip <= 120000 && !p.missing),
  all ? `${all.heaviest.path}; ${all.pages.length} pages: ` +
    all.pages.map((p) => `${p.path} ${(p.total_gzip / 1000).toFixed(1)}k`).join(", ") : "");
const cr = r["card-ready"];
row(`4. card element ready (median of ${cr ? cr.runs : "?"})`, cr ? `${cr.median_ms} ms` : "-",
  "target 200 ms", x(cr?.median_ms, 200), "<= 200 ms",
  cr && cr.median_ms <= 200,
  cr ? `p90 ${cr.p90_ms}, min ${cr.min_ms}, max ${cr.max_ms} ms` : "");
const si = r["create-pi-sign-ins"];
row("5. /api/pay p99 beside 20 sign-ins/s", si ? `p99 ${si.p99_ms} ms` : "-",
  pi ? `alone p99 ${pi.p99_ms} ms` : "-", x(si?.p99_ms, pi?.p99_ms), "< 2x alone",
  si && pi && si.p99_ms < 2 * pi.p99_ms && si.errors === 0 && si.sign_in_errors === 0,
  si ? `${Math.round(si.rps)} req/s, ${si.sign_ins_per_s.toFixed(1)} sign-ins/s, ${si.sign_in_errors} failed` : "");
const ps = r["page-weight-signed-in"];
row("6. signed-in checkout, saved cards", ps ? kb(ps.total_gzip) : "-",
  pw ? `guest checkout ${kb(pw.total_gzip)}` : "-", x(ps?.total_gzip, pw?.total_gzip), "<= 120,000 B",
  ps && ps.total_gzip <= 120000 && ps.missing.length === 0,
  ps ? Object.entries(ps.by_kind).map(([k, v]) => `${k} ${v.gzip}`).join(", ") : "");
for (const backend of ["sqlite", "postgres"]) {
  const pages = parsed.filter((j) => j.bench === "console" && j.backend === backend);
  if (!pages.length) {
    if (backend === "sqlite") row("7. console pages p95 (sqlite)", "-", "-", "-", "< 200 ms", undefined);
    continue;
  }
  const worst = pages.reduce((a, b) => (b.p95_ms > a.p95_ms ? b : a));
  const errors = pages.reduce((n, j) => n + j.errors, 0);
  row(`7. console pages p95 (${backend})`, `${worst.p95_ms} ms`, "target 200 ms", x(worst.p95_ms, 200), "< 200 ms",
    pages.every((j) => j.p95_ms < 200 && j.errors === 0),
    `worst ${worst.page}; ${pages.length} pages, ${worst.orders} orders, ${worst.events} events, ${errors} errors; ` +
      pages.map((j) => `${j.page.replace("/merchant", "") || "/"} ${j.p95_ms}`).join(", "));
}
const rc = r["reconcile"];
row("8. reconcile after missed webhooks", rc ? `${Math.round(rc.events_per_s)} events/s` : "-", "-", "-", "reported",
  rc && rc.error === null && rc.orders_paid === rc.orders && rc.stored === rc.events_read,
  rc ? `${rc.events} missed events in ${rc.seconds} s, ${rc.objects} objects checked, ${rc.drifts} drifts, ` +
    `${rc.orders_paid}/${rc.orders} orders paid, ${rc.stored} stored / ${rc.events_read} read` : "");
const head = ["bench", "figure", "baseline", "ratio", "target", "verdict", "detail"];
const w = [0, 1, 2, 3, 4, 5].map((i) => Math.max(head[i].length, ...rows.map((x) => x[i].length)));
for (const x of [head, ...rows]) {
  console.log(`${x[0].padEnd(w[0])}  ${x[1].padStart(w[1])}  ${x[2].padEnd(w[2])}  ${x[3].padStart(w[3])}  ${x[4].padEnd(w[4])}  ${x[5].padEnd(w[5])}  ${x[6]}`);
}
console.log(`(${new Date().toISOString().slice(0, 10)}; ratio = figure / baseline)`);
process.exit(missed ? 3 : 0);
EOF
echo "(machine: $(nproc) cores, load average now $(cut -d' ' -f1-3 /proc/loadavg); benches 1-2, 7-8 share the cores between clients and server)"

if [ ${#FAILED[@]} -gt 0 ]; then
  warn "failed: ${FAILED[*]}"
  exit 1
fi
if [ "$SUMMARY_STATUS" = 3 ] && [ "${BENCH_STRICT:-}" = 1 ]; then
  warn "some figures missed their targets (BENCH_STRICT=1)"
  exit 1
fi
[ "$SUMMARY_STATUS" = 0 ] || [ "$SUMMARY_STATUS" = 3 ] || exit 1
