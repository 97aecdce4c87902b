#!/bin/sh
# subset.sh rebuilds fontdata/KioskSans.ttf, the font the customer screen draws all
# its text with. Fyne's own font (Noto Sans) has no Chinese glyphs and Fyne
# cannot load a .ttc collection, so we ship one .ttf cut from WenQuanYi Micro
# Hei (Apache-2.0; its Latin is Droid Sans, its hanzi Droid Sans Fallback).
#
# Needs:  apt-get install -y fonts-wqy-microhei python3-fonttools
# Run:    sh assets/subset.sh   (from the module root)
#
# Kept glyphs:
#   - every non-ASCII character of the customer texts (display/text.go) and
#     of the wallet names (payment/paytype.go): run this again after editing
#     them (TestTextsHaveGlyphs fails until you do);
#   - Latin: ASCII, Latin-1, general punctuation, currency signs, ✓ ✗;
#   - "…" redrawn on the baseline, and the source's centred one as "⋯";
#   - CJK punctuation (U+3000-303F) and full-width forms (U+FF01-FF5E);
#   - the 5,401 common hanzi of Big5 level 1, so a Hong Kong merchant name
#     renders on a machine with no CJK font installed.
# Dropped: hinting, vertical metrics; units per em scaled 2048 -> 1000, which
# keeps the file under 1 MiB.
set -eu
cd "$(dirname "$0")/.."
SRC=${SRC:-/usr/share/fonts/truetype/wqy/wqy-microhei.ttc}
PY=${PYTHON:-/usr/bin/python3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

"$PY" - display/text.go payment/paytype.go >"$TMP/chars.txt" <<'PYEOF'
import sys

chars = set()
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        chars.update(c for c in f.read() if ord(c) > 0x7F)
for hi in range(0xA4, 0xC7):
    for lo in list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF)):
        try:
            chars.add(bytes([hi, lo]).decode("big5"))
        except UnicodeDecodeError:
            pass
sys.stdout.write("".join(sorted(chars)))
PYEOF

# Face 0 of the collection is the proportional "WenQuanYi Micro Hei".
"$PY" -c 'import sys; from fontTools.ttLib import TTFont; TTFont(sys.argv[1], fontNumber=0).save(sys.argv[2])' \
	"$SRC" "$TMP/face0.ttf"

"$PY" -m fontTools.subset "$TMP/face0.ttf" \
	--text-file="$TMP/chars.txt" \
	--unicodes=U+0020-007E,U+00A0-00FF,U+2010-2027,U+2030-203A,U+20A0-20BF,U+2713,U+2717,U+0E3F,U+3000-303F,U+FF01-FF5E \
	--no-hinting \
	--drop-tables+=vhea,vmtx,FFTM \
	--output-file="$TMP/subset.ttf"

# The source draws "…" (U+2026) centred on the line, as Chinese type does,
# so the cashier's English ("Refund…", and Fyne's own truncation) read
# "Refund⋯". Keep that centred drawing as U+22EF "⋯", which the Chinese
# customer texts use, and redraw U+2026 as three full stops on the
# baseline.
"$PY" - "$TMP/subset.ttf" "$TMP/ellipsis.ttf" <<'PYEOF'
import copy
import sys
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables._g_l_y_f import Glyph, GlyphComponent

f = TTFont(sys.argv[1])
glyf, hmtx = f["glyf"], f["hmtx"]
name, period = f.getBestCmap()[0x2026], f.getBestCmap()[0x2E]

order = f.getGlyphOrder()
order.append("uni22EF")
f.setGlyphOrder(order)
glyf.glyphs["uni22EF"] = copy.deepcopy(glyf[name])
hmtx["uni22EF"] = hmtx[name]
for t in f["cmap"].tables:
    if t.isUnicode():
        t.cmap[0x22EF] = "uni22EF"

adv = hmtx[period][0]
dots = Glyph()
dots.numberOfContours = -1
dots.components = []
for i in range(3):
    c = GlyphComponent()
    c.glyphName, c.x, c.y, c.flags = period, i * adv, 0, 0x4  # ROUND_XY_TO_GRID
    dots.components.append(c)
glyf[name] = dots
dots.recalcBounds(glyf)
hmtx[name] = (3 * adv, dots.xMin)
f.save(sys.argv[2])
PYEOF

"$PY" -c 'import sys; from fontTools.ttLib import TTFont; from fontTools.ttLib.scaleUpem import scale_upem
f = TTFont(sys.argv[1]); scale_upem(f, 1000); f.save(sys.argv[2])' "$TMP/ellipsis.ttf" assets/fontdata/KioskSans.ttf
ls -l assets/fontdata/KioskSans.ttf
