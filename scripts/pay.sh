#!/usr/bin/env bash
# Builds the `pay` crate (the forms of the shop, cart, sign-in, cards and checkout pages
# without Leptos) as two modules: /pay/pay.js and /pay/pay_bg.wasm (the checkout's
# payment form), /pay/shop.js and /pay/shop_bg.wasm (the other pages' forms).
# cargo-leptos builds one WASM crate (`frontend`, the Leptos islands of the other pages)
# and makes the site a mirror of its assets directory plus `pkg`: the modules go to that
# assets directory (target/pay-assets/pay, see Cargo.toml), which cargo-leptos copies
# into the site at its next build (and at once while `cargo leptos watch` runs), and into
# the site itself, so a site already built has them now. `make dev`, `make test`, `make release` and
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
# One module per feature of the crate (pay/Cargo.toml): NAME FEATURE.
build_module() {
  local name=$1 feature=$2
  if [ "${RELEASE:-}" = 1 ]; then
    # The release flags of the Leptos module (scripts/toolchain.sh): size first.
    # shellcheck disable=SC2086
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="${WASM_RELEASE_RUSTFLAGS:-}" \
      cargo build -p pay --lib --no-default-features --features "$feature" --target "$TARGET" \
      --target-dir "$TARGET_DIR" --profile wasm-release ${WASM_BUILD_STD:-} ${WASM_RELEASE_STD:-}
    wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
      --out-dir "$OUT" --out-name "$name" "$TARGET_DIR/$TARGET/wasm-release/pay.wasm"
    # The target's features, which rustc uses (wasm-opt refuses them unless told).
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
      --enable-mutable-globals --enable-reference-types --enable-multivalue \
      "$OUT/${name}_bg.wasm" -o "$OUT/${name}_bg.wasm"
    # gzip -9 copies beside the files (the server sends `pay_bg.wasm.gz` to a browser
    # that accepts gzip, as it does for cargo-leptos' `--precompress`ed pkg); none in
    # debug, where a stale copy would be served in place of the new module.
    gzip -9 -k -n "$OUT/$name.js" "$OUT/${name}_bg.wasm"
  else
    # shellcheck disable=SC2086
    cargo build -p pay --lib --no-default-features --features "$feature" --target "$TARGET" \
      --target-dir "$TARGET_DIR" ${WASM_BUILD_STD:-}
    wasm-bindgen --target web --no-typescript --out-dir "$OUT" --out-name "$name" \
      "$TARGET_DIR/$TARGET/debug/pay.wasm"
  fi
  for dir in "$ASSETS" "$SITE/pay"; do
    mkdir -p "$dir"
    rm -f "$dir/$name.js".* "$dir/${name}_bg.wasm".*
    cp "$OUT/$name.js"* "$OUT/${name}_bg.wasm"* "$dir/"
  done
  echo "$name module: $ASSETS and $SITE/pay ($(wc -c <"$OUT/${name}_bg.wasm") bytes of WASM)"
}
RELEASE=
if [ "${1:-}" = --release ]; then RELEASE=1; fi
build_module pay checkout
build_module shop shop
