#!/usr/bin/env bash
# Installs everything `make dev` and `make test` need, then writes the environment file
# the other scripts source. Idempotent: when all is installed it only checks versions.
#
# Two ways to get a wasm32 standard library:
#   * rustup can add the target (a normal laptop or CI): `rustup target add`.
#   * it cannot (these offline machines): Debian's rustc-web 1.96 + rust-web-src rebuild
#     std from source with -Zbuild-std, which needs RUSTC_BOOTSTRAP=1.
# RUSTC_BOOTSTRAP=1 is exported in both cases so that no call ever flips it (flipping
# it makes cargo rebuild nearly everything).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CHECKOUT_CACHE:-$HOME/.cache/rust-checkout}
TOOLS=$CACHE/tools
ENV_FILE=$CACHE/toolchain.env
CARGO_LEPTOS_VERSION=0.3.11
BINARYEN_VERSION=132.0.0
mkdir -p "$TOOLS/bin" "$CACHE/target"

log() { printf '\033[1;34m[toolchain]\033[0m %s\n' "$*" >&2; }

APT_UPDATED=
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null; then
        log "missing packages ${missing[*]} and no apt-get: install them by hand"; exit 1
    fi
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    if [ -z "$APT_UPDATED" ]; then
        log "apt-get update"; $sudo apt-get update -qq; APT_UPDATED=1
    fi
    log "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# --- Rust toolchain and the wasm32 std --------------------------------------------------
# CHECKOUT_WASM_STD=rustup|debian forces a choice; otherwise the first detection sticks.
MODE_FILE=$CACHE/mode
MODE=${CHECKOUT_WASM_STD:-$(cat "$MODE_FILE" 2>/dev/null || true)}
case "$MODE" in ""|rustup|debian) ;; *) log "CHECKOUT_WASM_STD must be rustup or debian"; exit 2 ;; esac
if [ -n "$MODE" ]; then
    echo "$MODE" > "$MODE_FILE"
else
    # rustup's toolchain must also be new enough for cargo-leptos 0.3.11 (cargo >= 1.96).
    RUSTUP_CARGO=$(rustup which cargo 2>/dev/null || true)
    RUSTUP_VERSION=$("${RUSTUP_CARGO:-false}" --version 2>/dev/null | awk '{print $2}')
    if [ -n "$RUSTUP_VERSION" ] \
        && [ "$(printf '%s\n1.96.0\n' "$RUSTUP_VERSION" | sort -V | head -n 1)" = 1.96.0 ] \
        && { rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
             || timeout 120 rustup target add wasm32-unknown-unknown >/dev/null 2>&1; }; then
        MODE=rustup
    else
        MODE=debian
    fi
    echo "$MODE" > "$MODE_FILE"
    log "wasm32 std from: $MODE"
fi

if [ "$MODE" = debian ]; then
    apt_install rustc-web cargo-web rust-web-src rust-web-clippy rustfmt-web lld-22
    PATH_PREFIX="$TOOLS/bin:$TOOLS/npm/node_modules/.bin:/usr/bin"
    LEPTOS_ARGS="--split --lib-cargo-args=-Zbuild-std=std,panic_abort"
    # Release WASM only: a std built for size, panics that abort without formatting a
    # message (no panic strings or formatting code in the bundle), and no source locations
    # kept for `#[track_caller]` (file paths nothing reads once panics print nothing:
    # 3.5 kB gzip off the main module).
    LEPTOS_RELEASE_ARGS="--lib-cargo-args=-Zbuild-std-features=optimize_for_size"
    WASM_RELEASE_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none"
    # The same for the checkout's `pay` module, which scripts/pay.sh builds with cargo.
    WASM_BUILD_STD="-Zbuild-std=std,panic_abort"
    WASM_RELEASE_STD="-Zbuild-std-features=optimize_for_size"
else
    PATH_PREFIX="$TOOLS/bin:$TOOLS/npm/node_modules/.bin:$HOME/.cargo/bin"
    LEPTOS_ARGS="--split"
    LEPTOS_RELEASE_ARGS=""
    WASM_RELEASE_RUSTFLAGS=""
    WASM_BUILD_STD=""
    WASM_RELEASE_STD=""
