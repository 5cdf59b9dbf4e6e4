"""Load a page in real headless Chromium and read back what it rendered.

``--dump-dom`` prints the DOM after the page loaded (and after any script would have run), so
assertions see what a reviewer's browser builds, not the bytes we wrote. ``layout_at`` drives
Chromium over its DevTools protocol to measure the page at a phone's and a desktop's width
(the measuring script is the protocol's own; the page's scripts stay blocked by its CSP).
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import websockets

from activity_core.devstack.embedded import free_port

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


# --- the DevTools protocol: layout at a given width, and screenshots --------------------

_LAYOUT_JS = """(() => {
  const box = (element) => { if (!element) return null; const b = element.getBoundingClientRect();
    return {left: b.left, right: b.right, top: b.top, bottom: b.bottom, width: b.width}; };
  return {
    viewport: window.innerWidth,
    documentWidth: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
    documentHeight: Math.max(document.documentElement.scrollHeight, document.body.scrollHeight),
    title: document.title,
    scripts: document.scripts.length,
    headline: box(document.querySelector('h2.gate-headline')),
    checklist: box(document.querySelector('#checklist')),
    cards: [...document.querySelectorAll('#checklist .card')].map(box),
    cells: [...document.querySelectorAll('.timeline .cell')].map(box),
  };
})()"""


@dataclass
class _DevTools:
    socket: Any
    next_id: int = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        await self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), 30))
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message.get("result", {})

    async def until(self, event: str) -> None:
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), 30))
            if message.get("method") == event:
                return


async def layout_at(
    binary: str, page: Path, tmp: Path, *, width: int, height: int, png: Path | None = None
) -> dict[str, Any]:
    """Load ``page`` in headless Chromium with a ``width`` x ``height`` viewport (a phone's when
    narrow) and return where things landed; with ``png``, a full-page screenshot too."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        binary,
        *_FLAGS,
        f"--user-data-dir={tmp / f'cdp-profile-{width}'}",
        f"--remote-debugging-port={port}",
        "--remote-allow-origins=*",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        target = await _page_target(port)
        async with websockets.connect(target, max_size=None) as socket:
            tools = _DevTools(socket)
            await tools.call(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=width < 600,
            )
            await tools.call("Page.enable")
            await tools.call("Page.navigate", url=page.resolve().as_uri())
            await tools.until("Page.loadEventFired")
            measured = (await tools.call("Runtime.evaluate", expression=_LAYOUT_JS, returnByValue=True))["result"][
                "value"
            ]
            if png is not None:
                shot = await tools.call(
                    "Page.captureScreenshot",
                    format="png",
                    captureBeyondViewport=True,
                    clip={"x": 0, "y": 0, "width": width, "height": measured["documentHeight"], "scale": 1},
                )
                png.write_bytes(base64.b64decode(shot["data"]))
            return measured
    finally:
        process.terminate()
        await process.wait()


async def _page_target(port: int) -> str:
    deadline = asyncio.get_running_loop().time() + 30
    async with httpx.AsyncClient() as client:
        while True:
            try:
                targets = (await client.get(f"http://127.0.0.1:{port}/json/list")).json()
                pages = [t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page"]
                if pages:
                    return pages[0]
            except httpx.HTTPError:
                pass
            assert asyncio.get_running_loop().time() < deadline, "chromium's DevTools endpoint never came up"
            await asyncio.sleep(0.1)
