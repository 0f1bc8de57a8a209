"""Check an upload in a child process, off the path of everyone else using the server.

Reading, typing and checking a large or hostile file costs CPU seconds and memory. Done in
the dashboard's server process it would hold the interpreter (and the GIL) against every
other viewer. Here each check runs in a process of its own, under a memory limit
(RLIMIT_AS) and a wall-time limit after which it is killed. The child only reads the lake
and the uploaded file; it sends its stage changes and then the `Checked` result (pickled:
the typed frame and the problems) back through a socket pair. The commit is made by the
server, through `fiscal.service.WriteService`.

A child does one check and exits (its memory goes back to the system). The next one is
started when a check ends and waits, imports done, for its job: a check does not pay the
imports. (Not multiprocessing's spawn or forkserver: both re-run the parent's main
module in the child, and under Streamlit that is the dashboard script.)
"""
from __future__ import annotations

import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

from .ingest import Checked, check, file_sha256
from .lake import Lake
from .settings import PROJECT_ROOT
from .validation import Problem

GIB = 1024 ** 3
# The child's wall time: reading stops itself after reading.MAX_READ_SECONDS; typing, the rules
# and the preview of the largest accepted file take well under a minute more.
CHECK_SECONDS = 180
# Address space of the child. Checking a 50 MB, 1,000,000-row CSV peaks near 1.1 GB resident
# and 3.6 GB of address space (thread stacks, allocator arenas): this leaves twice that.
MEMORY_BYTES = 8 * GIB
POLL_SECONDS = 0.25

_spare: tuple[subprocess.Popen, Connection] | None = None
_spare_lock = threading.Lock()


class Stopped(Exception):
    """The child was stopped or died; `str(exc)` is the Chinese message."""


def _start() -> tuple[subprocess.Popen, Connection]:
    mine, theirs = socket.socketpair()
    with theirs:
        child = subprocess.Popen(
            [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(PROJECT_ROOT)!r}); "
                                   f"from fiscal.offload import serve; serve({theirs.fileno()})"],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
    return child, Connection(mine.detach())


def _take() -> tuple[subprocess.Popen, Connection]:
    """The waiting child if there is one (and it is alive), else a new one."""
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is not None and spare[0].poll() is None:
        return spare
    return _start()


def _replenish() -> None:
    global _spare
    with _spare_lock:
        if _spare is None:
            _spare = _start()


def run(function: Callable, args: tuple, *, seconds: float, memory_bytes: int | None,
        on_stage: Callable[[str], None] | None = None):
    """`function(*args, report=…)` in a child process; its return value, or Stopped.

    The child calls `report(stage)` as it goes; each stage reaches `on_stage` here. Past
    `seconds` the child is killed; an allocation beyond `memory_bytes` fails inside it."""
    child, connection = _take()
    deadline = time.monotonic() + seconds
    try:
        connection.send((memory_bytes, function, args))
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Stopped(f"文件检查超过 {seconds:g} 秒仍未完成，已停止，数据未做任何改变；"
                              "请导出为 CSV，或按月份、地区拆分后分批上传")
            if not connection.poll(min(remaining, POLL_SECONDS)):
                continue
            try:
                tag, value = connection.recv()
            except (EOFError, OSError):
                raise Stopped("文件检查意外中止，数据未做任何改变；请检查文件格式后重新上传") from None
            if tag == "stage":
                if on_stage:
                    on_stage(value)
            elif tag == "done":
                return value
            elif tag == "memory":
                raise Stopped(f"文件检查所需内存超过上限（{memory_bytes / GIB:g} GB），已停止，数据未做任何改变；"
                              "请按月份、地区拆分后分批上传")
            else:  # an unexpected error in the reader: its type only (no traceback for users)
                raise Stopped(f"文件无法读取（{value}），请检查文件格式后重新上传")
    finally:
        connection.close()
        if child.poll() is None:
            child.kill()
        child.wait()
        _replenish()


def serve(fd: int) -> None:
    """The child: wait for one job, run it, send its stages and result, exit."""
    connection = Connection(fd)
    try:
        memory_bytes, function, args = connection.recv()
    except EOFError:  # the server went away before giving a job
        return
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        message = ("done", function(*args, report=lambda stage: connection.send(("stage", stage))))
    except MemoryError:
        message = ("memory", None)
    except Exception as exc:  # noqa: BLE001 — reported to the parent by type
        message = ("error", type(exc).__name__)
    try:
        connection.send(message)
    except MemoryError:  # the result itself did not fit
        connection.send(("memory", None))
    connection.close()


def _check(lake_root: str, path: str, kind: str | None, unit: str | None, source_name: str | None,
           max_bytes: int | None, *, report: Callable[[str], None]) -> Checked:
    return check(Lake(lake_root), path, kind=kind, unit=unit, source_name=source_name, max_bytes=max_bytes,
                 on_stage=report)


def check_isolated(lake: Lake, path: str | Path, *, kind: str | None = None, unit: str | None = None,
                   source_name: str | None = None, max_bytes: int | None = None,
                   on_stage: Callable[[str], None] | None = None) -> Checked:
    """`ingest.check` in a child process, within CHECK_SECONDS and MEMORY_BYTES; a child stopped
    (time, memory) or failing gives a Checked with one error saying so in Chinese."""
    try:
        return run(_check, (str(lake.root), str(path), kind, unit, source_name, max_bytes),
                   seconds=CHECK_SECONDS, memory_bytes=MEMORY_BYTES, on_stage=on_stage)
    except Stopped as stopped:
        return Checked(None, [Problem("error", str(stopped))], file_sha256(path))
