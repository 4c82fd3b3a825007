"""Execution: turns a job into processes (runner, environments, pipelines, sweeps, executors)."""
