"""A model whose predict takes a while (pickled by reference: instances need the repo on PYTHONPATH)."""

from __future__ import annotations

import time
from typing import Any


class SlowModel:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def predict(self, rows: Any) -> list[float]:
        time.sleep(self.seconds)
        return [0.0 for _ in rows]
