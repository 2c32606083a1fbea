"""Flash a project and read one whole run back: what the demo, the end-to-end tests and the
benchmarks do with the emulated board."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyml_lsp.deploy.monitor import BoardError, Disconnected, Done, Inference, Monitor, Ready
from tinyml_lsp.deploy.platformio import UploadResult, upload
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.jobs import JobContext, Stage


@dataclass(frozen=True)
class BoardRun:
    upload: UploadResult
    ready: Ready | None
    inferences: tuple[Inference, ...]

    def to_json(self) -> dict[str, Any]:
        return {"upload": self.upload.to_json(),
                "ready": self.ready.to_json() if self.ready else None,
                "inferences": [i.to_json() for i in self.inferences]}


async def flash_and_read(project: str | Path, ctx: JobContext, *,
                         timeout: float = 300) -> BoardRun:
    """Upload (build if needed), then read the board until `TINYML DONE`."""
    uploaded = await upload(project, Stage(ctx, 0.0, 0.5))
    ctx.progress(0.5, "reading the board's serial output")
    async with Monitor(project) as monitor:
        try:
            events = await monitor.until_done(timeout)
        except TimeoutError:
            raise TinymlError(f"the board did not finish its run within {timeout:.0f} s",
                              project) from None
    for e in events:
        if isinstance(e, BoardError | Disconnected):
            raise TinymlError(f"the board stopped: {getattr(e, 'message', None) or e.reason}",
                              project)
    if not any(isinstance(e, Done) for e in events):
        raise TinymlError("the board's run ended without TINYML DONE", project)
    ready = next((e for e in events if isinstance(e, Ready)), None)
    inferences = tuple(e for e in events if isinstance(e, Inference))
    ctx.progress(1.0, f"{len(inferences)} inferences read back")
    return BoardRun(uploaded, ready, inferences)
