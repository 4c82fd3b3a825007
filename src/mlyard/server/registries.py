"""Registries over HTTP: `/api/v1/registries/{name}/…` is a registry's asset API.

A registry is a store with a workspace's schema, so its API is the workspace asset routes
(models, environments, components, data, uploads for their files, keys) on that store: this
middleware routes `/api/v1/registries/{name}/<route>` to `/api/v1/workspaces/@{name}/<route>`,
where `ServedWorkspaces` opens the registry and `server/auth.py` checks the caller's key against
the registry's own keys. Other workspace routes (jobs, endpoints, …) are not a registry's: 404.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from mlyard.errors import NotFound
from mlyard.server.workspaces import REGISTRY_MARK

PREFIX = "/api/v1/registries/"
ROUTES = ("models", "environments", "components", "data", "uploads", "keys", "audit")


class RegistryPaths:
    """Rewrites a registry's asset paths onto the workspace routes (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith(PREFIX):
            name, _, rest = path[len(PREFIX) :].partition("/")
            route = rest.split("/", 1)[0]
            if name and not route:  # the registry itself
                new_path = f"/api/v1/workspaces/{REGISTRY_MARK}{name}/registry-info"
                scope = dict(scope, path=new_path, raw_path=new_path.encode())
            elif name and route:
                if route not in ROUTES:
                    await _not_found(
                        send, f"a registry holds {', '.join(ROUTES[:4])}; there is no {route!r} in one"
                    )
                    return
                new_path = f"/api/v1/workspaces/{REGISTRY_MARK}{name}/{rest}"
                scope = dict(scope, path=new_path, raw_path=new_path.encode())
        await self.app(scope, receive, send)


async def _not_found(send: Send, message: str) -> None:
    body = json.dumps(NotFound(message).to_dict()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": body})
