"""Standard Webhooks signatures: what a receiver checks to trust a delivery.

    webhook-id:        the event id (the same on every retry: an idempotency key)
    webhook-timestamp: unix seconds of this attempt
    webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}"> (one per live
                       secret, space-separated, while a rotated secret is still honoured)

Secrets are written `whsec_<base64 of 32 random bytes>`; the HMAC key is the decoded bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping, Sequence

from mlyard.errors import PermissionDenied

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
TOLERANCE_SECONDS = 300  # a delivery older (or newer) than this is refused: replay protection


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except ValueError:
        return encoded.encode()  # a plain-text secret some receivers configure by hand


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(
    message_id: str, body: bytes, secrets_: Sequence[str], timestamp: int | None = None
) -> dict[str, str]:
    """The three headers of one attempt, signed with every live secret."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, message_id, timestamp, body) for s in secrets_),
    }


def verify(
    headers: Mapping[str, str],
    body: bytes | str,
    secret: str,
    tolerance: float = TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Check a delivery's signature; `PermissionDenied` saying why when it must not be trusted.

    `headers` is any mapping (names compared case-insensitively); `body` is the raw request body,
    exactly as received.
    """
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    message_id = lowered.get("webhook-id")
    stamp = lowered.get("webhook-timestamp")
    given = lowered.get("webhook-signature")
    if not message_id or not stamp or not given:
        raise PermissionDenied(
            "not a signed webhook: webhook-id, webhook-timestamp and webhook-signature needed"
        )
    try:
        timestamp = int(stamp)
    except ValueError:
        raise PermissionDenied(f"webhook-timestamp {stamp!r} is not unix seconds") from None
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise PermissionDenied(f"webhook-timestamp is {int(now - timestamp)} s from now: stale or replayed")
    raw = body.encode() if isinstance(body, str) else body
    expected = signature(secret, message_id, timestamp, raw)
    if not any(hmac.compare_digest(expected, candidate) for candidate in given.split()):
        raise PermissionDenied("webhook-signature does not match: wrong secret, or the body was changed")
