"""The server's end of the wire: LSP's `Content-Length` framing read strictly, and a writer that
can be closed for good.

pygls' own loop skips lines it does not understand and waits forever for a body that never
comes, so a corrupt header or stray bytes leave a server that hears nothing and says nothing.
Here every header line must be `Name: value`, `Content-Length` a number within bounds, and a
message that stops arriving halfway is given up on: the caller logs the reason and exits, so
the editor restarts the server instead of talking to a deaf one.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable

MAX_BODY = 256 * 1024 * 1024  # bytes; far above any document an editor sends
MAX_HEADER_LINE = 8 * 1024
# How long a message may stop arriving halfway: a client writes a message whole, so a silence
# inside one means its framing is broken. It is cut short when the body already holds a
# complete JSON value (a Content-Length larger than the message).
STALL = 30.0
STALL_EVIDENCE = 1.0
_HEADER = re.compile(rb"([A-Za-z0-9-]+): *([^\r\n]*)")
_HEADER_PREFIX = re.compile(rb"[A-Za-z0-9-]*(: *[^\r\n]*\r?)?")


def _complete_json(data: bytearray) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


class ProtocolError(Exception):
    """The byte stream is not LSP's framing; nothing after it can be trusted."""


class MessageReader:
    """Reads the bodies of framed messages from a stream."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.stream = stream
        self.buffer = bytearray()

    async def _more(self, what: str) -> bool:
        """Read more bytes into the buffer; False at the end of the stream."""
        if not self.buffer:  # between messages: the client may be quiet for as long as it likes
            chunk = await self.stream.read(65536)
        else:
            try:
                chunk = await asyncio.wait_for(self.stream.read(65536), STALL_EVIDENCE)
            except TimeoutError:
                if what == "body" and _complete_json(self.buffer):
                    raise ProtocolError("Content-Length is larger than the message: its body "
                                        "is complete JSON and nothing more comes") from None
                try:
                    chunk = await asyncio.wait_for(self.stream.read(65536),
                                                   STALL - STALL_EVIDENCE)
                except TimeoutError:
                    raise ProtocolError(f"a message stopped arriving in its {what} "
                                        f"({len(self.buffer)} bytes, then nothing for "
                                        f"{STALL:.0f} s)") from None
        self.buffer += chunk
        return bool(chunk)

    async def _header_line(self) -> bytes | None:
        while (end := self.buffer.find(b"\r\n")) < 0:
            if not _HEADER_PREFIX.fullmatch(self.buffer[:MAX_HEADER_LINE]) or len(
                    self.buffer) > MAX_HEADER_LINE:
                raise ProtocolError(f"expected a header line, got {bytes(self.buffer[:80])!r}")
            if not await self._more("header"):
                if self.buffer:
                    raise ProtocolError(f"the stream ended inside a header: "
                                        f"{bytes(self.buffer[:80])!r}")
                return None
        line = bytes(self.buffer[:end])
        del self.buffer[:end + 2]
        return line

    async def read(self) -> bytes | None:
        """The next message's body, or None at a clean end of the stream (between messages)."""
        length: int | None = None
        while True:
            line = await self._header_line()
            if line is None:
                if length is not None:
                    raise ProtocolError("the stream ended inside a message's headers")
                return None
            if not line:
                break
            match = _HEADER.fullmatch(line)
            if match is None:
                raise ProtocolError(f"malformed header line {line[:80]!r}")
            if match[1].lower() == b"content-length":
                if not match[2].strip().isdigit():
                    raise ProtocolError(f"Content-Length is not a number: {match[2][:40]!r}")
                length = int(match[2])
                if length > MAX_BODY:
                    raise ProtocolError(f"Content-Length {length} is above {MAX_BODY} bytes")
        if length is None:
            raise ProtocolError("a message without a Content-Length header")
        while len(self.buffer) < length:
            if not await self._more("body"):
                raise ProtocolError(f"the stream ended inside a message body ({len(self.buffer)}"
                                    f" of {length} bytes)")
        with memoryview(self.buffer) as view:  # one copy of a big body, not two
            body = bytes(view[:length])
        del self.buffer[:length]
        return body


class Writer:
    """pygls' writer interface over a byte sink. Once closed (after `exit`), or once the sink
    has failed (the client is gone), nothing more is written and nothing is raised: a job
    ending after that has no one to tell."""

    def __init__(self, sink: Callable[[bytes], None],
                 on_broken: Callable[[BaseException], None]) -> None:
        self.sink, self.on_broken = sink, on_broken
        self.closed = False

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            self.sink(data)
        except (OSError, ValueError) as exc:  # a closed pipe or file
            self.closed = True
            self.on_broken(exc)

    def close(self) -> None:
        self.closed = True


# What stands, in a decoded message, for a string too long to be worth decoding (a document
# above protocol.MAX_DOCUMENT): its text is never built, so a 20 MB document costs the server
# a scan for quotes, not a 20 MB string made in one step that holds the GIL.
UNREAD = "\0tinyml-lsp: a text too long to read\0"


def decode_skipping_long_strings(body: bytes, limit: int) -> object:
    """The JSON of `body`, each string value longer than `limit` bytes replaced by UNREAD.

    A pass over the quotes in Python (UTF-8 never puts a quote or a backslash byte inside a
    multi-byte character), so that the GIL is let go every few milliseconds when this runs in
    a thread, then json.loads of what is left.
    """
    pieces, start, position = [], 0, 0
    while (opening := body.find(b'"', position)) >= 0:
        closing = opening
        while True:  # the next quote not escaped by an odd run of backslashes
            closing = body.find(b'"', closing + 1)
            if closing < 0:
                raise ValueError("an unterminated string")
            escapes = closing
            while escapes - 1 > opening and body[escapes - 1] == 0x5C:  # backslash
                escapes -= 1
            if (closing - escapes) % 2 == 0:
                break
        if closing - opening - 1 > limit:
            pieces += [body[start:opening], json.dumps(UNREAD).encode()]
            start = closing + 1
        position = closing + 1
    pieces.append(body[start:])
    return json.loads(b"".join(pieces))
