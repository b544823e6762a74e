# Contacts: `make run` and `make test` set up everything they need on a fresh machine.
# Every install step checks first, so a second run is quiet and quick.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO_LEPTOS_VERSION := 0.3.10
# The wasm-bindgen CLI must match the library version locked in Cargo.lock exactly.
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/"/, "", $$3); print $$3 }' Cargo.lock)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Binaryen's wasm-opt, pinned in tools/binaryen/package.json and installed there by npm.
# cargo-leptos runs the first `wasm-opt` on the PATH for release builds; Debian's
# binaryen 108 turns this app's WASM into a bundle that never hydrates.
WASM_OPT_DIR := tools/binaryen
BINARYEN_VERSION := $(shell sed -n 's/.*"binaryen": "\([0-9.]*\)".*/\1/p' $(WASM_OPT_DIR)/package.json)
export PATH := $(CURDIR)/$(WASM_OPT_DIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

# The release build `make run` serves: brotli/gzip copies of the static files beside
# them, and the screens not needed first split into WASM files of their own (the lazy
# routes and `#[lazy]` functions need `--split` in every build, debug included).
RELEASE := --release --precompress --split
# `cargo leptos end-to-end` exits 0 when the build fails, so each e2e step builds first.

# `make run` builds only when something the build reads changed: cargo-leptos redoes the
# JS/WASM (wasm-bindgen, wasm-opt) on every build, over a minute with nothing changed.
# The mark lives in the site folder, which every cargo-leptos build empties first, so a
# debug build (`make test`) or a build that failed leaves none.
RELEASE_BUILT := target/site/.release-build
BUILD_INPUTS := $(shell find src style public migrations -type f) \
	Cargo.toml Cargo.lock Makefile $(WASM_OPT_DIR)/package.json

# The spreadsheet preview's reader: crates/sheets built for the browser as a WASM module
# of its own (crates/sheet-reader), which the Upload tab loads in a Web Worker only when a
# spreadsheet is chosen. Built into public/, which cargo-leptos copies into the site; one
# size-optimised build serves the debug and release sites alike.
SHEET_READER_DIR := public/sheet-reader
SHEET_READER := $(SHEET_READER_DIR)/sheet_reader_bg.wasm
SHEET_READER_WASM := target/wasm32-unknown-unknown/wasm-release/sheet_reader.wasm
SHEET_READER_INPUTS := $(shell find crates -type f) Cargo.toml Cargo.lock

# Where the end-to-end suite's server keeps its (fresh each run) database.
E2E_DATA_DIR := target/e2e-data
# The same for `make screenshots`.
SCREENSHOTS_DATA_DIR := target/screenshots-data

.PHONY: help run test bench screenshots tools test-tools wasm-target cargo-leptos openssl-dev wasm-bindgen wasm-opt node chromium postgres s3 end2end-deps lint unit e2e e2e-postgres e2e-release

help:
	@echo "make run    build (release) and serve Contacts on ./data/contacts.db"
	@echo "make test   fmt, clippy, unit + database tests, then the Playwright suite"
	@echo "make bench  run the benchmarks and print their figures"
	@echo "make screenshots  retake the README's screenshots from the release build"

## --- the two commands ---------------------------------------------------------------

run: tools $(RELEASE_BUILT)
	@echo "Serving Contacts; open the URL printed below (Ctrl-C stops it)."
	LEPTOS_SITE_ROOT=target/site LEPTOS_OUTPUT_NAME=contacts LEPTOS_HASH_FILES=true \
		LEPTOS_ENV=PROD ./target/release/contacts

test: test-tools lint unit e2e e2e-postgres e2e-release

# The benchmark builds the server the way cargo-leptos does (views erased), so the release
# build is reused instead of rebuilt with other flags.
# The database figures are measured on SQLite and on PostgreSQL, in a throwaway cluster
# that flushes at each commit as a real server does; uploads into a bucket go to moto's
# S3-compatible server.
bench: tools postgres s3 $(SHEET_READER)
	cargo leptos build $(RELEASE)
	CONTACTS_POSTGRES_DURABLE=1 RUSTFLAGS="--cfg erase_components" \
		tools/s3/with-server tools/postgres/with-cluster cargo bench --features ssr --bench contacts

# The README's pictures (docs/screenshots/), taken from the release build on a fresh database.
screenshots: test-tools $(SHEET_READER)
	rm -rf $(SCREENSHOTS_DATA_DIR)
	cargo leptos build $(RELEASE)
	CONTACTS_DATA_DIR=$(SCREENSHOTS_DATA_DIR) LEPTOS_ENV=PROD \
		LEPTOS_END2END_CMD="npx playwright test --config screenshots.config.ts" \
		cargo leptos end-to-end $(RELEASE)

## --- steps --------------------------------------------------------------------------

# The mark carries the time the build started: a file changed during it is newer.
# cargo-leptos builds the front and then the server when it hashes or precompresses
# files, so the second core waits while the front ends on one (wasm-bindgen and wasm-opt,
# 82 s). Here the two build at once, the server at the lowest priority: it compiles on
# what the front leaves idle without slowing the front.
$(RELEASE_BUILT): $(BUILD_INPUTS) $(SHEET_READER) | tools
	mkdir -p target && touch target/.release-build-started
	nice -n 19 cargo leptos build $(RELEASE) --server-only & server=$$!; \
		front=0; cargo leptos build $(RELEASE) --frontend-only || front=$$?; \
		wait $$server; [ $$front = 0 ]
	mv target/.release-build-started $@

# Touched: cargo leaves the file as it was when a changed input does not change the
# reader, and make would otherwise run cargo again each time.
$(SHEET_READER_WASM): $(SHEET_READER_INPUTS) | wasm-target
	cargo build -p sheet-reader --target wasm32-unknown-unknown --profile wasm-release
	touch $@

$(SHEET_READER): $(SHEET_READER_WASM) | tools
	wasm-bindgen --target web --no-typescript --out-dir target/sheet-reader $(SHEET_READER_WASM)
	mkdir -p $(SHEET_READER_DIR)
	cp target/sheet-reader/sheet_reader.js crates/sheet-reader/worker.js $(SHEET_READER_DIR)/
	wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
		target/sheet-reader/sheet_reader_bg.wasm -o $@

lint:
	cargo fmt --all -- --check
	cargo clippy --features ssr --all-targets -- -D warnings
	cargo clippy -p contacts-sheets --all-targets -- -D warnings
	cargo clippy --features hydrate --lib --target wasm32-unknown-unknown -- -D warnings
	cargo clippy -p sheet-reader --target wasm32-unknown-unknown -- -D warnings

# Unit and database tests; the PostgreSQL and S3 ones (ignored by a plain `cargo test`)
# run beside a throwaway cluster and S3-compatible server.
unit: postgres s3
	cargo test -p contacts-sheets
	tools/s3/with-server tools/postgres/with-cluster cargo test --features ssr -- --include-ignored

# The Playwright suite against a debug build: quick to rebuild while developing, and
# only a debug build logs Leptos' hydration warnings, which the suite fails on.
e2e: test-tools $(SHEET_READER)
	rm -rf $(E2E_DATA_DIR)
	cargo leptos build --split
	CONTACTS_DATA_DIR=$(E2E_DATA_DIR) CI=$${CI:-} cargo leptos end-to-end --split

# The same suite against the debug build on PostgreSQL, in a throwaway cluster.
e2e-postgres: test-tools $(SHEET_READER)
	rm -rf $(E2E_DATA_DIR)
	cargo leptos build --split
	CONTACTS_DATA_DIR=$(E2E_DATA_DIR) CI=$${CI:-} tools/postgres/with-cluster \
		sh -c 'CONTACTS_DATABASE_URL=$$CONTACTS_TEST_POSTGRES_URL cargo leptos end-to-end --split'

# The Playwright suite against the release build that `make run` serves: only this
# build runs wasm-opt, so only this catches a bundle that does not start. Its uploads
# wait in a bucket on the throwaway S3-compatible server, as with several app servers
# (the debug runs keep them in the data folder).
e2e-release: test-tools $(SHEET_READER)
	rm -rf $(E2E_DATA_DIR)
	cargo leptos build $(RELEASE)
	CONTACTS_DATA_DIR=$(E2E_DATA_DIR) LEPTOS_ENV=PROD CI=$${CI:-} \
		tools/s3/with-server tools/s3/with-bucket cargo leptos end-to-end $(RELEASE)

## --- installs (idempotent) ------------------------------------------------------------

# cargo-leptos's install keeps both cores busy but at its start and its end; the
# wasm-bindgen CLI's install and the spreadsheet reader's compile run beside it at the
# lowest priority, on what it leaves idle.
tools: wasm-target wasm-opt
	@nice -n 19 $(MAKE) --no-print-directory wasm-bindgen $(SHEET_READER_WASM) & others=$$!; \
		status=0; $(MAKE) --no-print-directory cargo-leptos || status=$$?; \
		wait $$others; exit $$status

test-tools: tools chromium end2end-deps postgres s3

# Each install step first asks the tool its version; grep reads all of the answer (no
# -q), so the tool never meets a closed pipe, which pipefail would take for a failure
# and install again.
wasm-target:
	@rustup target list --installed | grep -x wasm32-unknown-unknown >/dev/null \
		|| rustup target add wasm32-unknown-unknown

# The build tools run for seconds a build, so they are built unoptimised (but for the
# compression crates: precompressing the site would crawl): on 2 cores cargo-leptos
# took 4 min 51 s instead of 13 min 17 s (its own release profile: LTO, one codegen
# unit), the wasm-bindgen CLI 41 s instead of 1 min 54 s, and a build with them as long
# (76 s with nothing changed, against 74 s).
TOOL_PROFILE := CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_LTO=false \
	CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
TOOL_OPTIMISED := $(foreach crate,brotli brotli-decompressor flate2 miniz_oxide libflate zopfli,\
	--config 'profile.release.package.$(crate).opt-level=3')

# cargo-leptos asks for a vendored OpenSSL (through cargo-generate, for `cargo leptos new`,
# which this project never runs): its build script compiling it from C ran for 179 s of a
# 6 min install (`cargo install --timings`), so the system's OpenSSL is linked instead.
cargo-leptos:
	@cargo leptos --version 2>/dev/null | grep "$(CARGO_LEPTOS_VERSION)" >/dev/null \
		|| { $(MAKE) --no-print-directory openssl-dev \
			&& OPENSSL_NO_VENDOR=1 $(TOOL_PROFILE) cargo install $(TOOL_OPTIMISED) cargo-leptos \
				--version $(CARGO_LEPTOS_VERSION) --locked; }

# Only the `wasm-bindgen` binary, without the TLS its test runner downloads browsers
# with: 81 s of CPU instead of 93 s (user + system, `/usr/bin/time cargo install`).
wasm-bindgen:
	@wasm-bindgen --version 2>/dev/null | grep "$(WASM_BINDGEN_VERSION)" >/dev/null \
		|| $(TOOL_PROFILE) cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) \
			--no-default-features --bin wasm-bindgen --force

wasm-opt: node
	@grep -qs '"version": "$(BINARYEN_VERSION)"' $(WASM_OPT_DIR)/node_modules/binaryen/package.json \
		|| (cd $(WASM_OPT_DIR) && npm ci --no-audit --no-fund --loglevel=error)

openssl-dev:
	@pkg-config --exists openssl 2>/dev/null \
		|| { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libssl-dev pkg-config; }

node:
	@command -v npm >/dev/null \
		|| { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nodejs npm; }

# PostgreSQL's server binaries for the tests' throwaway cluster (tools/postgres/with-cluster).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
		|| { $(SUDO) apt-get update -qq \
			&& $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }

# moto's S3-compatible server for the upload store's tests, pinned in tools/s3.
s3:
	@tools/s3/venv/bin/moto_server --help >/dev/null 2>&1 \
		|| { python3 -m venv tools/s3/venv \
			&& tools/s3/venv/bin/pip install -q -r tools/s3/requirements.txt; }

chromium:
	@command -v chromium >/dev/null \
		|| { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

end2end-deps: node
	@[ -d end2end/node_modules/@playwright/test ] && [ -d end2end/node_modules/@axe-core/playwright ] \
		|| (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
