"""A real HTTP server on loopback speaking OpenAI's chat-completions API, whose answers the
tests script: one `Reply` per request, in order (or a function of the request).

It speaks both ways the client may ask: a JSON completion, or server-sent events when the
request says `"stream": true` (with the usage chunk when `stream_options.include_usage`). It
records every request (headers and body) and notices when a client goes away before its
answer (`disconnected`). Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    text: str = ""
    status: int = 200
    prompt_tokens: int = 100
    completion_tokens: int = 50
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None  # sent as is instead of a completion (malformed answers)
    content_type: str = "application/json"  # of `body`
    delay: float = 0.0  # seconds before answering
    hang: bool = False  # never answer; wait for the client to go away
    error: str = "scripted error"  # the message of an error status
    finish_reason: str = "stop"
    usage: bool = True  # report token counts


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, str]]:
        return list(self.body.get("messages", []))

    @property
    def prompt(self) -> str:
        return "\n".join(m["content"] for m in self.messages)


class ScriptedLlm:
    """`with ScriptedLlm() as llm: llm.script(Reply(...), ...); ... llm.base_url`."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.responder: Callable[[Request], Reply] | None = None
        self.requests: list[Request] = []
        self.disconnected = threading.Event()
        self.unscripted = 0  # requests that found no reply (a test that asked too often)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._closing = threading.Event()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def script(self, *replies: Reply) -> ScriptedLlm:
        with self._lock:
            self.replies.extend(replies)
        return self

    def __enter__(self) -> ScriptedLlm:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def _next(self, request: Request) -> Reply | None:
        with self._lock:
            self.requests.append(request)
            if self.responder is not None:
                return self.responder(request)
            if self.replies:
                return self.replies.pop(0)
            self.unscripted += 1
            return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        llm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {}
                request = Request(self.path, {k.lower(): v for k, v in self.headers.items()},
                                  body)
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(404, {"error": {"message": f"no route {self.path}"}})
                    return
                reply = llm._next(request)
                if reply is None:
                    self._json(500, {"error": {"message": "no scripted answer left"}})
                    return
                if reply.hang:
                    self._wait_for_disconnect()
                    return
                time.sleep(reply.delay)
                if reply.body is not None:
                    self._send(reply.status, reply.body, reply.content_type, reply.headers)
                elif reply.status != 200:
                    self._json(reply.status, {"error": {"message": reply.error,
                                                        "type": "scripted"}}, reply.headers)
                elif body.get("stream"):
                    self._stream(reply, body)
                else:
                    self._json(200, _completion(reply, body.get("model", "")), reply.headers)

            def _wait_for_disconnect(self) -> None:
                while not llm._closing.is_set():
                    ready, _, _ = select.select([self.connection], [], [], 0.05)
                    if ready and not self.connection.recv(1, 2):  # MSG_PEEK: b"" = closed
                        llm.disconnected.set()
                        return

            def _send(self, status: int, data: bytes, kind: str,
                      headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _json(self, status: int, payload: dict[str, Any],
                      headers: dict[str, str] | None = None) -> None:
                self._send(status, json.dumps(payload).encode(), "application/json", headers)

            def _stream(self, reply: Reply, body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("connection", "close")
                self.end_headers()
                model = body.get("model", "")
                pieces = [reply.text[i:i + 8] for i in range(0, len(reply.text), 8)]
                try:
                    for piece in pieces:
                        self._event(_chunk(model, {"content": piece}, None))
                    self._event(_chunk(model, {}, reply.finish_reason))
                    if reply.usage and (body.get("stream_options") or {}).get("include_usage"):
                        self._event({**_chunk(model, {}, None), "choices": [],
                                     "usage": _usage(reply)})
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    llm.disconnected.set()
                self.close_connection = True

            def _event(self, payload: dict[str, Any]) -> None:
                self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
                self.wfile.flush()

        return Handler


def _usage(reply: Reply) -> dict[str, int]:
    return {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens}


def _completion(reply: Reply, model: str) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "id": "chatcmpl-scripted", "object": "chat.completion", "created": int(time.time()),
        "model": model, "choices": [{"index": 0, "finish_reason": reply.finish_reason,
                                     "message": {"role": "assistant", "content": reply.text}}]}
    if reply.usage:
        answer["usage"] = _usage(reply)
    return answer


def _chunk(model: str, delta: dict[str, str], finish: str | None) -> dict[str, Any]:
    return {"id": "chatcmpl-scripted", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def fenced(code: str, lang: str = "c", path: str | None = None, chatter: bool = False) -> str:
    """An answer holding `code` in a fenced block, the way models write them."""
    head = f"FILE: {path}\n" if path else ""
    block = f"{head}```{lang}\n{code}\n```"
    if not chatter:
        return block
    return ("Sure! Here is the updated firmware. I kept the inference loop as it was.\n\n"
            f"{block}\n\nLet me know if you want anything else.")
