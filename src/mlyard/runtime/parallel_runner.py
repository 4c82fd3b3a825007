"""Runs a parallel job: its input split into mini-batches, each a child command job, run concurrently.

Mini-batches are the partitions of a table (`partition_keys`), chunks of its rows, or groups of
files (by count or by size, `mini_batch_size`). Up to `instance_count × max_concurrency_per_instance`
children run at once; a failed mini-batch is tried again up to `retry_settings.max_retries`
times; more failed mini-batches than `error_threshold` fail the job and stop the rest. The
children's outputs are merged into the job's outputs, and their returned rows appended, in
mini-batch order, to `parallel_run_step.txt` of the `append_row_to` output (or to the file a
`uri_file` output's path names).
"""

from __future__ import annotations

import json
import shutil
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlyard.entities.jobs.job import DataInput, JobOutputInfo, JobStatus, RunSummary
from mlyard.entities.jobs.job_spec import JobOutput, ResolvedCommandJob, ResolvedInput
from mlyard.entities.jobs.parallel_spec import ResolvedParallelJob
from mlyard.entities.registry.data import DataType
from mlyard.errors import InvalidArgument, MlyardError
from mlyard.runtime.child_jobs import CancelWatch, cancel_children, run_child, start_child
from mlyard.runtime.job_host import LocalJobHost
from mlyard.runtime.job_log import JobLog, LogCallback, RunResult
from mlyard.runtime.mini_batches import group_files, input_files, is_tabular, row_ranges
from mlyard.runtime.parallel_worker import BATCH_FILE, LOGGING_LEVEL_VARIABLE, ROWS_FILE
from mlyard.runtime.run_to_end import run_to_end
from mlyard.services.execution import job_runs
from mlyard.services.execution.job_inputs import input_path
from mlyard.services.execution.job_outputs import register_output
from mlyard.services.tracking.jobs import get_job, record_input
from mlyard.services.workspaces.workspace import Workspace

BATCH_INPUT = "mlyard_mini_batch"
ROWS_OUTPUT = "mlyard_rows"
WAIT_SECONDS = 0.5


@dataclass
class MiniBatch:
    index: int
    label: str
    folder: Path
    tags: dict[str, str] = field(default_factory=dict)
    partition: dict[str, Any] | None = None


@dataclass
class BatchOutcome:
    status: JobStatus
    job_id: str | None
    error: str | None = None


def run_parallel_job(
    workspace: Workspace, job_id: str, spec: dict[str, Any], on_log: LogCallback | None = None
) -> RunResult:
    job = ResolvedParallelJob.model_validate(spec)
    return run_to_end(
        LocalJobHost(workspace), job_id, "parallel",
        lambda log, workdir: ParallelEngine(workspace, job_id, job, log, workdir), on_log,
    )  # fmt: skip