fi
export PATH="$PATH_PREFIX:$PATH" RUSTC_BOOTSTRAP=1

# --- Browser, database and Node for the tests -------------------------------------------
apt_install chromium postgresql
command -v npm >/dev/null || apt_install nodejs npm

# --- cargo-leptos, wasm-bindgen-cli (the lockfile's version), wasm-opt ---------------------
# No registry ships a build of either, so they are compiled here. Their own release
# profiles ask for fat LTO in one codegen unit (cargo-leptos: ~20 of its ~38 cold minutes
# are one single-threaded LTO link of its final crate). These tools only orchestrate the
# build, so a quicker, less optimised build of them is enough: cargo's config overrides
# the installed package's profile. CHECKOUT_TOOLS_FULL_OPT=1 keeps their own profiles.
install_env=(env)
if [ -z "${CHECKOUT_TOOLS_FULL_OPT:-}" ]; then
    install_env=(env CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
        CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=false
        CARGO_PROFILE_RELEASE_INCREMENTAL=false)
fi
if [ "$("$TOOLS/bin/cargo-leptos" --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
    log "cargo install cargo-leptos $CARGO_LEPTOS_VERSION (slow on a cold machine)"
    "${install_env[@]}" cargo install --locked --quiet cargo-leptos --version "$CARGO_LEPTOS_VERSION" --root "$TOOLS"
fi
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' "$ROOT/Cargo.lock")
if [ "$("$TOOLS/bin/wasm-bindgen" --version 2>/dev/null | awk '{print $2}')" != "$WB_VERSION" ]; then
    log "cargo install wasm-bindgen-cli $WB_VERSION"
    # Not --locked: its own lockfile wants a crate version the registry does not serve.
    "${install_env[@]}" cargo install --quiet --force wasm-bindgen-cli --version "$WB_VERSION" --root "$TOOLS"
fi
# wasm-opt from npm's binaryen (never Debian's binaryen 108: its output does not hydrate).
if [ "$("$TOOLS/npm/node_modules/.bin/wasm-opt" --version 2>/dev/null | awk '{print $3}')" != "${BINARYEN_VERSION%%.*}" ]; then
    log "npm install binaryen@$BINARYEN_VERSION (wasm-opt)"
    npm install --silent --no-fund --no-audit --prefix "$TOOLS/npm" "binaryen@$BINARYEN_VERSION" >/dev/null
fi

# --- Node packages of the tests (Playwright uses Debian's chromium, never downloads one) ---
for dir in end2end stripe/sandbox/npm-check bench/node-baseline; do
    if [ ! -d "$ROOT/$dir/node_modules" ] || [ "$ROOT/$dir/package-lock.json" -nt "$ROOT/$dir/node_modules/.package-lock.json" ]; then
        log "npm ci in $dir"
        (cd "$ROOT/$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-fund --no-audit >/dev/null)
    fi
done

cat > "$ENV_FILE" <<ENV
# Written by scripts/toolchain.sh; source it to build by hand with the same settings.
export PATH="$PATH_PREFIX:\$PATH"
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="$CACHE/target"
# Extra arguments for every \`cargo leptos\` call: \`--split\` (the islands are lazy: each
# page loads only its own islands' WASM) and build-std where the wasm32 std is built here.
export LEPTOS_ARGS="$LEPTOS_ARGS"
# Added for release builds (\`make release\`, scripts/bench.sh): see scripts/toolchain.sh.
export LEPTOS_RELEASE_ARGS="$LEPTOS_RELEASE_ARGS"
export WASM_RELEASE_RUSTFLAGS="$WASM_RELEASE_RUSTFLAGS"
# cargo's own arguments for the wasm32 std (scripts/pay.sh): build-std where it is built here.
export WASM_BUILD_STD="$WASM_BUILD_STD"
export WASM_RELEASE_STD="$WASM_RELEASE_STD"
export CHROMIUM_PATH=$(command -v chromium || echo /usr/bin/chromium)
ENV
