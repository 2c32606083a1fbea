"""`tinyml.sketch`: generate the inference sketch, written only with the user's consent.

Two ways, chosen from the client's capabilities:

- a client that shows a WorkspaceEdit for review (file creation inside `documentChanges`, and
  change annotations: VS Code) gets one: new files as CreateFile operations plus their text,
  generated files that exist as whole-file replacements (the editor shows the diff), the user's
  own platformio.ini and main.c left alone; the edit asks for confirmation, so VS Code opens
  its preview first;
- any other client is asked through `window/showMessageRequest` ("write these files to that
  folder?") and the server writes them itself. Without a review UI an edit gives the user
  nothing a question does not, and such clients do not apply file creation reliably: Neovim
  (0.7 to 0.11) declares `create` but makes no parent folders, and leaves the new files' text
  in unsaved buffers.

Either way, the server says the project is there only once its files are on disk.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import from_fs_path

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.lsp.arguments import SketchArguments, given
from tinyml_lsp.lsp.commands import script_inputs
from tinyml_lsp.lsp.progress import register_command, run_job, show, warm
from tinyml_lsp.lsp.tinyml_server import TinymlServer
from tinyml_lsp.runtime.context import JobContext, Stage

if TYPE_CHECKING:
    from tinyml_lsp.deploy.sketch import Sketch

ANNOTATION = "tinyml-sketch"
REVIEW_TIMEOUT = 1800.0
SAVE_WAIT = 3.0  # seconds an editor may take to save the files of an applied edit
WRITE, CANCEL = "Write files", "Cancel"


def _reviews_edits(ls: TinymlServer) -> bool:
    """Whether the client shows a WorkspaceEdit that creates files for review (see above)."""
    workspace = ls.client_capabilities.workspace
    edit = workspace.workspace_edit if workspace else None
    return bool(edit and edit.document_changes and "create" in (edit.resource_operations or [])
                and edit.change_annotation_support is not None)


def _whole_file(path: Path) -> types.Range:
    lines = path.read_text(errors="replace").split("\n")
    return types.Range(types.Position(0, 0), types.Position(len(lines) - 1, len(lines[-1])))


def _unsaved(sketch: Sketch, files: list[str]) -> list[str]:
    """The files (of `files`) whose text on disk is not what the sketch generated."""
    texts = {f.path: f.text for f in sketch.files}
    project = Path(sketch.project)
    return [f for f in files if not (project / f).is_file()
            or (project / f).read_text(errors="replace") != texts[f]]


async def _apply_edit(ls: TinymlServer, plan: Sketch, ctx: JobContext) -> dict[str, Any]:
    edit, touched, kept = await asyncio.to_thread(sketch_edit, plan)
    ctx.progress(0.8, "waiting for you to review the edit")
    try:  # the user may look at the preview for a while, but not forever
        answer = await asyncio.wait_for(ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label="Generate inference sketch")),
            REVIEW_TIMEOUT)
    except TimeoutError:
        raise TinymlError("the editor did not answer the edit; nothing was written",
                          plan.project) from None
    unsaved: list[str] = []
    if answer.applied:  # the editor may save the files a moment after it answers
        deadline = asyncio.get_running_loop().time() + SAVE_WAIT
        while (unsaved := await asyncio.to_thread(_unsaved, plan, touched)) and (
                asyncio.get_running_loop().time() < deadline):
            await asyncio.sleep(0.1)
    return {"applied": bool(answer.applied), "files": touched, "kept": kept,
            "unsaved": unsaved, "reason": answer.failure_reason}


async def _ask_and_write(ls: TinymlServer, plan: Sketch, ctx: JobContext) -> dict[str, Any]:
    project = Path(plan.project)
    kept = [f.path for f in plan.files if f.user_owned and (project / f.path).exists()]
    files = [f.path for f in plan.files if f.path not in kept]
    new = [f for f in files if not (project / f).exists()]
    ctx.progress(0.8, "waiting for your answer")
    question = (f"Generate inference sketch: write {len(files)} files to {project}? "
                f"New: {', '.join(new) or 'none'}. Replaced: "
                f"{', '.join(f for f in files if f not in new) or 'none'}."
                + (f" Kept as they are: {', '.join(kept)}." if kept else ""))
    try:
        answer = await asyncio.wait_for(ls.window_show_message_request_async(
            types.ShowMessageRequestParams(types.MessageType.Info, question, [
                types.MessageActionItem(WRITE), types.MessageActionItem(CANCEL)])),
            REVIEW_TIMEOUT)
    except TimeoutError:
        raise TinymlError("the editor did not answer; nothing was written", project) from None
    except Exception as exc:  # the client cannot ask: say how to do it without the editor
        raise TinymlError(f"this editor cannot ask before writing files ({exc})", project,
                          hint=f"run: tinyml sketch {plan.model} --out {project}") from None
    if answer is None or answer.title != WRITE:
        return {"applied": False, "files": [], "kept": kept, "unsaved": [],
                "reason": "declined"}
    from tinyml_lsp.deploy.sketch import write_sketch  # imported by the task (warm)

    ctx.progress(0.9, f"writing {project}")
    written = await asyncio.to_thread(write_sketch, plan)
    return {"applied": True, "files": list(written.written), "kept": list(written.kept),
            "unsaved": [], "reason": None}


def sketch_edit(sketch: Sketch) -> tuple[types.WorkspaceEdit, list[str], list[str]]:
    """The WorkspaceEdit that creates or updates the project, and the files it touches/keeps;
    its changes carry an annotation that asks for the user's confirmation."""
    changes: list[Any] = []
    touched, kept = [], []
    for f in sketch.files:
        path = Path(sketch.project) / f.path
        uri = from_fs_path(str(path)) or path.as_uri()
        if path.exists():
            if f.user_owned:
                kept.append(f.path)
                continue
            edit_range = _whole_file(path)
        else:
            changes.append(types.CreateFile(uri=uri, annotation_id=ANNOTATION,
                                            options=types.CreateFileOptions(overwrite=False)))
            edit_range = types.Range(types.Position(0, 0), types.Position(0, 0))
        changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
            edits=[types.AnnotatedTextEdit(range=edit_range, new_text=f.text,
                                           annotation_id=ANNOTATION)]))
        touched.append(f.path)
    return types.WorkspaceEdit(document_changes=changes, change_annotations={
        ANNOTATION: types.ChangeAnnotation(
            label="Generate inference sketch", needs_confirmation=True,
            description=f"{Path(sketch.model).name} → {sketch.project}")}), touched, kept


