"""The LLM in the editor: commands (`tinyml.customize`, `tinyml.fixBuild`,
`tinyml.adaptQuantize`, `tinyml.prepareData`) and the code actions that offer them.

Thin wiring over llm/: each command is a job of `progress.run_job` (cancellable: cancelling
aborts the HTTP request and the board run), and a candidate that passed reaches the disk only
with the user's consent, asked the way `tinyml.sketch` asks: a WorkspaceEdit to review where
the client shows one (VS Code), else a question, after which the server writes the files. The
actions appear only when an endpoint is configured, so an editor without one sees exactly the
deterministic actions, and no LLM call is made.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.llm.config import LlmConfig, require_config, resolve_config
from tinyml_lsp.llm.edits import FileChange
from tinyml_lsp.lsp.arguments import (
    CustomizeArguments,
    DataArguments,
    FixBuildArguments,
    ScriptArguments,
)
from tinyml_lsp.lsp.code_actions import PROVIDERS, opened_file
from tinyml_lsp.lsp.progress import register_command, run_job, show
from tinyml_lsp.lsp.sketch_command import _reviews_edits
from tinyml_lsp.lsp.tinyml_server import TinymlServer
from tinyml_lsp.runtime.context import JobContext

if TYPE_CHECKING:
    from tinyml_lsp.llm.loop import LlmEditResult

CUSTOMIZE_TITLE = "Customize firmware (LLM)…"
FIX_TITLE = "Fix build errors (LLM)"
ADAPT_TITLE = "Adapt quantization to this script (LLM)"
PREPARE_TITLE = "Prepare this dataset (LLM)…"
ANNOTATION = "tinyml-llm"
APPLY, CANCEL = "Apply", "Cancel"
REVIEW_TIMEOUT = 1800.0  # seconds the user may look at a change
SAVE_WAIT = 3.0  # seconds an editor may take to save a file of an applied edit
BUILD_SOURCE = "tinyml build"  # the diagnostics deploy_commands publishes


def _settings(ls: TinymlServer) -> dict[str, Any]:
    return {k: v for k, v in asdict(ls.settings.llm).items() if k != "cache"}


def configured(ls: TinymlServer) -> bool:
    """Is an endpoint configured (settings or environment)? Cheap: no network."""
    try:
        return resolve_config(_settings(ls)) is not None
    except TinymlError:
        return True  # configured, wrongly: the command will say what is wrong


def _config(ls: TinymlServer) -> LlmConfig:
    return require_config(_settings(ls))


def _path(uri: str) -> Path:
    return Path(to_fs_path(uri) or uri)


# --- edits ---------------------------------------------------------------------------------


def changes_edit(changes: tuple[FileChange, ...], label: str) -> types.WorkspaceEdit:
    """The candidate as a WorkspaceEdit to confirm: whole-file replacements, new files
    created."""
    operations: list[Any] = []
    for c in changes:
        uri = from_fs_path(c.absolute) or Path(c.absolute).as_uri()
        if c.old is None:
            operations.append(types.CreateFile(uri=uri, annotation_id=ANNOTATION,
                                               options=types.CreateFileOptions(overwrite=False)))
            end = types.Position(0, 0)
        else:
            lines = c.old.split("\n")
            end = types.Position(len(lines) - 1, len(lines[-1]))
        operations.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
            edits=[types.AnnotatedTextEdit(range=types.Range(types.Position(0, 0), end),
                                           new_text=c.new, annotation_id=ANNOTATION)]))
    return types.WorkspaceEdit(document_changes=operations, change_annotations={
        ANNOTATION: types.ChangeAnnotation(label=label, needs_confirmation=True,
                                           description="validated by tinyml-lsp")})


async def _consent(ls: TinymlServer, changes: tuple[FileChange, ...], label: str,
                   ctx: JobContext) -> bool:
    """Ask the user to accept the changes; True once they are accepted (and, when the server
    writes them itself, written)."""
    from tinyml_lsp.llm.edits import apply_changes

    files = ", ".join(c.path for c in changes)
    ctx.progress(0.95, "waiting for you to review the change")
    try:
        if _reviews_edits(ls):
            answer = await asyncio.wait_for(ls.workspace_apply_edit_async(
                types.ApplyWorkspaceEditParams(edit=changes_edit(changes, label), label=label)),
                REVIEW_TIMEOUT)
            return bool(answer.applied)
        question = await asyncio.wait_for(ls.window_show_message_request_async(
            types.ShowMessageRequestParams(types.MessageType.Info, f"{label}: apply the "
                                           f"validated change to {files}? (the diff is in the "
                                           "log)", [types.MessageActionItem(APPLY),
                                                    types.MessageActionItem(CANCEL)])),
            REVIEW_TIMEOUT)
    except TimeoutError:
        raise TinymlError("the editor did not answer; nothing was written") from None
    if question is None or question.title != APPLY:
        return False
    await asyncio.to_thread(apply_changes, list(changes))
    return True


async def _offer(ls: TinymlServer, result: LlmEditResult, ctx: JobContext,
                 label: str) -> LlmEditResult:
    """Log the report; a passing candidate goes to the user to accept."""
    from tinyml_lsp.llm.loop import render_edit_result

    ctx.log(render_edit_result(result, show_candidate=True))
    if not result.success:
        return result
    accepted = await _consent(ls, result.changes, label, ctx)
    return replace(result, applied=tuple(c.path for c in result.changes) if accepted else ())


def _report(ls: TinymlServer, result: LlmEditResult | None, what: str) -> dict[str, Any] | None:
    if result is None:
        return None
    if not result.success:
        show(ls, types.MessageType.Error, f"{what}: no candidate passed after "
             f"{len(result.rounds)} round(s): {result.problem} (details and the last candidate "
             "in the log; nothing was changed)")
    elif result.applied:
        show(ls, types.MessageType.Info, f"{what}: applied ({result.passed}). "
             f"{result.usage.line()}")
    else:
        show(ls, types.MessageType.Warning, f"{what}: the edit was not applied")
    return result.to_json()


# --- commands --------------------------------------------------------------------------------


async def customize(ls: TinymlServer, arguments: CustomizeArguments) -> dict[str, Any] | None:
    async def task(ctx: JobContext) -> LlmEditResult:
        from tinyml_lsp.llm.customize import customize as customize_task

        if not arguments.instruction:
            raise TinymlError("tinyml.customize needs an 'instruction': what to change",
                              _path(arguments.uri))
        result = await customize_task(_path(arguments.uri), arguments.instruction, ctx,
                                      config=_config(ls), cache=ls.settings.llm.cache,
                                      env=arguments.env)
        return await _offer(ls, result, ctx, "Customize firmware")

    return _report(ls, await run_job(ls, "Customize firmware (LLM)", task), "Customize")


async def fix_build(ls: TinymlServer, arguments: FixBuildArguments) -> dict[str, Any] | None:
    async def task(ctx: JobContext) -> LlmEditResult:
        from tinyml_lsp.llm.fix_build import fix_build as fix_task

        result = await fix_task(arguments.project, ctx, config=_config(ls),
                                cache=ls.settings.llm.cache, env=arguments.env)
        return await _offer(ls, result, ctx, "Fix build errors")

    return _report(ls, await run_job(ls, "Fix build errors (LLM)", task), "Fix build errors")


async def adapt_quantize(ls: TinymlServer, arguments: ScriptArguments) -> dict[str, Any] | None:
    async def task(ctx: JobContext) -> LlmEditResult:
        from tinyml_lsp.llm.adapt_quantize import adapt_quantize as adapt_task

        result = await adapt_task(_path(arguments.uri), ctx, config=_config(ls),
                                  cache=ls.settings.llm.cache)
        return await _offer(ls, result, ctx, "Adapt quantization to this script")

    return _report(ls, await run_job(ls, "Adapt quantization (LLM)", task),
                   "Adapt quantization")


async def prepare_data(ls: TinymlServer, arguments: DataArguments) -> dict[str, Any] | None:
    """The script arrives as a new file to accept; accepted, it runs and its outputs are
    checked."""
    async def task(ctx: JobContext) -> dict[str, Any]:
        from tinyml_lsp.llm.prepare_data import prepare_with_llm, run_prepare_script

        if not arguments.purpose:
            raise TinymlError("tinyml.prepareData needs a 'purpose': what the data is for",
                              arguments.path)
        data = _dataset_path(arguments)
        prepared = await prepare_with_llm(data, arguments.purpose, ctx, config=_config(ls),
                                          cache=ls.settings.llm.cache)
        edit = await _offer(ls, prepared.edit, ctx, "Prepare dataset")
        result = {**edit.to_json(), "ran": False, "check": None}
        if edit.applied:
            script = await _on_disk(edit.changes[0])
            check, printed = await run_prepare_script(script, data, ctx)
            ctx.log(printed)
            result.update(ran=True, check=check.to_json(), success=check.ok,
                          problem=None if check.ok else "; ".join(check.problems))
        return result

    result = await run_job(ls, "Prepare dataset (LLM)", task)
    if result is None:
        return None
    if result["ran"]:
        show(ls, types.MessageType.Info if result["success"] else types.MessageType.Error,
             "Prepared: outputs checked (files, shapes, dtypes, finite values, disjoint splits)"
             if result["success"] else f"The preparation script's outputs failed the check: "
             f"{result['problem']}")
    elif not result["success"]:
        show(ls, types.MessageType.Error, f"Prepare dataset: {result['problem']}")
    return result


async def _on_disk(change: FileChange) -> Path:
    """The accepted script, on disk: an editor that applied the edit may not have saved it
    yet; what the user accepted is written then (the same text)."""
    path = Path(change.absolute)
    deadline = asyncio.get_running_loop().time() + SAVE_WAIT
    while asyncio.get_running_loop().time() < deadline:
        if path.is_file() and path.read_text(errors="replace") == change.new:
            return path
        await asyncio.sleep(0.1)
    path.write_text(change.new)
    return path


def _dataset_path(arguments: DataArguments) -> Path:
    path = Path(arguments.path)
    if not path.is_absolute() and arguments.uri:
        path = _path(arguments.uri).parent / path
    return path


# --- code actions ----------------------------------------------------------------------------


def _action(title: str, command: str, argument: dict[str, Any],
            diagnostics: list[types.Diagnostic] | None = None) -> types.CodeAction:
    return types.CodeAction(title=title, diagnostics=diagnostics, command=types.Command(
        title=title, command=command, arguments=[argument]))


async def code_actions(ls: TinymlServer,
                       params: types.CodeActionParams) -> list[types.CodeAction]:
    """The LLM's actions on this line (none without an endpoint): customize on a firmware
    source, fix on build errors, adapt on a training script the deterministic action cannot
    read, prepare on a dataset path."""
    uri = params.text_document.uri
    if opened_file(ls, uri) is None or not configured(ls):
        return []
    path = _path(uri)
    actions = []
    errors = [d for d in params.context.diagnostics if d.source == BUILD_SOURCE
              and d.severity == types.DiagnosticSeverity.Error]
    project = next((p for p, uris in ls.build_diagnostics.items() if uri in uris), None)
    if errors and project is not None:
        actions.append(_action(FIX_TITLE, "tinyml.fixBuild", {"project": project}, errors))
    if path.suffix in (".c", ".cc", ".cpp", ".ino") and path.parent.name == "src" \
            and (path.parent.parent / "platformio.ini").is_file():
        actions.append(_action(CUSTOMIZE_TITLE, "tinyml.customize", {"uri": uri}))
    if path.suffix == ".py":
        actions += await _script_actions(ls, uri, params.range.start.line)
    return actions


async def _script_actions(ls: TinymlServer, uri: str, line: int) -> list[types.CodeAction]:
    from tinyml_lsp.llm.adapt_quantize import readable_by_quantize
    from tinyml_lsp.lsp.data_hover import dataset_on_line

    opened = opened_file(ls, uri)
    if opened is None:
        return []
    doc = opened[0]
    actions = []
    script = await ls.scan(uri, doc.version, doc.source)
    if script is not None and script.site_on(line) is not None \
            and not readable_by_quantize(_path(uri), doc.source):
        actions.append(_action(ADAPT_TITLE, "tinyml.adaptQuantize", {"uri": uri, "line": line}))
    lines = doc.source.splitlines()
    if line < len(lines) and (data := dataset_on_line(_path(uri), lines[line])) is not None:
        actions.append(_action(PREPARE_TITLE, "tinyml.prepareData",
                               {"path": str(data), "uri": uri}))
    return actions


def register(server: TinymlServer) -> None:
    if code_actions not in PROVIDERS:
        PROVIDERS.append(code_actions)
    register_command(server, "tinyml.customize", CustomizeArguments, customize)
    register_command(server, "tinyml.fixBuild", FixBuildArguments, fix_build)
    register_command(server, "tinyml.adaptQuantize", ScriptArguments, adapt_quantize)
    register_command(server, "tinyml.prepareData", DataArguments, prepare_data)
