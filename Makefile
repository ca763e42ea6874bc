# lbd: `make` installs and builds everything, `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := all
STAMPS := .stamps
NODE_BIN := node_modules/.bin

# Debian packages the build, the tests and the real-kernel harness need.
APT_PACKAGES := qemu-system-x86 busybox-static kmod cpio zstd xz-utils ipvsadm iproute2 iputils-ping strace tcpdump \
	nftables keepalived haproxy procps psmisc openssl prometheus chromium
TS_SOURCES := $(shell find src test bench -name '*.ts' 2>/dev/null)
NATIVE_SOURCES := native/binding.gyp $(wildcard native/src/*)
ADDON := native/build/Release/lbd_native.node

.PHONY: all setup build native ts vm-assets test lint format clean demo

all: setup build vm-assets

setup: $(STAMPS)/apt node_modules/.package-lock.json

$(STAMPS)/apt: Makefile test/setup/apt
	@test/setup/apt $(APT_PACKAGES)
	@mkdir -p $(STAMPS) && touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

build: native ts

native: $(ADDON)
$(ADDON): node_modules/.package-lock.json $(NATIVE_SOURCES)
	cd native && ../$(NODE_BIN)/node-gyp rebuild --nodedir=/usr --loglevel=warn
	@touch $@

ts: dist/.tsbuildinfo dist/src/cli/lbctl.cjs
dist/.tsbuildinfo: node_modules/.package-lock.json tsconfig.json $(TS_SOURCES)
	@# tsc writes its build info even when it reports errors: drop it then, so the next make retries.
	$(NODE_BIN)/tsc -p . || { rm -f $@; exit 1; }
	@touch $@

# lbctl's command line in one file, for a fast start (src/cli/build-bundle.ts)
dist/src/cli/lbctl.cjs: dist/.tsbuildinfo
	node dist/src/cli/build-bundle.js

vm-assets: $(STAMPS)/apt
	@test/vm/setup >/dev/null

lint: node_modules/.package-lock.json
	$(NODE_BIN)/eslint --max-warnings=0 --no-error-on-unmatched-pattern src test bench
	$(NODE_BIN)/prettier --check --no-error-on-unmatched-pattern --log-level=warn src test bench

format: node_modules/.package-lock.json
	$(NODE_BIN)/prettier --write --no-error-on-unmatched-pattern --log-level=warn src test bench

test: all
	test/run

# The narrated lab (test/demo/lab.ts): in this kernel when it has IPVS, else in the test VM.
demo: all
	@if modprobe -q ip_vs 2>/dev/null && [ -e /proc/net/ip_vs ]; then node dist/test/demo/lab.js; \
	else echo "(this kernel has no IPVS: the lab runs in the test VM, see test/vm/README.md)"; \
	test/vm/run --timeout 400 -- node dist/test/demo/lab.js; fi

clean:
	rm -rf dist native/build $(STAMPS) test-output

# Benchmarks: `make bench-NAME` runs the executable bench/NAME (which boots the VM itself when it needs IPVS).
bench-%: all
	bench/$*
