#!/usr/bin/env bash
# Builds the `pay` module (the `pay` crate: the forms of the shop, cart, cards and
# checkout pages without Leptos), served as /pay/pay.js and /pay/pay_bg.wasm.
# cargo-leptos builds one WASM crate (`frontend`, the Leptos islands of the other pages)
# and makes the site a mirror of its
# assets directory plus `pkg`: the module goes to that assets directory
# (target/pay-assets/pay, see Cargo.toml), which cargo-leptos copies into the site at its
# next build (and at once while `cargo leptos watch` runs), and into the site itself, so
# a site already built has it now. `make dev`, `make test`, `make release` and
# scripts/bench.sh run it.
#
#   scripts/pay.sh [--release]     (the site: $LEPTOS_SITE_ROOT, default target/site)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CHECKOUT_CACHE:-$HOME/.cache/rust-checkout}
# shellcheck disable=SC1091
. "$CACHE/toolchain.env"
cd "$ROOT"
SITE=${LEPTOS_SITE_ROOT:-target/site}
TARGET=wasm32-unknown-unknown
# Beside cargo-leptos' own WASM build, so both share the wasm32 std and dependencies.
TARGET_DIR="$CARGO_TARGET_DIR/front"
ASSETS=target/pay-assets/pay
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
if [ "${1:-}" = --release ]; then
  # The release flags of the Leptos module (scripts/toolchain.sh): size first.
  # shellcheck disable=SC2086
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="${WASM_RELEASE_RUSTFLAGS:-}" \
    cargo build -p pay --lib --target "$TARGET" --target-dir "$TARGET_DIR" \
    --profile wasm-release ${WASM_BUILD_STD:-} ${WASM_RELEASE_STD:-}
  wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
    --out-dir "$OUT" --out-name pay "$TARGET_DIR/$TARGET/wasm-release/pay.wasm"
  # The target's features, which rustc uses (wasm-opt refuses them unless told).
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$OUT/pay_bg.wasm" -o "$OUT/pay_bg.wasm"
else
  # shellcheck disable=SC2086
  cargo build -p pay --lib --target "$TARGET" --target-dir "$TARGET_DIR" ${WASM_BUILD_STD:-}
  wasm-bindgen --target web --no-typescript --out-dir "$OUT" --out-name pay \
    "$TARGET_DIR/$TARGET/debug/pay.wasm"
fi
# Release: gzip -9 copies beside the files (the server sends `pay_bg.wasm.gz` to a
# browser that accepts gzip, as it does for cargo-leptos' `--precompress`ed pkg); none in
# debug, where a stale copy would be served in place of the new module.
if [ "${1:-}" = --release ]; then
  gzip -9 -k -n "$OUT/pay.js" "$OUT/pay_bg.wasm"
fi
for dir in "$ASSETS" "$SITE/pay"; do
  mkdir -p "$dir"
  rm -f "$dir"/pay.js.* "$dir"/pay_bg.wasm.*
  cp "$OUT"/pay.js* "$OUT"/pay_bg.wasm* "$dir/"
done
echo "pay module: $ASSETS and $SITE/pay ($(wc -c <"$OUT/pay_bg.wasm") bytes of WASM)"
