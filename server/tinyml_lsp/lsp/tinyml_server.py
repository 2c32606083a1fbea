"""The server object: pygls' LanguageServer plus what tinyml's features share."""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from tinyml_lsp import __version__
from tinyml_lsp.lsp.settings import Settings, parse_settings
from tinyml_lsp.model import training_script


class TinymlServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("tinyml-lsp", __version__)
        self.jobs: dict[str, asyncio.Task[Any]] = {}  # progress token → running job
        self.settings = Settings()
        self.build_diagnostics: dict[str, set[str]] = {}  # project → URIs with diagnostics
        self._scans: dict[str, tuple[int | None, training_script.TrainingScript | None]] = {}

    def scan_cache(self, uri: str, version: int | None,
                   text: str) -> training_script.TrainingScript | None:
        """The training-script scan of a document, computed once per version."""
        cached = self._scans.get(uri)
        if cached is None or cached[0] != version or version is None:
            cached = (version, training_script.scan(text))
            self._scans[uri] = cached
        return cached[1]

    def update_settings(self, raw: Any) -> None:
        """Take the client's settings; what is not understood is said in the log."""
        self.settings, problems = parse_settings(raw)
        for problem in problems:
            self.window_log_message(types.LogMessageParams(types.MessageType.Warning, problem))
