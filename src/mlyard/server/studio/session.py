"""The studio's session cookie: the API keys a browser logged in with, signed so it cannot be forged.

The cookie holds `{"nonce", "keys": {workspace: API key}, "expires"}` as base64 JSON plus an
HMAC-SHA256 signature with the server's secret; it is HttpOnly (no script reads it) and
SameSite=Strict (no other site's page sends it). The key inside is checked on every request by
the same `Authenticator` as the API's Bearer header, so a revoked key stops working at once.
The signing secret lives in the server process: restarting the server ends every session.

The CSRF token of a session is an HMAC of its nonce: every state-changing request must carry it
(form field `csrf_token` or header `X-CSRF-Token`), which a page of another site cannot read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

COOKIE = "mlyard_studio"
LIFETIME_SECONDS = 12 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass
class Session:
    """One browser's session; `changed` tells the response to send the cookie again."""

    nonce: str
    keys: dict[str, str] = field(default_factory=dict)
    expires: float = 0.0
    changed: bool = False

    @classmethod
    def new(cls) -> Session:
        return cls(secrets.token_urlsafe(18), {}, time.time() + LIFETIME_SECONDS, changed=True)

    def log_in(self, ws: str, key: str) -> None:
        self.keys[ws] = key
        self.expires = time.time() + LIFETIME_SECONDS
        self.changed = True

    def log_out(self) -> None:
        self.keys.clear()
        self.nonce = secrets.token_urlsafe(18)  # a new session: tokens of the old one are void
        self.changed = True


def secret_of(request: Request) -> bytes:
    """The key signing sessions: derived from the server's per-process secret."""
    base: bytes = request.app.state.local_secret
    return hashlib.sha256(b"mlyard-studio:" + base).digest()


def current(request: Request) -> Session:
    """This request's session (the studio's route class loads it before the page runs)."""
    found: Session = request.state.studio_session
    return found


def _signature(secret: bytes, payload: bytes) -> str:
    return hmac.new(secret, b"studio-session:" + payload, "sha256").hexdigest()


def encode(secret: bytes, session: Session) -> str:
    data = {"nonce": session.nonce, "keys": session.keys, "expires": session.expires}
    payload = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    return f"{payload.decode()}.{_signature(secret, payload)}"


def decode(secret: bytes, cookie: str | None) -> Session:
    """The session in `cookie`, or a new one when it is missing, tampered with or expired."""
    if not cookie or "." not in cookie:
        return Session.new()
    payload, _, signature = cookie.rpartition(".")
    if not hmac.compare_digest(signature, _signature(secret, payload.encode())):
        return Session.new()
    try:
        data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload.encode()))
        session = Session(str(data["nonce"]), dict(data["keys"]), float(data["expires"]))
    except (ValueError, KeyError, TypeError):
        return Session.new()
    return session if session.expires > time.time() else Session.new()


def csrf_token(secret: bytes, session: Session) -> str:
    return hmac.new(secret, b"studio-csrf:" + session.nonce.encode(), "sha256").hexdigest()


def csrf_valid(secret: bytes, session: Session, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), csrf_token(secret, session).encode())
