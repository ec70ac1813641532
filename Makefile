# CLI Proxy API. `make run` starts the server, `make test` runs every test.
GO       ?= go
SPEC     := api/openapi.yaml
TS_DIR   := clients/typescript
BIN      := bin/cli-proxy-api
GEN_OUT  := gen clients/go $(TS_DIR)/src/schema.d.ts config.example.yaml
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
# The commit's date, not the time of the build: the same checkout builds
# the same binary, and `make run` relinks nothing when nothing changed.
DATE     ?= $(shell TZ=UTC0 git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS  := -X github.com/cli-proxy-api/cli-proxy-api/internal/version.Version=$(VERSION) \
            -X github.com/cli-proxy-api/cli-proxy-api/internal/version.Commit=$(COMMIT) \
            -X github.com/cli-proxy-api/cli-proxy-api/internal/version.BuildDate=$(DATE)

.PHONY: all build run dist image image-test config-example test test-go test-scale test-sdk-go test-ts test-sdk sdk-deps bench fuzz stress generate generate-go generate-ts check-generated lint-spec vet fmt ts-deps panel panel-deps test-panel test-official-panel fault-run bench-e2e

all: build

# A static binary (the SQLite driver is pure Go); the Dockerfile runs this
# same target, and `make dist` uses the same flags for every platform.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/cli-proxy-api

# Builds bin/cli-proxy-api (only what changed) and runs it: a second start
# costs no compile or link, unlike `go run`. ARGS passes flags.
run: build
	./$(BIN) $(ARGS)

# Release archives in dist/: linux, darwin and windows on amd64 and arm64,
# with the version, commit and date stamped in, and SHA256SUMS. Slow (six
# cross-builds), so not part of `make test`.
dist:
	$(GO) run ./tools/dist -out dist -version $(VERSION) -date $(DATE) -ldflags "$(LDFLAGS)"

# The container image (Dockerfile), stamped like `make build`. CONTAINER=podman
# to build it with podman.
CONTAINER ?= docker
IMAGE     ?= cli-proxy-api:$(VERSION)

# Builds the Dockerfile with podman and checks the image as it runs: keys
# printed once, health check, /data, non-root (tests/container/image-test.sh;
# needs podman, runc and busybox-static; a few minutes).
image-test:
	bash tests/container/image-test.sh

image:
	$(CONTAINER) build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) --build-arg DATE=$(DATE) -t $(IMAGE) .

test: vet test-go test-scale test-sdk-go lint-spec test-ts test-sdk test-panel

