"""The server object: pygls' LanguageServer plus what tinyml's features share, and its life
from the first byte read to the process's end.

The server reads its messages itself (`transport`) rather than through pygls' loop, so that a
broken stream ends the process with a reason instead of leaving it deaf, and it ends through
`terminate` only: jobs cancelled and awaited briefly, every child process killed, nothing more
written, and `os._exit` — the threads `asyncio.to_thread` started for a cancelled job's work
have nothing worth waiting for, and the editor waits for the process to be gone.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from tinyml_lsp import __version__
from tinyml_lsp.lsp.jobs import Jobs
from tinyml_lsp.lsp.protocol import TinymlProtocol, decode
from tinyml_lsp.lsp.settings import Settings, parse_settings
from tinyml_lsp.lsp.transport import MessageReader, ProtocolError, Writer
from tinyml_lsp.model import training_script
from tinyml_lsp.runtime.process import bind_children_to_this_process

log = logging.getLogger(__name__)

BIG_MESSAGE = 1_000_000  # bytes: decoded in a thread, letting the event loop run
EXIT_WAIT = 0.5  # seconds for cancelled jobs to clean up at exit
SCAN_INLINE = 64_000  # characters: bigger documents are scanned in a thread
# set: the worst event-loop stall of the session (from `initialized` on), told at exit
STALL_REPORT_ENV = "TINYML_REPORT_STALLS"


class TinymlServer(LanguageServer):
    protocol: TinymlProtocol

    def __init__(self) -> None:
        super().__init__("tinyml-lsp", __version__, protocol_cls=TinymlProtocol)
        self.jobs = Jobs()
        self.settings = Settings()
        self.build_diagnostics: dict[str, set[str]] = {}  # project → URIs with diagnostics
        self.oversized: set[str] = set()  # documents too big to keep (protocol.MAX_DOCUMENT)
        self._scans: dict[str, tuple[int | None, training_script.TrainingScript | None]] = {}
        # called with ("open" | "change" | "close" | "oversized", uri) after the workspace
        # follows a document (features that analyse documents as they change listen here)
        self.document_listeners: list[Callable[[str, str], None]] = []
        self._exit_code: int | None = None
        self._ending: asyncio.Task[None] | None = None
        self._worst_stall = 0.0
        self._stall_watch: asyncio.Task[None] | None = None

    # --- what the features share ---------------------------------------------------------

    async def scan(self, uri: str, version: int | None,
                   text: str) -> training_script.TrainingScript | None:
        """The training-script scan of a document, computed once per version (in a thread
        for a big document: a regex pass over every line)."""
        cached = self._scans.get(uri)
        if cached is None or cached[0] != version or version is None:
            script = (training_script.scan(text) if len(text) <= SCAN_INLINE
                      else await asyncio.to_thread(training_script.scan, text))
            cached = (version, script)
            self._scans[uri] = cached
        return cached[1]

    def forget(self, uri: str) -> None:
        self._scans.pop(uri, None)

    def document_event(self, event: str, uri: str) -> None:
        for listener in self.document_listeners:
            try:
                listener(event, uri)
            except Exception:  # a listener's bug must not stop the workspace following edits
                log.exception("document listener failed on %s of %s", event, uri)

    def log(self, kind: types.MessageType, text: str) -> None:
        self.window_log_message(types.LogMessageParams(kind, text))

    def update_settings(self, raw: Any) -> None:
        """Take the client's settings; what is not understood is said in the log."""
        self.settings, problems = parse_settings(raw)
        for problem in problems:
            self.log(types.MessageType.Warning, problem)

    # --- life ----------------------------------------------------------------------------

    def serve(self, tcp_port: int | None = None, host: str = "127.0.0.1") -> None:
        bind_children_to_this_process()  # they die with this process, however it ends
        asyncio.run(self._serve_tcp(host, tcp_port) if tcp_port else self._serve_stdio())

    async def _serve_stdio(self) -> None:
        # the protocol writes to a copy of stdout; fd 1 becomes stderr, so that nothing else
        # (a library's print, a C extension) can put bytes into the protocol's stream
        out = os.fdopen(os.dup(1), "wb")
        os.dup2(2, 1)

        def send(data: bytes) -> None:
            out.write(data)
            out.flush()

        self.protocol.set_writer(Writer(send, self._client_gone))
        stream = asyncio.StreamReader()
        threading.Thread(target=_pump, args=(asyncio.get_running_loop(), stream),
                         name="stdin", daemon=True).start()
        await self._run(stream)

    async def _serve_tcp(self, host: str, port: int) -> None:
        connected: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if connected.done():  # one client per server
                writer.close()
                return
            connected.set_result(None)
            self.protocol.set_writer(Writer(writer.write, self._client_gone))
            await self._run(reader)

        listener = await asyncio.start_server(connection, host, port)
        async with listener:
            await asyncio.Event().wait()  # until terminate()

    async def _run(self, stream: asyncio.StreamReader) -> None:
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            loop.add_signal_handler(number, self.terminate, 128 + number)
        messages = MessageReader(stream)
        while self._exit_code is None:
            try:
                body = await messages.read()
            except ProtocolError as exc:
                log.error("the client's messages cannot be read (%s); exiting so that the "
                          "editor can start the server again", exc)
                self.terminate(1)
                break
            if body is None:
                log.info("the client closed the connection")
                self.terminate(0 if self.protocol._shutdown else 1)
                break
            try:
                data = (await asyncio.to_thread(decode, body) if len(body) > BIG_MESSAGE
                        else decode(body))
            except ValueError as exc:  # framed right, but not JSON
                self.protocol.handle_invalid_json(exc)
                continue
            self.protocol.handle_data(data)
        await asyncio.Event().wait()  # terminate() ends the process

    def _client_gone(self, exc: BaseException) -> None:
        log.error("cannot write to the client (%s); exiting", exc)
        self.terminate(1)

    def terminate(self, code: int) -> None:
        """End the process: nothing more is written, the jobs are cancelled (given a moment
        to clean up), every child process is killed. Idempotent."""
        if self._exit_code is not None:
            return
        self._exit_code = code
        if isinstance(self.protocol.writer, Writer):
            self.protocol.writer.close()
        self._ending = asyncio.ensure_future(self._end(code))

    async def _end(self, code: int) -> None:
        await self.jobs.stop_all(EXIT_WAIT)
        if os.environ.get(STALL_REPORT_ENV):
            print(f"tinyml-lsp: worst event-loop stall {1000 * self._worst_stall:.1f} ms",
                  file=sys.stderr)
        logging.shutdown()
        sys.stderr.flush()
        os._exit(code)

    def session_started(self) -> None:
        """The client is initialized (the `initialize` request counts as start-up)."""
        if os.environ.get(STALL_REPORT_ENV) and self._stall_watch is None:
            self._stall_watch = asyncio.ensure_future(self._watch_stalls())

    async def _watch_stalls(self, interval: float = 0.005) -> None:
        """How late a short timer fires: the longest time the event loop could not run."""
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(interval)
            self._worst_stall = max(self._worst_stall, loop.time() - before - interval)


def _pump(loop: asyncio.AbstractEventLoop, stream: asyncio.StreamReader) -> None:
    """Feed stdin to the event loop's stream, from a thread (works for pipes, files, ttys)."""
    while True:
        try:
            chunk = os.read(0, 65536)
        except OSError:
            chunk = b""
        try:
            if chunk:
                loop.call_soon_threadsafe(stream.feed_data, chunk)
            else:
                loop.call_soon_threadsafe(stream.feed_eof)
                return
        except RuntimeError:  # the loop is closed: the server is ending
            return
