"""A command's output as it may leave the command's side: redacted first, then bounded. Pure.

Redaction works on the byte stream as it arrives, holding back just enough bytes that a
secret split across two reads is still caught; bounding then keeps the head and the tail
of the redacted stream (``HEAD_BYTES`` + ``TAIL_BYTES``, 64 KiB in all) and replaces the
middle with one marker line saying how much was cut. The tail is kept because the audit
summary is the last line, and a failing command's last words are the ones worth reading.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from activity_core.kinds.trigger.models import StreamCapture

HEAD_BYTES = 16 * 1024
TAIL_BYTES = 48 * 1024
MAX_AUDIT_LINE_BYTES = 16 * 1024
_MIN_SECRET_BYTES = 4


def redaction_marker(name: str) -> bytes:
    return f"[redacted ${name}]".encode()


def secret_forms(secrets: Mapping[str, str]) -> dict[bytes, bytes]:
    """Each secret value as it may appear in output (raw and JSON-escaped), to its marker."""
    forms: dict[bytes, bytes] = {}
    for name, value in secrets.items():
        if len(value.encode()) < _MIN_SECRET_BYTES:
            raise ValueError(f"the value of ${name} is shorter than {_MIN_SECRET_BYTES} bytes; too short to redact")
        for form in (value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]):
            forms[form.encode()] = redaction_marker(name)
    return forms


class StreamRedactor:
    """Replaces every secret form in a byte stream, across read boundaries."""

    def __init__(self, forms: Mapping[bytes, bytes]) -> None:
        self._forms = sorted(forms.items(), key=lambda item: len(item[0]), reverse=True)
        self._hold = max((len(form) for form in forms), default=1) - 1
        self._pending = b""
        self.redactions = 0

    def feed(self, chunk: bytes) -> bytes:
        """The redacted bytes that are safe to pass on; a possible secret prefix is held back."""
        buffer = self._redact(self._pending + chunk)
        if self._hold == 0:
            self._pending = b""
            return buffer
        cut = max(len(buffer) - self._hold, 0)
        self._pending = buffer[cut:]
        return buffer[:cut]

    def flush(self) -> bytes:
        rest, self._pending = self._redact(self._pending), b""
        return rest

    def _redact(self, data: bytes) -> bytes:
        for form, marker in self._forms:
            count = data.count(form)
            if count:
                self.redactions += count
                data = data.replace(form, marker)
        return data


class BoundedBuffer:
    """The first ``head`` and the last ``tail`` bytes of a stream, and how many it saw."""

    def __init__(self, head: int = HEAD_BYTES, tail: int = TAIL_BYTES) -> None:
        self._head_limit, self._tail_limit = head, tail
        self._head = bytearray()
        self._tail = bytearray()
        self._recent = bytearray()  # enough of the end to find the last line in
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        self._recent += data
        if len(self._recent) > MAX_AUDIT_LINE_BYTES + 2:
            del self._recent[: len(self._recent) - MAX_AUDIT_LINE_BYTES - 2]
        room = self._head_limit - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if data:
            self._tail += data
            if len(self._tail) > self._tail_limit:
                del self._tail[: len(self._tail) - self._tail_limit]

    @property
    def cut(self) -> int:
        return self.total - len(self._head) - len(self._tail)

    def capture(self) -> StreamCapture:
        if self.cut:
            marker = f"\n[activity-core: {self.cut} bytes cut here; kept the first {len(self._head)} "
            marker += f"and the last {len(self._tail)}]\n"
            data = bytes(self._head) + marker.encode() + bytes(self._tail)
        else:
            data = bytes(self._head) + bytes(self._tail)
        return StreamCapture(text=data.decode("utf-8", errors="replace"), total_bytes=self.total, cut_bytes=self.cut)

    def last_line(self) -> bytes | None:
        """The stream's last non-blank line, or None when it is longer than an audit line may be."""
        data = bytes(self._recent).rstrip()
        newline = data.rfind(b"\n")
        if newline >= 0:
            return data[newline + 1 :].strip() or None
        whole_stream = self.total <= len(self._recent)
        return (data.strip() or None) if whole_stream else None


@dataclass
class StreamCollector:
    """Redact, then bound: the only path output takes out of the command's process."""

    redactor: StreamRedactor
    buffer: BoundedBuffer

    @classmethod
    def for_secrets(cls, forms: Mapping[bytes, bytes]) -> StreamCollector:
        return cls(StreamRedactor(forms), BoundedBuffer())

    def feed(self, chunk: bytes) -> None:
        self.buffer.add(self.redactor.feed(chunk))

    def close(self) -> None:
        self.buffer.add(self.redactor.flush())


def parse_audit_line(line: bytes | None) -> dict[str, Any] | None:
    """The JSON audit summary when the last stdout line is one JSON object; otherwise None
    (earlier lines are human text, and a command may end without one)."""
    if line is None or len(line) > MAX_AUDIT_LINE_BYTES:
        return None
    try:
        value = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None
