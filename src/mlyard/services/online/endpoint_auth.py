"""Endpoint credentials: random keys (`auth_mode: key`) and signed, expiring tokens (`aml_token`).

Keys are 256 random bits, retrievable by operators (`get-credentials`) and rotatable one at a time
(`regenerate-keys --key-type primary|secondary`), so clients can move to the other key first.

A token reads `mlyt.<payload>.<signature>`: the payload (base64url JSON) names the endpoint and
its expiry, the signature is HMAC-SHA256 over it with the endpoint's own secret. The gateway checks
it in memory — no database read per request — and an expired or forged token is refused 401.
Nothing here does I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

TOKEN_PREFIX = "mlyt"
DEFAULT_TOKEN_SECONDS = 3600
MAX_TOKEN_SECONDS = 7 * 24 * 3600


def new_key() -> str:
    return secrets.token_urlsafe(32)


def new_secret() -> str:
    return secrets.token_hex(32)


def issue_token(
    secret: str, endpoint: str, lifetime_seconds: float, now: float | None = None
) -> tuple[str, float]:
    """A token for `endpoint` valid for `lifetime_seconds`; returns it and its expiry (epoch seconds)."""
    expires = (time.time() if now is None else now) + lifetime_seconds
    payload = _b64(json.dumps({"ep": endpoint, "exp": round(expires, 3)}, separators=(",", ":")).encode())
    signature = _b64(_sign(secret.encode(), payload.encode()))
    return f"{TOKEN_PREFIX}.{payload}.{signature}", expires


def check_token(token: bytes, secret: bytes, endpoint: str, now: float) -> str | None:
    """None when `token` is a valid, unexpired token of `endpoint`; else why it is not (for a 401)."""
    parts = token.split(b".")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX.encode():
        return "the bearer credential is not an mlyard endpoint token"
    expected = _b64(_sign(secret, parts[1])).encode()
    if not hmac.compare_digest(expected, parts[2]):
        return "the token's signature is not valid for this endpoint (forged, or from another endpoint)"
    try:
        claims = json.loads(_unb64(parts[1]))
        expires, audience = float(claims["exp"]), claims["ep"]
    except (ValueError, KeyError, TypeError):
        return "the token's payload is unreadable"
    if audience != endpoint:
        return f"the token was issued for endpoint {audience!r}"
    if expires <= now:
        return (
            f"the token expired {now - expires:.0f} s ago; get a new one with: "
            f"mlyard online-endpoint get-credentials --name {endpoint}"
        )
    return None


def _sign(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: bytes) -> bytes:
    return base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))