# golangci-lint (.golangci.yml) at a pinned version, fetched through the
# module proxy, so go.mod stays free of it; clients/go is a module of its own.
GOLANGCI_LINT ?= $(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0

vet:
	@u=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.gen\.go$$')); [ -z "$$u" ] || { echo "gofmt needed: $$u"; exit 1; }
	$(GO) vet ./...
	$(GOLANGCI_LINT) run ./...
	cd clients/go && $(GOLANGCI_LINT) run --config ../../.golangci.yml ./...

test-go:
	$(GO) test -race -count=1 ./...

# The tests at 100k-item scale, without the race detector (which makes them
# several times slower and finds nothing more there; test-go runs them
# scaled down).
test-scale:
	$(GO) test -count=1 -run 'LongList|TooLargeToLoad|EncodeMatches|EncodePair' ./internal/config/ ./internal/configstore/ ./internal/yamledit/

# The Go SDK is a module of its own (clients/go, only the client's
# dependencies): vet it and run its tests and examples against the server
# binary, plus a scratch module that depends on it the way the README says.
test-sdk-go: build
	cd clients/go && $(GO) vet ./... && CPA_BIN=$(abspath $(BIN)) $(GO) test -race -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./internal/mgmt/ ./internal/mgmtauth/ ./internal/configstore/ ./internal/proxy/ ./internal/proxy/translate/ ./internal/yamledit/ ./internal/app/
	# 1M recorded requests are built once per run: one count, a long timeout.
	$(GO) test -run '^$$' -bench . -benchmem -count 1 -timeout 60m ./internal/usage/

# End-to-end benchmark (tests/bench/README.md): builds bin/cli-proxy-api (or
# measures BIN=path as is) and drives it and a plain httputil.ReverseProxy on
# the same fake upstream with the same load: throughput, server CPU and
# allocations per request, and their ratios. DURATION per case and round
# (6s), CONNS (32), BENCH_ARGS for any other flag. About 2 minutes.
bench-e2e:
	@if [ "$(BIN)" = "bin/cli-proxy-api" ]; then $(MAKE) --no-print-directory build; fi
	@[ -x "$(BIN)" ] || { echo "bench-e2e: no binary at $(BIN)"; exit 1; }
	$(GO) run ./tests/bench -bin $(abspath $(BIN)) $(if $(DURATION),-duration $(DURATION)) $(if $(CONNS),-conns $(CONNS)) $(BENCH_ARGS)

# Thousands of interleaved API writes, hand edits and watcher reloads,
# checking after every step that memory, ETag and disk agree (a few minutes).
stress:
	$(GO) test -race -count=1 -tags stress -run 'TestStress' -timeout 30m ./internal/mgmt/

# Issue 17's fault run against a built binary (tests/fault/README.md):
# `make fault-run` builds and measures bin/cli-proxy-api; BIN=path measures
# another binary as is; DURATION=10m for the issue's sustained-load figure;
# FAULT_ARGS for any other flag (-only 1,5 -n 1000 …). About 3 minutes.
fault-run:
	@if [ "$(BIN)" = "bin/cli-proxy-api" ]; then $(MAKE) --no-print-directory build; fi
	@[ -x "$(BIN)" ] || { echo "fault-run: no binary at $(BIN)"; exit 1; }
	$(GO) run ./tests/fault -bin $(abspath $(BIN)) $(if $(DURATION),-duration $(DURATION)) $(FAULT_ARGS)

# Every fuzz target in the repo, found by name, each for FUZZTIME (go test
# fuzzes one target per run).
FUZZTIME ?= 30s

fuzz:
	@set -e; grep -rl --include='*_test.go' '^func Fuzz' internal cmd | sort | while read -r f; do \
		for t in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$f"); do \
			echo "== $$t ($$(dirname $$f)) for $(FUZZTIME)"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) "./$$(dirname $$f)/"; \
		done; \
	done

generate: generate-go generate-ts config-example

# config.example.yaml is the first-run template with no keys (a test in
# internal/app keeps the two equal).
config-example:
	$(GO) run ./tools/configexample config.example.yaml

generate-go:
	$(GO) generate ./gen/...
	cd clients/go && $(GO) generate ./...

$(TS_DIR)/node_modules/.installed: $(TS_DIR)/package.json $(TS_DIR)/package-lock.json
	cd $(TS_DIR) && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

ts-deps: $(TS_DIR)/node_modules/.installed

generate-ts: ts-deps
	cd $(TS_DIR) && npx --no-install openapi-typescript ../../$(SPEC) -o src/schema.d.ts

test-ts: ts-deps build
	cd $(TS_DIR) && npx --no-install tsc -p tsconfig.json && CPA_BIN=../../$(BIN) node --test build/test/*.test.js

# The official OpenAI, Anthropic and Google Gen AI SDKs, unchanged, against
# the real binary and fake upstreams the tests start (a few seconds).
SDK_DIR := tests/sdk

$(SDK_DIR)/node_modules/.installed: $(SDK_DIR)/package.json $(SDK_DIR)/package-lock.json
	cd $(SDK_DIR) && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

sdk-deps: $(SDK_DIR)/node_modules/.installed

test-sdk: sdk-deps build
	cd $(SDK_DIR) && CPA_BIN=../../$(BIN) node --test

# Drives a built official Management Center (OFFICIAL_PANEL_DIR holds its
# management.html; it is not in this repository) against the server in
# headless Chromium; skipped with a message when OFFICIAL_PANEL_DIR is unset.
OFFICIAL_PANEL_TEST_DIR := tests/officialpanel

$(OFFICIAL_PANEL_TEST_DIR)/node_modules/.installed: $(OFFICIAL_PANEL_TEST_DIR)/package.json $(OFFICIAL_PANEL_TEST_DIR)/package-lock.json
	cd $(OFFICIAL_PANEL_TEST_DIR) && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

test-official-panel:
	@if [ -z "$(OFFICIAL_PANEL_DIR)" ]; then echo "SKIP test-official-panel: set OFFICIAL_PANEL_DIR to a directory holding a built management.html of the official Management Center"; else \
		$(MAKE) build $(OFFICIAL_PANEL_TEST_DIR)/node_modules/.installed && \
		cd $(OFFICIAL_PANEL_TEST_DIR) && OFFICIAL_PANEL_DIR="$(abspath $(OFFICIAL_PANEL_DIR))" CPA_BIN=../../$(BIN) node drive.mjs; fi

lint-spec: ts-deps
	cd $(TS_DIR) && npx --no-install spectral lint ../../$(SPEC) --ruleset ../../api/.spectral.yaml --fail-severity=error

check-generated: generate
	@git diff --exit-code --stat -- $(GEN_OUT) || { echo "generated code is stale: run 'make generate'"; exit 1; }
	@u=$$(git ls-files --others --exclude-standard -- $(GEN_OUT)); [ -z "$$u" ] || { echo "untracked generated files: $$u"; exit 1; }
	@[ "$$(sh $(PANEL_DIR)/source-hash.sh)" = "$$(cat internal/panel/source.sha256)" ] || { echo "the panel bundle is stale: run 'make panel'"; exit 1; }

# The web control panel (/management.html): sources in panel/, built with
# Vite into internal/panel/dist, which is committed and embedded, so `make
# run` needs no Node.js. source.sha256 records what it was built from.
PANEL_DIR := panel

$(PANEL_DIR)/node_modules/.installed: $(PANEL_DIR)/package.json $(PANEL_DIR)/package-lock.json
	cd $(PANEL_DIR) && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

panel-deps: $(PANEL_DIR)/node_modules/.installed

panel: panel-deps
	cd $(PANEL_DIR) && npx --no-install tsc -p tsconfig.json && npx --no-install vite build
	sh $(PANEL_DIR)/source-hash.sh > internal/panel/source.sha256

# Type-checks the panel against the SDK, then drives the real server with
# headless Chromium (Debian's chromium; skipped with a message when it is
# missing, a failure under CI=true).
test-panel: panel-deps build
	cd $(PANEL_DIR) && npx --no-install tsc -p tsconfig.json && CPA_BIN=../$(BIN) node --test --test-concurrency=1 test/
