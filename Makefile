# wampgate Makefile. `make help` lists the targets.

GO            ?= go
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS       := -s -w -X main.version=$(VERSION)
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
BIN           := bin
CROSS         := linux/arm/6 linux/arm/7 linux/arm64 linux/386
export CGO_ENABLED := 0

.PHONY: help build run test test-arm check fmt lint cross interop bench fuzz clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build wampgate (and other commands) into bin/
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

run: build ## build and start the gateway on embedded defaults with three simulated devices
	$(BIN)/wampgate serve --simulate 3

test: ## run all tests with the race detector
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...

ARM_PKGS := ./transports/serial/... ./devices/...

test-arm: ## run the serial and device tests for linux/arm and linux/arm64 under qemu-user-static
	@command -v qemu-aarch64-static >/dev/null && command -v qemu-arm-static >/dev/null || \
		{ echo "test-arm needs qemu-user-static (apt-get install qemu-user-static)"; exit 1; }
	GOARCH=arm64 $(GO) test -count=1 -exec qemu-aarch64-static $(ARM_PKGS)
	GOARCH=arm GOARM=7 $(GO) test -count=1 -exec qemu-arm-static $(ARM_PKGS)

fmt: ## format the code
	gofmt -s -w .

lint: ## go vet, staticcheck and a gofmt diff check
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@out=$$(gofmt -s -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

cross: ## cross-build for the Pi (armv6, armv7, arm64) and 386, no cgo
	@set -e; for t in $(CROSS); do \
		os=$$(echo $$t | cut -d/ -f1); arch=$$(echo $$t | cut -d/ -f2); arm=$$(echo $$t | cut -d/ -f3); \
		out=$(BIN)/cross/$$os-$$arch$${arm:+v$$arm}; \
		echo "build $$out"; \
		GOOS=$$os GOARCH=$$arch GOARM=$$arm $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $$out/ ./cmd/...; \
	done

check: lint cross ## lint, cross-builds, and keep benchmarks compiling (run once each)
	CGO_ENABLED=1 $(GO) test -race -count=1 -run '^$$' -bench . -benchtime 1x ./...

interop: build ## run third-party client interop tests (installs npm and Debian packages)
	./interop/run.sh $(BIN)/wampgate

bench: build ## run the load tool and go benchmarks; figures go to BENCHMARKS.md by hand
	./bench/run.sh $(BIN)

fuzz: ## run every fuzz target for 30s each
	@set -e; for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 30s $$pkg; \
		done; \
	done

clean: ## remove build output
	rm -rf $(BIN)
