"""The runs table of one experiment: params and metrics as sortable columns (a chooser hides some),
the `job list --filter` syntax and a free-text search (both done by the same search service),
grouping by a param or tag, server-side paging, and every choice kept in the URL so a link reopens
the same view."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Query, Response

from mlyard.entities.jobs.job import Job
from mlyard.errors import InvalidArgument
from mlyard.server.studio.context import StudioContext, StudioRoute
from mlyard.services.tracking import jobs

router = APIRouter(route_class=StudioRoute, include_in_schema=False)
MAX_PAGE_SIZE = 500
MAX_HIDDEN_COLUMNS = 500
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/]*$")


def term(kind: str, key: str) -> str:
    """`metrics.mse`, or `metrics.\\`val loss\\`` for a key the search syntax must quote."""
    return f"{kind}.{key}" if _PLAIN_KEY.match(key) else f"{kind}.`{key}`"


@dataclass
class Group:
    """Runs sharing one value of the grouping param or tag, with each metric's mean and range."""

    value: str
    jobs: list[Job]
    stats: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # mean, min, max


def group_jobs(found: list[Job], group_by: str, metric_keys: list[str]) -> list[Group]:
    kind, _, key = group_by.partition(".")
    if kind not in ("params", "tags") or not key:
        raise InvalidArgument(f"group must be params.<name> or tags.<name>, got {group_by!r}")
    groups: dict[str, Group] = {}
    for job in found:
        value = (job.params if kind == "params" else job.tags).get(key, "(none)")
        groups.setdefault(value, Group(value, [])).jobs.append(job)
    for group in groups.values():
        for metric in metric_keys:
            values = [job.metrics[metric] for job in group.jobs if metric in job.metrics]
            if values:
                group.stats[metric] = (sum(values) / len(values), min(values), max(values))
    return sorted(groups.values(), key=lambda g: g.value)


@router.get("/w/{ws}/jobs")
def runs_table(
    studio: StudioContext,
    experiment: Annotated[str | None, Query(max_length=500)] = None,
    filter: Annotated[str | None, Query(max_length=5000)] = None,
    order: Annotated[str | None, Query(max_length=500)] = None,
    group: Annotated[str | None, Query(max_length=500)] = None,
    search: Annotated[str | None, Query(max_length=500)] = None,
    hide: Annotated[list[str] | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> Response:
    experiments = jobs.list_experiments(studio.workspace)
    if experiment is None and experiments:
        experiment = experiments[0][0]
    # One more than a page: whether a next page exists, without counting every match.
    found = jobs.search_jobs(
        studio.workspace,
        filter or None,
        [order] if order else None,
        [experiment] if experiment else None,
        size + 1,
        offset=(page - 1) * size,
        parent="",
        text=search,
    ) if experiment else []  # fmt: skip
    has_next = len(found) > size
    found = found[:size]
    hidden = hidden_columns(hide or [])
    columns = [f"params.{key}" for key in sorted({key for job in found for key in job.params})]
    columns += [f"metrics.{key}" for key in sorted({key for job in found for key in job.metrics})]
    shown = [column for column in columns if column not in hidden]
    param_keys = [column.partition(".")[2] for column in shown if column.startswith("params.")]
    metric_keys = [column.partition(".")[2] for column in shown if column.startswith("metrics.")]
    view = {
        "experiment": experiment,
        "filter": filter,
        "search": search,
        "order": order,
        "group": group,
        "hide": sorted(hidden),
        "size": size,
    }
    return studio.render(
        "jobs.html",
        experiments=experiments,
        jobs=found,
        groups=group_jobs(found, group, metric_keys) if group else None,
        columns=columns,
        hidden=hidden,
        param_keys=param_keys,
        metric_keys=metric_keys,
        view=view,
        page=page,
        has_next=has_next,
        sort_link=lambda kind, key: _sort_order(order, term(kind, key)),
        sorted_as=lambda kind, key: _sorted_as(order, term(kind, key)),
    )


def hidden_columns(hide: list[str]) -> set[str]:
    """The columns the chooser hid: each `params.<name>` or `metrics.<name>`. Those no run of the
    page has are kept (they hide the column again on a page that has it)."""
    for column in hide:
        kind, _, key = column.partition(".")
        if kind not in ("params", "metrics") or not key or len(column) > 500:
            raise InvalidArgument(f"hide must be params.<name> or metrics.<name>, got {column!r}")
    return set(hide)


def _sorted_as(order: str | None, column: str) -> str:
    """aria-sort of a column header: ascending, descending or none."""
    if not order:
        return "none"
    name, _, direction = order.strip().rpartition(" ")
    if name == column:
        return "descending" if direction.upper() == "DESC" else "ascending"
    return "ascending" if order.strip() == column else "none"


def _sort_order(order: str | None, column: str) -> str:
    """Clicking a header sorts by it descending, then ascending."""
    return f"{column} ASC" if _sorted_as(order, column) == "descending" else f"{column} DESC"
