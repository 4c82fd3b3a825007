"""Time zones by IANA name (`Europe/Paris`) or by the Windows name Azure's examples write
(`Pacific Standard Time`), mapped with the CLDR table that tzlocal ships."""

from __future__ import annotations

import functools
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from mlyard.entities.specs.spec_files import did_you_mean
from mlyard.errors import InvalidArgument


@functools.lru_cache(maxsize=256)
def resolve_time_zone(name: str, where: str = "time_zone") -> ZoneInfo:
    """The zone called `name`; `InvalidArgument` naming `where` (with a suggestion) otherwise."""
    windows = _windows_names()
    iana = windows.get(name) or windows.get(name.strip().lower()) or name.strip()
    if iana.upper() == "UTC":
        iana = "UTC"
    try:
        if "/" in iana or iana in ("UTC", "GMT"):
            return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    candidates = sorted(available_timezones() | {n for n in windows if n[:1].isupper()})
    raise InvalidArgument(
        f"{where}: unknown time zone {name!r}{did_you_mean(name, candidates)}; use an IANA name "
        "(Europe/Paris, America/Los_Angeles, UTC) or a Windows name (Pacific Standard Time)"
    )


@functools.lru_cache(maxsize=1)
def _windows_names() -> dict[str, str]:
    from tzlocal.windows_tz import win_tz

    names = dict(win_tz)
    names.update({key.lower(): value for key, value in win_tz.items()})
    names["Coordinated Universal Time"] = "UTC"
    return names
