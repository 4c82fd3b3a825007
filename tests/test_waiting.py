"""The tests' waiting helpers fail loudly: what was awaited, the last value, the process's output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import start_server, wait_answering
from tests.waiting import wait_until


def test_wait_until_returns_the_first_answer_and_treats_empty_as_not_yet():
    answers = iter([None, False, "", [], "ready"])
    assert wait_until(lambda: next(answers), timeout=5, message="an answer", interval=0) == "ready"


def test_a_timed_out_wait_names_what_it_waited_for_with_the_log_tail():
    log = "\n".join(f"line {n}" for n in range(100))
    with pytest.raises(
        AssertionError, match=r"(?s)waiting for the moon \(last value: None\).*line 99"
    ) as caught:
        wait_until(lambda: None, timeout=0.1, message="the moon", log=lambda: log)
    assert "line 39\n" not in str(caught.value)  # only the tail


def test_waiting_for_a_process_that_exits_first_fails_at_once_with_its_output(tmp_path: Path):
    crash = "import sys; print('loading…'); sys.exit('no model in /nowhere')"
    process = subprocess.Popen(
        [sys.executable, "-c", crash], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    with pytest.raises(AssertionError, match=r"(?s)exited with 1 before .*loading….*no model in /nowhere"):
        wait_answering(process, "http://127.0.0.1:9/ready", timeout=60)


def test_a_server_that_cannot_start_fails_the_test_with_its_log(tmp_path: Path):
    with pytest.raises(
        AssertionError, match=r"(?s)the server exited with 2 before it was up.*--lease-seconds"
    ):
        start_server(tmp_path / "ws", tmp_path / "server.log", "--lease-seconds", "soon")
