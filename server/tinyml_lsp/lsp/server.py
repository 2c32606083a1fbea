"""The language server: a pygls LanguageServer with tinyml's features registered on it."""

from __future__ import annotations

import logging

from lsprotocol import types

from tinyml_lsp.lsp import (
    build_log_command,
    check_features,
    code_actions,
    commands,
    data_hover,
    deploy_commands,
    editor_commands,
    llm_commands,
    sketch_command,
)
from tinyml_lsp.lsp.tinyml_server import TinymlServer


def create_server() -> TinymlServer:
    server = TinymlServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: TinymlServer, params: types.InitializeParams) -> None:
        ls.update_settings(params.initialization_options)

    @server.feature(types.INITIALIZED)
    def initialized(ls: TinymlServer, params: types.InitializedParams) -> None:
        ls.session_started()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: TinymlServer,
                                 params: types.DidChangeConfigurationParams) -> None:
        ls.update_settings(params.settings)

    @server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def on_cancel(ls: TinymlServer, params: types.WorkDoneProgressCancelParams) -> None:
        ls.jobs.cancel(token=params.token)

    code_actions.register(server)
    commands.register(server)
    deploy_commands.register(server)
    sketch_command.register(server)
    llm_commands.register(server)
    data_hover.register(server)
    check_features.register(server)
    build_log_command.register(server)
    editor_commands.register(server)
    return server


def serve(tcp_port: int | None = None, host: str = "127.0.0.1") -> None:
    # pygls logs every message at INFO; stderr is the editor's log, keep it to what matters
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    create_server().serve(tcp_port, host)
