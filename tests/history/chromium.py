"""Load a page in real headless Chromium and read back what it rendered.

``--dump-dom`` prints the DOM after the page loaded (and after any script would have run), so
assertions see what a reviewer's browser builds, not the bytes we wrote.
"""

from __future__ import annotations

import asyncio
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


async def _chromium(binary: str, profile: Path, *args: str) -> str:
    command = [binary, *_FLAGS, f"--user-data-dir={profile}", *args]
    done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


async def render_dom(binary: str, page: Path, tmp: Path) -> Dom:
    return Dom.parse(await _chromium(binary, tmp / "chromium-profile", "--dump-dom", page.resolve().as_uri()))


async def screenshot(binary: str, page: Path, png: Path, tmp: Path, *, width: int = 1040, height: int = 1800) -> None:
    await _chromium(
        binary, tmp / "chromium-profile", "--hide-scrollbars", f"--window-size={width},{height}",
        f"--screenshot={png.resolve()}", page.resolve().as_uri(),
    )
    assert png.stat().st_size > 10_000


@dataclass
class Element:
    tag: str
    classes: frozenset[str]
    text: list[str] = field(default_factory=list)


class Dom(HTMLParser):
    """The elements of a dumped DOM, each with its text; selectors are ``tag.class.class``."""

    _VOID = frozenset({"meta", "link", "br", "img", "input", "hr", "col", "area", "base", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []

    @classmethod
    def parse(cls, markup: str) -> Dom:
        dom = cls()
        dom.feed(markup)
        dom.close()
        return dom

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, frozenset((dict(attrs).get("class") or "").split()))
        self.elements.append(element)
        if tag not in self._VOID:
            self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, frozenset((dict(attrs).get("class") or "").split())))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index].tag == tag:
                del self._open[index:]
                return

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text.append(data)

    def select(self, selector: str) -> list[Element]:
        tag, *classes = selector.split(".")
        return [e for e in self.elements if e.tag == tag and set(classes) <= e.classes]

    def count(self, selector: str) -> int:
        return len(self.select(selector))

    def text(self, selector: str) -> str:
        found = self.select(selector)
        assert found, f"nothing matches {selector!r}"
        return " ".join("".join(found[0].text).split())
