"""`tinyml.buildLog`: a build's output pasted from anywhere (a real board's PlatformIO run on
another machine, a host build) becomes diagnostics on the workspace's files; the next log
without errors clears them. The RAM/flash summary is shown and returned."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types

from tinyml_lsp.deploy.build_log import read_build_log
from tinyml_lsp.lsp.arguments import FOLDER, arg
from tinyml_lsp.lsp.deploy_commands import publish_placed
from tinyml_lsp.lsp.progress import register_command, show
from tinyml_lsp.lsp.tinyml_server import TinymlServer

MAX_LOG = 20_000_000  # characters


@dataclass(frozen=True)
class BuildLogArguments:
    log: str = arg("the build's output, as text")
    root: str | None = arg("the folder its paths are relative to (default: the workspace)",
                           exists=FOLDER, default=None)


async def build_log(ls: TinymlServer, arguments: BuildLogArguments) -> dict[str, Any] | None:
    root = arguments.root or ls.workspace.root_path
    if not root:
        show(ls, types.MessageType.Error, "tinyml.buildLog: no workspace folder to place the "
             "log's files in; give `root`")
        return None
    result = await asyncio.to_thread(read_build_log, arguments.log[:MAX_LOG], Path(root))
    publish_placed(ls, f"log:{root}", result.diagnostics)
    placed = sum(d.file is not None for d in result.diagnostics)
    text = (f"Build log: {result.errors} error(s), {len(result.diagnostics)} message(s), "
            f"{placed} on workspace files")
    if result.summary:
        text += f"; {result.summary}"
    show(ls, types.MessageType.Error if result.errors else types.MessageType.Info, text)
    return result.to_json()


def register(server: TinymlServer) -> None:
    register_command(server, "tinyml.buildLog", BuildLogArguments, build_log)
