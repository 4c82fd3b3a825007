"""`client.events`, `client.events.subscriptions` and `client.schedules` over a team server."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mlyard.client.events import EventOperations, SubscriptionOperations
from mlyard.client.remote.closure import spec_closure
from mlyard.client.remote.session import RemoteSession
from mlyard.client.schedules import ScheduleOperations
from mlyard.entities.automation.event import Event
from mlyard.entities.automation.schedule import Schedule, ScheduleDetails, ScheduleFiring
from mlyard.entities.automation.subscription import CreatedSubscription, Delivery, Subscription
from mlyard.entities.specs.spec_files import load_yaml


def _name(name: str) -> str:
    return quote(name, safe="")


class RemoteSubscriptionOperations(SubscriptionOperations):
    def __init__(self, session: RemoteSession) -> None:
        self._session = session

    def create(
        self,
        name: str,
        types: Sequence[str] = (),
        filter: dict[str, str] | None = None,
        webhook: str | None = None,
        emails: Sequence[str] = (),
        description: str | None = None,
        enabled: bool = True,
    ) -> CreatedSubscription:
        body = {"name": name, "types": list(types), "filter": filter or {}, "webhook": webhook,
                "emails": list(emails), "description": description, "enabled": enabled}  # fmt: skip
        return CreatedSubscription.model_validate(self._session.post_json("subscriptions", body))

    def list(self) -> builtins.list[Subscription]:
        return [Subscription.model_validate(s) for s in self._session.get_json("subscriptions")["value"]]

    def get(self, name: str) -> Subscription:
        return Subscription.model_validate(self._session.get_json(f"subscriptions/{_name(name)}"))

    def update(
        self,
        name: str,
        types: Sequence[str] | None = None,
        filter: dict[str, str] | None = None,
        webhook: str | None = None,
        emails: Sequence[str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
    ) -> Subscription:
        body: dict[str, Any] = {"types": None if types is None else list(types), "filter": filter,
                                "webhook": webhook, "emails": None if emails is None else list(emails),
                                "description": description, "enabled": enabled}  # fmt: skip
        response = self._session.request(
            "PATCH", f"subscriptions/{_name(name)}", json={k: v for k, v in body.items() if v is not None}
        )
        return Subscription.model_validate(response.json())

    def delete(self, name: str) -> None:
        self._session.request("DELETE", f"subscriptions/{_name(name)}")

    def deliveries(
        self, name: str, states: Sequence[str] = (), event_id: str | None = None, limit: int = 100
    ) -> builtins.list[Delivery]:
        found = self._session.get_json(
            f"subscriptions/{_name(name)}/deliveries",
            state=list(states) or None,
            event_id=event_id,
            limit=limit,
        )
        return [Delivery.model_validate(d) for d in found["value"]]

    def redeliver(self, name: str, delivery_ids: Sequence[int] = (), dead: bool = False) -> int:
        body = {"delivery_ids": list(delivery_ids), "dead": dead}
        return int(self._session.post_json(f"subscriptions/{_name(name)}/redeliver", body)["queued"])

    def rotate_secret(self, name: str, overlap_hours: float = 24.0) -> CreatedSubscription:
        body = {"overlap_hours": overlap_hours}
        return CreatedSubscription.model_validate(
            self._session.post_json(f"subscriptions/{_name(name)}/rotate-secret", body)
        )


class RemoteEventOperations(EventOperations):
    def __init__(self, session: RemoteSession) -> None:
        self._session = session
        self.subscriptions = RemoteSubscriptionOperations(session)

    def list(
        self,
        types: Sequence[str] = (),
        subject: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> builtins.list[Event]:
        found = self._session.get_json(
            "events", type=list(types) or None, subject=subject, since=since.isoformat() if since else None,
            until=until.isoformat() if until else None, limit=limit,
        )  # fmt: skip
        return [Event.model_validate(e) for e in found["value"]]

    def get(self, event_id: str) -> Event:
        return Event.model_validate(self._session.get_json(f"events/{_name(event_id)}"))


class RemoteScheduleOperations(ScheduleOperations):
    """A schedule YAML goes up with the files its job names; the server keeps them with it."""

    def __init__(self, session: RemoteSession) -> None:
        self._session = session

    def _body(self, path: str | Path) -> dict[str, Any]:
        path = Path(path)
        closure = spec_closure(load_yaml(path), path.resolve().parent)
        upload = self._session.upload(closure.files) if closure.files else None
        return {"spec": closure.spec, "upload": upload, "base": closure.base, "source": str(path)}

    def create(self, path: str | Path) -> Schedule:
        return Schedule.model_validate(self._session.post_json("schedules", self._body(path)))

    def update(self, path: str | Path) -> Schedule:
        body = self._body(path)
        name = str(body["spec"].get("name", ""))
        response = self._session.request("PUT", f"schedules/{_name(name)}", json=body)
        return Schedule.model_validate(response.json())

    def get(self, name: str) -> Schedule:
        return self.show(name).schedule

    def show(self, name: str) -> ScheduleDetails:
        return ScheduleDetails.model_validate(self._session.get_json(f"schedules/{_name(name)}"))

    def list(self) -> builtins.list[Schedule]:
        return [Schedule.model_validate(s) for s in self._session.get_json("schedules")["value"]]

    def enable(self, name: str) -> Schedule:
        return Schedule.model_validate(self._session.post_json(f"schedules/{_name(name)}/enable"))

    def disable(self, name: str) -> Schedule:
        return Schedule.model_validate(self._session.post_json(f"schedules/{_name(name)}/disable"))

    def delete(self, name: str) -> None:
        self._session.request("DELETE", f"schedules/{_name(name)}")

    def trigger(self, name: str) -> ScheduleFiring:
        return ScheduleFiring.model_validate(self._session.post_json(f"schedules/{_name(name)}/trigger"))
