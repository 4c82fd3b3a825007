"""What a batch job has finished, kept where a crash cannot take it: part files of scored mini-batches.

Each scoring worker appends one record per finished mini-batch to its own part file, in a
single write: a fixed header (index, items scored, items failed, sizes), the column header the
results came with, and the result rows. A record is finished when it is whole, so a worker or
runner killed mid-write leaves a torn tail that `scan` ignores — that mini-batch is scored again;
every whole record is kept, and never scored twice. The folder is in the workspace's artifact
store when that is a local folder (`jobs/<id>/batch_state`), else in the workspace's folder.

Also here, the one rule of what a scoring script's `run(mini_batch)` returns: a list (one row per
element) or a DataFrame (one row per row) — shared by batch jobs and parallel jobs.

A resumed job first adopts the crashed job's whole records (after that job's orphaned workers
have finished the mini-batch they were on), then scores only the rest.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:  # kept light: scoring workers and parallel mini-batches import this module
    from mlyard.services.workspaces.workspace import Workspace

_RECORD = struct.Struct("<4sIQQII")  # magic, index, items, failed items, header bytes, payload bytes
_MAGIC = b"MLYB"
PLAN_FILE = "plan.json"
PIDS = "pids"


@dataclass(frozen=True)
class Finished:
    index: int
    items: int
    failed_items: int
    header: bytes
    path: Path
    offset: int  # of the payload
    length: int


def state_folder(workspace: Workspace, job_id: str) -> Path:
    """Where job `job_id` keeps its finished mini-batches."""
    local = workspace.artifacts.local_path(f"jobs/{job_id}/batch_state")
    return local if local is not None else workspace.path / "cache" / "batch-state" / job_id


def rows_of(result: Any) -> list[str]:
    """One line per item a scoring script's run() returned (a list, or a DataFrame's rows)."""
    if result is None:
        return []
    if hasattr(result, "to_csv"):
        return [line for line in result.to_csv(index=False, header=False).splitlines() if line]
    return [item if isinstance(item, str) else json.dumps(item, default=str) for item in result]


def encode_record(index: int, items: int, failed_items: int, header: bytes, payload: bytes) -> bytes:
    return _RECORD.pack(_MAGIC, index, items, failed_items, len(header), len(payload)) + header + payload


class PartWriter:
    """Appends whole records to one part file (one writer per file)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: BinaryIO = open(path, "ab")  # noqa: SIM115 - closed by close()

    def write(self, index: int, items: int, failed_items: int, header: bytes, payload: bytes) -> None:
        self._file.write(encode_record(index, items, failed_items, header, payload))
        self._file.flush()  # in the kernel's hands now: a killed process loses nothing written

    def close(self) -> None:
        self._file.close()


def scan(folder: Path) -> dict[int, Finished]:
    """Every whole record under `folder`, by mini-batch index (the first record of an index wins)."""
    found: dict[int, Finished] = {}
    for path in sorted(folder.glob("*.part")):
        for record in _records(path):
            found.setdefault(record.index, record)
    return found


def _records(path: Path) -> list[Finished]:
    records = []
    size = path.stat().st_size
    with open(path, "rb") as file:
        offset = 0
        while offset + _RECORD.size <= size:
            file.seek(offset)
            magic, index, items, failed, header_len, payload_len = _RECORD.unpack(file.read(_RECORD.size))
            end = offset + _RECORD.size + header_len + payload_len
            if magic != _MAGIC or end > size:
                break  # a torn tail: the writer died mid-record
            header = file.read(header_len)
            records.append(Finished(index, items, failed, header, path, end - payload_len, payload_len))
            offset = end
    return records


def valid_length(path: Path) -> int:
    """Bytes of `path` that are whole records."""
    records = _records(path)
    return records[-1].offset + records[-1].length if records else 0


def read_payload(record: Finished, file: BinaryIO | None = None) -> bytes:
    if file is None:
        with open(record.path, "rb") as own:
            own.seek(record.offset)
            return own.read(record.length)
    file.seek(record.offset)
    return file.read(record.length)


def write_plan(folder: Path, plan: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / PLAN_FILE).write_text(json.dumps(plan, sort_keys=True))


def read_plan(folder: Path) -> dict[str, Any] | None:
    try:
        loaded: dict[str, Any] = json.loads((folder / PLAN_FILE).read_text())
    except (OSError, ValueError):
        return None
    return loaded


def note_worker(folder: Path, pid: int) -> None:
    """Record a worker process, so a resumed job can wait for it to finish its mini-batch."""
    (folder / PIDS).mkdir(parents=True, exist_ok=True)
    (folder / PIDS / str(pid)).write_text(str(time.time()))


def wait_for_workers(folder: Path, grace_seconds: float) -> list[int]:
    """Wait (up to `grace_seconds`) for the workers noted in `folder` that still run, then kill the
    rest; returns the pids that had to be killed."""
    import psutil

    alive = []
    for note in (folder / PIDS).glob("*") if (folder / PIDS).is_dir() else []:
        with contextlib.suppress(ValueError, psutil.Error):
            process = psutil.Process(int(note.name))
            if "mlyard.serving.batch_worker" in " ".join(process.cmdline()):
                alive.append(process)
    _, still = psutil.wait_procs(alive, timeout=grace_seconds) if alive else ([], [])
    for process in still:
        with contextlib.suppress(psutil.Error):
            process.kill()
    return [process.pid for process in still]


def adopt(source: Path, target: Path, label: str) -> int:
    """Copy the whole records of a crashed job's folder (`label`: its job id) into `target`;
    returns how many."""
    adopted = 0
    for path in sorted(source.glob("*.part")):
        length = valid_length(path)
        if not length:
            continue
        copy = target / f"adopted-{label}-{path.name}"
        with open(path, "rb") as reader, open(copy, "wb") as writer:
            _copy_prefix(reader, writer, length)
        adopted += len(_records(copy))
    return adopted


def _copy_prefix(reader: BinaryIO, writer: BinaryIO, length: int) -> None:
    remaining = length
    while remaining > 0:
        chunk = reader.read(min(remaining, 1 << 20))
        if not chunk:
            break
        writer.write(chunk)
        remaining -= len(chunk)


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):
        os.rmdir(folder.parent)  # jobs/<id>/ when nothing else is in it
