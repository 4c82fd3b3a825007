"""`mlyard maturity`: the workspace (and the repository's CI files) against the MLOps maturity model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlyard.cli.context import client_of
from mlyard.cli.output import print_table, printed_for_scripts, say


def maturity(
    ctx: typer.Context,
    repo: Annotated[
        Path | None,
        typer.Option(
            "--repo",
            help="the repository whose CI files (.github/workflows, .azure-pipelines) count; default: here",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Assess the workspace's MLOps maturity (levels 0-4 of Microsoft's model): the level, the
    evidence for each criterion, and what to do next."""
    # The table names criteria by id to stay readable; -o json has the model's wording.
    report = client_of(ctx).maturity.assess(repo if repo is not None else Path.cwd())
    if printed_for_scripts(report.model_dump(mode="json")):
        return
    print_table(
        f"MLOps maturity: level {report.level}, {report.level_name}",
        ["level", "area", "criterion", "met", "evidence"],
        [[c.level, c.area, c.id, "yes" if c.met else "no", c.evidence] for c in report.criteria],
    )
    steps = [c for c in report.criteria if not c.met]
    if not steps:
        say(f"level {report.level}: every criterion of the model is met")
        return
    say(f"level {report.level} ({report.level_name}); next steps, lowest level first:")
    for criterion in steps:
        say(f"  level {criterion.level} {criterion.id}: {criterion.next}")
