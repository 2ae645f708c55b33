"""Files written so that a crash never leaves a half-written one behind, and the numba cache folder."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write to a temporary file in the same folder, fsync, then rename over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_json(path: str | Path, data: Any) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=2, default=str))


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> Path:
    return atomic_write_text(path, "".join(json.dumps(r, default=str, ensure_ascii=False) + "\n" for r in rows))


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a JSONL file ([] when it does not exist), up to a line cut by a kill (even one
    cut inside a multi-byte UTF-8 character): everything before it is whole and kept."""
    path = Path(path)
    rows: list[dict[str, Any]] = []
    if path.exists():
        for raw in path.read_bytes().split(b"\n"):
            if not raw.strip():
                continue
            try:
                rows.append(json.loads(raw.decode("utf-8")))
            except (UnicodeDecodeError, json.JSONDecodeError):
                break
    return rows


def numba_cache_dir() -> Path:
    """A numba cache folder for this interpreter and numba version. One folder shared by two
    environments with different numba versions made librosa's compiled kernels segfault; keyed
    folders never mix. `AUDIOGYM_NUMBA_CACHE` overrides the parent folder."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        numba = version("numba")
    except PackageNotFoundError:
        numba = "none"
    interpreter = hashlib.sha1(sys.executable.encode()).hexdigest()[:8]
    parent = Path(os.environ.get("AUDIOGYM_NUMBA_CACHE") or Path.home() / ".cache" / "audiogym" / "numba")
    return parent / f"numba{numba}-py{sys.version_info[0]}{sys.version_info[1]}-{interpreter}"


def use_numba_cache() -> None:
    """Point numba at `numba_cache_dir()` unless the user set NUMBA_CACHE_DIR (call before librosa
    is imported: its first import compiles for ~20 s, later ones load from the cache in ~3 s)."""
    os.environ.setdefault("NUMBA_CACHE_DIR", str(numba_cache_dir()))


@contextlib.contextmanager
def exclusive_lock(path: str | Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on `path` (created if missing) across processes; other
    processes asking for it wait. Released when the block ends or the process dies."""
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def fill_numba_cache(key: str, compile_all: Callable[[], object]) -> None:
    """Run `compile_all` (code that touches every cached numba kernel a module uses) in one process
    at a time, once per cache folder and `key`. numba's cache is not safe when two processes compile
    the same gufunc at once: the kernel and its wrapper can come from different processes, and every
    later process that loads them segfaults (numba issue #10128; seen here with two seeds started
    together). The first process compiles under a lock and leaves a marker; the others wait, then
    load from the complete cache."""
    folder = os.environ.get("NUMBA_CACHE_DIR")
    if not folder:  # numba caches beside librosa's sources: nothing of ours to guard
        compile_all()
        return
    marker = Path(folder) / f"filled-{key}"
    if marker.exists():
        return
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(exclusive_lock(Path(folder) / ".fill.lock"))
        except OSError:  # a folder we cannot write: numba cannot cache there either, nothing to guard
            compile_all()
            return
        if not marker.exists():
            compile_all()
            marker.touch()
