"""Code actions: what the lightbulb offers on a line."""

from __future__ import annotations

from lsprotocol import types

from tinyml_lsp.lsp.tinyml_server import TinymlServer

QUANTIZE_TITLE = "Quantize this model (int8)"


def code_actions(ls: TinymlServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    if not uri.endswith(".py"):
        return []
    doc = ls.workspace.get_text_document(uri)
    script = ls.scan_cache(uri, doc.version, doc.source)
    if script is None:
        return []
    actions = []
    for line in range(params.range.start.line, params.range.end.line + 1):
        site = script.site_on(line)
        if site is None:
            continue
        actions.append(types.CodeAction(
            title=QUANTIZE_TITLE,
            command=types.Command(title=QUANTIZE_TITLE, command="tinyml.quantize",
                                  arguments=[{"uri": uri, "line": line}]),
        ))
        break  # one action per request, even if the range spans several sites
    return actions


def register(server: TinymlServer) -> None:
    # no kind: the action belongs in the lightbulb, not in a refactor or source menu
    server.feature(types.TEXT_DOCUMENT_CODE_ACTION)(code_actions)

