#!/usr/bin/env bash
# Builds the Debian packages of one architecture from binaries already built
# for it (make package does both amd64 and arm64):
#   packaging/build-deb.sh VERSION ARCH BINDIR OUTDIR
# BINDIR holds qrkiosk (cgo, for ARCH), qrkiosk-relay and qfpay-sim
# (CGO_ENABLED=0). Writes OUTDIR/qrkiosk_VERSION_ARCH.deb and
# OUTDIR/qrkiosk-relay_VERSION_ARCH.deb with dpkg-deb alone: files owned
# by root, modes set here, nothing from the build machine's umask.
set -euo pipefail

if [ $# -ne 4 ]; then
	echo "usage: $0 VERSION ARCH BINDIR OUTDIR" >&2
	exit 64
fi
version=$1 arch=$2 bindir=$3 outdir=$4
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
maintainer=${MAINTAINER:-"qrkiosk maintainers <maintainers@qrkiosk.invalid>"}

case "$version" in
'' | *[!0-9A-Za-z.+~-]* | [!0-9]*)
	echo "$0: version $version: a Debian version starts with a digit and has only [0-9A-Za-z.+~-]" >&2
	exit 64
	;;
esac

# The ELF machine of each binary must be the package's architecture: an
# amd64 binary in an arm64 package installs fine and never starts.
declare -A machine=([amd64]=62 [arm64]=183)
want=${machine[$arch]:-}
if [ -z "$want" ]; then
	echo "$0: architecture $arch: amd64 or arm64" >&2
	exit 64
fi
for b in qrkiosk qrkiosk-relay qfpay-sim; do
	f=$bindir/$b
	if [ ! -f "$f" ]; then
		echo "$0: $f is missing" >&2
		exit 1
	fi
	got=$(od -An -tu2 -j18 -N2 "$f" | tr -d ' ')
	if [ "$got" != "$want" ]; then
		echo "$0: $f is for ELF machine $got, not $arch ($want)" >&2
		exit 1
	fi
done

mkdir -p "$outdir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# put MODE SRC DEST: one file into the package tree.
put() { install -D -m "$1" "$2" "$root/$3"; }

# control NAME: DEBIAN/ from packaging/NAME, with the version, the
# architecture and the installed size filled in; then the package.
control() {
	local name=$1 size
	install -d -m 0755 "$root/DEBIAN"
	size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
	sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$size/" \
		-e "s/@MAINTAINER@/$maintainer/" "$here/$name/control" >"$root/DEBIAN/control"
	chmod 0644 "$root/DEBIAN/control"
	for s in postinst prerm postrm; do
		install -m 0755 "$here/$name/$s" "$root/DEBIAN/$s"
	done
	if [ -f "$here/$name/conffiles" ]; then
		install -m 0644 "$here/$name/conffiles" "$root/DEBIAN/conffiles"
	fi
	(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
	chmod 0644 "$root/DEBIAN/md5sums"
	dpkg-deb --root-owner-group -Zxz --build "$root" "$outdir/${name}_${version}_${arch}.deb" >/dev/null
	echo "$outdir/${name}_${version}_${arch}.deb"
}

root=$work/qrkiosk
put 0755 "$bindir/qrkiosk" usr/bin/qrkiosk
put 0644 "$here/qrkiosk/qrkiosk.service" lib/systemd/system/qrkiosk.service
put 0644 "$here/qrkiosk/pam.d-qrkiosk" etc/pam.d/qrkiosk
put 0644 "$here/qrkiosk/config.toml" usr/share/qrkiosk/config.toml
put 0644 "$here/qrkiosk/qrkiosk.desktop" usr/share/applications/qrkiosk.desktop
put 0644 "$repo/assets/icon.png" usr/share/icons/hicolor/512x512/apps/qrkiosk.png
put 0644 "$repo/README.md" usr/share/doc/qrkiosk/README.md
put 0644 "$here/copyright" usr/share/doc/qrkiosk/copyright
control qrkiosk

root=$work/qrkiosk-relay
put 0755 "$bindir/qrkiosk-relay" usr/bin/qrkiosk-relay
put 0755 "$bindir/qfpay-sim" usr/bin/qfpay-sim
put 0644 "$here/qrkiosk-relay/qrkiosk-relay.service" lib/systemd/system/qrkiosk-relay.service
put 0644 "$here/qrkiosk-relay/env" usr/share/qrkiosk-relay/env
put 0644 "$repo/relay/README.md" usr/share/doc/qrkiosk-relay/README.md
put 0644 "$here/copyright" usr/share/doc/qrkiosk-relay/copyright
control qrkiosk-relay