async def sketch(ls: TinymlServer, arguments: SketchArguments) -> dict[str, Any] | None:
    async def task(ctx: JobContext) -> dict[str, Any]:
        await warm("tinyml_lsp.deploy.sketch")  # numpy: not at start-up, not on the loop
        from tinyml_lsp.deploy.sketch import plan_sketch

        model, project = arguments.model, arguments.project
        data: str | Path | None = arguments.data
        if arguments.uri is not None and data is None:  # from a training script's line
            data = (await script_inputs(ls, arguments.uri))[1]
        if model is None or project is None:
            missing = "model" if model is None else "project"
            raise TinymlError(f"tinyml.sketch needs a {missing!r} argument")
        plan = await plan_sketch(model, project, Stage(ctx, 0.0, 0.7), data=data,
                                 **given(arguments, "board", "labels", "pixel_range", "runtime",
                                         "input", "features", "weights_budget"))
        outcome = await (_apply_edit if _reviews_edits(ls) else _ask_and_write)(ls, plan, ctx)
        return {"project": plan.project, "arena_bytes": plan.arena_bytes, **outcome}

    result = await run_job(ls, "Generate inference sketch", task)
    if result is None:
        return None
    if result["applied"] and result["unsaved"]:
        show(ls, types.MessageType.Warning,
             f"The inference sketch's files are open in the editor but not saved: "
             f"{', '.join(result['unsaved'])} in {result['project']}. Save them to build.")
    elif result["applied"]:
        show(ls, types.MessageType.Info,
             f"Inference sketch in {result['project']} ({len(result['files'])} files written; "
             f"arena {result['arena_bytes']:,} bytes). Open its platformio.ini to build and "
             "flash.")
    else:
        show(ls, types.MessageType.Warning, "The inference sketch was not written"
             + (f": {result['reason']}" if result.get("reason") else " (edit declined)"))
    return result


def register(server: TinymlServer) -> None:
    register_command(server, "tinyml.sketch", SketchArguments, sketch)
