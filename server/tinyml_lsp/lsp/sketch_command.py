"""`tinyml.sketch`: generate the inference sketch as a WorkspaceEdit the user reviews.

The project's files reach the disk only through the editor: new files as CreateFile operations
plus their text, generated files that exist as whole-file replacements (the editor shows the
diff), the user's own platformio.ini and main.c left alone. Where the client supports change
annotations, the edit asks for confirmation, so VS Code opens its preview first.
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
from tinyml_lsp.lsp.progress import run_job, show
from tinyml_lsp.lsp.tinyml_server import TinymlServer
from tinyml_lsp.runtime.context import JobContext, Stage

if TYPE_CHECKING:
    from tinyml_lsp.deploy.sketch import Sketch

ANNOTATION = "tinyml-sketch"
REVIEW_TIMEOUT = 1800.0


def _client_can_create_files(ls: TinymlServer) -> bool:
    workspace = ls.client_capabilities.workspace
    edit = workspace.workspace_edit if workspace else None
    if edit is None:
        return False
    # resource operations only exist inside documentChanges: declaring them implies it
    return bool(edit.document_changes) or "create" in (edit.resource_operations or [])


def _annotations_supported(ls: TinymlServer) -> bool:
    workspace = ls.client_capabilities.workspace
    edit = workspace.workspace_edit if workspace else None
    return bool(edit and edit.change_annotation_support is not None)


def _whole_file(path: Path) -> types.Range:
    lines = path.read_text(errors="replace").split("\n")
    return types.Range(types.Position(0, 0), types.Position(len(lines) - 1, len(lines[-1])))


def sketch_edit(sketch: Sketch, annotate: bool
                ) -> tuple[types.WorkspaceEdit, list[str], list[str]]:
    """The WorkspaceEdit that creates or updates the project, and the files it touches/keeps."""
    annotation = ANNOTATION if annotate else None
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
            changes.append(types.CreateFile(uri=uri, annotation_id=annotation,
                                            options=types.CreateFileOptions(overwrite=False)))
            edit_range = types.Range(types.Position(0, 0), types.Position(0, 0))
        text_edit = (types.AnnotatedTextEdit(range=edit_range, new_text=f.text,
                                             annotation_id=annotation) if annotation
                     else types.TextEdit(range=edit_range, new_text=f.text))
        changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
            edits=[text_edit]))
        touched.append(f.path)
    edit = types.WorkspaceEdit(document_changes=changes)
    if annotate:
        edit.change_annotations = {ANNOTATION: types.ChangeAnnotation(
            label="Generate inference sketch", needs_confirmation=True,
            description=f"{Path(sketch.model).name} → {sketch.project}")}
    return edit, touched, kept


async def sketch(ls: TinymlServer, arguments: SketchArguments) -> dict[str, Any] | None:
    async def task(ctx: JobContext) -> dict[str, Any]:
        from tinyml_lsp.deploy.sketch import plan_sketch  # numpy: not at start-up

        model, project = arguments.model, arguments.project
        if not _client_can_create_files(ls):
            raise TinymlError("this editor cannot create files through the language server",
                              hint=f"run: tinyml sketch {model} --out {project}")
        data: str | Path | None = arguments.data
        if arguments.uri is not None and data is None:  # from a training script's line
            data = script_inputs(ls, arguments.uri)[1]
        if model is None or project is None:
            missing = "model" if model is None else "project"
            raise TinymlError(f"tinyml.sketch needs a {missing!r} argument")
        plan = await plan_sketch(model, project, Stage(ctx, 0.0, 0.7), data=data,
                                 **given(arguments, "board", "labels", "pixel_range"))
        edit, touched, kept = await asyncio.to_thread(sketch_edit, plan,
                                                      _annotations_supported(ls))
        ctx.progress(0.8, "waiting for you to review the edit")
        try:  # the user may look at the preview for a while, but not forever
            answer = await asyncio.wait_for(ls.workspace_apply_edit_async(
                types.ApplyWorkspaceEditParams(edit=edit, label="Generate inference sketch")),
                REVIEW_TIMEOUT)
        except TimeoutError:
            raise TinymlError("the editor did not answer the edit; nothing was written",
                              plan.project) from None
        return {"applied": bool(answer.applied), "project": plan.project, "files": touched,
                "kept": kept, "arena_bytes": plan.arena_bytes,
                "reason": answer.failure_reason}

    result = await run_job(ls, "Generate inference sketch", task)
    if result is None:
        return None
    if result["applied"]:
        show(ls, types.MessageType.Info,
             f"Inference sketch in {result['project']} ({len(result['files'])} files; arena "
             f"{result['arena_bytes']:,} bytes). Open its platformio.ini to build and flash.")
    else:
        show(ls, types.MessageType.Warning, "The inference sketch was not written"
             + (f": {result['reason']}" if result.get("reason") else " (edit declined)"))
    return result


def register(server: TinymlServer) -> None:
    server.command("tinyml.sketch")(sketch)
