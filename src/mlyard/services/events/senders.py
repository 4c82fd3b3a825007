"""One delivery attempt: a signed HTTP POST of the CloudEvent, or an email through SMTP.

Retried: network errors, timeouts, 408, 429 and 5xx answers. Not retried: other 4xx (the
receiver refused this event; retrying would not change its mind) and redirects, which are not
followed (the redirect target was never checked against the SSRF rule).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from mlyard.entities.automation.event import CLOUDEVENTS_CONTENT_TYPE, Event, short_name
from mlyard.errors import MlyardError
from mlyard.services.events import signing
from mlyard.services.events.notices import notice
from mlyard.services.events.targets import check_target

if TYPE_CHECKING:
    import httpx

    from mlyard.services.workspaces.settings import WorkspaceSettings

TIMEOUT_SECONDS = 10.0
RETRIED_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class Outcome:
    ok: bool
    retry: bool  # worth another attempt later
    status_code: int | None
    latency_ms: float
    error: str | None = None


def event_body(event: Event) -> bytes:
    """The structured-mode body: every CloudEvents attribute and `data` in one JSON object."""
    return json.dumps(event.cloudevent(), separators=(",", ":"), ensure_ascii=False).encode()


class Senders:
    """A pooled HTTP client (shared by the delivery threads) and the SMTP sender."""

    def __init__(self, timeout: float = TIMEOUT_SECONDS) -> None:
        import httpx

        self._http: httpx.Client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
            headers={"user-agent": "mlyard-webhooks"},
        )

    def close(self) -> None:
        self._http.close()

    def webhook(self, url: str, event: Event, secrets: list[str], allow_link_local: bool) -> Outcome:
        import httpx

        started = time.perf_counter()
        try:
            check_target(url, allow_link_local)
        except MlyardError as exc:
            return Outcome(False, False, None, 0.0, exc.message)
        body = event_body(event)
        headers = {"content-type": CLOUDEVENTS_CONTENT_TYPE, **signing.headers(event.id, body, secrets)}
        try:
            response = self._http.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return Outcome(False, True, None, _ms(started), f"{type(exc).__name__}: {exc}"[:500])
        status = response.status_code
        if 200 <= status < 300:
            return Outcome(True, False, status, _ms(started))
        retry = status >= 500 or status in RETRIED_STATUSES
        return Outcome(False, retry, status, _ms(started), f"HTTP {status}: {response.text[:200]}")

    def email(self, settings: WorkspaceSettings, addresses: list[str], event: Event) -> Outcome:
        import smtplib

        started = time.perf_counter()
        if not settings.smtp_host:
            return Outcome(False, False, None, 0.0, "no SMTP server: set smtp_host in the workspace settings")
        message = email_message(settings.smtp_from, addresses, event)
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls()
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            retry = exc.smtp_code >= 400 and exc.smtp_code < 500  # 4xx: transient, per RFC 5321
            return Outcome(
                False, retry, exc.smtp_code, _ms(started), f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
            )
        except (OSError, smtplib.SMTPException) as exc:
            return Outcome(False, True, None, _ms(started), f"{type(exc).__name__}: {exc}"[:500])
        return Outcome(True, False, 250, _ms(started))


def email_message(sender: str, addresses: list[str], event: Event) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(addresses)
    message["Message-ID"] = f"<{event.id}@mlyard>"
    told = notice(event)
    if told is not None:
        message["Subject"], lines = told[0], [*told[1], ""]
    else:
        message["Subject"] = f"[mlyard] {short_name(event.type)}: {event.subject or event.id}"
        lines = [f"{short_name(event.type)} at {event.time.isoformat()} in {event.source}", ""]
        lines += [f"{key}: {_shown(value)}" for key, value in event.data.items()]
        lines.append("")
    lines += [f"event id: {event.id}", f"subject: {event.subject or ''}"]
    message.set_content("\n".join(lines))
    message.add_attachment(
        event_body(event), maintype="application", subtype="cloudevents+json", filename=f"{event.id}.json"
    )
    return message


def _shown(value: Any) -> str:
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
