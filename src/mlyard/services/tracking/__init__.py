"""Run records: experiments, jobs as runs (params, metrics, tags, lineage), logged files, run context."""