class ParallelEngine:
    def __init__(
        self, workspace: Workspace, job_id: str, job: ResolvedParallelJob, log: JobLog, workdir: Path
    ) -> None:
        self.workspace = workspace
        self.job_id = job_id
        self.job = job
        self.log = log
        self.workdir = workdir
        self.experiment = get_job(workspace, job_id).experiment
        self.outcomes: dict[int, BatchOutcome] = {}
        self._lock = threading.Lock()

    def summary(self) -> RunSummary | None:
        return None

    def close(self) -> None:
        pass  # children are stopped by `run` however it ends

    def run(self) -> RunResult:
        batches = self._mini_batches()
        if not batches:
            raise InvalidArgument(f"input {self.job.data_input} holds nothing to split into mini-batches")
        workers = min(self.job.workers, len(batches))
        how = (
            f"partitions by {', '.join(self.job.partition_keys)}"
            if self.job.partition_keys
            else "mini-batches"
        )
        self.say(f"[parallel] {len(batches)} {how}, up to {workers} at once")
        limit = self.job.failure_limit
        failed = 0
        stopping: str | None = None
        watch = CancelWatch(self.workspace, self.job_id)
        pending = list(batches)
        running: dict[Future[BatchOutcome], MiniBatch] = {}
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"parallel-{self.job_id}") as pool:
            while pending or running:
                while stopping is None and pending and len(running) < workers:
                    batch = pending.pop(0)
                    running[pool.submit(self._run_batch, batch)] = batch
                if not running:
                    break
                finished, _ = wait(list(running), timeout=WAIT_SECONDS, return_when=FIRST_COMPLETED)
                for future in finished:
                    batch = running.pop(future)
                    outcome = _outcome_of(future)
                    self.outcomes[batch.index] = outcome
                    if outcome.status == JobStatus.FAILED:
                        failed += 1
                        if limit is not None and failed > limit and stopping is None:
                            stopping = (
                                f"{failed} mini-batches failed, more than the error threshold of {limit}"
                            )
                            self.say(f"[parallel] {stopping}: stopping")
                            cancel_children(self.workspace, self.job_id)
                if stopping is None and watch.check():
                    stopping = "canceled"
                    self.say("[parallel] cancel requested: stopping running mini-batches")
                    cancel_children(self.workspace, self.job_id)
        done = sum(1 for o in self.outcomes.values() if o.status == JobStatus.COMPLETED)
        self.say(f"[parallel] {done} of {len(batches)} mini-batches completed, {failed} failed")
        if stopping == "canceled":
            return RunResult(JobStatus.CANCELED, "canceled by request")
        if stopping is not None:
            return RunResult(JobStatus.FAILED, f"{stopping}; first failure: {self._first_failure(batches)}")
        self._merge_outputs(batches)
        return RunResult(JobStatus.COMPLETED)

    # --- one mini-batch --------------------------------------------------------------------

    def _run_batch(self, batch: MiniBatch) -> BatchOutcome:
        command_job = self._command_job(batch)
        outcome = BatchOutcome(JobStatus.FAILED, None, "not run")
        for attempt in range(self.job.max_retries + 1):
            label = batch.label if attempt == 0 else f"{batch.label} (retry {attempt})"
            child = start_child(self.workspace, self.job_id, self.experiment, command_job, label, batch.tags)
            result = run_child(self.workspace, child, command_job, self.job.compute)
            outcome = BatchOutcome(result.status, child, result.error)
            if result.status != JobStatus.FAILED or watch_canceled(self.workspace, self.job_id):
                break
            self.say(f"[{batch.label}] Failed (attempt {attempt + 1}): {_gist(result.error)}")
        if outcome.status == JobStatus.COMPLETED:
            self.say(f"[{batch.label}] Completed")
        return outcome

    def _command_job(self, batch: MiniBatch) -> ResolvedCommandJob:
        arguments = self.job.program_arguments or ""
        command = (
            f"python -m mlyard.runtime.parallel_worker {self.job.entry_script} "
            f"${{{{inputs.{BATCH_INPUT}}}}} ${{{{outputs.{ROWS_OUTPUT}}}}} {arguments}"
        )
        inputs: dict[str, ResolvedInput | None] = dict(self.job.inputs)
        inputs[BATCH_INPUT] = ResolvedInput(type="uri_folder", source="local", path=str(batch.folder))
        # Children write their own copy of each output; the job registers the merged result.
        outputs = {name: JobOutput(type=output.type) for name, output in self.job.outputs.items()}
        outputs[ROWS_OUTPUT] = JobOutput(type="uri_folder")
        variables = dict(self.job.environment_variables)
        if self.job.logging_level:
            variables[LOGGING_LEVEL_VARIABLE] = self.job.logging_level
        if batch.partition is not None:
            variables["MLYARD_PARTITION"] = json.dumps(batch.partition, default=str)
        return ResolvedCommandJob(
            command=command.strip(),
            code=self.job.code,
            code_hash=self.job.code_hash,
            code_artifact=self.job.code_artifact,
            inputs=inputs,
            outputs=outputs,
            environment=self.job.environment,
            environment_ref=self.job.environment_ref,
            environment_variables=variables,
            compute=self.job.compute,
            timeout_seconds=self.job.timeout_seconds,
        )

    # --- splitting the input ---------------------------------------------------------------

    def _mini_batches(self) -> list[MiniBatch]:
        given = self.job.inputs.get(self.job.data_input)
        if given is None or given.source == "literal":
            raise InvalidArgument(f"input_data: input {self.job.data_input} must be a file, folder or table")
        source = input_path(self.workspace, given, self.workdir / "input")
        if given.source in ("data", "model"):
            assert given.name is not None and given.version is not None
            record_input(
                self.workspace,
                self.job_id,
                DataInput(kind=given.source, name=given.name, version=given.version),
            )
        root = self.workdir / "mini_batches"
        if self.job.partition_keys:
            return self._partitions(self._table(source, given.type), root)
        if given.type == "mltable" or (source.is_file() and is_tabular(source)):
            return self._row_chunks(self._table(source, given.type), root)
        return self._file_batches(source, root)

    def _table(self, source: Path, input_type: str) -> Any:
        from mlyard.services.data_assets.tabular import read_mltable, read_table

        if input_type == "mltable":
            return read_mltable(source)
        table = read_table(
            source, DataType(input_type if input_type in ("uri_file", "uri_folder") else "uri_folder")
        )
        if table is None:
            raise InvalidArgument(
                f"input {self.job.data_input}: {source.name} is not a table (csv, parquet, jsonl)"
            )
        return table

    def _partitions(self, table: Any, root: Path) -> list[MiniBatch]:
        keys = list(self.job.partition_keys or [])
        missing = [key for key in keys if key not in table.columns]
        if missing:
            raise InvalidArgument(
                f"partition_keys: the table has no column {', '.join(map(repr, missing))} "
                f"(columns: {', '.join(map(str, table.columns))})"
            )
        batches = []
        for index, (values, frame) in enumerate(table.groupby(keys, sort=True, dropna=False)):
            values = values if isinstance(values, tuple) else (values,)
            partition = {key: _plain(value) for key, value in zip(keys, values, strict=True)}
            label = " ".join(f"{key}={value}" for key, value in partition.items())
            tags = {key: str(value) for key, value in partition.items()}
            batches.append(self._table_batch(index, label, frame, root, tags, partition))
        return batches

    def _row_chunks(self, table: Any, root: Path) -> list[MiniBatch]:
        row_bytes = table.memory_usage(deep=True).sum() / max(len(table), 1)
        ranges = row_ranges(len(table), self.job.batch_unit, self.job.batch_limit, row_bytes)
        return [
            self._table_batch(i, f"rows {start}-{stop - 1}", table.iloc[start:stop], root)
            for i, (start, stop) in enumerate(ranges)
        ]

    def _table_batch(
        self,
        index: int,
        label: str,
        frame: Any,
        root: Path,
        tags: dict[str, str] | None = None,
        partition: dict[str, Any] | None = None,
    ) -> MiniBatch:
        folder = root / f"{index:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(folder / "batch.parquet", index=False)
        (folder / BATCH_FILE).write_text(
            json.dumps({"kind": "table", "table": "batch.parquet", "keys": partition})
        )
        return MiniBatch(index, label, folder, tags or {}, partition)

    def _file_batches(self, source: Path, root: Path) -> list[MiniBatch]:
        groups = group_files(input_files(source), self.job.batch_unit, self.job.batch_limit)
        batches = []
        for index, group in enumerate(groups):
            folder = root / f"{index:05d}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / BATCH_FILE).write_text(json.dumps({"kind": "files", "files": [str(f) for f in group]}))
            batches.append(MiniBatch(index, f"mini-batch {index} ({len(group)} files)", folder))
        return batches

    # --- results ---------------------------------------------------------------------------

    def _merge_outputs(self, batches: list[MiniBatch]) -> None:
        merged = self.workdir / "merged"
        children = [
            self.outcomes[b.index].job_id
            for b in batches
            if self.outcomes[b.index].status == JobStatus.COMPLETED
        ]
        for name, output in self.job.outputs.items():
            folder = merged / name
            folder.mkdir(parents=True, exist_ok=True)
            for child in children:
                assert child is not None
                _copy_output(self.workspace, child, name, folder)
            if name == self.job.append_output:
                with open(folder / self.job.append_file, "w", encoding="utf-8") as rows:
                    for child in children:
                        assert child is not None
                        rows.write(_child_rows(self.workspace, child, self.workdir / "rows" / child))
            self._store_output(name, output, folder)

    def _store_output(self, name: str, output: JobOutput, folder: Path) -> None:
        from mlyard.artifacts.hashing import hash_path

        destination = job_runs.output_path(self.job_id, name)
        if any(folder.iterdir()):
            self.workspace.artifacts.put_dir(folder, destination)
        info = JobOutputInfo(
            name=name, type=output.type, artifact_path=destination, content_hash=hash_path(folder).sha256
        )
        if output.name:
            info = register_output(self.workspace, self.job_id, name, output, info, folder)
            self.say(f"[parallel] output {name} registered as {info.asset_kind} {info.asset_ref}")
        job_runs.record_output(self.workspace, self.job_id, info)

    def _first_failure(self, batches: list[MiniBatch]) -> str:
        for batch in batches:
            outcome = self.outcomes.get(batch.index)
            if outcome is not None and outcome.status == JobStatus.FAILED:
                return f"{batch.label} (job {outcome.job_id}): {_gist(outcome.error)}"
        return "none"

    def say(self, line: str) -> None:
        with self._lock:
            self.log.write(line + "\n")
        self.log.sync()


