# runsc-lite build, test, lint and benchmark entry points.
# `make help` lists the targets.

GO       ?= go
PLATFORM ?= ptrace
# The whole suite, including the native-vs-sandbox probe runs, takes a few
# minutes; the timeout only catches a hung sandbox.
TEST_TIMEOUT ?= 30m

BIN := bin/runsc-lite

.PHONY: all build test test-unit test-native test-sandbox lint bench clean help vdso

all: build

## build: compile bin/runsc-lite
build:
	$(GO) build -o $(BIN) ./runsc-lite

## vdso: rebuild sentry/vdso/vdso.so, the guests' vDSO, from sentry/vdso/src (needs gcc); the
##   result is committed so that `go build` needs no C compiler
VDSO_FLAGS := -O2 -fPIC -ffreestanding -fno-stack-protector -fno-builtin -fcf-protection=none \
	-mgeneral-regs-only -fasynchronous-unwind-tables -Wall -Wextra -Werror -nostdlib -shared \
	-Wl,-T,sentry/vdso/src/vdso.lds -Wl,--version-script=sentry/vdso/src/vdso.map \
	-Wl,--hash-style=both -Wl,-soname=linux-vdso.so.1 -Wl,--build-id=none -Wl,--eh-frame-hdr \
	-Wl,-z,max-page-size=4096 -Wl,-z,noexecstack -Wl,-Bsymbolic
vdso:
	gcc $(VDSO_FLAGS) -o sentry/vdso/vdso.so sentry/vdso/src/vdso.c
	cat sentry/vdso/src/vdso.c sentry/vdso/src/vdso.lds sentry/vdso/src/vdso.map | sha256sum | cut -d' ' -f1 \
		> sentry/vdso/vdso.so.srchash

## test: every unit and conformance test (needs root, gcc, python3)
test:
	PLATFORM=$(PLATFORM) $(GO) test -timeout $(TEST_TIMEOUT) ./...

## test-unit: the tests that do not start sandboxes
test-unit:
	$(GO) test -timeout $(TEST_TIMEOUT) $$($(GO) list ./... | grep -v /test/)

## test-native: check that the probes themselves are deterministic natively
test-native:
	$(GO) test -timeout $(TEST_TIMEOUT) -run 'TestProbesDeterministic' ./test/runner/

## test-sandbox: the conformance suite (everything under test/) on PLATFORM=...
test-sandbox:
	PLATFORM=$(PLATFORM) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./test/...

## lint: gofmt, go vet, and `unsafe` only in *_unsafe.go
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^vendor/')); \
	if [ -n "$$out" ]; then echo "gofmt -l: these files need gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@# STYLE.md 18: only *_unsafe.go files may import unsafe (tests excepted).
	@bad=$$(grep -lE '^[[:space:]]*(import[[:space:]]+)?"unsafe"' $$(git ls-files '*.go' | grep -vE '_unsafe\.go$$|_test\.go$$')); \
	if [ -n "$$bad" ]; then echo "unsafe imported outside *_unsafe.go:"; echo "$$bad"; exit 1; fi
	@echo lint ok

## bench: micro-benchmarks natively and in the sandbox, side by side, charted in docs/bench.svg
bench: build
	bash bench/run.sh ./$(BIN)
	bash bench/platforms.sh ./$(BIN)
	mkdir -p docs
	$(GO) run ./bench/plot -o docs/bench.svg bench/out/platforms.tsv bench/out/run-seccomptrap.tsv

clean:
	rm -rf bin bench/out

help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed 's/^## /  /'
