"""HTTP/1.x message heads and body framing for the HTTP proxy port (RFC 9112)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import SandboxError

MAX_HEAD = 1 << 16
_CHUNK = 1 << 18
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")

# Headers that describe one hop, not the message (RFC 9110 7.6.1), plus the proxy's own.
# Transfer-Encoding and Trailer stay: bodies are passed on in their original framing.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "upgrade"}
)


class HttpError(SandboxError):
    """A request the proxy cannot handle; carries the HTTP status and the page's text."""

    def __init__(self, status: int, title: str, message: str):
        """Keep the status and the explanation."""
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


@dataclass(slots=True)
class Head:
    """A request or status line and its header fields, in order."""

    start: str
    headers: list[tuple[str, str]] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        """Return the last value of a header, or None."""
        name = name.lower()
        for key, value in reversed(self.headers):
            if key.lower() == name:
                return value
        return None

    def get_all(self, name: str) -> list[str]:
        """Return every value of a header, in order."""
        name = name.lower()
        return [value for key, value in self.headers if key.lower() == name]

    def tokens(self, name: str) -> set[str]:
        """Return the lowercase comma-separated tokens of a header (e.g. Connection)."""
        return {
            token.strip().lower()
            for value in self.get_all(name)
            for token in value.split(",")
            if token.strip()
        }

    def forwardable(self) -> list[tuple[str, str]]:
        """Return the headers without hop-by-hop ones and those Connection names."""
        drop = HOP_BY_HOP | self.tokens("connection") | self.tokens("proxy-connection")
        return [(k, v) for k, v in self.headers if k.lower() not in drop]


async def read_head(reader: asyncio.StreamReader) -> Head | None:
    """Read one message head; None on a clean end of stream before any byte."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise HttpError(
            400, "Incomplete request", "The connection ended inside a header."
        ) from None
    except asyncio.LimitOverrunError:
        raise HttpError(400, "Header too large", f"Headers over {MAX_HEAD} bytes.") from None
    lines = raw[:-4].decode("latin-1").split("\r\n")
    while lines and not lines[0]:  # RFC 9112 2.2: ignore empty lines before a request
        lines.pop(0)
    if not lines:
        return None
    head = Head(lines[0])
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not _TOKEN.match(name):
            raise HttpError(400, "Bad header", f"Malformed header line {line[:80]!r}.")
        head.headers.append((name, value.strip()))
    return head


def body_framing(head: Head, *, response: bool) -> tuple[str, int]:
    """Return ('chunked', 0), ('length', n), ('none', 0) or, for responses, ('close', 0)."""
    codings = [c.strip().lower() for v in head.get_all("transfer-encoding") for c in v.split(",")]
    if codings:
        if codings[-1] == "chunked":
            return "chunked", 0
        if response:
            return "close", 0
        raise HttpError(400, "Bad framing", "Transfer-Encoding without chunked last.")
    lengths = {v.strip() for v in head.get_all("content-length")}
    if lengths:
        if len(lengths) != 1 or not next(iter(lengths)).isdigit():
            raise HttpError(400, "Bad framing", "Invalid or conflicting Content-Length.")
        return "length", int(next(iter(lengths)))
    return ("close", 0) if response else ("none", 0)


def _nothing() -> None:
    """Default progress callback."""


async def copy_body(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    kind: str,
    length: int,
    touch: Callable[[], None] = _nothing,
) -> int:
    """Stream one body from reader to writer in its own framing; return bytes copied.

    ``touch`` is called for every piece, so a long transfer never looks idle.
    """
    if kind == "length":
        return await _copy_exactly(reader, writer, length, touch)
    if kind == "close":
        total = 0
        while data := await reader.read(_CHUNK):
            writer.write(data)
            total += len(data)
            touch()
            await writer.drain()
        return total
    if kind == "chunked":
        return await _copy_chunked(reader, writer, touch)
    return 0


async def _copy_exactly(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    length: int,
    touch: Callable[[], None],
) -> int:
    """Copy exactly ``length`` bytes, failing if the stream ends first."""
    left = length
    while left:
        data = await reader.read(min(left, _CHUNK))
        if not data:
            raise ConnectionError("stream ended inside a body")
        writer.write(data)
        left -= len(data)
        touch()
        await writer.drain()
    return length


async def _copy_chunked(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, touch: Callable[[], None]
) -> int:
    """Copy a chunked body verbatim, chunk lines and trailers included."""
    total = 0
    while True:
        line = await reader.readline()
        if not line.endswith(b"\n"):
            raise ConnectionError("stream ended inside a chunked body")
        writer.write(line)
        total += len(line)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise HttpError(400, "Bad chunk", "Invalid chunk size line.") from None
        if size == 0:
            break
        total += await _copy_exactly(reader, writer, size + 2, touch)  # data and its CRLF
    while True:  # trailer fields, up to the empty line
        line = await reader.readline()
        if not line.endswith(b"\n"):
            raise ConnectionError("stream ended inside chunked trailers")
        writer.write(line)
        total += len(line)
        if line in (b"\r\n", b"\n"):
            break
    await writer.drain()
    return total


def encode_head(start: str, headers: list[tuple[str, str]]) -> bytes:
    """Serialize a start line and header fields."""
    lines = [start, *(f"{k}: {v}" for k, v in headers), "", ""]
    return "\r\n".join(lines).encode("latin-1")