def watch_canceled(workspace: Workspace, job_id: str) -> bool:
    return job_runs.status_of(workspace, job_id) in (JobStatus.CANCEL_REQUESTED, JobStatus.CANCELED)


def _copy_output(workspace: Workspace, child: str, name: str, target: Path) -> None:
    path = job_runs.output_path(child, name)
    if not workspace.artifacts.exists(path):
        return
    local = workspace.artifacts.local_path(path)
    if local is None:
        local = workspace.artifacts.download(path, target.parent / f".{child}-{name}")
    shutil.copytree(local, target, dirs_exist_ok=True)


def _child_rows(workspace: Workspace, child: str, scratch: Path) -> str:
    path = f"{job_runs.output_path(child, ROWS_OUTPUT)}/{ROWS_FILE}"
    if not workspace.artifacts.exists(path):
        return ""
    return workspace.artifacts.get_bytes(path).decode("utf-8", errors="replace")


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _gist(error: str | None) -> str:
    lines = [line for line in (error or "").splitlines() if line.strip()]
    if not lines:
        return ""
    head = lines[0].removesuffix("; last lines of the log:")
    return head if len(lines) == 1 else f"{head}: {lines[-1].strip()}"


def _outcome_of(future: Future[BatchOutcome]) -> BatchOutcome:
    try:
        return future.result()
    except MlyardError as exc:
        return BatchOutcome(JobStatus.FAILED, None, exc.message)
    except Exception as exc:  # one mini-batch's runner bug must not hang the job
        return BatchOutcome(JobStatus.FAILED, None, f"runner error: {exc!r}")
