"""Ways in: `/` (to the first workspace), the login page, logout, and the workspace switcher."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from mlyard.errors import NotFound, Unauthenticated
from mlyard.server.auth import authenticate_key
from mlyard.server.studio import session as sessions
from mlyard.server.studio.context import StudioContext, StudioRoute, check_csrf
from mlyard.server.studio.templating import render_page
from mlyard.server.workspaces import ServedWorkspaces, served_workspace

router = APIRouter(route_class=StudioRoute, include_in_schema=False)
fallback = APIRouter(route_class=StudioRoute, include_in_schema=False)


def _served(request: Request) -> list[str]:
    workspaces: ServedWorkspaces = request.app.state.workspaces
    return workspaces.names()


def _home(ws: str) -> str:
    return f"/w/{quote(ws, safe='')}/"


def _safe_next(target: str | None, ws: str) -> str:
    """Only a studio page of this server: never an open redirect to another site."""
    if target and target.startswith("/w/") and not target.startswith("//"):
        return target
    return _home(ws)


@router.get("/")
def root(request: Request) -> Response:
    return RedirectResponse(_home(_served(request)[0]), status_code=303)


@router.get("/switch")
def switch(request: Request, ws: Annotated[str, Query(max_length=200)]) -> Response:
    """The workspace switcher's target (a GET form, so it works without JavaScript)."""
    if ws not in _served(request):
        raise NotFound(
            f"workspace {ws!r} is not served here; this server serves: {', '.join(_served(request))}"
        )
    return RedirectResponse(_home(ws), status_code=303)


@router.get("/login")
def login_page(
    request: Request,
    ws: Annotated[str | None, Query(max_length=200)] = None,
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    served = _served(request)
    return render_page(
        request, "login.html", workspaces=served, ws=ws or served[0], next=next or "", error=None
    )


@router.post("/login")
async def log_in(request: Request) -> Response:
    """Check the key as the API would; keep it in the signed session cookie for this workspace."""
    form = await check_csrf(request)
    served = _served(request)
    ws, key, target = form.get("ws", ""), form.get("key", "").strip(), form.get("next", "")
    if ws not in served:
        raise NotFound(f"workspace {ws!r} is not served here; this server serves: {', '.join(served)}")
    workspace = await served_workspace(ws, request)
    try:
        if not key:
            raise Unauthenticated("enter an API key (mlyard key create --owner YOU --role reader)")
        await authenticate_key(request, ws, workspace, key, via="studio")
    except Unauthenticated as exc:
        return render_page(
            request, "login.html", 401, workspaces=served, ws=ws, next=target, error=exc.message
        )
    sessions.current(request).log_in(ws, key)
    return RedirectResponse(_safe_next(target, ws), status_code=303)


@router.post("/logout")
async def log_out(request: Request) -> Response:
    await check_csrf(request)
    sessions.current(request).log_out()
    return RedirectResponse("/login", status_code=303)


@fallback.api_route("/w/{ws}/{rest:path}", methods=["GET", "POST"])
def not_found(studio: StudioContext, rest: str) -> Response:
    raise NotFound(f"the studio has no page /w/{studio.ws}/{rest}; start again from the overview")
