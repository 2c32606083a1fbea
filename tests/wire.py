"""The language server on the wire, for tests and benchmarks that need what a polite client
does not do: raw bytes, signals, watching the process and its children.

`WireServer` starts `python -m tinyml_lsp` with a tag in its environment, which every process
it starts inherits: `tagged(tag)` finds them all, wherever they were re-parented.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

TAG_ENV = "TINYML_TEST_TAG"


def tagged(tag: str) -> list[int]:
    """The live processes (zombies aside) carrying `tag` in their environment."""
    needle = f"{TAG_ENV}={tag}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0") and b") Z " not in (
                    entry / "stat").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def wait_untagged(tag: str, timeout: float) -> list[int]:
    """Wait until no process carries `tag`; those that still do after `timeout`."""
    deadline = time.monotonic() + timeout
    while (left := tagged(tag)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class WireServer:
    """A server process and the messages it sent, read as they come."""

    def __init__(self, proc: asyncio.subprocess.Process, tag: str) -> None:
        self.proc, self.tag = proc, tag
        self.messages: list[dict[str, Any]] = []
        self.trailing = b""  # bytes at the end of stdout that were no whole message
        self._ids = itertools.count(1)
        self._arrived = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, *, cwd: str | Path | None = None,
                    env: dict[str, str] | None = None) -> WireServer:
        tag = uuid.uuid4().hex
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tinyml_lsp", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=cwd,
            env={**os.environ, **(env or {}), TAG_ENV: tag}, limit=64 * 1024 * 1024)
        return cls(proc, tag)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        stream = self.proc.stdout
        try:
            while True:
                header = await stream.readuntil(b"\r\n\r\n")
                length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
                self.messages.append(json.loads(await stream.readexactly(length)))
                self._arrived.set()
        except asyncio.IncompleteReadError as exc:
            self.trailing = exc.partial
        except ConnectionError:
            return

    async def output_ended(self) -> None:
        """Wait for the end of the server's stdout."""
        await self._reader

    def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)

    def notify(self, method: str, params: Any = None) -> None:
        self.send_raw(frame({"jsonrpc": "2.0", "method": method, "params": params}))

    def request(self, method: str, params: Any = None) -> int:
        request_id = next(self._ids)
        self.send_raw(frame({"jsonrpc": "2.0", "id": request_id, "method": method,
                             "params": params}))
        return request_id

    async def wait_for(self, predicate: Any, timeout: float = 30) -> dict[str, Any]:
        """The first message (already received or to come) for which `predicate` is true."""
        async with asyncio.timeout(timeout):
            while True:
                for message in self.messages:
                    if predicate(message):
                        return message
                self._arrived.clear()
                await self._arrived.wait()

    async def response(self, request_id: int, timeout: float = 30) -> dict[str, Any]:
        return await self.wait_for(lambda m: m.get("id") == request_id and "method" not in m,
                                   timeout)

    async def call(self, method: str, params: Any = None, timeout: float = 30) -> Any:
        """Send a request; its result, or AssertionError with its error."""
        reply = await self.response(self.request(method, params), timeout)
        assert "error" not in reply, reply["error"]
        return reply.get("result")

    async def answer_requests(self) -> None:
        """Answer the server's own requests (progress tokens) with null, as editors do."""
        answered: set[Any] = set()
        while True:
            for m in list(self.messages):
                if "method" in m and "id" in m and m["id"] not in answered:
                    answered.add(m["id"])
                    self.send_raw(frame({"jsonrpc": "2.0", "id": m["id"], "result": None}))
            self._arrived.clear()
            await self._arrived.wait()

    async def initialize(self, capabilities: dict[str, Any] | None = None,
                         root: Path | None = None) -> None:
        await self.call("initialize", {
            "processId": os.getpid(), "rootUri": root.as_uri() if root else None,
            "capabilities": capabilities if capabilities is not None else {
                "window": {"workDoneProgress": True}}})
        self.notify("initialized", {})

    def open(self, path: Path, text: str | None = None) -> str:
        uri = path.as_uri()
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1,
            "text": path.read_text() if text is None else text}})
        return uri

    async def exit_code(self, timeout: float) -> int | None:
        """The process's exit status, or None if it is still running after `timeout`."""
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            return None

    async def stderr(self) -> str:
        assert self.proc.stderr is not None
        return (await self.proc.stderr.read()).decode(errors="replace")

    async def close(self) -> None:
        """Make sure the server and everything it started are gone."""
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self._reader.cancel()
        for pid in tagged(self.tag):
            os.kill(pid, 9)
