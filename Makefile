# Contacts: `make run` and `make test` set up everything they need on a fresh machine.
# Every install step checks first, so a second run is quiet and quick.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO_LEPTOS_VERSION := 0.3.10
# The wasm-bindgen CLI must match the library version locked in Cargo.lock exactly.
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/"/, "", $$3); print $$3 }' Cargo.lock)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PATH := $(HOME)/.cargo/bin:$(PATH)

# Where the end-to-end suite's server keeps its (fresh each run) database.
E2E_DATA_DIR := target/e2e-data

.PHONY: help run test bench tools test-tools wasm-target cargo-leptos wasm-bindgen wasm-opt chromium end2end-deps lint unit e2e

help:
	@echo "make run    build (release) and serve Contacts on ./data/contacts.db"
	@echo "make test   fmt, clippy, unit + database tests, then the Playwright suite"
	@echo "make bench  run the benchmarks and print their figures"

## --- the two commands ---------------------------------------------------------------

run: tools
	cargo leptos build --release
	@echo "Serving Contacts; open the URL printed below (Ctrl-C stops it)."
	LEPTOS_SITE_ROOT=target/site LEPTOS_ENV=PROD ./target/release/contacts

test: test-tools lint unit e2e

bench: tools
	cargo leptos build --release
	cargo bench --features ssr --bench contacts

## --- steps --------------------------------------------------------------------------

lint:
	cargo fmt --all -- --check
	cargo clippy --features ssr --all-targets -- -D warnings
	cargo clippy --features hydrate --lib --target wasm32-unknown-unknown -- -D warnings

unit:
	cargo test --features ssr

e2e:
	rm -rf $(E2E_DATA_DIR)
	CONTACTS_DATA_DIR=$(E2E_DATA_DIR) CI=$${CI:-} cargo leptos end-to-end

## --- installs (idempotent) ------------------------------------------------------------

tools: wasm-target cargo-leptos wasm-bindgen wasm-opt

test-tools: tools chromium end2end-deps

wasm-target:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown \
		|| rustup target add wasm32-unknown-unknown

cargo-leptos:
	@cargo leptos --version 2>/dev/null | grep -q "$(CARGO_LEPTOS_VERSION)" \
		|| cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked

wasm-bindgen:
	@wasm-bindgen --version 2>/dev/null | grep -q "$(WASM_BINDGEN_VERSION)" \
		|| cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --force

wasm-opt:
	@command -v wasm-opt >/dev/null \
		|| { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq binaryen; }

chromium:
	@command -v chromium >/dev/null \
		|| { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

end2end-deps:
	@[ -d end2end/node_modules/@playwright/test ] \
		|| (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
