"""The studio's Jinja2 environment: autoescaping everywhere, so any name, tag, description or log
line shows as text; and the small filters the templates share."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from mlyard.server.studio import session as sessions

TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def environment() -> Any:
    """Built on first use: jinja2 is imported only by a server that renders a page."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["duration"] = duration
    env.filters["number"] = number
    env.filters["json_data"] = json_data
    env.filters["pretty_json"] = pretty_json
    env.filters["filesize"] = filesize
    env.globals["query"] = query
    return env


def render_page(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            csrf=sessions.csrf_token(sessions.secret_of(request), sessions.current(request)),
            csrf_field=sessions.CSRF_FIELD,
            **{"studio": None, **values},
        )
    )
    return HTMLResponse(html, status_code=status_code)


def when(value: datetime | None) -> str:
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(start: datetime | None, end: datetime | None = None) -> str:
    if start is None:
        return "—"
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    stop = end or datetime.now(UTC)
    if stop.tzinfo is None:
        stop = stop.replace(tzinfo=UTC)
    seconds = max(0.0, (stop - start).total_seconds())
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"


def number(value: Any) -> str:
    """Metric values: 4 significant digits, plain integers as they are."""
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.4g}"
    return str(value)


def filesize(size: int | None) -> str:
    """Bytes for a reader: 1.2 MB, 340 KB, 12 bytes."""
    if size is None:
        return ""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def json_data(value: Any) -> str:
    """JSON for a `<script type="application/json">` block: `<` escaped so `</script>` cannot end it
    (autoescaping then leaves the text alone: Markup)."""
    from markupsafe import Markup

    text = (
        json.dumps(value, default=str).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    )
    return Markup(text)


def pretty_json(value: Any, indent: int | None = 2) -> str:
    """JSON for people to read, as plain text: autoescaping shows any HTML inside it as text."""
    return json.dumps(value, indent=indent, sort_keys=True, default=str, ensure_ascii=False)


def query(**values: Any) -> str:
    """A query string from the non-empty values (lists repeat the key): deep links keep filters."""
    pairs: list[tuple[str, str]] = []
    for key, value in values.items():
        if value is None or value == "" or value == []:
            continue
        for item in value if isinstance(value, list | tuple) else [value]:
            pairs.append((key, str(item)))
    return "?" + urlencode(pairs) if pairs else ""
