#!/usr/bin/env bash
# Builds qrkiosk (cgo + Fyne) and the two servers (CGO_ENABLED=0) for one
# architecture, as they go into the packages:
#   packaging/build.sh ARCH OUTDIR        (ARCH: amd64 or arm64)
# arm64 is a cross build on amd64 through Debian's multiarch: the
# aarch64-linux-gnu gcc and the arm64 -dev packages (make deps-arm64).
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 ARCH OUTDIR" >&2
	exit 64
fi
arch=$1 out=$2
cd "$(dirname "$0")/.."
go=${GO:-go}
# No symbol table or DWARF: a third smaller. (Not -trimpath: it would
# compile everything again beside the cache the tests use.)
flags=(-ldflags=-s\ -w)
export GOOS=linux GOARCH=$arch
case " ${GOFLAGS:-} " in
*" -tags=no_emoji "*) ;;
*) export GOFLAGS="${GOFLAGS:-} -tags=no_emoji" ;;
esac

case "$arch" in
amd64) ;;
arm64)
	if [ "$(go env GOHOSTARCH)" != arm64 ]; then
		export CC=aarch64-linux-gnu-gcc
		# Only the arm64 .pc files, never the build machine's own.
		export PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig
		export PKG_CONFIG_PATH=
	fi
	;;
*)
	echo "$0: architecture $arch: amd64 or arm64" >&2
	exit 64
	;;
esac

mkdir -p "$out"
CGO_ENABLED=1 "$go" build "${flags[@]}" -o "$out/qrkiosk" .
CGO_ENABLED=0 "$go" build "${flags[@]}" -o "$out/qrkiosk-relay" ./cmd/qrkiosk-relay
CGO_ENABLED=0 "$go" build "${flags[@]}" -o "$out/qfpay-sim" ./cmd/qfpay-sim
