"""Data collection: model inputs and outputs of live requests, as Parquet, for monitoring to read.

The gateway hands each sampled request to `DataCollector.add` — an append to a deque, nothing
more, on the request path. A writer thread (`CollectorWriter`) drains every collector every few
seconds, turns the bodies into rows (the same request shapes the instances accept: `input_data`,
`dataframe_split`, `instances`, … — a body that is none of them is kept whole in a `raw` column)
and writes one file per kind and time partition:

    endpoints/<ep>/<dep>/collected/model_inputs/YYYY/MM/DD/HH/<uuid>.parquet
    endpoints/<ep>/<dep>/collected/model_outputs/YYYY/MM/DD/HH/<uuid>.parquet

Every row carries `request_id` (the `x-request-id` of its request), `timestamp` (UTC, when the
gateway received it) and `row` (its position in the request), so inputs and outputs join.
`rolling_rate` minute/day partitions by minute (…/HH/MM/) or day (…/DD/) instead of hour.
When the buffer is full (the writer cannot keep up), further requests are counted, not kept.
"""

from __future__ import annotations

import io
import logging
import threading
import uuid
from collections import deque
from datetime import UTC, datetime
from typing import Any

from mlyard.artifacts import ArtifactStore

logger = logging.getLogger("mlyard.gateway")
MAX_BUFFERED = 50_000
FLUSH_SECONDS = 2.0
Item = tuple[str, float, bytes, bytes]


class DataCollector:
    """The buffer of one deployment's sampled requests, and how to write them."""

    def __init__(
        self, artifacts: ArtifactStore, root: str, inputs: bool, outputs: bool, rolling_rate: str = "hour"
    ) -> None:
        self.artifacts, self.root = artifacts, root
        self.inputs, self.outputs, self.rolling_rate = inputs, outputs, rolling_rate
        self.buffer: deque[Item] = deque()
        self.dropped = 0
        self.written_files = 0

    def add(self, request_id: str, at: float, body: bytes, answer: bytes) -> None:
        """Keep one request (called on the event loop: appending is all it does)."""
        if len(self.buffer) >= MAX_BUFFERED:
            self.dropped += 1
            return
        self.buffer.append((request_id, at, body, answer))

    def flush(self) -> int:
        """Write what is buffered, one file per kind and partition; returns the requests written."""
        items: list[Item] = []
        while self.buffer:
            items.append(self.buffer.popleft())
        if not items:
            return 0
        partitions: dict[str, list[Item]] = {}
        for item in items:
            partitions.setdefault(self._partition(item[1]), []).append(item)
        for partition, chosen in partitions.items():
            if self.inputs:
                self._write("model_inputs", partition, _table(chosen, _input_rows))
            if self.outputs:
                self._write("model_outputs", partition, _table(chosen, _output_rows))
        return len(items)

    def _partition(self, at: float) -> str:
        moment = datetime.fromtimestamp(at, UTC)
        layout = {"minute": "%Y/%m/%d/%H/%M", "day": "%Y/%m/%d"}.get(self.rolling_rate, "%Y/%m/%d/%H")
        return moment.strftime(layout)

    def _write(self, kind: str, partition: str, table: Any) -> None:
        import pyarrow.parquet as pq

        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        self.artifacts.put_bytes(
            buffer.getvalue(), f"{self.root}/{kind}/{partition}/{uuid.uuid4().hex}.parquet"
        )
        self.written_files += 1


def _table(items: list[Item], rows_of: Any) -> Any:
    """One Arrow table of the rows of `items`: request_id, timestamp, row, then the data's columns."""
    import pandas as pd
    import pyarrow as pa

    frames, stamps = [], []
    for request_id, at, body, answer in items:
        part = rows_of(body, answer)
        part.insert(0, "row", range(len(part)))
        part.insert(0, "request_id", request_id)
        frames.append(part)
        stamps += [round(at * 1_000_000)] * len(part)
    frame = pd.concat(frames, ignore_index=True, sort=False)
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        # Mixed types in one column across requests: keep them as text rather than lose them.
        text = {column: str for column in frame.columns if column not in ("row",)}
        table = pa.Table.from_pandas(frame.astype(text), preserve_index=False)
    return table.add_column(1, "timestamp", pa.array(stamps, type=pa.timestamp("us", tz="UTC")))


def _input_rows(body: bytes, answer: bytes) -> Any:
    import pandas as pd

    from mlyard.serving.inputs import parse_scoring_request

    try:
        frame = parse_scoring_request(body, None).frame()
        frame.columns = [str(column) for column in frame.columns]
        return frame.reset_index(drop=True)
    except Exception:  # noqa: BLE001 - a body of any shape is collected, whole if need be
        return pd.DataFrame({"raw": [body.decode("utf-8", errors="replace")]})


def _output_rows(body: bytes, answer: bytes) -> Any:
    import orjson
    import pandas as pd

    try:
        parsed = orjson.loads(answer)
    except orjson.JSONDecodeError:
        return pd.DataFrame({"raw": [answer.decode("utf-8", errors="replace")]})
    if isinstance(parsed, dict) and isinstance(parsed.get("predictions"), list):
        parsed = parsed["predictions"]
    if isinstance(parsed, list) and parsed and all(isinstance(v, dict) for v in parsed):
        return pd.DataFrame.from_records(parsed)
    if isinstance(parsed, list) and all(not isinstance(v, dict) for v in parsed):
        return pd.DataFrame({"prediction": parsed})
    return pd.DataFrame({"raw": [answer.decode("utf-8", errors="replace")]})


class CollectorWriter:
    """The thread that drains every registered collector every `FLUSH_SECONDS`, and once more at stop."""

    def __init__(self, interval: float = FLUSH_SECONDS) -> None:
        self.interval = interval
        self.collectors: dict[tuple[str, str, str], DataCollector] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="mlyard-data-collector", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.flush_all()

    def flush_all(self) -> None:
        for key, collector in list(self.collectors.items()):
            try:
                collector.flush()
            except Exception:  # one bad deployment's data must not stop the others'
                logger.exception("writing collected data of %s failed", "/".join(key))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush_all()
