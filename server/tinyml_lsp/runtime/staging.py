"""Outputs that appear only when their task succeeds.

A task writes its files under `Staging.path(final)`, in a hidden folder beside their final
place, and calls `commit()` once everything is written: each file is renamed into place (a
rename on one file system, atomic per file, with no await between them, so a cancel cannot
fall in the middle). A task that fails or is cancelled before that leaves nothing behind, not
even the output folder if the staging created it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType


class Staging:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.dir = self.folder  # until entered
        self._created = False
        self._committed = False

    def __enter__(self) -> Staging:
        self._created = not self.folder.exists()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix=".tinyml-staging-", dir=self.folder))
        return self

    def path(self, final: str | Path) -> Path:
        """Where to write the output that will be `final` (a file of the staged folder)."""
        final = Path(final)
        if final.parent.resolve() != self.folder.resolve():
            raise ValueError(f"{final} is not in the staged folder {self.folder}")
        return self.dir / final.name

    def final(self, staged: str | Path) -> Path:
        """Where a staged file will be once committed."""
        return self.folder / Path(staged).name

    def commit(self) -> None:
        for staged in sorted(self.dir.iterdir()):
            os.replace(staged, self.folder / staged.name)
        self._committed = True

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        if self._created and not self._committed:
            with contextlib.suppress(OSError):  # only if still empty
                self.folder.rmdir()
