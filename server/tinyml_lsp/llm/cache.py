"""Identical requests are answered from disk: one JSON file per answer under the state folder,
keyed by the endpoint, the model, the parameters and the full messages (never the key, which
is not written anywhere); $TINYML_LLM_CACHE moves it. `--no-cache` (or `cache=False`) bypasses
it both ways."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from tinyml_lsp.deploy.pio_setup import state_dir

CACHE_ENV = "TINYML_LLM_CACHE"


def default_cache_dir() -> Path:
    """$TINYML_LLM_CACHE, else `llm-cache` in the state folder."""
    return Path(os.environ[CACHE_ENV]) if os.environ.get(CACHE_ENV) else \
        state_dir() / "llm-cache"


class AnswerCache:
    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_cache_dir()

    @staticmethod
    def key(request: dict[str, Any]) -> str:
        text = json.dumps(request, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, request: dict[str, Any]) -> dict[str, Any] | None:
        path = self.folder / f"{self.key(request)}.json"
        try:
            stored = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        answer = stored.get("answer") if isinstance(stored, dict) else None
        return answer if isinstance(answer, dict) and "text" in answer else None

    def put(self, request: dict[str, Any], answer: dict[str, Any]) -> None:
        """Written atomically; a cache that cannot be written is only a missed saving."""
        with contextlib.suppress(OSError):
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "w") as f:
                json.dump({"request": request, "answer": answer}, f, ensure_ascii=False)
            os.replace(tmp, self.folder / f"{self.key(request)}.json")
