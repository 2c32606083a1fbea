"""The server's framing (lsp.transport): strict headers, broken streams named, big strings
left undecoded."""

from __future__ import annotations

import asyncio
import json

import pytest

from tinyml_lsp.lsp import transport
from tinyml_lsp.lsp.transport import UNREAD, MessageReader, ProtocolError


def _reader(*chunks: bytes, eof: bool = True) -> MessageReader:
    stream = asyncio.StreamReader()
    for chunk in chunks:
        stream.feed_data(chunk)
    if eof:
        stream.feed_eof()
    return MessageReader(stream)


def _frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\nContent-Type: application/vscode-jsonrpc\r\n\r\n" % len(
        body) + body


async def test_messages_split_and_joined_anyhow_are_read_whole() -> None:
    stream = b"".join(_frame(b'{"n": %d}' % n) for n in range(3))
    reader = _reader(*[stream[i:i + 7] for i in range(0, len(stream), 7)])
    assert [await reader.read() for _ in range(4)] == [b'{"n": 0}', b'{"n": 1}', b'{"n": 2}',
                                                       None]


@pytest.mark.parametrize(("stream", "reason"), [
    (b"Content-Length: 12x\r\n\r\n{}", "not a number"),
    (b"\xff\xfe\x00garbage", "expected a header line"),
    (b"Content-Type: x\r\n\r\n{}", "without a Content-Length"),
    (b"Content-Length: 99\r\n\r\n{}", "ended inside a message body"),
    (b"Content-Length: %d\r\n\r\n" % (transport.MAX_BODY + 1), "above"),
])
async def test_a_broken_stream_is_named(stream: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        await _reader(stream).read()


async def test_a_content_length_too_large_is_found_out(monkeypatch) -> None:
    monkeypatch.setattr(transport, "STALL_EVIDENCE", 0.05)
    reader = _reader(b'Content-Length: 40\r\n\r\n{"id": 1}', eof=False)  # nothing more comes
    with pytest.raises(ProtocolError, match="larger than the message"):
        await reader.read()


def test_long_strings_are_not_decoded() -> None:
    text = 'print("a \\"quoted\\" word")\n' * 100 + "ünïcödé \\\\"
    message = {"params": {"textDocument": {"uri": "file:///x.py", "text": text}},
               "short": "a \\ b \"c\""}
    body = json.dumps(message).encode()
    assert transport.decode_skipping_long_strings(body, 10_000) == message
    skipped = transport.decode_skipping_long_strings(body, 100)
    assert skipped["params"]["textDocument"] == {"uri": "file:///x.py", "text": UNREAD}
    assert skipped["short"] == message["short"]
