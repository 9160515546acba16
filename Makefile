# The two commands: `make dev` runs the app, `make test` runs every test.
# Both first install whatever is missing (scripts/toolchain.sh), then are fast.
SHELL := /bin/bash
CACHE ?= $(HOME)/.cache/rust-checkout
export CHECKOUT_CACHE := $(CACHE)
ENV_FILE := $(CACHE)/toolchain.env

.PHONY: dev test setup fmt lint release

# The checkout's `pay` module first (cargo-leptos copies it into the site; after a change
# to `pay/`, scripts/pay.sh rebuilds it while this runs).
dev: setup
	scripts/pay.sh
	. $(ENV_FILE) && cargo leptos watch $$LEPTOS_ARGS

test: setup
	scripts/test.sh

setup:
	@scripts/toolchain.sh

fmt: setup
	. $(ENV_FILE) && cargo fmt --all

lint: setup
	. $(ENV_FILE) && cargo clippy --workspace --exclude frontend --all-targets -- -D warnings

release: setup
	. $(ENV_FILE) && CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$$WASM_RELEASE_RUSTFLAGS" \
		cargo leptos build --release --precompress $$LEPTOS_ARGS $$LEPTOS_RELEASE_ARGS
	scripts/pay.sh --release
