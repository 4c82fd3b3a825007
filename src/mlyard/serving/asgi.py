"""The ASGI callable's three types, as the instance, the gateway and the forwarder all use them.

Mutable mappings rather than `dict`: uvicorn and Starlette hand in their own message objects.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
