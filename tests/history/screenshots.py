"""Render the sample reviewer page and screenshot it at a phone's and a desktop's width.

    .venv/bin/python -m tests.history.screenshots docs

writes ``docs/report-390.png`` and ``docs/report-1280.png`` (the images docs/calibration.md shows)
with the same Chromium driver the layout test uses.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

from activity_core.calibration.html import render_html
from tests.history.chromium import layout_at
from tests.history.test_html_report import WIDTHS, sample_report


async def main(out: Path) -> None:
    binary = shutil.which("chromium")
    if binary is None:
        raise SystemExit("chromium is not installed: apt-get install chromium")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(render_html(sample_report(hostile=False)), encoding="utf-8")
        for width in WIDTHS:
            png = out / f"report-{width}.png"
            await layout_at(binary, page, Path(tmp), width=width, height=844 if width < 600 else 900, png=png)
            print(f"wrote {png}")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")))
