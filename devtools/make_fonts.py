"""Rebuild the fonts the Confirmation of Entry PDFs are set in (``exam_results/fonts``).

DejaVu Sans and DejaVu Sans Bold (Debian's ``fonts-dejavu-core``, Bitstream Vera licence, DejaVu
changes public domain) cut down to the scripts candidate names are printed in: Latin (with
Latin-1, Extended-A/B and Extended Additional), combining marks, Greek and Cyrillic, plus
punctuation. The full fonts hold ~6,000 glyphs and take fpdf2 ~0.1 s each to parse for every
PDF; the subsets parse in a third of that, which matters with one PDF per centre and session.
Characters outside them are transliterated (``exam_results.confirmations``).

    apt-get install -y fonts-dejavu-core && python -m devtools.make_fonts
"""

from __future__ import annotations

from pathlib import Path

from fontTools import subset

SOURCE = Path("/usr/share/fonts/truetype/dejavu")
TARGET = Path(__file__).resolve().parent.parent / "layers" / "common" / "exam_results" / "fonts"
UNICODES = (
    "U+0020-007E,U+00A0-024F,U+0300-036F,U+0370-03FF,U+0400-052F,U+1E00-1EFF,"
    "U+2000-206F,U+20A0-20BF,U+2100-214F,U+2190-2193,U+FFFD"
)


def main() -> None:
    TARGET.mkdir(parents=True, exist_ok=True)
    for name in ("DejaVuSans", "DejaVuSans-Bold"):
        subset.main(
            [
                str(SOURCE / f"{name}.ttf"),
                f"--unicodes={UNICODES}",
                "--layout-features=kern,liga,ccmp,mark,mkmk,locl",
                "--notdef-outline",
                "--name-IDs=*",
                "--name-legacy",
                "--name-languages=*",
                "--drop-tables+=FFTM",
                f"--output-file={TARGET / f'{name}.ttf'}",
            ]
        )
    licence = Path("/usr/share/doc/fonts-dejavu-core/copyright").read_text()
    (TARGET / "LICENSE").write_text(licence)
    print(f"wrote {sorted(p.name for p in TARGET.iterdir())}")


if __name__ == "__main__":
    main()
