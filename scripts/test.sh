#!/usr/bin/env bash
# Every test: formatting and lints, the workspace's Rust tests (storage against SQLite
# and a throw-away PostgreSQL), the WASM build, and Playwright in headless Chromium.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CHECKOUT_CACHE:-$HOME/.cache/rust-checkout}
# shellcheck disable=SC1091
. "$CACHE/toolchain.env"
cd "$ROOT"
# No incremental compilation here: every run is a full check, and the incremental cache
# of the big debug crates grew past 25 GB and filled the disk (`make dev` keeps it).
export CARGO_INCREMENTAL=0

step() { printf '\n\033[1;32m==> %s\033[0m\n' "$*"; }

PG_DIR=$(mktemp -d /tmp/checkout-pg.XXXXXX)
E2E_DATA=$(mktemp -d /tmp/checkout-e2e.XXXXXX)
RUN_START=$(date +%s)
# At the end, pass or fail: the outputs this run's builds replaced leave the target
# directory (it outlives every clone, and filled the disk).
cleanup() {
  scripts/pg.sh stop "$PG_DIR"
  rm -rf "$E2E_DATA"
  python3 scripts/prune-target.py "$CARGO_TARGET_DIR" "$RUN_START" || true
}
trap cleanup EXIT

step "cargo fmt --check"
cargo fmt --all -- --check

step "the scripts' own tests (python3 -m unittest)"
python3 -m unittest discover -s scripts -p "test_*.py"

step "cargo clippy (server side, then the browser side's features)"
cargo clippy --workspace --exclude frontend --all-targets -- -D warnings
cargo clippy -p app --features hydrate -- -D warnings

step "PostgreSQL (throw-away, 127.0.0.1)"
CHECKOUT_TEST_POSTGRES_URL=$(scripts/pg.sh start "$PG_DIR")
export CHECKOUT_TEST_POSTGRES_URL CHECKOUT_REQUIRE_POSTGRES=1
echo "$CHECKOUT_TEST_POSTGRES_URL"

step "cargo test (native: unit and integration tests, SQLite and PostgreSQL)"
cargo test --workspace --exclude frontend

step "Stripe's own Node client against the sandbox (npm \`stripe\`)"
cargo build -p stripe-sandbox --bin stripe-sandbox
(cd stripe/sandbox/npm-check && SANDBOX_BIN="$CARGO_TARGET_DIR/debug/stripe-sandbox" node --test)

step "cargo leptos build (server + WASM), then the pay crate's two modules"
# shellcheck disable=SC2086
cargo leptos build $LEPTOS_ARGS
scripts/pay.sh

step "Playwright (headless Chromium)"
export SERVER_BIN="$CARGO_TARGET_DIR/debug/server" E2E_DATA_DIR="$E2E_DATA" LEPTOS_SITE_ROOT="$ROOT/target/site"
(cd end2end && npx playwright test)

step "Drills, short (bench drill: two servers on one PostgreSQL; kill -9; 30 % sandbox faults)"
cargo build -p bench --bin bench
SKIP_BUILD=1 DRILL_SHOPPERS=40 DRILL_DATABASE="$CHECKOUT_TEST_POSTGRES_URL" scripts/drill.sh

step "Benchmark harness, short (bench create-pi beside the Node baseline and the floor: all answer, 0 errors, one webhook event per call)"
"$CARGO_TARGET_DIR/debug/bench" create-pi -c 8 -n 200 --warmup 0.5 --reuse 0 --node "$ROOT/bench/node-baseline" --floor
