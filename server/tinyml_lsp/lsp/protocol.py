"""pygls' LSP protocol, with the server's life cycle and bad input made safe.

- Every request gets an answer: JSON that does not parse (-32700), a message that is not
  JSON-RPC (-32600), params of the wrong shape (-32602, saying what is wrong: `line: -1`, null
  params), a request after `shutdown` (-32600). Nothing is shown in a popup for them.
- `shutdown` cancels every job and waits for it (its workers killed, its partial files
  removed), then answers null; `exit` ends the process at once, writing nothing more.
- `$/cancelRequest` cancels the job serving that request, exactly as the progress UI's cancel.
- Odd documents: changes to a document that was never opened are ignored with a log line, and
  a document above `MAX_DOCUMENT` characters is not kept (it is not scanned; said once).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator
from concurrent.futures import Future
from typing import Any, Protocol, cast
from urllib.parse import unquote

import cattrs
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage

from tinyml_lsp.lsp.jobs import Jobs
from tinyml_lsp.lsp.transport import UNREAD, decode_skipping_long_strings

log = logging.getLogger(__name__)

MAX_DOCUMENT = 2_000_000  # characters: bigger files are no training scripts worth scanning
SHUTDOWN_WAIT = 3.0  # seconds for the jobs to end after their cancel, before their kill
PARSE_ERROR, INVALID_REQUEST, INVALID_PARAMS = -32700, -32600, -32602


def _reason(exc: BaseException, kind: type | None) -> str:
    if isinstance(exc, KeyError):
        return "missing"
    if isinstance(exc, ValueError):
        return str(exc)
    return f"expected {getattr(kind, '__name__', 'another type')}"


def _reasons(exc: BaseException) -> str:
    """Where the message is wrong and how: `params.range.start: Position.line should be …`."""
    try:
        problems = cattrs.transform_error(exc, path="", format_exception=_reason)
    except Exception:
        return str(exc)
    return "; ".join(p.split(" @ ")[-1].lstrip(".") + ": " + p.split(" @ ")[0]
                     for p in problems)


class Host(Protocol):
    """What the protocol needs of its server (`tinyml_server.TinymlServer`)."""

    jobs: Jobs
    oversized: set[str]  # documents too big to keep

    def log(self, kind: types.MessageType, text: str) -> None: ...
    def forget(self, uri: str) -> None: ...
    def document_event(self, event: str, uri: str) -> None: ...
    def terminate(self, code: int) -> None: ...


class TinymlProtocol(LanguageServerProtocol):
    @property
    def host(self) -> Host:
        return cast(Host, self._server)

    # --- messages in ---------------------------------------------------------------------

    def handle_data(self, data: Any) -> None:
        """Handle one decoded message (a JSON value); answer what cannot be handled."""
        request_id = data.get("id") if isinstance(data, dict) else None
        method = data.get("method") if isinstance(data, dict) else None
        if not isinstance(data, dict) or data.get("jsonrpc") != "2.0" or (
                method is None and "id" not in data):
            self._refuse(request_id, INVALID_REQUEST, "not a JSON-RPC 2.0 message")
            return
        if self._shutdown and method is not None and method != types.EXIT:
            self._refuse(request_id, INVALID_REQUEST, f"{method}: the server is shutting down")
            return
        try:
            message = self._structure(data)
        except (cattrs.BaseValidationError, TypeError, ValueError, KeyError) as exc:
            self._refuse(request_id if method else None, INVALID_PARAMS,
                         f"{method}: invalid params: {_reasons(exc)}")
            return
        self.handle_message(message)

    def handle_invalid_json(self, error: ValueError) -> None:
        self._refuse(None, PARSE_ERROR, f"the message is not JSON: {error}")

    def _structure(self, data: dict[str, Any]) -> Any:
        """pygls' typed message for `data` (pygls' own version logs a traceback and loses the
        reason)."""
        method = data.get("method")
        if method is None:
            return self.structure_message(data)  # a response to one of our requests
        kind = self.get_message_type(method)
        if kind is None:  # not an LSP method: pygls answers "method not found" if it is a request
            kind = JsonRPCRequestMessage if "id" in data else JsonRPCNotification
            data = {"params": None, **data}
        return self._converter.structure(data, kind)

    def _refuse(self, request_id: Any, code: int, message: str) -> None:
        log.warning("%s", message)
        if request_id is None and code != PARSE_ERROR:
            return  # a notification: nobody to answer
        self._send_response(request_id, error=types.ResponseError(code=code, message=message))

    def _send_handler_result(self, future: Future[Any], *, msg_id: Any) -> None:
        # an expected error (bad arguments) is one log line, not pygls' traceback
        if not future.cancelled() and isinstance(exc := future.exception(),
                                                 JsonRpcInvalidParams):
            self._request_futures.pop(msg_id, None)
            log.warning("request %s: %s", msg_id, exc.message)
            self._send_response(msg_id, error=exc.to_response_error())
            return
        super()._send_handler_result(future, msg_id=msg_id)

    # --- life cycle ----------------------------------------------------------------------

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        # pygls' version cancels the request futures while iterating over them ("dictionary
        # changed size") and leaves the jobs' own tasks running
        yield self.host.jobs.stop_all, (SHUTDOWN_WAIT,), None
        self._shutdown = True

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> None:  # type: ignore[override]  # nothing to wait for
        self.host.terminate(0 if self._shutdown else 1)

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        super()._handle_cancel_notification(msg_id)  # answers the request: RequestCancelled
        self.host.jobs.cancel(request=msg_id)

    # --- documents -----------------------------------------------------------------------

    def _opened(self, uri: str) -> bool:
        return unquote(uri) in self.workspace.text_documents

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        document = params.text_document
        if document.text == UNREAD or len(document.text) > MAX_DOCUMENT:
            self._oversized(document.uri)
            return
        self.workspace.put_text_document(document)
        self.host.document_event("open", document.uri)

    def _oversized(self, uri: str) -> None:
        """Stop keeping a document too big to scan, and say so once."""
        self.workspace.remove_text_document(uri)
        if uri not in self.host.oversized:
            self.host.oversized.add(uri)
            self.host.log(types.MessageType.Info, f"{uri}: above the {MAX_DOCUMENT:,} "
                          "characters tinyml reads; it is not scanned")
        self.host.document_event("oversized", uri)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri in self.host.oversized:
            return
        if not self._opened(uri):
            log.warning("didChange for %s, which was never opened: ignored", uri)
            return
        for change in params.content_changes:
            if change.text == UNREAD:
                self._oversized(uri)
                return
            self.workspace.update_text_document(params.text_document, change)
        if len(self.workspace.get_text_document(uri).source) > MAX_DOCUMENT:
            self._oversized(uri)  # grew too big: stop following it
            return
        self.host.document_event("change", uri)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        self.host.oversized.discard(uri)
        self.host.forget(uri)
        self.workspace.remove_text_document(uri)
        self.host.document_event("close", uri)


def decode(body: bytes) -> Any:
    """A message's JSON (ValueError if it is not JSON); in a big message, a document above
    MAX_DOCUMENT is not decoded (transport.UNREAD stands for its text)."""
    if len(body) <= MAX_DOCUMENT:
        return json.loads(body)
    return decode_skipping_long_strings(body, MAX_DOCUMENT)
