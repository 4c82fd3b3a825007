"""Runs one mini-batch of a parallel job inside its child job, with Azure ML's entry-script contract.

    python -m mlyard.runtime.parallel_worker ENTRY_SCRIPT MINI_BATCH_DIR ROWS_DIR [program arguments…]

The entry script's `init()` runs once, then `run(mini_batch)` with a pandas DataFrame (a
partition, or rows of a table) or a list of file paths; what it returns — a list or a
DataFrame — is appended as rows (one line per item) to `ROWS_DIR/rows.txt`. The program
arguments stay in `sys.argv` for the script to parse, as on Azure ML. `shutdown()` runs last
when the script defines it. The partition's key values are in `MLYARD_PARTITION` (JSON); the
job's `logging_level` is the level of Python's root logger (`MLYARD_LOGGING_LEVEL`).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from mlyard.services.batch.batch_results import rows_of

BATCH_FILE = "batch.json"
ROWS_FILE = "rows.txt"
LOGGING_LEVEL_VARIABLE = "MLYARD_LOGGING_LEVEL"


def load_mini_batch(folder: Path) -> Any:
    manifest = json.loads((folder / BATCH_FILE).read_text())
    if manifest["kind"] == "files":
        return list(manifest["files"])
    import pandas as pd

    return pd.read_parquet(folder / manifest["table"])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3:
        print(
            "usage: python -m mlyard.runtime.parallel_worker ENTRY_SCRIPT MINI_BATCH_DIR ROWS_DIR …",
            file=sys.stderr,
        )
        return 2
    entry, batch_dir, rows_dir, *program_arguments = args
    if os.environ.get(LOGGING_LEVEL_VARIABLE):
        logging.basicConfig(level=os.environ[LOGGING_LEVEL_VARIABLE].upper())
    script = Path(entry).resolve()
    sys.path.insert(0, str(script.parent))
    sys.argv = [str(script), *program_arguments]
    spec = importlib.util.spec_from_file_location(script.stem, script)
    if spec is None or spec.loader is None:
        print(f"cannot import the entry script {script}", file=sys.stderr)
        return 2
    module = importlib.util.module_from_spec(spec)
    sys.modules[script.stem] = module
    spec.loader.exec_module(module)
    if not hasattr(module, "run"):
        print(f"the entry script {script.name} defines no run(mini_batch) function", file=sys.stderr)
        return 2
    if hasattr(module, "init"):
        module.init()
    mini_batch = load_mini_batch(Path(batch_dir))
    rows = rows_of(module.run(mini_batch))
    Path(rows_dir, ROWS_FILE).write_text("".join(f"{row}\n" for row in rows))
    if hasattr(module, "shutdown"):
        module.shutdown()
    print(f"[mlyard] mini-batch done: {len(rows)} row(s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
