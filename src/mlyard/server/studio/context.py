"""`Studio`: what every studio page works with — the workspace, the caller, the session — and the
route class that turns refusals into HTML pages instead of the API's JSON.

The caller is authenticated exactly as on the API (`server/auth.py`), with the key taken from the
session cookie instead of the Authorization header, and each action checks the same role the REST
route declares, so the studio can never do more than the key's role allows. Every state-changing
request must carry the session's CSRF token.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from mlyard.entities.governance.access import Actor, Role
from mlyard.errors import InvalidArgument, MlyardError, PermissionDenied, Unauthenticated
from mlyard.server.auth import authenticate_key
from mlyard.server.error_handlers import describe_validation_errors
from mlyard.server.studio import session as sessions
from mlyard.server.studio.templating import render_page
from mlyard.server.workspaces import ServedWorkspaces, served_workspace
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.workspace import Workspace

SAFE_METHODS = ("GET", "HEAD")
MAX_FORM_BYTES = 1024 * 1024
# No inline script may run: pages pass data to studio.js in data-* attributes and JSON blocks.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


@dataclass
class Studio:
    """One studio request in workspace `ws`, by `actor`."""

    request: Request
    ws: str
    workspace: Workspace
    actor: Actor
    form: dict[str, str]

    @property
    def session(self) -> sessions.Session:
        return sessions.current(self.request)

    @property
    def workspaces(self) -> list[str]:
        served: ServedWorkspaces = self.request.app.state.workspaces
        return served.names()

    def can(self, role: str) -> bool:
        """Whether the caller's role allows `role` (templates show only the buttons it can use)."""
        return self.actor.role.allows(Role(role))

    def require(self, role: str) -> None:
        """The REST API's check, for the same action taken from the studio."""
        if not self.can(role):
            raise PermissionDenied(
                f"{self.actor.name} has role {self.actor.role.value} in workspace {self.ws!r}; "
                f"this needs {role} or above"
            )

    def url(self, path: str = "/") -> str:
        return f"/w/{quote(self.ws, safe='')}{path}"

    def render(self, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        return render_page(self.request, template, status_code, studio=self, **values)


async def _read_form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise InvalidArgument(f"the form is larger than {MAX_FORM_BYTES} bytes")
    try:
        return dict(parse_qsl(body.decode(), keep_blank_values=True))
    except UnicodeDecodeError as exc:
        raise InvalidArgument("the form must be UTF-8 text (application/x-www-form-urlencoded)") from exc


async def check_csrf(request: Request) -> dict[str, str]:
    """The form of an unsafe request, once its CSRF token proved it comes from a studio page."""
    if request.method in SAFE_METHODS:
        return {}
    form = await _read_form(request)
    given = request.headers.get(sessions.CSRF_HEADER) or form.get(sessions.CSRF_FIELD)
    if not sessions.csrf_valid(sessions.secret_of(request), sessions.current(request), given):
        raise PermissionDenied("the form's CSRF token is missing or stale; reload the page and try again")
    return form


async def studio_context(ws: str, request: Request) -> Studio:
    """The dependency of every `/w/{ws}/…` page: workspace, authenticated caller, checked form."""
    form = await check_csrf(request)
    workspace = await served_workspace(ws, request)
    key = sessions.current(request).keys.get(ws)
    actor = await authenticate_key(request, ws, workspace, key, via="studio")
    audit.set_actor(actor)  # every change made from this request is attributed to the key's owner
    request.state.actor = actor
    return Studio(request, ws, workspace, actor, form)


StudioContext = Annotated[Studio, Depends(studio_context)]
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class StudioRoute(APIRoute):
    """Loads the session before the page and saves it after; refusals become HTML pages (or a
    redirect to the login page), never the API's JSON and never a 500."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            request.state.studio_session = sessions.decode(
                sessions.secret_of(request), request.cookies.get(sessions.COOKIE)
            )
            try:
                response = await handler(request)
            except Unauthenticated:
                response = _to_login(request)
            except MlyardError as exc:
                response = error_page(request, exc.http_status, exc.message)
            except RequestValidationError as exc:
                response = error_page(request, 400, describe_validation_errors(exc.errors()))
            except HTTPException as exc:
                response = error_page(request, exc.status_code, str(exc.detail))
            _save_session(request, response)
            response.headers.setdefault("content-security-policy", CONTENT_SECURITY_POLICY)
            response.headers.setdefault("x-content-type-options", "nosniff")
            return response

        return route


def _to_login(request: Request) -> Response:
    ws = request.path_params.get("ws", "")
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/login?ws={quote(ws, safe='')}&next={quote(target, safe='')}"
    if request.headers.get("hx-request"):  # htmx: navigate the whole page, not the fragment
        return Response(status_code=204, headers={"hx-redirect": location})
    return RedirectResponse(location, status_code=303)


def _save_session(request: Request, response: Response) -> None:
    current = sessions.current(request)
    if current.changed:
        response.set_cookie(
            sessions.COOKIE,
            sessions.encode(sessions.secret_of(request), current),
            max_age=sessions.LIFETIME_SECONDS,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )


def error_page(request: Request, status_code: int, message: str) -> HTMLResponse:
    """The refusal as a page: what happened (the same message the API and CLI give) and a way back."""
    return render_page(request, "error.html", status_code, status=status_code, message=message)
