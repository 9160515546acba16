#!/usr/bin/env bash
# The fault drills (`bench drill`, bench/src/drill.rs): two `server` processes on one
# PostgreSQL behind the standalone Stripe sandbox, N shoppers paying through the server
# functions and confirming at the sandbox as Stripe.js does (80 % card 4242, 10 %
# declined, 10 % 3-D Secure), then the invariants read from PostgreSQL and the sandbox:
# each order's state is its PaymentIntent's, 0 lost paid orders, 0 duplicate charges,
# 0 orders stuck pending with a succeeded PaymentIntent, each event stored once.
#   1. instances  the load alone
#   2. kill       instance A killed with SIGKILL mid-load, restarted 2 s later
#   3. faults     30 % of the sandbox's /v1 requests fail (500, 429, delays, connections
#                 dropped before or after taking effect); webhooks duplicated, newest first
# Each prints its figures and a JSON line; the script exits 1 when an invariant fails
# (logs and database kept, their place printed).
#
# Usage: scripts/drill.sh [bench drill flags…]     e.g. --only kill   --shoppers 500
# Environment knobs:
#   DRILL_SHOPPERS=200
#   DRILL_DATABASE=postgres://…  a PostgreSQL admin URL (each drill makes its own fresh
#                    database there); default CHECKOUT_TEST_POSTGRES_URL when set, else a
#                    throw-away server from scripts/pg.sh
#   SKIP_BUILD=1     use the debug binaries already built (bench, server, stripe-sandbox)
#   BENCH_OUT=dir    where drill.log and drill.jsonl go (default $CARGO_TARGET_DIR/bench)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CHECKOUT_CACHE:-$HOME/.cache/rust-checkout}
# shellcheck disable=SC1091
. "$CACHE/toolchain.env"
cd "$ROOT"
export CARGO_INCREMENTAL=0

BIN=$CARGO_TARGET_DIR/debug
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  cargo build -p bench -p server -p stripe-sandbox --bins
fi
OUT=${BENCH_OUT:-$CARGO_TARGET_DIR/bench}
mkdir -p "$OUT"

DB_ARGS=()
DB=${DRILL_DATABASE:-${CHECKOUT_TEST_POSTGRES_URL:-}}
if [ -n "$DB" ]; then DB_ARGS=(--database "$DB"); fi

set +e
"$BIN/bench" drill --shoppers "${DRILL_SHOPPERS:-200}" "${DB_ARGS[@]}" \
  --server-bin "$BIN/server" --sandbox-bin "$BIN/stripe-sandbox" "$@" 2>&1 | tee "$OUT/drill.log"
status=${PIPESTATUS[0]}
set -e
grep '^{"bench":"drill"' "$OUT/drill.log" >"$OUT/drill.jsonl" || true
exit "$status"
