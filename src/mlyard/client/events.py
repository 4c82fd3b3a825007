"""`client.events` (what happened) and `client.events.subscriptions` (who hears of it, and how)."""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from mlyard.entities.automation.event import Event
from mlyard.entities.automation.subscription import CreatedSubscription, Delivery, Subscription
from mlyard.services.workspaces.workspace import Workspace


class SubscriptionOperations(ABC):
    @abstractmethod
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
        """A webhook (or email) subscription; `created.secret` is the only copy of its secret."""

    def create_from_file(self, path: str | Path) -> CreatedSubscription:
        """From a YAML: name, types, filter, webhook or email, description, enabled."""
        from mlyard.entities.automation.subscription import subscription_from_dict
        from mlyard.entities.specs.spec_files import load_yaml

        spec = subscription_from_dict(load_yaml(Path(path)), str(path))
        return self.create(
            spec.name,
            spec.types,
            dict(spec.filter),
            spec.webhook,
            spec.emails(),
            spec.description,
            spec.enabled,
        )

    @abstractmethod
    def list(self) -> builtins.list[Subscription]: ...

    @abstractmethod
    def get(self, name: str) -> Subscription: ...

    @abstractmethod
    def update(
        self,
        name: str,
        types: Sequence[str] | None = None,
        filter: dict[str, str] | None = None,
        webhook: str | None = None,
        emails: Sequence[str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
    ) -> Subscription: ...

    @abstractmethod
    def delete(self, name: str) -> None: ...

    @abstractmethod
    def deliveries(
        self, name: str, states: Sequence[str] = (), event_id: str | None = None, limit: int = 100
    ) -> builtins.list[Delivery]:
        """Deliveries newest first, each with every attempt: status code, latency, error."""

    @abstractmethod
    def redeliver(self, name: str, delivery_ids: Sequence[int] = (), dead: bool = False) -> int:
        """Send deliveries again (by id, or every dead letter); returns how many were queued."""

    @abstractmethod
    def rotate_secret(self, name: str, overlap_hours: float = 24.0) -> CreatedSubscription:
        """A new signing secret; the old one keeps signing for `overlap_hours`."""


class EventOperations(ABC):
    subscriptions: SubscriptionOperations

    @abstractmethod
    def list(
        self,
        types: Sequence[str] = (),
        subject: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> builtins.list[Event]:
        """Events newest first; `types` full or short (`ModelRegistered`), `subject` a glob."""

    @abstractmethod
    def get(self, event_id: str) -> Event: ...


class LocalSubscriptionOperations(SubscriptionOperations):
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

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
        from mlyard.services.events.subscriptions import create_subscription

        return create_subscription(
            self._workspace, name, types, filter, webhook, emails, description, enabled
        )

    def list(self) -> builtins.list[Subscription]:
        from mlyard.services.events.subscriptions import list_subscriptions

        return list_subscriptions(self._workspace)

    def get(self, name: str) -> Subscription:
        from mlyard.services.events.subscriptions import get_subscription

        return get_subscription(self._workspace, name)

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
        from mlyard.services.events.subscriptions import update_subscription

        return update_subscription(
            self._workspace, name, types, filter, webhook, emails, description, enabled
        )

    def delete(self, name: str) -> None:
        from mlyard.services.events.subscriptions import delete_subscription

        delete_subscription(self._workspace, name)

    def deliveries(
        self, name: str, states: Sequence[str] = (), event_id: str | None = None, limit: int = 100
    ) -> builtins.list[Delivery]:
        from mlyard.services.events.subscriptions import list_deliveries

        return list_deliveries(self._workspace, name, states, event_id, limit)

    def redeliver(self, name: str, delivery_ids: Sequence[int] = (), dead: bool = False) -> int:
        from mlyard.services.events.subscriptions import redeliver

        return redeliver(self._workspace, name, delivery_ids, dead)

    def rotate_secret(self, name: str, overlap_hours: float = 24.0) -> CreatedSubscription:
        from mlyard.services.events.subscriptions import rotate_secret

        return rotate_secret(self._workspace, name, overlap_hours)


class LocalEventOperations(EventOperations):
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace
        self.subscriptions = LocalSubscriptionOperations(workspace)

    def list(
        self,
        types: Sequence[str] = (),
        subject: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> builtins.list[Event]:
        from mlyard.services.events.outbox import list_events

        return list_events(self._workspace, types, subject, since, until, limit)

    def get(self, event_id: str) -> Event:
        from mlyard.services.events.outbox import get_event

        return get_event(self._workspace, event_id)
