#!/bin/sh
# subset-sc.sh rebuilds KioskSansSC.ttf: the simplified hanzi that
# KioskSans.ttf (assets/subset.sh, Big5 level 1: traditional) lacks, so that
# a printed receipt's simplified labels and a mainland merchant's name come
# out whole. Cut from the same WenQuanYi Micro Hei face, with the same
# treatment (no hinting, no vertical metrics, 1000 units per em), so the two
# fonts' glyphs sit on one baseline at one size.
#
# Needs:  apt-get install -y fonts-wqy-microhei python3-fonttools
# Run:    sh assets/fontdata/subset-sc.sh   (from the module root), after
#         assets/subset.sh and after editing the receipts' texts
#         (internal/receipt: TestTextsHaveGlyphs fails until you do).
#
# Kept glyphs: GB2312 level 1 (the 3,755 common hanzi), every non-ASCII
# character of internal/receipt's texts and "−" (U+2212, payment.DisplayMinor's
# minus), minus what KioskSans.ttf has.
set -eu
cd "$(dirname "$0")/../.."
SRC=${SRC:-/usr/share/fonts/truetype/wqy/wqy-microhei.ttc}
PY=${PYTHON:-/usr/bin/python3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

"$PY" - assets/fontdata/KioskSans.ttf $(ls internal/receipt/*.go | grep -v _test.go) >"$TMP/chars.txt" <<'PYEOF'
import sys
from fontTools.ttLib import TTFont

have = set(TTFont(sys.argv[1]).getBestCmap())
chars = {0x2212}
for path in sys.argv[2:]:
    with open(path, encoding="utf-8") as f:
        chars.update(ord(c) for c in f.read() if ord(c) > 0x7F)
for hi in range(0xB0, 0xD8):
    for lo in range(0xA1, 0xFF):
        try:
            chars.add(ord(bytes([hi, lo]).decode("gb2312")))
        except UnicodeDecodeError:
            pass
sys.stdout.write("".join(chr(c) for c in sorted(chars - have)))
PYEOF

"$PY" -c 'import sys; from fontTools.ttLib import TTFont; TTFont(sys.argv[1], fontNumber=0).save(sys.argv[2])' \
	"$SRC" "$TMP/face0.ttf"
"$PY" -m fontTools.subset "$TMP/face0.ttf" \
	--text-file="$TMP/chars.txt" \
	--no-hinting \
	--drop-tables+=vhea,vmtx,FFTM \
	--output-file="$TMP/subset.ttf"
"$PY" -c 'import sys; from fontTools.ttLib import TTFont; from fontTools.ttLib.scaleUpem import scale_upem
f = TTFont(sys.argv[1]); scale_upem(f, 1000); f.save(sys.argv[2])' "$TMP/subset.ttf" assets/fontdata/KioskSansSC.ttf
ls -l assets/fontdata/KioskSansSC.ttf
