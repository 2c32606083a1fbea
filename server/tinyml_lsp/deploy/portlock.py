"""Who holds a project's serial port: uploads and serial monitors, across processes.

An upload (ours, or the emulated board's own upload step) holds `.pio/tinyml-upload.lock` while
it runs. Each open monitor keeps a record in `.pio/tinyml-monitors/`; it releases its port when
it sees the lock (within its poll interval), marks itself released, and reattaches once the lock
is gone. The upload waits, briefly, until every live monitor says released: a real board's
upload tool then finds the port free, and the emulated board's monitor follows the new QEMU.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from types import TracebackType

from tinyml_lsp.errors import TinymlError

LOCK_NAME = "tinyml-upload.lock"
MONITORS_DIR = "tinyml-monitors"
HELD_ENV = "TINYML_UPLOAD_LOCK_HELD"  # set for children of the process holding the lock


def pid_alive(pid: int) -> bool:
    """True if process `pid` exists and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs: trust kill(0)
    return stat.rpartition(")")[2].split()[0] != "Z"


def _pio_dir(project_dir: str | Path) -> Path:
    return Path(project_dir) / ".pio"


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def upload_in_progress(project_dir: str | Path) -> bool:
    """An upload holds the lock (a lock left by a dead process does not count)."""
    lock = _pio_dir(project_dir) / LOCK_NAME
    if not lock.exists():
        return False
    pid = _read(lock).get("pid", 0)
    return pid_alive(pid) if isinstance(pid, int) else False


class UploadLock:
    """Held around an upload; waits up to `release_timeout` s for open monitors to let go."""

    def __init__(self, project_dir: str | Path, release_timeout: float = 3.0) -> None:
        self.path = _pio_dir(project_dir) / LOCK_NAME
        self.project_dir = Path(project_dir)
        self.release_timeout = release_timeout
        self.held = False

    def acquire(self, wait: bool = True) -> None:
        """Take the lock; with `wait`, also `wait_for_monitors()` (blocking)."""
        if os.environ.get(HELD_ENV) == str(self.project_dir.resolve()):
            return  # our parent (the upload task) holds it already
        try:
            _write(self.path, {"pid": os.getpid(), "since": time.time()})
        except OSError as exc:
            raise TinymlError(f"cannot write in the project folder: {exc.strerror}",
                              self.project_dir,
                              hint="an upload records itself in .pio/; make the folder "
                              "writable") from None
        self.held = True
        if wait:
            self.wait_for_monitors()

    def wait_for_monitors(self) -> None:
        deadline = time.monotonic() + self.release_timeout
        while time.monotonic() < deadline and attached_monitors(self.project_dir):
            time.sleep(0.05)

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> UploadLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


class MonitorRecord:
    """A monitor's entry in `.pio/tinyml-monitors/`: its pid, state and port."""

    def __init__(self, project_dir: str | Path) -> None:
        self.path = _pio_dir(project_dir) / MONITORS_DIR / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def set(self, state: str, port: str | None = None) -> None:
        _write(self.path, {"pid": os.getpid(), "state": state, "port": port})

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def attached_monitors(project_dir: str | Path) -> list[dict]:
    """Live monitors of the project that still hold their port."""
    folder = _pio_dir(project_dir) / MONITORS_DIR
    found = []
    for path in folder.glob("*") if folder.is_dir() else ():
        if path.name.startswith("."):
            continue
        record = _read(path)
        pid = record.get("pid", 0)
        if not isinstance(pid, int) or not pid_alive(pid):
            path.unlink(missing_ok=True)  # left by a monitor that died
        elif record.get("state") == "attached":
            found.append(record)
    return found
