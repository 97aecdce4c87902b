# qrkiosk — see README.md. `make run` and `make test` do all the set-up on a
# fresh Debian 12 machine with Go 1.26 installed.

SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin:$(HOME)/go/bin
GO ?= go

# Fyne falls back to its bundled 4 MB emoji font for any glyph the theme's
# font lacks, and parses it again for every themed section and text style
# (+34 MiB RSS in the kiosk). A payment screen shows no emoji: leave it out.
export GOFLAGS := $(strip $(GOFLAGS) -tags=no_emoji)

# Debian packages Fyne's OpenGL driver and the sound cues (ALSA, through
# oto) need to build (cgo) and, for tests and headless runs, an X server in
# memory, with xdotool and ImageMagick to tap and look at the real windows;
# for the package tests (packaging/), systemd-analyze, cage (the unit's
# ExecStart) and xdotool (types on the kiosk); PostgreSQL's server binaries
# for the relay's tests, which start their own throwaway cluster
# (relay/pgtest); Debian's Chromium, and certutil to make it trust the
# kiosk's CA as a POS machine does, for the LAN server's browser tests
# (internal/chromiumtest; about 35 s to install); tesseract to read a
# printed receipt's amount back (internal/receipt).
DEBS := gcc libc6-dev pkg-config libgl-dev libegl-dev libx11-dev libxrandr-dev \
	libxinerama-dev libxcursor-dev libxi-dev libxxf86vm-dev libwayland-dev \
	libxkbcommon-dev libasound2-dev xvfb xauth systemd cage xdotool imagemagick postgresql \
	chromium libnss3-tools tesseract-ocr
# The arm64 cross build through Debian's multiarch (the same -dev packages
# for arm64, and the cross gcc), and qemu to run its binary in the tests.
ARM64_DEBS := crossbuild-essential-arm64 qemu-user-static libc6-dev:arm64 \
	libgl-dev:arm64 libegl-dev:arm64 libx11-dev:arm64 libxrandr-dev:arm64 \
	libxinerama-dev:arm64 libxcursor-dev:arm64 libxi-dev:arm64 \
	libxxf86vm-dev:arm64 libwayland-dev:arm64 libxkbcommon-dev:arm64 \
	libasound2-dev:arm64 libgl1-mesa-dri:arm64
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The packages' version is the app's (FyneApp.toml).
VERSION := $(shell sed -n 's/^ *Version *= *"\(.*\)"/\1/p' FyneApp.toml)

.PHONY: deps deps-arm64 build run test test-arm64 bench screenshots package clean

deps:
	@command -v $(GO) >/dev/null || { echo "Go 1.26 or newer is required (https://go.dev/doc/install)"; exit 1; }
	@missing=$$(for p in $(DEBS) $(EXTRA_DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

deps-arm64: deps
	@dpkg --print-foreign-architectures | grep -qx arm64 || { echo "adding the arm64 architecture to dpkg"; $(SUDO) dpkg --add-architecture arm64; }
	@missing=$$(for p in $(ARM64_DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	@mkdir -p bin
	$(GO) build -o bin/qrkiosk .
	CGO_ENABLED=0 $(GO) build -o bin/qfpay-sim ./cmd/qfpay-sim
	CGO_ENABLED=0 $(GO) build -o bin/scanforpay-sim ./cmd/scanforpay-sim
	CGO_ENABLED=0 $(GO) build -o bin/qrkiosk-relay ./cmd/qrkiosk-relay

run: build
	./bin/qrkiosk $(ARGS)

# Unit, integration and end-to-end tests (e2e/ builds and runs the real
# binaries against each other).
test: deps
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "not gofmt'ed (run gofmt -w):" $$unformatted; exit 1; fi
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/qfpay-sim
	CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/scanforpay-sim
	CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/qrkiosk-relay
	$(GO) test -race -count=1 -timeout 20m ./...

# The arm64 packages: cross-built, checked with dpkg-deb, their kiosk run
# under qemu-aarch64-static in Xvfb by the unit's command line until it
# shows the demo QR (packaging/). Separate from make test: about a minute
# warm, several cold.
test-arm64: deps-arm64
	QRKIOSK_TEST_ARCH=arm64 $(GO) test -count=1 -timeout 20m -v ./packaging/

# Go benchmarks (among them a POS payment over the ECR protocol, Paid to
# the receipt printer's first byte, and the browser display's CPU in
# headless Chromium beside the Fyne customer screen, about 2.5 min); the notify relay under load on loopback (cmd/relay-bench,
# about 30 s), its replay memory (15 s), two relays on PostgreSQL beside one
# on SQLite (50 s) and one of two killed mid-stream (25 s); then the kiosk vs
# Chromium in kiosk mode showing the same QR screen, and hello-world Fyne
# windows, under Xvfb (PSS and idle CPU, cmd/guibench, about 80 s). Results
# and machine notes: BENCHMARKS.md.
bench:
	$(MAKE) deps
	$(GO) test -run '^$$' -bench . -benchmem ./payment/... ./display/... ./internal/journal/ ./internal/receipt/ ./internal/kiosk/ ./internal/ecr/terminal/ ./internal/webdisplay/
	$(GO) run ./cmd/relay-bench
	$(GO) run ./cmd/relay-bench -replay-memory
	$(GO) run ./cmd/relay-bench -scenario multi
	$(GO) run ./cmd/relay-bench -scenario fault
	$(GO) run ./cmd/guibench

# Screenshots of the real app (demo mode, Xvfb, no window manager) in both
# layouts at 800×480, 1024×600, 1280×800, 1366×768, 1920×1080 and 1080×1920,
# in every state, into screenshots/ (about 15 minutes).
SHOTS ?= $(CURDIR)/screenshots
screenshots: deps
	$(GO) test -count=1 -timeout 60m ./ui/ -run '^TestScreenshots$$' -v -args -screenshots $(SHOTS)
	@echo "screenshots in $(SHOTS)"

# A Linux .tar.xz (binary, icon, .desktop file) made by the fyne tool that
# go.mod records (go get -tool fyne.io/tools/cmd/fyne@v1.7.0).
# The fyne tool rewrites FyneApp.toml (bumps Build); keep the committed one.
# Then the Debian packages for amd64 and arm64 (packaging/): qrkiosk (the
# kiosk and its boot-time unit) and qrkiosk-relay (the relay and qfpay-sim).
package: deps-arm64
	@cp FyneApp.toml .FyneApp.toml.keep
	$(GO) tool fyne package -os linux --tags no_emoji; rc=$$?; mv .FyneApp.toml.keep FyneApp.toml; exit $$rc
	@mkdir -p bin && mv qrkiosk.tar.xz bin/ && echo "bin/qrkiosk.tar.xz"
	@for arch in amd64 arm64; do \
		GO=$(GO) packaging/build.sh $$arch bin/$$arch && \
		packaging/build-deb.sh $(VERSION) $$arch bin/$$arch bin || exit 1; \
	done

clean:
	rm -rf bin
